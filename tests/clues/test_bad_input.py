"""Bad input: each refused with a Chinese message on the right field, and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from clues import services
from clues.models import Measure, MeasureStatus
from tests.clues.factories import (
    HAS_CJK,
    add_clue,
    add_measure,
    case_in,
    client_for,
    counts,
    days,
    messages_of,
    respondent_of,
)
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db


def refused(field, call, *args, **kwargs):
    """``call`` raises a ValidationError on ``field`` with a Chinese message and writes nothing."""
    before = counts()
    with pytest.raises(ValidationError) as exc:
        call(*args, **kwargs)
    errors = exc.value.message_dict
    assert field in errors, errors
    assert all(HAS_CJK.search(m) for m in errors[field]), errors
    assert counts() == before
    return errors[field]


def api_refused(field, user, url, data):
    before = counts()
    response = client_for(user).post(url, data, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, body
    assert all(HAS_CJK.search(m) for m in messages_of(body[field])), body
    assert counts() == before
    return body[field]


@pytest.fixture
def clue(cast, alipay):
    return add_clue(cast.assigned, cast.case, platform=alipay)


# --------------------------------------------------------------------------------------------
# measures
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0", "0.00", "-5", "-0.01", "1.005", "12.345", "abc", "NaN", "Infinity"])
@pytest.mark.parametrize("kind", ["freeze", "deduct"])
def test_bad_amounts(cast, clue, kind, amount):
    refused("amount", add_measure, cast.assigned, cast.case, clue, kind=kind, amount=amount)


@pytest.mark.parametrize("amount", ["0", "-100.00", "99.999"])
def test_bad_amounts_through_the_api(cast, clue, amount):
    api_refused(
        "amount",
        cast.assigned,
        f"/api/v1/cases/{cast.case.pk}/measures/",
        {"clue": clue.pk, "kind": "freeze", "amount": amount},
    )


@pytest.mark.parametrize("kind", ["freeze", "deduct"])
def test_missing_amount(cast, clue, kind):
    refused("amount", services.record_measure, cast.assigned, cast.case, clue=clue, kind=kind, amount=None)


def test_effective_date_in_the_future(cast, clue):
    tomorrow = dt.date.today() + days(1)
    refused("effective_on", add_measure, cast.assigned, cast.case, clue, effective_on=tomorrow)
    api_refused(
        "effective_on",
        cast.assigned,
        f"/api/v1/cases/{cast.case.pk}/measures/",
        {"clue": clue.pk, "kind": "freeze", "amount": "100.00", "effective_on": tomorrow.isoformat()},
    )


def test_effective_today_is_accepted(cast, clue):
    assert add_measure(cast.assigned, cast.case, clue, effective_on=dt.date.today()).status == "active"


def test_measure_on_a_clue_of_another_case(cast, alipay):
    other_case, other_judge = case_in(cast.courts.yuhu)
    foreign = add_clue(other_judge, other_case, platform=alipay)
    refused("clue", add_measure, cast.assigned, cast.case, foreign)
    api_refused(
        "clue",
        cast.assigned,
        f"/api/v1/cases/{cast.case.pk}/measures/",
        {"clue": foreign.pk, "kind": "freeze", "amount": "100.00"},
    )
    # Even the other case's own judge cannot file it under a case he does not handle.
    assert not Measure.objects.exists()


def test_unknown_measure_kind(cast, clue):
    refused("kind", add_measure, cast.assigned, cast.case, clue, kind="confiscate", amount=None)


def test_unknown_asset_kind(cast, clue):
    refused("asset_kind", add_measure, cast.assigned, cast.case, clue, asset_kind="spaceship")


def test_measure_on_an_invalid_clue(cast, clue):
    services.invalidate_clue(cast.assigned, clue, reason="查无此账户")
    refused("clue", add_measure, cast.assigned, cast.case, clue)


# --------------------------------------------------------------------------------------------
# renewals
# --------------------------------------------------------------------------------------------


def test_renewal_of_an_expired_measure(cast, clue):
    measure = add_measure(cast.assigned, cast.case, clue, effective_on=dt.date.today() - days(400))
    assert services.expire_measures() == 1
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.EXPIRED
    refused("measure", services.renew_measure, cast.assigned, measure)
    api_refused("measure", cast.assigned, f"/api/v1/measures/{measure.pk}/renew/", {})


def test_renewal_after_the_last_day_before_the_beat_ran(cast, clue):
    measure = add_measure(cast.assigned, cast.case, clue, effective_on=dt.date.today() - days(400))
    assert measure.status == MeasureStatus.ACTIVE  # the beat has not run yet
    messages = refused("measure", services.renew_measure, cast.assigned, measure)
    assert measure.expires_on.isoformat() in messages[0]


def test_renewal_of_a_released_measure(cast, clue):
    measure = add_measure(cast.assigned, cast.case, clue)
    services.release_measure(cast.assigned, measure)
    refused("measure", services.renew_measure, cast.assigned, measure)
    api_refused("measure", cast.assigned, f"/api/v1/measures/{measure.pk}/renew/", {})


def test_renewal_of_a_waiting_measure(cast, alipay):
    person = respondent_of(cast.case)
    other_case, other_judge = case_in(cast.courts.yuetang, respondent=person)
    first = add_clue(other_judge, other_case, platform=alipay)
    add_measure(other_judge, other_case, first)
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    waiting = add_measure(cast.assigned, cast.case, clue)
    assert waiting.status == MeasureStatus.WAITING
    refused("measure", services.renew_measure, cast.assigned, waiting)


def test_renewal_of_a_deduction(cast, clue):
    deduct = add_measure(cast.assigned, cast.case, clue, kind="deduct", amount="10.00")
    refused("measure", services.renew_measure, cast.assigned, deduct)


def test_release_of_a_released_measure(cast, clue):
    measure = add_measure(cast.assigned, cast.case, clue)
    services.release_measure(cast.assigned, measure)
    refused("measure", services.release_measure, cast.assigned, measure)


# --------------------------------------------------------------------------------------------
# clues
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "kind"),
    [
        ("funds", "real_estate"),
        ("rights", "platform_balance"),
        ("data", "patent"),
        ("traditional", "user_data"),
        ("funds", "no_such_kind"),
    ],
)
def test_kind_not_in_category(cast, alipay, category, kind):
    messages = refused("kind", add_clue, cast.assigned, cast.case, platform=alipay, category=category, kind=kind)
    assert kind in messages[0]


def test_kind_not_in_category_through_the_api(cast, alipay):
    api_refused(
        "kind",
        cast.assigned,
        f"/api/v1/cases/{cast.case.pk}/clues/",
        {
            "respondent": respondent_of(cast.case).pk,
            "category": "funds",
            "kind": "vehicle",
            "platform": "alipay",
            "account": "x",
            "source": "applicant",
        },
    )


def test_unknown_category(cast, alipay):
    refused("category", add_clue, cast.assigned, cast.case, platform=alipay, category="crypto")


def test_unknown_platform_code(cast, alipay):
    messages = refused("platform", add_clue, cast.assigned, cast.case, platform="nosuchpay")
    assert "nosuchpay" in messages[0]
    body = api_refused(
        "platform",
        cast.assigned,
        f"/api/v1/cases/{cast.case.pk}/clues/",
        {
            "respondent": respondent_of(cast.case).pk,
            "category": "funds",
            "kind": "payment_account",
            "platform": "nosuchpay",
            "account": "x",
            "source": "applicant",
        },
    )
    assert "nosuchpay" in body[0]


def test_funds_clue_needs_a_holder(cast):
    refused("platform", add_clue, cast.assigned, cast.case, platform=None, registry="")


def test_respondent_not_a_respondent_of_the_case(cast, alipay):
    applicant = cast.case.case_parties.get(role="applicant").party
    stranger = PartyFactory()
    other_case, _judge = case_in(cast.courts.yuhu)
    for party in (applicant, stranger, respondent_of(other_case)):
        refused("respondent", add_clue, cast.assigned, cast.case, platform=alipay, respondent=party.pk)
    api_refused(
        "respondent",
        cast.assigned,
        f"/api/v1/cases/{cast.case.pk}/clues/",
        {
            "respondent": applicant.pk,
            "category": "funds",
            "kind": "payment_account",
            "platform": "alipay",
            "account": "x",
            "source": "applicant",
        },
    )


@pytest.mark.parametrize("value", ["-1.00", "1.001"])
def test_bad_estimated_value(cast, alipay, value):
    refused("estimated_value", add_clue, cast.assigned, cast.case, platform=alipay, estimated_value=value)


def test_empty_account_and_unknown_source(cast, alipay):
    refused("account", add_clue, cast.assigned, cast.case, platform=alipay, account="  ")
    refused("source", add_clue, cast.assigned, cast.case, platform=alipay, source="rumour")


def test_invalidate_needs_a_reason(cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    refused("reason", services.invalidate_clue, cast.assigned, clue, reason="  ")
    api_refused("reason", cast.assigned, f"/api/v1/clues/{clue.pk}/invalidate/", {"reason": ""})


def test_verify_twice(cast, alipay):
    clue = add_clue(cast.assigned, cast.case, platform=alipay)
    services.verify_clue(cast.assigned, clue)
    refused("status", services.verify_clue, cast.assigned, clue)
