"""Eligibility: the art. 237 clock with excluded periods and holidays (Python and SQL agree), the
configurable triggers per high court, and the supervisor's list in a constant number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clues import services as clue_services
from enforcement import services as case_services
from enforcement.models import CaseEvent, CaseParty, CaseStatus, ClosingMethod, EnforcementCase, RespondentLoad
from enforcement.permissions import Action, cases_for
from enforcement.queries import rows_and_total
from tests.clues.factories import PlatformFactory, add_clue, add_measure
from tests.factories import EnforcementCaseFactory, PartyFactory
from tests.transfers.conftest import client_for
from transfers import queries, services
from transfers.models import Art237ExcludedPeriod, SameRespondentMarking, TriggerConfig

pytestmark = pytest.mark.django_db


def _eligible_ids(user, **kwargs) -> set[int]:
    return {c.pk for c in queries.eligible_cases(user, **kwargs)}


def test_excluded_periods_move_the_art237_day_and_overlaps_count_once(people):
    case = EnforcementCaseFactory(court=people.courts.yuhu, judges=[people.assigned], filed_on=dt.date(2025, 3, 15))
    assert case.art237_eligible_on == dt.date(2025, 9, 15)  # a Monday
    services.record_excluded_period(
        people.assigned, case, kind="appraisal", started_on=dt.date(2025, 4, 1), ended_on=dt.date(2025, 4, 10)
    )
    case.refresh_from_db()
    assert case.art237_excluded_days == 10
    assert case.art237_eligible_on == dt.date(2025, 9, 25)
    # overlapping 04-05..04-16: the union is 04-01..04-16 = 16 days; 09-15 + 16 = 10-01, National Day:
    # the holiday rule moves it to the first working day, 2025-10-09
    services.record_excluded_period(
        people.assigned, case, kind="public_notice", started_on=dt.date(2025, 4, 5), ended_on=dt.date(2025, 4, 16)
    )
    case.refresh_from_db()
    assert case.art237_excluded_days == 16
    assert case.art237_eligible_on == dt.date(2025, 10, 9)
    assert Art237ExcludedPeriod.objects.filter(case=case).count() == 2


def test_excluded_period_rules(people):
    case = EnforcementCaseFactory(court=people.courts.yuhu, judges=[people.assigned], filed_on=dt.date(2025, 3, 15))
    today = timezone.localdate()
    bad = [
        ({"kind": "holiday", "started_on": dt.date(2025, 4, 1), "ended_on": dt.date(2025, 4, 2)}, "kind"),
        ({"kind": "appraisal", "started_on": dt.date(2025, 4, 5), "ended_on": dt.date(2025, 4, 1)}, "ended_on"),
        ({"kind": "appraisal", "started_on": dt.date(2025, 3, 1), "ended_on": dt.date(2025, 4, 1)}, "started_on"),
        ({"kind": "deferral", "started_on": dt.date(2025, 4, 1), "ended_on": today + dt.timedelta(days=3)}, "ended_on"),
    ]
    for kwargs, field in bad:
        with pytest.raises(ValidationError) as exc:
            services.record_excluded_period(people.assigned, case, **kwargs)
        assert field in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        services.record_excluded_period(
            people.supervisor, case, kind="appraisal", started_on=dt.date(2025, 4, 1), ended_on=dt.date(2025, 4, 2)
        )
    case.refresh_from_db()
    assert case.art237_excluded_days == 0 and not Art237ExcludedPeriod.objects.exists()


@pytest.mark.parametrize(
    "today",
    [dt.date(2025, 9, 15), dt.date(2025, 10, 1), dt.date(2025, 10, 5), dt.date(2025, 10, 9), dt.date(2026, 2, 28)],
)
def test_sql_art237_matches_the_python_rule(people, today):
    """Month ends, rest days, holidays and excluded days: the list's SQL and the model agree."""
    cases = []
    start = dt.date(2025, 2, 20)
    for i in range(0, 200, 3):
        filed = start + dt.timedelta(days=i)
        case = EnforcementCaseFactory(court=people.courts.yuhu, filed_on=min(filed, timezone.localdate()))
        cases.append(case)
    for i, case in enumerate(cases):
        EnforcementCase.objects.filter(pk=case.pk).update(art237_excluded_days=(i * 7) % 23)
    expected = {
        c.pk for c in EnforcementCase.objects.filter(pk__in=[c.pk for c in cases]) if c.art237_eligible_on <= today
    }
    rows = {c.pk: c for c in queries.eligible_cases(people.supervisor, today=today)}
    assert {pk for pk, c in rows.items() if c.r_art237} == expected
    assert expected  # the dates are chosen so both sides are non-empty
    assert len(expected) < len(cases)


