"""Template context shared by every page: the navigation for the user's roles."""

from __future__ import annotations

from .models import Role


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "is_judge": user.has_role(Role.JUDGE),
        "is_bureau_head": user.has_role(Role.BUREAU_HEAD),
        "is_supervisor": user.has_role(Role.SUPERVISOR),
        "is_system_admin": user.is_superuser or user.has_role(Role.SYSTEM_ADMIN),
    }
