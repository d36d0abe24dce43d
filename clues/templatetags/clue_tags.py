"""Template filters for clue and measure pages: days left and its badge."""

from __future__ import annotations

from django import template
from django.utils import timezone

from clues import queries
from clues.models import ClueStatus

register = template.Library()

AMBER_BELOW = 15
RED_BELOW = 7


@register.filter
def days_left(measure) -> int | str:
    """Days until a measure's last day (0 on the day itself); empty without an expiry."""
    left = queries.days_left(measure)
    return "" if left is None else left


@register.filter
def days_badge(measure) -> str:
    """Badge classes for the days left: red under 7, amber under 15."""
    left = queries.days_left(measure)
    if left is None:
        return ""
    if left < RED_BELOW:
        return "days-left days-red text-bg-danger"
    if left < AMBER_BELOW:
        return "days-left days-amber text-bg-warning"
    return "days-left days-ok text-bg-light"


@register.filter
def clue_overdue(clue) -> bool:
    """A pending clue past its verification deadline (核实期限 shown in red)."""
    return clue.status == ClueStatus.PENDING and clue.verify_by < timezone.localdate()