def test_same_respondent_trigger_counts_open_cases_in_different_courts(people):
    person = PartyFactory()
    same = [PartyFactory(name="同一人", id_number=person.id_number) for _ in range(9)]
    cases = [EnforcementCaseFactory(court=people.courts.yuhu, parties__respondents=[person])]
    for i, twin in enumerate(same):
        court = people.courts.yuhu if i % 2 else people.courts.yuetang
        cases.append(EnforcementCaseFactory(court=court, parties__respondents=[twin]))
    rows = {c.pk: c for c in queries.eligible_cases(people.supervisor)}
    assert set(rows) == {c.pk for c in cases}  # 10 open cases in 2 courts
    assert all(c.r_same_respondent and c.linked_cases == 10 for c in rows.values())
    texts = [r["text"] for r in queries.reasons_of(rows[cases[0].pk])]
    assert any("10 件未结案件" in t for t in texts)
    # one closed: 9 < 10
    # closed through the service: the load table follows (9 open cases left, below the 10 asked)
    case_services.transition_case(
        people.supervisor, cases[-1], CaseStatus.CLOSED, closing_method=ClosingMethod.REJECTED, _system=True
    )
    assert RespondentLoad.objects.get(identity=person.id_number).open_cases == 9
    assert _eligible_ids(people.supervisor) == set()


def test_same_respondent_needs_one_respondent_over_both_thresholds(people):
    """The list's filter (one respondent with enough open cases in enough courts) and the reason the
    rows show (the most open cases of a respondent in enough courts) agree: two respondents, one over
    each threshold, do not make a case eligible."""
    services.update_trigger_config(people.high_supervisor, people.courts.high, same_respondent_min_cases=3)
    many_cases, many_courts = PartyFactory(), PartyFactory()
    both = EnforcementCaseFactory(court=people.courts.yuhu, parties__respondents=[many_cases, many_courts])
    for _ in range(2):  # 3 open cases, all in one court
        EnforcementCaseFactory(court=people.courts.yuhu, parties__respondents=[many_cases])
    EnforcementCaseFactory(court=people.courts.yuetang, parties__respondents=[many_courts])  # 2 cases, 2 courts
    assert _eligible_ids(people.supervisor) == set()
    third = EnforcementCaseFactory(court=people.courts.yuetang, parties__respondents=[many_courts])
    rows = list(queries.eligible_cases(people.supervisor))
    assert both.pk in {c.pk for c in rows} and third.pk in {c.pk for c in rows}
    assert all(c.r_same_respondent and [r["code"] for r in queries.reasons_of(c)] == ["same_respondent"] for c in rows)
    assert _eligible_ids(people.supervisor, reason="same_respondent") == {c.pk for c in rows}


def _marked() -> set[int]:
    return set(CaseParty.objects.filter(over_trigger=True).values_list("pk", flat=True))


def _marked_after_rebuild() -> set[int]:
    case_services.rebuild_respondent_load()
    return _marked()


