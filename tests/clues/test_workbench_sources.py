"""The workbench reads each source of access on its own (enforcement.queries.first_rows_by_source,
CaseListing for the list of open cases). Whatever it reads, it must show exactly the rows, in
the order, of the plain policy queries (``case__in=cases_for(user, HANDLE)``): for a bureau head
(the court, a granted case of another court), a judge (granted cases), a supervisor (a granted
case only: supervisors handle nothing by their role) and users who handle nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from guardian.shortcuts import assign_perm

from clues import queries
from clues.models import ClueStatus, Measure, MeasureStatus, PropertyClue
from clues.presenters import WORKBENCH_ROWS, first_notices_attention, notices_attention, workbench_panels
from enforcement.models import CaseStatus, EnforcementCase
from enforcement.permissions import HANDLE_PERM, VIEW_FILE_PERM, Action, cases_for
from enforcement.queries import first_rows_by_source, my_open_cases, through
from platforms.models import Notice, NoticeState
from tests.clues.factories import PlatformFactory, respondent_of
from tests.factories import EnforcementCaseFactory

pytestmark = pytest.mark.django_db

WHO = ["head", "assigned", "colleague", "supervisor", "sibling_head", "outsider", "admin"]


@pytest.fixture
def world(cast):
    """Seven 雨湖 cases (the head's court; five of them the assigned judge's, two the colleague's), a
    岳塘 case granted to the head and to the supervisor, a 蕉城 case nobody here handles. Every case
    has more clues, measures and notices than its panel shows, with ties in the panels' order."""
    c = cast.courts
    today = timezone.localdate()
    yuhu = [cast.case] + [
        EnforcementCaseFactory(court=c.yuhu, judges=[cast.assigned if i < 4 else cast.colleague]) for i in range(6)
    ]
    yuetang = EnforcementCaseFactory(court=c.yuetang)
    jiaocheng = EnforcementCaseFactory(court=c.jiaocheng, judges=[cast.outsider])
    assign_perm(HANDLE_PERM, cast.head, yuetang)
    assign_perm(HANDLE_PERM, cast.head, yuhu[1])  # also the head's court: shown once
    assign_perm(HANDLE_PERM, cast.supervisor, yuetang)
    assign_perm(VIEW_FILE_PERM, cast.colleague, yuhu[0])  # a reading grant: handles nothing
    closed = yuhu[6]
    closed.status, closed.closing_method = CaseStatus.CLOSED, "rejected"
    closed.save(update_fields=["status", "closing_method"])
    platform = PlatformFactory(code="wbplat")
    cases = [*yuhu, yuetang, jiaocheng]
    for n, case in enumerate(cases):
        respondent = respondent_of(case)
        for i in range(6):
            status = ClueStatus.PENDING if i < 5 else ClueStatus.VERIFIED
            clue = PropertyClue.objects.create(
                case=case,
                respondent=respondent,
                category="funds",
                kind="platform_balance",
                platform=platform,
                account=f"WB-{n}-{i}",
                source="applicant",
                received_on=today,
                verify_by=today + dt.timedelta(days=(n * 5 + i) % 4 - 1),  # four days, many ties
                status=status,
                asset_key=f"wb:{n}:{i}",
            )
            expires = today + dt.timedelta(days=(n + 3 * i) % 40 - 3)  # some past, some after 30 days
            measure = Measure.objects.create(
                case=case,
                clue=clue,
                kind="freeze",
                asset_kind="platform_balance",
                amount="10.00",
                expires_on=expires,
                status=MeasureStatus.ACTIVE if i != 4 else MeasureStatus.RELEASED,
                asset_key=clue.asset_key,
                requested_on=today,
            )
            if i == 1 and n % 3 == 0:  # renewed: the renewal, not the measure, is in the panel
                Measure.objects.create(
                    case=case,
                    clue=clue,
                    kind="freeze",
                    asset_kind="platform_balance",
                    amount="10.00",
                    expires_on=expires + dt.timedelta(days=5),
                    status=MeasureStatus.ACTIVE,
                    asset_key=clue.asset_key,
                    requested_on=today,
                    renewed_from=measure,
                )
        for i, state in enumerate([NoticeState.FAILED, NoticeState.AWAITING_APPROVAL] * 3 + [NoticeState.COMPLETED]):
            notice = Notice.objects.create(
                case=case,
                platform=platform,
                kind="query",
                batch=uuid.uuid4(),
                respondent=respondent,
                holder_name="x",
                holder_id="x",
                document_number=f"WB-{n}-{i}",
                requested_by=cast.assigned,
                idempotency_key=f"wb-{n}-{i}",
                state=state,
            )
            moment = timezone.now() - dt.timedelta(minutes=(n * 7 + i) % 5)  # five moments: ties
            Notice.objects.filter(pk=notice.pk).update(created_at=moment)
    return {"cases": cases, "today": today}


def pks(rows) -> list[int]:
    return [row["pk"] if isinstance(row, dict) else row.pk for row in rows]


@pytest.mark.parametrize("who", WHO)
def test_panels_show_the_rows_of_the_policy_queries(cast, world, who):
    user, today = getattr(cast, who), world["today"]
    panels = workbench_panels(user, today)
    expected_clues = pks(queries.clues_to_verify(user)[:WORKBENCH_ROWS])
    expected_measures = pks(queries.expiring_measures(user, today)[:WORKBENCH_ROWS])
    expected_notices = pks(notices_attention(user)[:WORKBENCH_ROWS])
    assert pks(panels["clues_to_verify"]) == expected_clues
    assert pks(panels["expiring_measures"]) == expected_measures
    assert pks(panels["notices_attention"]) == expected_notices
    if who == "head":  # the court's cases and the granted one fill every panel past its rows
        assert len(expected_clues) == len(expected_notices) == WORKBENCH_ROWS
        assert len(expected_measures) >= 10
    # the rows are the policy's: cases the user handles, nothing else
    handled = set(cases_for(user, Action.HANDLE).values_list("pk", flat=True))
    assert {row["case_id"] for row in panels["clues_to_verify"]} <= handled
    assert {m.case_id for m in panels["expiring_measures"]} <= handled
    assert {row["case_id"] for row in panels["notices_attention"]} <= handled


@pytest.mark.parametrize("who", ["head", "assigned", "supervisor", "outsider"])
@pytest.mark.parametrize("limit", [1, 3, 7, 50])
def test_first_rows_by_source_equal_the_policy_query_for_any_limit(cast, world, who, limit):
    user, today = getattr(cast, who), world["today"]
    for first, reference in (
        (queries.first_clues_to_verify(user, limit), queries.clues_to_verify(user)),
        (queries.first_expiring_measures(user, limit, today), queries.expiring_measures(user, today)),
        (first_notices_attention(user, limit), notices_attention(user)),
    ):
        assert pks(first[:limit]) == pks(reference[:limit])


def test_first_rows_by_source_reads_the_case_through_another_field(cast, world):
    """``case_field`` names the way to the case (here a clue's measures' case)."""
    head = cast.head
    clues = PropertyClue.objects.filter(measures__status=MeasureStatus.ACTIVE).distinct().order_by("id")
    first = first_rows_by_source(head, clues, ("id",), 5, Action.HANDLE, case_field="measures__case")
    expected = clues.filter(measures__case__in=cases_for(head, Action.HANDLE)).distinct().order_by("id")
    assert pks(first[:5]) == pks(expected[:5])


@pytest.mark.parametrize("who", ["supervisor", "high_supervisor", "other_supervisor", "head"])
def test_every_kind_of_source_moves_to_the_rows_case(cast, world, who):
    """Viewing: a supervisor's source is the subordinate courts but the own one (a negated
    condition), a head's also the received transfers; each becomes a condition on the rows' case
    (``through``) and gives the rows of the policy query."""
    user = getattr(cast, who)
    clues = PropertyClue.objects.order_by("verify_by", "id")
    expected = pks(clues.filter(case__in=cases_for(user, Action.VIEW))[:25])
    assert pks(first_rows_by_source(user, clues, ("verify_by", "id"), 25, Action.VIEW)[:25]) == expected
    if who == "supervisor":
        assert len(expected) == 25


def test_through_keeps_negation_and_connectors():
    condition = Q(court__path__startswith="43") & ~Q(court_id=7) | Q(pk__in=[1, 2])
    moved = through(condition, "measure__case")
    assert moved == (Q(measure__case__court__path__startswith="43") & ~Q(measure__case__court_id=7)) | Q(
        measure__case__pk__in=[1, 2]
    )


def test_no_source_of_access_reads_nothing(cast, world):
    first = first_rows_by_source(cast.admin, PropertyClue.objects.all(), ("id",), 20)
    assert first.query.is_empty() and list(first) == []


@pytest.mark.parametrize("who", WHO)
def test_my_open_cases_pages_and_counts_as_the_policy_query(cast, world, who):
    user = getattr(cast, who)
    listing = my_open_cases(user)
    expected = list(
        cases_for(user, Action.HANDLE)
        .exclude(status=CaseStatus.CLOSED)
        .order_by("filed_on", "id")
        .values_list("pk", flat=True)
    )
    assert listing.count() == len(expected)
    for size in (1, 2, 50):
        pages = [[case.pk for case in listing[start : start + size]] for start in range(0, len(expected) + size, size)]
        assert [pk for page in pages for pk in page] == expected
    rows = listing[0:50]
    assert all(hasattr(case, "amount_frozen") for case in rows)
    if who == "head":
        closed = world["cases"][6]
        assert closed.pk not in expected and world["cases"][7].pk in expected  # the granted 岳塘 case
        assert len(expected) == len(set(expected)) == 7  # six open 雨湖 cases (one granted too) + 岳塘


def test_without_ordered_compound_members_each_source_is_a_subquery(cast, world, monkeypatch):
    """SQLite (make run) refuses ORDER BY and LIMIT in the members of a UNION: the listing and the
    panels then wrap each source's first rows in ``pk IN (…)`` and give the same rows."""
    head = cast.head
    before = (pks(my_open_cases(head)[0:3]), pks(queries.first_clues_to_verify(head, 5)[:5]))
    monkeypatch.setattr(connection.features, "supports_slicing_ordering_in_compound", False)
    after = (pks(my_open_cases(head)[0:3]), pks(queries.first_clues_to_verify(head, 5)[:5]))
    assert after == before
    assert len(after[0]) == 3 and len(after[1]) == 5
    assert EnforcementCase.objects.filter(pk__in=after[0]).count() == 3
