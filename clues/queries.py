"""Read paths for clues and measures, through the permission policy."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from enforcement.permissions import Action, cases_for
from enforcement.queries import first_rows_by_source

from .models import (
    ClueCategory,
    ClueStatus,
    LiveSeizureVisit,
    Measure,
    MeasureKind,
    MeasureReminder,
    MeasureStatus,
    PropertyClue,
)


def active_freezes(queryset: QuerySet | None = None) -> QuerySet:
    """The freezes that count as 已冻结: active, and not superseded by their own renewal."""
    queryset = Measure.objects.all() if queryset is None else queryset
    return not_renewed(queryset.filter(kind=MeasureKind.FREEZE, status=MeasureStatus.ACTIVE))


def not_renewed(queryset: QuerySet) -> QuerySet:
    """Measures without a renewal in force (a released renewal does not count)."""
    return queryset.exclude(renewals__status=MeasureStatus.ACTIVE)


def clues_of(case) -> QuerySet:
    return (
        PropertyClue.objects.filter(case=case).select_related("respondent", "platform").order_by("-created_at", "-id")
    )


def platform_freezes(case) -> QuerySet:
    """The case's active freezes of assets on a platform, oldest first: what an unfreeze or a
    renewal notice names (with the clue and platform their label shows, nothing more)."""
    return (
        Measure.objects.filter(
            case=case, kind=MeasureKind.FREEZE, status=MeasureStatus.ACTIVE, clue__platform__isnull=False
        )
        .select_related("clue__platform")
        .order_by("id")
    )


def clues_by_category(case) -> QuerySet:
    """The clues of ``case`` in the order of the clue tab: category (as ClueCategory lists them),
    then newest first, so a page of it reads as contiguous category groups."""
    rank = Case(
        *(When(category=category, then=Value(index)) for index, category in enumerate(ClueCategory.values)),
        default=Value(len(ClueCategory.values)),
        output_field=IntegerField(),
    )
    return clues_of(case).order_by(rank, "-created_at", "-id")


def measures_of(case) -> QuerySet:
    return (
        Measure.objects.filter(case=case)
        .select_related("clue__platform", "renewed_from")
        .prefetch_related("renewals")
        .order_by("-created_at", "-id")
    )


def overdue_clues(user, today: dt.date | None = None) -> QuerySet:
    """Clues still pending past their verification deadline, on cases the user handles."""
    today = today or timezone.localdate()
    return (
        PropertyClue.objects.filter(
            case__in=cases_for(user, Action.HANDLE), status=ClueStatus.PENDING, verify_by__lt=today
        )
        .select_related("case", "respondent", "platform")
        .order_by("verify_by", "id")
    )


def clues_to_verify(user) -> QuerySet:
    return pending_clues().filter(case__in=cases_for(user, Action.HANDLE))


def pending_clues() -> QuerySet:
    """All pending clues in the order of the clues to verify (deadline first), with what their rows
    show; ``clues_to_verify`` and ``first_clues_to_verify`` add whose they are."""
    return (
        PropertyClue.objects.filter(status=ClueStatus.PENDING)
        .select_related("case", "respondent", "platform")
        .order_by(*CLUES_TO_VERIFY_ORDER)
    )


CLUES_TO_VERIFY_ORDER = ("verify_by", "id")


def first_clues_to_verify(user, limit: int) -> QuerySet:
    """``clues_to_verify`` for a panel of ``limit`` rows: the same first ``limit`` rows (slice it to
    at most ``limit``), each source of access read on its own through ``clue_pending_idx``
    (``enforcement.queries.first_rows_by_source``)."""
    return first_rows_by_source(user, pending_clues(), CLUES_TO_VERIFY_ORDER, limit, Action.HANDLE)


EXPIRING_ORDER = ("expires_on", "id")


def expiring_measures(user, today: dt.date | None = None, days: int | None = None) -> QuerySet:
    """Active measures of the user's cases that expire within ``days`` (30 by default), not renewed."""
    return expiring(today, days).filter(case__in=cases_for(user, Action.HANDLE))


def expiring(today: dt.date | None = None, days: int | None = None) -> QuerySet:
    """Active measures of every case that expire within ``days`` (30 by default), not renewed,
    soonest first, with what their rows show."""
    today = today or timezone.localdate()
    days = max(settings.MEASURE_REMINDER_DAYS) if days is None else days
    return (
        not_renewed(
            Measure.objects.filter(
                status=MeasureStatus.ACTIVE,
                expires_on__gte=today,
                expires_on__lte=today + dt.timedelta(days=days),
            )
        )
        .select_related("case", "clue__platform")
        .order_by(*EXPIRING_ORDER)
    )


def first_expiring_measures(user, limit: int, today: dt.date | None = None, days: int | None = None) -> QuerySet:
    """``expiring_measures`` for a panel of ``limit`` rows: the same first ``limit`` rows (slice it
    to at most ``limit``), each source of access read on its own through ``measure_active_idx``
    (``enforcement.queries.first_rows_by_source``)."""
    return first_rows_by_source(user, expiring(today, days), EXPIRING_ORDER, limit, Action.HANDLE)


def reminders_for(user) -> QuerySet:
    return (
        MeasureReminder.objects.filter(measure__case__in=cases_for(user, Action.HANDLE), dismissed_at__isnull=True)
        .select_related("measure__case", "measure__clue")
        .order_by("expires_on", "days_before", "id")
    )


def visits_due_for(user, today: dt.date | None = None) -> QuerySet:
    today = today or timezone.localdate()
    return (
        LiveSeizureVisit.objects.filter(
            measure__case__in=cases_for(user, Action.HANDLE),
            visited_on__isnull=True,
            scheduled_on__lte=today + dt.timedelta(days=settings.VISIT_DUE_WARNING_DAYS),
        )
        .select_related("measure__case", "officer")
        .order_by("scheduled_on", "id")
    )


def days_left(measure: Measure, today: dt.date | None = None) -> int | None:
    if measure.expires_on is None:
        return None
    return (measure.expires_on - (today or timezone.localdate())).days