def test_respondent_marks_follow_loads_and_each_high_courts_thresholds(people):
    """The marks the eligible list reads (``CaseParty.over_trigger``) follow every filing, closing and
    change of thresholds, for the changed identities only, and equal a recount from the rows."""
    services.update_trigger_config(people.high_supervisor, people.courts.high, same_respondent_min_cases=3)
    person, partner = PartyFactory(), PartyFactory(entity=True)
    first = EnforcementCaseFactory(court=people.courts.yuhu, parties__respondents=[person, partner])
    second = EnforcementCaseFactory(court=people.courts.yuetang, parties__respondents=[person])
    assert _marked() == set()  # 2 open cases in 2 courts: under Hunan's 3

    def rows(*cases):
        return set(
            CaseParty.objects.filter(case__in=cases, party=person, role="respondent").values_list("pk", flat=True)
        )

    # the load is counted over the country: a third case in Fujian reaches Hunan's 3, not Fujian's default
    # 10; the partner, with one case, is not marked
    fujian = EnforcementCaseFactory(court=people.courts.jiaocheng, parties__respondents=[person])
    assert _marked() == rows(first, second) == _marked_after_rebuild()
    third = EnforcementCaseFactory(court=people.courts.yuhu, parties__respondents=[person])
    assert _marked() == rows(first, second, third) == _marked_after_rebuild()
    for case in (second, third):
        case_services.transition_case(
            people.supervisor, case, CaseStatus.CLOSED, closing_method=ClosingMethod.REJECTED, _system=True
        )
    assert _marked() == set() == _marked_after_rebuild()  # 2 open cases left
    services.update_trigger_config(people.high_supervisor, people.courts.high, same_respondent_min_cases=2)
    assert _marked() == rows(first, second, third) == _marked_after_rebuild()
    services.update_trigger_config(people.other_supervisor, people.courts.fj, same_respondent_min_cases=2)
    assert _marked() == rows(first, second, third, fujian) == _marked_after_rebuild()
    assert _eligible_ids(people.spc_supervisor, reason="same_respondent") == {first.pk, fujian.pk}


def test_marks_follow_a_change_of_the_default_thresholds(people, settings):
    """A deployment lowers the default threshold: the marks made with the old one are stale until
    ``follow_trigger_defaults`` (start-up, hourly beat) marks again; then it does nothing."""
    person = PartyFactory()
    cases = [
        EnforcementCaseFactory(court=court, parties__respondents=[PartyFactory(id_number=person.id_number)])
        for court in (people.courts.yuhu, people.courts.yuetang, people.courts.jiaocheng)
    ]
    services.follow_trigger_defaults()  # (a flush by an earlier transactional test drops its row)
    assert _marked() == set() and not services.follow_trigger_defaults()  # 3 open cases, under 10
    settings.TRANSFER_TRIGGER_SAME_RESPONDENT_CASES = 3
    assert _eligible_ids(people.spc_supervisor, reason="same_respondent") == set()  # stale marks
    assert services.follow_trigger_defaults()
    assert _eligible_ids(people.spc_supervisor, reason="same_respondent") == {c.pk for c in cases}
    assert len(_marked()) == 3 == len(_marked_after_rebuild())
    assert not services.follow_trigger_defaults()
    marking = SameRespondentMarking.objects.get()
    assert (marking.min_cases, marking.min_courts) == (3, 2)
    assert settings.CELERY_BEAT_SCHEDULE["transfers-follow-trigger-defaults"]["task"] == (
        "transfers.tasks.follow_trigger_defaults"
    )


def test_triggers_are_configured_per_high_court_by_its_supervisors(people):
    person = PartyFactory()
    a = EnforcementCaseFactory(court=people.courts.yuhu, parties__respondents=[person])
    b = EnforcementCaseFactory(
        court=people.courts.yuetang, parties__respondents=[PartyFactory(id_number=person.id_number)]
    )
    assert _eligible_ids(people.supervisor) == set()
    with pytest.raises(PermissionDenied):
        services.update_trigger_config(people.supervisor, people.courts.high, same_respondent_min_cases=2)
    with pytest.raises(PermissionDenied):
        services.update_trigger_config(people.other_supervisor, people.courts.high, same_respondent_min_cases=2)
    with pytest.raises(ValidationError) as exc:
        services.update_trigger_config(people.high_supervisor, people.courts.high, same_respondent_min_cases=1)
    assert "same_respondent_min_cases" in exc.value.message_dict
    assert not TriggerConfig.objects.exists()
    services.update_trigger_config(people.high_supervisor, people.courts.high, same_respondent_min_cases=2)
    assert _eligible_ids(people.supervisor) == {a.pk, b.pk}
    # the Fujian thresholds are untouched: a Fujian pair is not eligible
    person2 = PartyFactory()
    EnforcementCaseFactory(court=people.courts.jiaocheng, parties__respondents=[person2])
    EnforcementCaseFactory(
        court=people.courts.jiaocheng, parties__respondents=[PartyFactory(id_number=person2.id_number)]
    )
    assert _eligible_ids(people.other_supervisor) == set()
    # the SPC sees both provinces with each province's thresholds
    assert _eligible_ids(people.spc_supervisor) == {a.pk, b.pk}


