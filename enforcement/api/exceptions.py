"""API error shape: 400 {field: [message]}; Django's ValidationError from services maps to 400.

* ``django.core.exceptions.ValidationError`` (raised by services) becomes 400 with the service's
  ``{field: [message]}`` dict; ``service_errors`` can re-key fields to the API's nested shape.
* ``PermissionDenied`` keeps a service's translated message; the policy's developer message is
  replaced by DRF's translated default.
* ``Http404`` becomes DRF's translated 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


def _detail(exc: DjangoValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}


def _nest(detail: dict, field_map: dict[str, str]) -> dict:
    """Re-key service fields to the API's names; a dotted name ("basis.document_number") nests."""
    result: dict = {}
    for field, messages in detail.items():
        target = field_map.get(field, field)
        if "." in target:
            outer, inner = target.split(".", 1)
            result.setdefault(outer, {})[inner] = messages
        else:
            result[target] = messages
    return result


@contextmanager
def service_errors(field_map: dict[str, str] | None = None) -> Iterator[None]:
    """Turn a service's ValidationError into DRF's, renaming fields as the API spells them."""
    try:
        yield
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(_nest(_detail(exc), field_map or {})) from exc


class LockedOut(exceptions.APIException):
    """Too many failed logins for this username and address (django-axes)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"
    default_detail = _("登录失败次数过多，账户已被暂时锁定，请稍后再试。")

    def __init__(self, wait_seconds: int | None = None):
        self.wait = wait_seconds
        if wait_seconds:
            minutes = max(1, round(wait_seconds / 60))
            detail = _("登录失败次数过多，账户已被暂时锁定，请%(minutes)d分钟后再试。") % {"minutes": minutes}
        else:
            detail = None
        super().__init__(detail)


def lockout_wait_seconds() -> int | None:
    """The configured axes cool-off in seconds (AXES_COOLOFF_TIME is in hours), if it is a number."""
    cool_off = getattr(settings, "AXES_COOLOFF_TIME", None)
    if isinstance(cool_off, int | float) and cool_off > 0:
        return int(cool_off * 3600)
    return None


def _permission_denied(exc: DjangoPermissionDenied) -> exceptions.PermissionDenied:
    message = str(exc.args[0]) if exc.args and exc.args[0] else ""
    # Services raise with a translated message for the user; the policy raises with an English
    # developer message ("action not allowed on this case") that must not reach a Chinese UI.
    if message and not message.isascii():
        return exceptions.PermissionDenied(message)
    return exceptions.PermissionDenied()


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_detail(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = _permission_denied(exc)
    return drf_exception_handler(exc, context)


def not_found(request, exception):
    """``handler404``: a URL that matches no route (``/api/v1/cases/abc/``) is answered under /api/ in
    the API's shape, JSON ``{"detail": ...}``, as DRF answers a missing row; elsewhere the HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=status.HTTP_404_NOT_FOUND)
    return page_not_found(request, exception)
