"""Template filters for notice pages: state badges and result summaries."""

from __future__ import annotations

from django import template

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
