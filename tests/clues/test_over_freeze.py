"""The over-freeze guard (超标的冻结): active freezes + new amount <= outstanding x (1 + margin)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clues import services
from clues.models import Measure, MeasureStatus
from enforcement.models import AuditEntry
from tests.clues.factories import HAS_CJK, add_clue, add_measure, client_for, counts

pytestmark = pytest.mark.django_db

# cast.case: amount due 100000.00, nothing recovered -> limit 110000.00 with the default 10 % margin


@pytest.fixture
def clues(cast, alipay):
    return [add_clue(cast.assigned, cast.case, platform=alipay, account=f"acct-{i}") for i in range(4)]


def test_default_limit(cast):
    assert cast.case.amount_outstanding == Decimal("100000.00")
    assert services.freeze_limit(cast.case) == Decimal("110000.00")


def test_exactly_at_the_limit_is_accepted(cast, clues):
    add_measure(cast.assigned, cast.case, clues[0], amount="60000.00")
    measure = add_measure(cast.assigned, cast.case, clues[1], amount="50000.00")
    assert measure.amount == Decimal("50000.00")
    assert measure.status == MeasureStatus.ACTIVE
    assert services.frozen_total(cast.case) == Decimal("110000.00")


def test_a_single_freeze_at_the_limit_is_accepted(cast, clues):
    assert add_measure(cast.assigned, cast.case, clues[0], amount="110000.00").amount == Decimal("110000.00")


def test_one_cent_over_is_refused_with_the_figures_and_nothing_written(cast, clues):
    add_measure(cast.assigned, cast.case, clues[0], amount="60000.00")
    before = counts()

    with pytest.raises(ValidationError) as exc:
        add_measure(cast.assigned, cast.case, clues[1], amount="50000.01")

    (message,) = exc.value.message_dict["amount"]
    for figure in ("100000.00", "110000.00", "60000.00", "50000.00", "50000.01"):
        assert figure in message
    assert HAS_CJK.search(message)
    assert counts() == before
    clues[1].refresh_from_db()
    assert clues[1].status == "pending"


def test_one_cent_over_through_the_api(cast, clues):
    add_measure(cast.assigned, cast.case, clues[0], amount="110000.00")
    before = counts()
    response = client_for(cast.assigned).post(
        f"/api/v1/cases/{cast.case.pk}/measures/",
        {"clue": clues[1].pk, "kind": "freeze", "amount": "0.01"},
        format="json",
    )
    assert response.status_code == 400
    (message,) = response.json()["amount"]
    assert "110000.00" in message and "0.00" in message
    assert counts() == before


def test_reduce_to_fit(cast, clues):
    add_measure(cast.assigned, cast.case, clues[0], amount="60000.00")
    measure = add_measure(cast.assigned, cast.case, clues[1], amount="80000.00", reduce_to_fit=True)
    assert measure.amount == Decimal("50000.00")
    assert services.frozen_total(cast.case) == services.freeze_limit(cast.case)
    assert AuditEntry.objects.filter(action="measure.record", object_id=str(measure.pk)).get().payload["amount"] == (
        "50000.00"
    )


def test_reduce_to_fit_through_the_api(cast, clues):
    add_measure(cast.assigned, cast.case, clues[0], amount="100000.00")
    response = client_for(cast.assigned).post(
        f"/api/v1/cases/{cast.case.pk}/measures/",
        {"clue": clues[1].pk, "kind": "freeze", "amount": "30000.00", "reduce_to_fit": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "10000.00"


def test_reduce_to_fit_without_room_is_refused(cast, clues):
    add_measure(cast.assigned, cast.case, clues[0], amount="110000.00")
    before = counts()
    with pytest.raises(ValidationError) as exc:
        add_measure(cast.assigned, cast.case, clues[1], amount="1.00", reduce_to_fit=True)
    assert "amount" in exc.value.message_dict
    assert counts() == before


def test_released_and_waiting_freezes_do_not_count(cast, clues):
    first = add_measure(cast.assigned, cast.case, clues[0], amount="110000.00")
    services.release_measure(cast.assigned, first)
    assert services.frozen_total(cast.case) == Decimal("0.00")
    assert add_measure(cast.assigned, cast.case, clues[1], amount="110000.00").status == "active"


def test_a_renewal_does_not_double_count(cast, clues):
    old = add_measure(cast.assigned, cast.case, clues[0], amount="60000.00")
    services.renew_measure(cast.assigned, old)
    assert services.frozen_total(cast.case) == Decimal("60000.00")
    assert add_measure(cast.assigned, cast.case, clues[1], amount="50000.00").amount == Decimal("50000.00")


def test_margin_is_configurable(cast, clues, settings):
    settings.OVER_FREEZE_MARGIN_RATE = Decimal("0")
    assert services.freeze_limit(cast.case) == Decimal("100000.00")
    with pytest.raises(ValidationError):
        add_measure(cast.assigned, cast.case, clues[0], amount="100000.01")
    add_measure(cast.assigned, cast.case, clues[0], amount="100000.00")


# --------------------------------------------------------------------------------------------
# deductions
# --------------------------------------------------------------------------------------------


def test_deduction_recovers_and_lists_the_excess_frozen(cast, clues):
    add_measure(cast.assigned, cast.case, clues[0], amount="110000.00")
    assert services.excess_frozen(cast.case) == Decimal("0.00")

    deduct = add_measure(cast.assigned, cast.case, clues[1], kind="deduct", amount="40000.00")

    assert deduct.status == MeasureStatus.COMPLETED
    cast.case.refresh_from_db()
    assert cast.case.amount_recovered == Decimal("40000.00")
    assert services.freeze_limit(cast.case) == Decimal("66000.00")
    assert services.excess_frozen(cast.case) == Decimal("44000.00")
    clues[1].refresh_from_db()
    assert clues[1].status == "disposed"


def test_deduction_up_to_the_outstanding_amount(cast, clues):
    add_measure(cast.assigned, cast.case, clues[0], kind="deduct", amount="100000.00")
    cast.case.refresh_from_db()
    assert cast.case.amount_outstanding == Decimal("0.00")
    assert services.freeze_limit(cast.case) == Decimal("0.00")


def test_deduction_beyond_the_outstanding_amount_is_refused(cast, clues):
    add_measure(cast.assigned, cast.case, clues[0], kind="deduct", amount="30000.00")
    before = counts()
    with pytest.raises(ValidationError) as exc:
        add_measure(cast.assigned, cast.case, clues[1], kind="deduct", amount="70000.01")
    (message,) = exc.value.message_dict["amount"]
    assert "70000.01" in message and "70000.00" in message
    assert counts() == before
    cast.case.refresh_from_db()
    assert cast.case.amount_recovered == Decimal("30000.00")
    assert Measure.objects.filter(kind="deduct").count() == 1


def test_a_released_renewal_leaves_the_original_freeze_counted(cast, clues):
    old = add_measure(cast.assigned, cast.case, clues[0], amount="60000.00")
    renewal = services.renew_measure(cast.assigned, old)
    services.release_measure(cast.assigned, renewal, reason="续行申请撤回")
    old.refresh_from_db()
    assert old.status == MeasureStatus.ACTIVE  # still holds 60000 until its last day

    assert services.frozen_total(cast.case) == Decimal("60000.00")
    with pytest.raises(ValidationError):
        add_measure(cast.assigned, cast.case, clues[1], amount="50000.01")
