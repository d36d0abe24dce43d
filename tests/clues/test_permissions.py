"""Every clue, measure and platform endpoint across the cast: hidden -> 404, visible but forbidden
-> 403, allowed -> 200/201; a denied call writes nothing."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.forms.models import model_to_dict

from clues import services
from clues.models import LiveSeizureVisit, Measure, PropertyClue
from platforms.models import Platform
from tests.clues.factories import PlatformFactory, add_clue, add_measure, client_for, counts, days, respondent_of
from tests.factories import make_cast, make_courts
from tests.support.shared_rows import SharedCastAndWorld

pytestmark = pytest.mark.django_db

CAST = [
    "assigned",
    "colleague",
    "head",
    "supervisor",
    "high_supervisor",
    "sibling_head",
    "outsider",
    "other_supervisor",
    "admin",
    "superuser",
]
VIEWERS = {"assigned", "head", "supervisor", "high_supervisor"}
HANDLERS = {"assigned", "head"}


@pytest.fixture
def world(cast, alipay):
    return build_world(cast, alipay)


def build_world(cast, alipay) -> dict:
    today = dt.date.today()
    pending = add_clue(cast.assigned, cast.case, platform=alipay, account="pending-1")
    frozen_clue = add_clue(cast.assigned, cast.case, platform=alipay, account="frozen-1")
    freeze = add_measure(cast.assigned, cast.case, frozen_clue, amount="20000.00")
    pigs = add_clue(cast.assigned, cast.case, category="traditional", kind="livestock", account="生猪40头")
    live = add_measure(cast.assigned, cast.case, pigs, kind="live_seizure")
    visit = services.schedule_visit(cast.assigned, live, scheduled_on=today)
    return {"case": cast.case, "pending": pending, "freeze": freeze, "live": live, "visit": visit, "today": today}


def endpoint_table(world, cast):
    case, today = world["case"], world["today"]
    return {
        "clues.list": ("get", f"/api/v1/cases/{case.pk}/clues/", None, "view", 200),
        "clues.create": (
            "post",
            f"/api/v1/cases/{case.pk}/clues/",
            {
                "respondent": respondent_of(case).pk,
                "category": "funds",
                "kind": "platform_balance",
                "platform": "alipay",
                "account": "new-1",
                "source": "applicant",
            },
            "handle",
            201,
        ),
        "measures.list": ("get", f"/api/v1/cases/{case.pk}/measures/", None, "view", 200),
        "measures.create": (
            "post",
            f"/api/v1/cases/{case.pk}/measures/",
            {"clue": world["pending"].pk, "kind": "freeze", "amount": "100.00"},
            "handle",
            201,
        ),
        "clue.detail": ("get", f"/api/v1/clues/{world['pending'].pk}/", None, "view", 200),
        "clue.verify": ("post", f"/api/v1/clues/{world['pending'].pk}/verify/", {}, "handle", 200),
        "clue.invalidate": (
            "post",
            f"/api/v1/clues/{world['pending'].pk}/invalidate/",
            {"reason": "查无此账户"},
            "handle",
            200,
        ),
        "measure.detail": ("get", f"/api/v1/measures/{world['freeze'].pk}/", None, "view", 200),
        "measure.renew": ("post", f"/api/v1/measures/{world['freeze'].pk}/renew/", {}, "handle", 201),
        "measure.release": (
            "post",
            f"/api/v1/measures/{world['freeze'].pk}/release/",
            {"reason": "申请人申请解除"},
            "handle",
            200,
        ),
        "measure.visits": (
            "post",
            f"/api/v1/measures/{world['live'].pk}/visits/",
            {"scheduled_on": (today + days(14)).isoformat()},
            "handle",
            201,
        ),
        "measure.proceeds": (
            "post",
            f"/api/v1/measures/{world['live'].pk}/proceeds/",
            {"amount": "5000.00"},
            "handle",
            200,
        ),
        "visit.record": (
            "post",
            f"/api/v1/visits/{world['visit'].pk}/record/",
            {"visited_on": today.isoformat(), "count": 40, "condition": "良好"},
            "handle",
            200,
        ),
    }


ENDPOINTS = [
    "clues.list",
    "clues.create",
    "measures.list",
    "measures.create",
    "clue.detail",
    "clue.verify",
    "clue.invalidate",
    "measure.detail",
    "measure.renew",
    "measure.release",
    "measure.visits",
    "measure.proceeds",
    "visit.record",
]


def state(case) -> dict:
    """Everything a denied call must leave untouched."""
    case.refresh_from_db()
    return {
        "counts": counts(),
        "case": model_to_dict(case),
        "clues": sorted(PropertyClue.objects.values_list("pk", "status", "invalid_reason")),
        "measures": sorted(Measure.objects.values_list("pk", "status", "queue_position", "released_on")),
        "visits": sorted(LiveSeizureVisit.objects.values_list("pk", "visited_on", "count")),
    }


def expected_status(who: str, action: str, success: int) -> int:
    if who not in VIEWERS:
        return 404
    if action == "view":
        return 200
    return success if who in HANDLERS else 403


def build_cast_and_world(request) -> SimpleNamespace:
    cast = make_cast(make_courts())
    alipay = PlatformFactory(code="alipay", name="支付宝", kind="payment")  # tests/clues/conftest.py's
    return SimpleNamespace(cast=cast, world=build_world(cast, alipay))


class TestEndpointMatrix(SharedCastAndWorld):
    """The cast and the world are built once for the class's 143 tests (tests/support/shared_rows.py):
    each test's request, and what it writes, is rolled back before the next one."""

    build_rows = staticmethod(build_cast_and_world)

    @pytest.mark.parametrize("who", CAST)
    @pytest.mark.parametrize("name", ENDPOINTS)
    def test_endpoint_matrix(self, cast, world, who, name):
        method, url, data, action, success = endpoint_table(world, cast)[name]
        expected = expected_status(who, action, success)
        before = state(cast.case)

        client = client_for(getattr(cast, who))
        response = client.get(url) if method == "get" else client.post(url, data, format="json")

        assert response.status_code == expected, (who, name, response.content)
        if expected >= 400:
            assert state(cast.case) == before
        elif method == "post":
            assert state(cast.case) != before

    @pytest.mark.parametrize("name", ENDPOINTS)
    def test_endpoint_without_credentials_401(self, cast, world, name):
        method, url, data, _action, _success = endpoint_table(world, cast)[name]
        before = state(cast.case)
        client = client_for(None)
        response = client.get(url) if method == "get" else client.post(url, data, format="json")
        assert response.status_code == 401
        assert state(cast.case) == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases/999999/clues/",
        "/api/v1/cases/999999/measures/",
        "/api/v1/clues/999999/",
        "/api/v1/measures/999999/",
    ],
)
def test_unknown_ids_404(cast, url):
    assert client_for(cast.assigned).get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/clues/999999/verify/",
        "/api/v1/measures/999999/renew/",
        "/api/v1/measures/999999/release/",
        "/api/v1/visits/999999/record/",
    ],
)
def test_unknown_ids_404_on_post(cast, url):
    assert client_for(cast.assigned).post(url, {}, format="json").status_code == 404


