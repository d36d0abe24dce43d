"""How clues are shown to a reader, shared by the API and the HTML pages.

Data-category clues hold personal information: only users who may read the case file see their
content, and every such read is audited. The other courts holding the same assets are found with
one query for the whole list.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone

from enforcement import audit
from enforcement.permissions import Action, can, cases_for
from enforcement.queries import first_rows_by_source
from platforms.models import NOTICE_ATTENTION_STATES, Notice, NoticeKind, NoticeState

from . import services
from .models import ClueCategory, ClueKind, ClueSource, ClueStatus, MeasureStatus

MASK = "***"
# Other courts listed per clue on the clue tab; the rest load on demand (``other_courts_shown``).
OTHER_COURTS_SHOWN = 3
# The fields of a data-category clue that are personal information.
SENSITIVE_FIELDS = ("account", "registry", "notes", "estimated_value")


def clue_context(user, case, clues, *, may_read_file: bool | None = None) -> dict:
    """``may_read_file`` and ``other_courts`` (by asset key) for ``clues`` of ``case``; records the
    audited read of sensitive clue content when the user may see it. A page that has asked the
    policy already passes ``may_read_file``."""
    if may_read_file is None:
        may_read_file = can(user, Action.VIEW_FILE, case)
    sensitive = [clue.pk for clue in clues if clue.is_sensitive]
    if sensitive and may_read_file:
        with transaction.atomic():
            audit.record(user, "clue.sensitive_read", case, case=case, payload={"clues": sensitive})
    return {
        "may_read_file": may_read_file,
        "other_courts": services.other_courts_many({clue.asset_key for clue in clues}, case.pk),
    }


# Measures that hold the asset now: another court's freeze or seizure in force decides the queue.
IN_FORCE = frozenset({MeasureStatus.ACTIVE, MeasureStatus.WAITING})


def _other_court_rank(row: dict) -> int:
    if row["measure_kind"] is None:
        return 2
    return 0 if row["measure_status"] in IN_FORCE else 1


def other_courts_in_order(rows: list[dict]) -> list[dict]:
    """Rows of ``services.other_courts_many`` for one asset, those with a measure first (in force,
    then ended), then as the lookup orders them: by court code and case number. The sort is stable,
    so the database's order of court codes and case numbers stays."""
    return sorted(rows, key=_other_court_rank)


def other_courts_shown(rows: list[dict], limit: int = OTHER_COURTS_SHOWN) -> dict:
    """What the clue tab shows of one clue's other courts: the first ``limit`` rows in the order of
    ``other_courts_in_order`` (``shown``), how many rows are left out (``more_rows``) and how many
    courts among them are not already shown (``more_courts``)."""
    ordered = other_courts_in_order(rows)
    shown, rest = ordered[:limit], ordered[limit:]
    named = {row["court"] for row in shown}
    return {
        "shown": shown,
        "more_rows": len(rest),
        "more_courts": len({row["court"] for row in rest} - named),
    }


def choice_labels(choices) -> dict[str, str]:
    """Value -> label of a choices enum in the active language, each label translated once. For
    rows of a page: ``get_FOO_display`` translates every choice of the field on each call."""
    return {value: str(label) for value, label in choices}


def is_masked(clue, may_read_file: bool) -> bool:
    return clue.is_sensitive and not may_read_file


WORKBENCH_ROWS = 20


def workbench_panels(user, today: dt.date | None = None) -> dict:
    """The clue, measure and notice panels of the workbench: a fixed number of queries whatever
    the rows. The clue and notice panels (a full twenty rows for a judge at a million cases) are
    plain rows with their labels looked up once (``workbench_clue_rows``,
    ``workbench_notice_rows``); the measure, reminder and visit panels (a few rows there) are
    models drawn by the templates they share with the reminder list."""
    from . import queries

    today = today or timezone.localdate()
    return {
        "clues_to_verify": workbench_clue_rows(queries.first_clues_to_verify(user, WORKBENCH_ROWS), today),
        "expiring_measures": list(queries.first_expiring_measures(user, WORKBENCH_ROWS, today)[:WORKBENCH_ROWS]),
        "reminders": list(queries.reminders_for(user).select_related("measure__clue__platform")[:WORKBENCH_ROWS]),
        "visits_due": list(queries.visits_due_for(user, today)[:WORKBENCH_ROWS]),
        "notices_attention": workbench_notice_rows(first_notices_attention(user, WORKBENCH_ROWS)),
        "panel_rows": WORKBENCH_ROWS,
    }