def test_trigger_config_api(people):
    answer = client_for(people.high_supervisor).get("/api/v1/transfers/triggers/")
    assert answer.status_code == 200
    assert answer.json()["same_respondent_min_cases"] == 10 and answer.json()["stalled_days"] == 90
    answer = client_for(people.high_supervisor).put("/api/v1/transfers/triggers/", {"stalled_days": 60}, format="json")
    assert answer.status_code == 200 and answer.json()["stalled_days"] == 60
    answer = client_for(people.supervisor).put("/api/v1/transfers/triggers/", {"stalled_days": 10}, format="json")
    assert answer.status_code == 403
    assert client_for(people.assigned).get("/api/v1/transfers/triggers/").status_code == 403
    assert TriggerConfig.objects.get().stalled_days == 60


def test_undisposed_property_trigger(people):
    case, judge = people.case, people.assigned
    now, today = timezone.now(), timezone.localdate()
    clue = add_clue(judge, case, account="acct-old")
    clue_services.verify_clue(judge, clue)
    assert _eligible_ids(people.supervisor) == set()
    old = add_clue(judge, case, account="acct-older")
    with mock.patch("django.utils.timezone.now", return_value=now - dt.timedelta(days=200)):
        clue_services.verify_clue(judge, old)  # verified 200 days ago: more than 6 months
    rows = list(queries.eligible_cases(people.supervisor))
    assert [c.pk for c in rows] == [case.pk] and rows[0].r_undisposed
    assert [r["label"] for r in queries.reasons_of(rows[0])] == ["财产长期未处置"]
    # disposed of: no longer
    add_measure(judge, case, old, kind="deduct", amount="100.00")
    assert _eligible_ids(people.supervisor) == set()
    # a measure in force for more than 6 months
    other = add_clue(judge, case, account="acct-measure")
    add_measure(judge, case, other, amount="1000.00", effective_on=today - dt.timedelta(days=200))
    assert _eligible_ids(people.supervisor, reason="undisposed") == {case.pk}


