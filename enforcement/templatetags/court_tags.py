"""Template filters for court pages: money in yuan, ages, art. 237 highlighting, badges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.translation import gettext_noop

from enforcement import queries
from enforcement.models import CaseStatus

register = template.Library()


@register.filter
def yuan(value) -> str:
    """Decimal → "¥1,234.50" (two places, thousands separators); empty for None."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@register.filter
def age_days(day: dt.date | None) -> int | str:
    """Days since ``day`` (立案天数)."""
    if not day:
        return ""
    return (timezone.localdate() - day).days


@register.filter
def applicants(case) -> list:
    return queries.applicants(case)


@register.filter
def respondents(case) -> list:
    return queries.respondents(case)


@register.filter
def judges(case) -> list:
    return queries.judges(case)


@register.filter
def art237_state(case) -> str:
    return queries.art237_state(case)


ART237_CLASSES = {"past": "art237-past", "near": "art237-near", "later": ""}


@register.filter
def art237_class(case) -> str:
    """CSS class for the art. 237 date: red when past, amber when near; nothing for closed cases."""
    if not case.is_open:
        return ""
    return ART237_CLASSES[queries.art237_state(case)]


_STATUS_BADGES = {
    CaseStatus.FILED: "text-bg-secondary",
    CaseStatus.IN_PROGRESS: "text-bg-primary",
    CaseStatus.SUSPENDED: "text-bg-warning",
    CaseStatus.CLOSED: "text-bg-dark",
}


@register.filter
def status_badge(status: str) -> str:
    return _STATUS_BADGES.get(status, "text-bg-light")


@register.filter
def minutes(value) -> int | str:
    """A timedelta as whole minutes (for the lockout page)."""
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds() // 60)
    return ""


@register.filter
def field_errors(errors: dict, key: str) -> list:
    """Messages for ``key`` from a plain dict of errors (``{{ group_errors|field_errors:"applicants" }}``)."""
    if not errors:
        return []
    return errors.get(key, [])


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (pagination and sort links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def control(field):
    """Render a bound field's widget with Bootstrap classes, marked invalid when it has errors."""
    widget = field.field.widget
    if getattr(widget, "input_type", "") == "checkbox" or widget.__class__.__name__ == "CheckboxSelectMultiple":
        css = "form-check-input"
    elif getattr(widget, "input_type", "") == "select" or widget.__class__.__name__ in ("Select", "SelectMultiple"):
        css = "form-select form-select-sm"
    else:
        css = "form-control form-control-sm"
    if field.errors:
        css += " is-invalid"
    return field.as_widget(attrs={"class": css})


# Role names are stored in the database (migration 0002) and translated at display time by
# ``Role.__str__``; marking them here keeps them in the translation catalog.
ROLE_NAMES = (
    gettext_noop("执行法官"),
    gettext_noop("执行局长"),
    gettext_noop("上级法院监督"),
    gettext_noop("系统管理员"),
)