def workbench_clue_rows(clues: QuerySet, today: dt.date) -> list[dict]:
    """The first ``WORKBENCH_ROWS`` of ``clues`` as the workbench's clue panel shows them
    (``clues/_workbench_clue_rows.html``): the fields of the row, the link, the case number, the
    respondent's and the platform's names, labels and the overdue mark (``clue_overdue``). Data-category clues
    are ``sensitive``: the panel masks their registry and account for every reader."""
    kinds, sources = choice_labels(ClueKind.choices), choice_labels(ClueSource.choices)
    rows = clues.values(
        "pk",
        "case_id",
        "category",
        "kind",
        "source",
        "status",
        "platform_id",
        "registry",
        "account",
        "urgent",
        "verify_by",
        case_number=F("case__number"),
        respondent_name=F("respondent__name"),
        platform_name=F("platform__name"),
    )[:WORKBENCH_ROWS]
    for row in rows:
        row["url"] = f"{reverse('case_clues', args=[row['case_id']])}?clue={row['pk']}#clue-{row['pk']}"
        row["overdue"] = row["status"] == ClueStatus.PENDING and row["verify_by"] < today
        row["verify_by"] = row["verify_by"].isoformat()
        row["sensitive"] = row["category"] == ClueCategory.DATA
        row["kind_label"] = kinds.get(row["kind"], row["kind"])
        row["source_label"] = sources.get(row["source"], row["source"])
    return list(rows)


def workbench_notice_rows(notices: QuerySet) -> list[dict]:
    """The first ``WORKBENCH_ROWS`` of ``notices`` as the workbench's notice panel shows them:
    the fields of the row, the link, the case number, the platform's name and the labels."""
    kinds, states = choice_labels(NoticeKind.choices), choice_labels(NoticeState.choices)
    rows = notices.values(
        "pk",
        "case_id",
        "kind",
        "state",
        "last_error",
        case_number=F("case__number"),
        platform_name=F("platform__name"),
    )[:WORKBENCH_ROWS]
    for row in rows:
        row["url"] = f"{reverse('case_notices', args=[row['case_id']])}?notice={row['pk']}#notice-{row['pk']}"
        row["kind_label"] = kinds.get(row["kind"], row["kind"])
        row["state_label"] = states.get(row["state"], row["state"])
    return list(rows)


NOTICES_ATTENTION_ORDER = ("created_at", "id")


def notices_needing_attention() -> QuerySet:
    """Notices of every case that failed or wait for the bureau head, oldest first."""
    return Notice.objects.filter(state__in=NOTICE_ATTENTION_STATES).order_by(*NOTICES_ATTENTION_ORDER)


def notices_attention(user) -> QuerySet:
    """Notices of the user's cases that failed or wait for the bureau head, oldest first (the
    workbench reads the case number and platform name with ``workbench_notice_rows``)."""
    return notices_needing_attention().filter(case__in=cases_for(user, Action.HANDLE))


def first_notices_attention(user, limit: int) -> QuerySet:
    """``notices_attention`` for a panel of ``limit`` rows: the same first ``limit`` rows (slice it
    to at most ``limit``), each source of access read on its own through ``notice_attention_idx``
    (``enforcement.queries.first_rows_by_source``)."""
    return first_rows_by_source(user, notices_needing_attention(), NOTICES_ATTENTION_ORDER, limit, Action.HANDLE)
