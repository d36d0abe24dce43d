"""The art. 237 clock per property: six months from filing for property the respondent had at the
application, from the day it was found for property found later, counted over the clues not yet
enforced (pending, verified, under a measure); every clue service keeps ``art237_clock_from``."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

import pytest
from django.apps import apps

from clues import services
from clues.models import ClueStatus, PropertyClue
from enforcement import queries as case_queries
from enforcement.models import EnforcementCase
from tests.clues.factories import add_clue, add_measure, respondent_of
from tests.factories import EnforcementCaseFactory
from transfers import services as transfer_services

pytestmark = pytest.mark.django_db

D = dt.date
FILED = D(2025, 3, 10)  # a Monday; six months later, 2025-09-10, is a Wednesday


@pytest.fixture
def case(cast):
    return EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], filed_on=FILED)


def fresh(case) -> EnforcementCase:
    return EnforcementCase.objects.get(pk=case.pk)


def test_a_property_found_two_months_after_filing_moves_eligibility_to_eight_months(cast, case):
    assert fresh(case).art237_eligible_on == D(2025, 9, 10)
    clue = add_clue(cast.assigned, case, account="found-later", received_on=D(2025, 5, 12))
    case = fresh(case)
    assert case.art237_clock_from == D(2025, 5, 12) and case.art237_clock_clue_id == clue.pk
    assert case.art237_clock_later
    assert case.art237_eligible_on == D(2025, 11, 12)
    # invalidated: no property left to enforce, the statute's general clock from filing again
    services.invalidate_clue(cast.assigned, clue, reason="查无此账户")
    case = fresh(case)
    assert case.art237_clock_from == FILED and case.art237_clock_clue_id is None
    assert case.art237_eligible_on == D(2025, 9, 10)


def test_property_held_at_the_application_keeps_the_clock_at_filing_until_disposed(cast, case):
    at_filing = add_clue(cast.assigned, case, account="at-filing", received_on=D(2025, 3, 1))
    later = add_clue(cast.assigned, case, account="later", received_on=D(2025, 6, 3))
    case = fresh(case)
    assert case.art237_clock_from == FILED and case.art237_clock_clue_id is None
    # verified, then under a freeze: still to enforce, nothing moves
    services.verify_clue(cast.assigned, at_filing)
    freeze = add_measure(cast.assigned, case, at_filing, amount="500.00")
    assert fresh(case).art237_clock_from == FILED
    services.release_measure(cast.assigned, freeze, reason="解除")
    assert PropertyClue.objects.get(pk=at_filing.pk).status == ClueStatus.VERIFIED
    assert fresh(case).art237_clock_from == FILED
    # the property held at filing is deducted (disposed): the later one sets the clock
    add_measure(cast.assigned, case, at_filing, kind="deduct", amount="1000.00")
    case = fresh(case)
    assert case.art237_clock_from == D(2025, 6, 3) and case.art237_clock_clue_id == later.pk
    assert case.art237_eligible_on == D(2025, 12, 3)
    # the later one disposed as well: back to filing
    add_measure(cast.assigned, case, later, kind="deduct", amount="1000.00")
    case = fresh(case)
    assert case.art237_clock_from == FILED and case.art237_clock_clue_id is None


def test_the_earliest_of_the_properties_found_later_counts(cast, case):
    second = add_clue(cast.assigned, case, account="second", received_on=D(2025, 7, 1))
    first = add_clue(cast.assigned, case, account="first", received_on=D(2025, 5, 12))
    assert fresh(case).art237_clock_clue_id == first.pk
    services.invalidate_clue(cast.assigned, first, reason="账户已注销")
    case = fresh(case)
    assert case.art237_clock_from == D(2025, 7, 1) and case.art237_clock_clue_id == second.pk
    # 2026-01-01..03 is the New Year holiday; Sunday 01-04 is an adjusted working day
    assert case.art237_eligible_on == D(2026, 1, 4)


def test_excluded_periods_still_add_counted_from_the_clock_start(cast, case):
    transfer_services.record_excluded_period(
        cast.assigned, case, kind="appraisal", started_on=D(2025, 4, 1), ended_on=D(2025, 4, 10)
    )
    assert fresh(case).art237_excluded_days == 10
    assert fresh(case).art237_eligible_on == D(2025, 9, 22)  # 09-20 is a Saturday
    clue = add_clue(cast.assigned, case, account="found-later", received_on=D(2025, 5, 12))
    # the appraisal ended before the property was found: it does not extend the new six months
    assert fresh(case).art237_excluded_days == 0
    assert fresh(case).art237_eligible_on == D(2025, 11, 12)
    transfer_services.record_excluded_period(
        cast.assigned, case, kind="public_notice", started_on=D(2025, 6, 2), ended_on=D(2025, 6, 11)
    )
    case = fresh(case)
    assert case.art237_excluded_days == 10
    assert case.art237_eligible_on == D(2025, 11, 24)  # 11-22 is a Saturday
    # back to the general clock: both periods fall inside it again
    services.invalidate_clue(cast.assigned, clue, reason="查无此账户")
    case = fresh(case)
    assert case.art237_excluded_days == 20
    assert case.art237_eligible_on == D(2025, 9, 30)


def test_platform_findings_start_the_clock_on_the_day_found(cast, alipay, freeze_today):
    today = freeze_today(D(2025, 8, 4))
    case = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], filed_on=FILED)
    rows = [
        {"account": "2088-1", "asset_kind": "platform_balance", "balance": "100.00"},
        {"account": "2088-2", "asset_kind": "platform_balance", "balance": "50.00"},
    ]
    assert services.record_query_answers(case, respondent=respondent_of(case), answers=[(alipay, rows)]) == [None]
    case = fresh(case)
    assert case.art237_clock_from == today
    assert PropertyClue.objects.get(pk=case.art237_clock_clue_id).account == "2088-1"
    # reported again later: a balance update, the clock stays
    freeze_today(D(2025, 8, 20))
    rows = [{"account": "2088-1", "asset_kind": "platform_balance", "balance": "80.00"}]
    services.record_query_answers(case, respondent=respondent_of(case), answers=[(alipay, rows)])
    assert fresh(case).art237_clock_from == today


def test_the_case_list_filter_in_sql_agrees_with_the_property(cast, case):
    plain = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], filed_on=FILED)
    add_clue(cast.assigned, case, account="found-later", received_on=D(2025, 5, 12))
    base = EnforcementCase.objects.filter(pk__in=[case.pk, plain.pk])
    for today in (D(2025, 9, 9), D(2025, 9, 10), D(2025, 11, 11), D(2025, 11, 12)):
        eligible = {c.pk for c in case_queries.art237_filter(base, today)}
        expected = {c.pk for c in base if c.art237_eligible_on <= today}
        assert eligible == expected, today
    assert {c.pk for c in case_queries.art237_filter(base, D(2025, 10, 1))} == {plain.pk}


def test_the_migration_fills_existing_rows_as_the_service_would(cast, case):
    other = EnforcementCaseFactory(court=cast.courts.yuhu, judges=[cast.assigned], filed_on=FILED)
    clue = add_clue(cast.assigned, case, account="found-later", received_on=D(2025, 5, 12))
    add_clue(cast.assigned, case, account="gone", received_on=D(2025, 4, 1))
    PropertyClue.objects.filter(account="gone").update(status=ClueStatus.INVALID, invalid_reason="无")
    EnforcementCase.objects.update(art237_clock_from=None, art237_clock_clue=None)
    import_module("enforcement.migrations.0005_art237_clock_start").fill_clock(apps, None)
    assert (fresh(case).art237_clock_from, fresh(case).art237_clock_clue_id) == (D(2025, 5, 12), clue.pk)
    assert (fresh(other).art237_clock_from, fresh(other).art237_clock_clue_id) == (FILED, None)