def _event_at(when: dt.datetime, case, message: str) -> None:
    """A timeline line written by the case services at ``when`` (the clock set back)."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        case_services.add_event(case, None, "note", message)


def test_stalled_trigger_follows_the_last_event(people):
    case = people.case
    now = timezone.now()
    EnforcementCase.objects.filter(pk=case.pk).update(created_at=now - dt.timedelta(days=100))
    _event_at(now - dt.timedelta(days=95), case, "立案后首次办理")
    _event_at(now - dt.timedelta(days=80), case, "约谈被执行人")
    assert _eligible_ids(people.supervisor) == set()  # the last event is 80 days old: under 90

    case = EnforcementCase.objects.get(pk=case.pk)
    _event_at(now - dt.timedelta(days=200), case, "补记旧材料")  # an older line does not move it back
    assert EnforcementCase.objects.get(pk=case.pk).last_activity_at == now - dt.timedelta(days=80)
    with mock.patch("django.utils.timezone.now", return_value=now + dt.timedelta(days=11)):
        rows = list(queries.eligible_cases(people.supervisor))  # 91 days after the last event
    assert [c.pk for c in rows] == [case.pk]
    assert rows[0].last_activity == now - dt.timedelta(days=80)
    assert [r["code"] for r in queries.reasons_of(rows[0])] == ["stalled"]

    _event_at(now, case, "查询银行账户")  # any new event is progress
    with mock.patch("django.utils.timezone.now", return_value=now + dt.timedelta(days=11)):
        assert _eligible_ids(people.supervisor) == set()
    assert case.last_activity_at == now


def test_a_case_without_events_is_stalled_from_its_creation(people):
    case = people.case
    CaseEvent.objects.filter(case=case).delete()
    EnforcementCase.objects.filter(pk=case.pk).update(
        last_activity_at=None, created_at=timezone.now() - dt.timedelta(days=91)
    )
    assert _eligible_ids(people.supervisor, reason="stalled") == {case.pk}


def test_eligible_list_scope_and_api(people, django_assert_max_num_queries):
    old = EnforcementCaseFactory(court=people.courts.yuhu, filed_on=dt.date(2024, 1, 10))
    mid_case = EnforcementCaseFactory(court=people.courts.mid, filed_on=dt.date(2024, 1, 10))
    fj_case = EnforcementCaseFactory(court=people.courts.jiaocheng, filed_on=dt.date(2024, 1, 10))
    closed = EnforcementCaseFactory(court=people.courts.yuhu, filed_on=dt.date(2024, 1, 10))
    EnforcementCase.objects.filter(pk=closed.pk).update(status="closed", closing_method="terminated")
    body = client_for(people.supervisor).get("/api/v1/transfers/eligible/").json()
    assert [row["id"] for row in body["results"]] == [old.pk]
    row = body["results"][0]
    assert row["reasons"][0]["label"] == "237条" and row["art237_eligible_on"] == old.art237_eligible_on.isoformat()
    assert {
        r["id"] for r in client_for(people.high_supervisor).get("/api/v1/transfers/eligible/").json()["results"]
    } == {
        old.pk,
        mid_case.pk,
    }
    assert [
        r["id"] for r in client_for(people.other_supervisor).get("/api/v1/transfers/eligible/").json()["results"]
    ] == [fj_case.pk]
    # the list names the subordinate courts' cases itself: never one the policy would not show
    for user in (people.supervisor, people.high_supervisor, people.other_supervisor, people.spc_supervisor):
        eligible = set(queries.eligible_cases(user).values_list("pk", flat=True))
        assert eligible
        assert eligible <= set(cases_for(user, Action.VIEW).values_list("pk", flat=True))
    for user in (people.assigned, people.head, people.outsider, people.admin, people.superuser):
        assert client_for(user).get("/api/v1/transfers/eligible/").status_code == 403
    assert client_for(None).get("/api/v1/transfers/eligible/").status_code == 401


def test_eligible_list_issues_a_constant_number_of_queries(people):
    def count(total: int) -> int:
        existing = queries.eligible_cases(people.supervisor).count()
        for _ in range(total - existing):
            EnforcementCaseFactory(court=people.courts.yuhu, filed_on=dt.date(2024, 5, 6), amount_due=Decimal("500.00"))
        client = client_for(people.supervisor)
        client.get("/api/v1/transfers/eligible/")
        with CaptureQueriesContext(connection) as captured:
            answer = client.get("/api/v1/transfers/eligible/?sort=-filed_on")
        assert answer.status_code == 200 and answer.json()["count"] == total
        return len(captured)

    assert count(5) == count(30)


def test_the_property_that_restarted_the_clock_costs_the_same_queries_for_one_row_or_many(people):
    """The clue that restarted a row's art. 237 clock (and its platform, named in the reason) is
    fetched for the page's rows in one query each, however many rows have one; the page shows it."""
    from enforcement.periods import add_months

    today = timezone.localdate()
    platform = PlatformFactory(code="clockpf", name="时钟平台")
    web = Client()
    web.force_login(people.supervisor)

    def restarted_case():
        case = EnforcementCaseFactory(
            court=people.courts.yuhu, judges=[people.assigned], filed_on=add_months(today, -12)
        )
        add_clue(people.assigned, case, platform=platform, account=f"pf-{case.pk}", received_on=add_months(today, -8))
        return case

    def page_queries() -> tuple[int, str]:
        web.get("/transfers/eligible/")
        with CaptureQueriesContext(connection) as captured:
            answer = web.get("/transfers/eligible/")
        return len(captured), answer.content.decode()

    first = restarted_case()
    one, html = page_queries()
    assert EnforcementCase.objects.get(pk=first.pk).art237_clock_clue_id is not None
    assert "时钟平台" in html
    for _ in range(4):
        restarted_case()
    many, html = page_queries()
    assert html.count("时钟平台") >= 5
    assert many == one


