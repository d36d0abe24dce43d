"""The clue and measure lists issue the same number of queries for 3 and for 30 rows, with
other_courts exercised (every clue shares its asset with another court's clue and measure)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clues import services
from tests.clues.factories import add_clue, add_measure, case_in, client_for, respondent_of, twin_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def rival(cast):
    """A 蕉城 case against the same person."""
    return case_in(cast.courts.jiaocheng, respondent=twin_of(respondent_of(cast.case), "张三（蕉城）"))


def grow(cast, rival, alipay, start: int, stop: int) -> None:
    rival_case, rival_judge = rival
    for i in range(start, stop):
        account = f"ZFB-{i:03d}"
        theirs = add_clue(rival_judge, rival_case, platform=alipay, account=account)
        add_measure(rival_judge, rival_case, theirs, amount="10.00")
        category, kind = ("data", "transaction_records") if i % 5 == 0 else ("funds", "platform_balance")
        ours = add_clue(
            cast.assigned, cast.case, platform=alipay, account=account.lower(), category=category, kind=kind
        )
        measure = add_measure(cast.assigned, cast.case, ours, amount="10.00")  # waits behind the rival's freeze
        if i % 3 == 0:
            services.release_measure(cast.assigned, measure)


def count(user, url) -> tuple[int, list]:
    user = type(user).objects.get(pk=user.pk)  # a fresh instance, as each real request loads
    client = client_for(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()


@pytest.mark.parametrize("who", ["assigned", "supervisor"])
def test_clue_list_constant_queries(cast, rival, alipay, who):
    url = f"/api/v1/cases/{cast.case.pk}/clues/"
    user = getattr(cast, who)
    grow(cast, rival, alipay, 0, 3)
    small, body = count(user, url)
    assert len(body) == 3 and all(len(c["other_courts"]) == 1 for c in body)

    grow(cast, rival, alipay, 3, 30)
    large, body = count(user, url)
    assert len(body) == 30 and all(len(c["other_courts"]) == 1 for c in body)
    assert large == small


@pytest.mark.parametrize("who", ["assigned", "supervisor"])
def test_measure_list_constant_queries(cast, rival, alipay, who):
    url = f"/api/v1/cases/{cast.case.pk}/measures/"
    user = getattr(cast, who)
    grow(cast, rival, alipay, 0, 3)
    small, body = count(user, url)
    assert len(body) == 3

    grow(cast, rival, alipay, 3, 30)
    # renewals in the list too
    rival_case, rival_judge = rival
    extra = add_clue(cast.assigned, cast.case, platform=alipay, account="only-ours")
    services.renew_measure(cast.assigned, add_measure(cast.assigned, cast.case, extra, amount="10.00"))
    large, body = count(user, url)
    assert len(body) == 32
    assert large == small


def test_other_courts_lookup_is_one_query(cast, rival, alipay):
    grow(cast, rival, alipay, 0, 10)
    keys = set(cast.case.clues.values_list("asset_key", flat=True))
    with CaptureQueriesContext(connection) as ctx:
        result = services.other_courts_many(keys, cast.case.pk)
    assert len(ctx.captured_queries) == 1
    assert all(len(v) == 1 for v in result.values())
