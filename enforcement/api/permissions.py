"""DRF permission classes. They only delegate: roles to ``enforcement.services``' role checks,
cases to ``enforcement.permissions`` (which the views call with ``get_case``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from enforcement import services


def _is_system_admin(user) -> bool:
    try:
        services.require_system_admin(user)
    except PermissionDenied:
        return False
    return True


class IsSystemAdmin(BasePermission):
    """System administrators (and superusers) only."""

    message = _("仅系统管理员可执行此操作")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) and _is_system_admin(request.user)


class ReadAnyWriteSystemAdmin(IsSystemAdmin):
    """Any signed-in user reads; only system administrators write."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or _is_system_admin(request.user)