def test_eligible_list_reasons_and_api_follow_the_property_found_later(people):
    """The clock runs from a property found after filing: the list (SQL), the model, the reasons
    text and the API agree, and disposing of the property moves the clock back to filing."""
    from clues import services as clue_services
    from enforcement.periods import add_months

    today = timezone.localdate()
    moved = EnforcementCaseFactory(court=people.courts.yuhu, judges=[people.assigned], filed_on=add_months(today, -7))
    later = EnforcementCaseFactory(court=people.courts.yuhu, judges=[people.assigned], filed_on=add_months(today, -10))
    assert _eligible_ids(people.supervisor) == {moved.pk, later.pk}
    found = add_clue(
        people.assigned,
        moved,
        account="房产-1",
        category="traditional",
        kind="real_estate",
        received_on=add_months(today, -2),
    )
    add_clue(
        people.assigned,
        later,
        account="房产-2",
        category="traditional",
        kind="real_estate",
        received_on=add_months(today, -8),
    )
    rows = {c.pk: c for c in queries.eligible_cases(people.supervisor)}
    assert set(rows) == {later.pk}
    for case in EnforcementCase.objects.filter(pk__in=[moved.pk, later.pk]):
        assert (case.pk in rows) == (case.art237_eligible_on <= today)
    row = rows[later.pk]
    start = add_months(today, -8).isoformat()
    [text] = [r["text"] for r in queries.reasons_of(row) if r["code"] == "art237"]
    assert f"自执行中发现财产“不动产”之日（{start}）起满6个月" in text
    assert row.art237_eligible_on.isoformat() in text
    body = client_for(people.supervisor).get("/api/v1/transfers/eligible/").json()
    [api_row] = body["results"]
    assert api_row["art237_eligible_on"] == row.art237_eligible_on.isoformat()
    assert api_row["reasons"][0]["text"] == text
    # the property found later turns out not to exist: six months from filing again, eligible
    clue_services.invalidate_clue(people.assigned, found, reason="查无此房产")
    rows = {c.pk: c for c in queries.eligible_cases(people.supervisor)}
    assert set(rows) == {moved.pk, later.pk}
    [text] = [r["text"] for r in queries.reasons_of(rows[moved.pk]) if r["code"] == "art237"]
    assert f"自立案之日（{moved.filed_on.isoformat()}）起满6个月" in text


def test_a_case_that_leaves_the_list_between_the_page_queries_is_left_out(people):
    """The page's ids come first, its rows second: a case closed in between is not on the page."""
    cases = [EnforcementCaseFactory(court=people.courts.yuhu, filed_on=dt.date(2024, 1, 10 + i)) for i in range(3)]
    leaving = cases[1]
    original = QuerySet.in_bulk

    def close_first(self, ids):
        EnforcementCase.objects.filter(pk=leaving.pk).update(
            status=CaseStatus.CLOSED, closing_method=ClosingMethod.REJECTED
        )
        return original(self, ids)

    with mock.patch.object(QuerySet, "in_bulk", close_first):
        rows, total = rows_and_total(queries.eligible_cases(people.supervisor), 0, 10)
    assert total == 3 and [c.pk for c in rows] == [cases[0].pk, cases[2].pk]


def test_eligible_pages_carry_the_total_from_the_page_query(people):
    """The page's ids and the total come from one narrow query (COUNT(*) OVER ()), the rows from a
    second by id, in the list's order; a page past the end counts."""
    cases = [EnforcementCaseFactory(court=people.courts.yuhu, filed_on=dt.date(2024, 1, 10 + i)) for i in range(5)]
    expected = [c.pk for c in queries.eligible_cases(people.supervisor)]
    assert sorted(expected) == sorted(c.pk for c in cases)
    api = client_for(people.supervisor)
    with CaptureQueriesContext(connection) as captured:
        body = api.get("/api/v1/transfers/eligible/?limit=2&offset=2").json()
    assert body["count"] == 5 and [r["id"] for r in body["results"]] == expected[2:4]
    assert not [q for q in captured if q["sql"].startswith('SELECT COUNT(*) AS "__count"')]
    past = api.get("/api/v1/transfers/eligible/?limit=2&offset=10").json()
    assert past["count"] == 5 and past["results"] == []
    web = Client()
    web.force_login(people.supervisor)
    page2 = web.get("/transfers/eligible/?page=2")
    assert page2.context["page"].paginator.count == 5 and page2.context["page"].number == 1  # one page of 50
    last = web.get("/transfers/eligible/?page=9")
    assert last.context["page"].number == 1 and [r["case"].pk for r in last.context["rows"]] == expected
