"""Use cases for platforms (system administrators)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from enforcement import audit
from enforcement.models import Court
from enforcement.services import require_system_admin

from .models import Platform, PlatformKind

CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")


@transaction.atomic
def create_platform(actor, *, code: str, name: str, kind: str, hq_court: Court | None = None, region: str = ""):
    """Register a platform (system admin)."""
    require_system_admin(actor)
    code, name = (code or "").strip(), (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not CODE_RE.match(code):
        errors["code"] = [_("平台代码须为2至32位小写字母、数字、下划线或连字符，以字母开头")]
    elif Platform.objects.filter(code=code).exists():
        errors["code"] = [_("平台代码“%(code)s”已被使用") % {"code": code}]
    if not name:
        errors["name"] = [_("平台名称不能为空")]
    if kind not in PlatformKind.values:
        errors["kind"] = [_("类型须为 ecommerce、payment、cross_border 或 other")]
    if region and not (region.isdigit() and len(region) == 6):
        errors["region"] = [_("行政区划代码须为6位数字（GB/T 2260）")]
    if errors:
        raise ValidationError(errors)
    platform = Platform.objects.create(code=code, name=name, kind=kind, hq_court=hq_court, region=region)
    audit.record(actor, "platform.create", platform, payload={"code": code, "name": name, "kind": kind})
    return platform
