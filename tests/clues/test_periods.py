"""Statutory measure periods (MeasurePeriodRule) and renewals (续行).

The effective day counts as the first day; the last day is the day before the same date N months
later, clamped to the month's end, and never moved for holidays.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clues import services
from clues.models import MeasurePeriodRule, MeasureStatus
from tests.clues.factories import add_clue, add_measure, client_for, counts, days

pytestmark = pytest.mark.django_db

D = dt.date.fromisoformat


def test_seeded_table_holds_the_statutory_defaults():
    assert dict(MeasurePeriodRule.objects.values_list("asset_kind", "months")) == {
        "bank_deposit": 12,
        "platform_balance": 12,
        "payment_account": 12,
        "movable": 24,
        "real_estate": 36,
        "other_property_right": 36,
        "patent": 6,
        "trademark": 12,
    }


@pytest.mark.parametrize(
    ("asset_kind", "effective_on", "expires_on"),
    [
        ("platform_balance", "2025-01-10", "2026-01-09"),
        ("platform_balance", "2024-02-29", "2025-02-28"),  # leap day
        ("platform_balance", "2024-03-01", "2025-02-28"),
        ("platform_balance", "2025-01-01", "2025-12-31"),
        ("payment_account", "2025-01-10", "2026-01-09"),
        ("bank_deposit", "2025-01-10", "2026-01-09"),
        ("trademark", "2025-01-10", "2026-01-09"),
        ("patent", "2025-08-31", "2026-02-28"),  # month-end clamp
        ("patent", "2025-01-10", "2025-07-09"),
        ("movable", "2025-01-10", "2027-01-09"),
        ("movable", "2024-02-29", "2026-02-28"),
        ("real_estate", "2025-01-10", "2028-01-09"),
        ("real_estate", "2024-02-29", "2027-02-28"),
        ("other_property_right", "2025-01-10", "2028-01-09"),
        # ends on the 2025 National Day holiday: not moved
        ("platform_balance", "2024-10-02", "2025-10-01"),
        # ends on a Sunday: not moved
        ("bank_deposit", "2024-06-16", "2025-06-15"),
    ],
)
def test_measure_expiry_per_asset_kind(asset_kind, effective_on, expires_on):
    assert services.measure_expiry(asset_kind, D(effective_on)) == D(expires_on)


def test_recorded_measure_carries_the_expiry(cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    measure = add_measure(cast.assigned, cast.case, clue, effective_on=D("2025-01-10"))
    assert (measure.effective_on, measure.expires_on) == (D("2025-01-10"), D("2026-01-09"))


def test_api_answers_the_exact_expiry(cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    response = client_for(cast.assigned).post(
        f"/api/v1/cases/{cast.case.pk}/measures/",
        {"clue": clue.pk, "kind": "freeze", "amount": "5000.00", "effective_on": "2024-02-29"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["expires_on"] == "2025-02-28"
    assert body["status"] == "active"
    assert body["queue_position"] is None
    assert body["asset_kind"] == "platform_balance"


@pytest.mark.parametrize(
    ("kind", "clue_kw", "asset_kind", "effective_on", "expires_on"),
    [
        ("seize", {"category": "traditional", "kind": "real_estate"}, "real_estate", "2025-01-10", "2028-01-09"),
        ("seize", {"category": "traditional", "kind": "vehicle"}, "movable", "2025-01-10", "2027-01-09"),
        ("seize", {"category": "rights", "kind": "patent"}, "patent", "2025-08-31", "2026-02-28"),
        ("freeze", {"category": "funds", "kind": "bank_deposit"}, "bank_deposit", "2024-02-29", "2025-02-28"),
    ],
)
def test_asset_kind_follows_the_clue_kind(cast, kind, clue_kw, asset_kind, effective_on, expires_on):
    clue = add_clue(cast.assigned, cast.case, **clue_kw)
    measure = add_measure(cast.assigned, cast.case, clue, kind=kind, effective_on=D(effective_on))
    assert measure.asset_kind == asset_kind
    assert measure.expires_on == D(expires_on)


def test_changing_a_rule_changes_new_expiries(cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    before = add_measure(cast.assigned, cast.case, clue, effective_on=D("2025-01-10"))
    MeasurePeriodRule.objects.filter(asset_kind="platform_balance").update(months=6)

    assert services.measure_expiry("platform_balance", D("2025-01-10")) == D("2025-07-09")
    other = add_clue(cast.assigned, cast.case, platform=alipay, account="acct-002")
    after = add_measure(cast.assigned, cast.case, other, effective_on=D("2025-01-10"))
    assert after.expires_on == D("2025-07-09")
    before.refresh_from_db()
    assert before.expires_on == D("2026-01-09")  # existing measures keep their date


def test_missing_rule_is_refused_in_chinese():
    MeasurePeriodRule.objects.filter(asset_kind="patent").delete()
    with pytest.raises(ValidationError) as exc:
        services.measure_expiry("patent", D("2025-01-10"))
    assert "asset_kind" in exc.value.message_dict


# --------------------------------------------------------------------------------------------
# renewal
# --------------------------------------------------------------------------------------------


def test_renewal_starts_the_day_after_with_its_own_full_period(cast, alipay, freeze_today):
    today = freeze_today(D("2025-12-20"))
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    old = add_measure(cast.assigned, cast.case, clue, amount="60000.00", effective_on=D("2025-01-10"))
    assert old.expires_on == D("2026-01-09")

    new = services.renew_measure(cast.assigned, old)

    assert new.renewed_from == old
    assert (new.effective_on, new.expires_on) == (D("2026-01-10"), D("2027-01-09"))
    assert (new.kind, new.amount, new.asset_key, new.status) == (old.kind, old.amount, old.asset_key, "active")
    assert new.requested_on == today
    # The pair counts once.
    assert services.frozen_total(cast.case) == Decimal("60000.00")


def test_renewal_through_the_api(cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    old = add_measure(cast.assigned, cast.case, clue)
    response = client_for(cast.assigned).post(f"/api/v1/measures/{old.pk}/renew/", {}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["renewed_from"] == old.pk
    assert body["effective_on"] == (old.expires_on + days(1)).isoformat()
    assert body["expires_on"] == services.measure_expiry("platform_balance", old.expires_on + days(1)).isoformat()
    assert client_for(cast.assigned).get(f"/api/v1/measures/{old.pk}/").json()["renewal"] == body["id"]


def test_leap_day_renewal(cast, alipay, freeze_today):
    freeze_today(D("2025-02-01"))
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    old = add_measure(cast.assigned, cast.case, clue, effective_on=D("2024-03-01"))
    assert old.expires_on == D("2025-02-28")
    new = services.renew_measure(cast.assigned, old)
    assert (new.effective_on, new.expires_on) == (D("2025-03-01"), D("2026-02-28"))


def test_renewal_on_the_last_day_is_accepted(cast, alipay, freeze_today):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    freeze_today(D("2025-01-10"))
    old = add_measure(cast.assigned, cast.case, clue, effective_on=D("2025-01-10"))
    freeze_today(old.expires_on)
    assert services.renew_measure(cast.assigned, old).effective_on == D("2026-01-10")


def test_renewal_with_another_start_is_refused(cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    old = add_measure(cast.assigned, cast.case, clue)
    before = counts()
    with pytest.raises(ValidationError) as exc:
        services.renew_measure(cast.assigned, old, effective_on=old.expires_on + days(30))
    assert "effective_on" in exc.value.message_dict
    assert counts() == before


def test_second_renewal_of_the_same_measure_is_refused(cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    old = add_measure(cast.assigned, cast.case, clue)
    services.renew_measure(cast.assigned, old)
    before = counts()
    with pytest.raises(ValidationError) as exc:
        services.renew_measure(cast.assigned, old)
    assert "measure" in exc.value.message_dict
    assert counts() == before


def test_renewal_of_the_renewal_chains(cast, alipay, freeze_today):
    freeze_today(D("2025-12-01"))
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    first = add_measure(cast.assigned, cast.case, clue, amount="10000.00", effective_on=D("2025-01-10"))
    second = services.renew_measure(cast.assigned, first)
    third = services.renew_measure(cast.assigned, second)
    assert (third.effective_on, third.expires_on) == (D("2027-01-10"), D("2028-01-09"))
    assert services.frozen_total(cast.case) == Decimal("10000.00")


def test_expiry_by_the_beat_after_a_renewal_completes_the_old_one(cast, alipay, freeze_today):
    freeze_today(D("2025-12-01"))
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    old = add_measure(cast.assigned, cast.case, clue, amount="10000.00", effective_on=D("2025-01-10"))
    new = services.renew_measure(cast.assigned, old)

    assert services.expire_measures(today=D("2026-01-10")) == 1
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.status == MeasureStatus.COMPLETED
    assert new.status == MeasureStatus.ACTIVE
    assert services.frozen_total(cast.case) == Decimal("10000.00")
