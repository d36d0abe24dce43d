"""Template filters for notice pages: state badges and result summaries."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.timezone import localtime

from platforms.models import NoticeState

register = template.Library()

_STATE_BADGES = {
    NoticeState.AWAITING_APPROVAL: "text-bg-warning",
    NoticeState.QUEUED: "text-bg-secondary",
    NoticeState.SENDING: "text-bg-info",
    NoticeState.ACKNOWLEDGED: "text-bg-primary",
    NoticeState.COMPLETED: "text-bg-success",
    NoticeState.REJECTED: "text-bg-danger",
    NoticeState.FAILED: "text-bg-danger",
    NoticeState.CANCELLED: "text-bg-dark",
}


@register.filter
def notice_badge(state: str) -> str:
    return f"notice-state state-{state} {_STATE_BADGES.get(state, 'text-bg-light')}"


@register.filter
def found_accounts(notice) -> list[dict]:
    """The accounts a completed query found (``result.accounts``)."""
    result = notice.result if isinstance(notice.result, dict) else {}
    rows = result.get("accounts") or []
    return [row for row in rows if isinstance(row, dict)]


@register.filter
def result_value(notice, key: str):
    """One figure of a notice's result (``amount_frozen``, ``amount_deducted``, ``reason`` ...)."""
    result = notice.result if isinstance(notice.result, dict) else {}
    return result.get(key)


@register.filter
def amount_of(form, key: str):
    """The amount field of one found account in the freeze form."""
    return form[f"amount_{key}"]


@register.filter
def picked_keys(form) -> list[str]:
    """The accounts ticked in a submitted freeze form (kept when the form comes back refused)."""
    return form.data.getlist("pick") if form.is_bound else []


@register.filter
def attempt_line(attempt) -> str:
    """One delivery attempt as the attempts cell lists it: number, start (local time, as
    ``date:"m-d H:i:s"``), HTTP status or —, error class, duration. Built here rather than in the
    template: the 协助通知 tab lists about a hundred attempts, and the template and its date filter
    took a quarter of the page's drawing time on them."""
    status = f"HTTP {attempt.http_status}" if attempt.http_status else "—"
    error = format_html(' · <span class="text-danger">{}</span>', attempt.error_class) if attempt.error_class else ""
    return format_html(
        '<div class="attempt attempt-{}">#{} <span class="text-nowrap">{}</span> · {}{} · {} ms</div>',
        attempt.outcome,
        attempt.number,
        localtime(attempt.started_at).strftime("%m-%d %H:%M:%S"),
        status,
        error,
        attempt.duration_ms,
    )