# --------------------------------------------------------------------------------------------
# platforms
# --------------------------------------------------------------------------------------------

PLATFORM = {"code": "pinduoduo", "name": "拼多多", "kind": "ecommerce"}


@pytest.mark.parametrize("who", CAST)
def test_platform_list_any_user(cast, alipay, who):
    response = client_for(getattr(cast, who)).get("/api/v1/platforms/")
    assert response.status_code == 200
    assert [p["code"] for p in response.json()["results"]] == ["alipay"]


@pytest.mark.parametrize("who", CAST)
def test_platform_create_only_system_admins(cast, who):
    expected = 201 if who in ("admin", "superuser") else 403
    before = counts()
    response = client_for(getattr(cast, who)).post("/api/v1/platforms/", PLATFORM, format="json")
    assert response.status_code == expected, response.content
    if expected == 201:
        assert response.json()["code"] == "pinduoduo"
        assert Platform.objects.filter(code="pinduoduo", name="拼多多").exists()
    else:
        assert counts() == before


def test_platforms_without_credentials_401(cast):
    assert client_for(None).get("/api/v1/platforms/").status_code == 401
    assert client_for(None).post("/api/v1/platforms/", PLATFORM, format="json").status_code == 401
    assert not Platform.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**PLATFORM, "code": "Bad Code"}, "code"),
        ({**PLATFORM, "kind": "bank"}, "kind"),
        ({**PLATFORM, "name": ""}, "name"),
        ({**PLATFORM, "code": "alipay"}, "code"),
    ],
)
def test_platform_bad_input(cast, alipay, data, field):
    before = counts()
    response = client_for(cast.admin).post("/api/v1/platforms/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert counts() == before
