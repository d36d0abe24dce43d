"""Notice and connector endpoints: who may do what, exact status codes, nothing written on denial,
and constant query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from enforcement.models import AuditEntry, CaseEvent
from platforms import services
from platforms.models import Connector, Notice, NoticeState
from tests.clues.factories import PlatformFactory
from tests.factories import EnforcementCaseFactory, PartyFactory

pytestmark = pytest.mark.django_db

SECRET = "secret-of-the-platform-0001"
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


@pytest.fixture
def world(cast, sysadmin):
    company = PartyFactory(entity=True, uscc="91430300MA4L0XXQ1U")
    case = EnforcementCaseFactory(
        court=cast.courts.yuhu, judges=[cast.assigned], parties__respondents=[company], amount_due=Decimal("10000.00")
    )
    connector = services.save_connector(
        sysadmin,
        PlatformFactory(code="taobao", name="淘宝"),
        base_url="http://127.0.0.1:9/taobao",
        key_id="k",
        secret=SECRET,
        capabilities=["query", "freeze"],
    )
    (awaiting,) = services.request_notices(
        cast.assigned, case, kind="freeze", platforms=["taobao"], respondent=company.pk, account="a", amount="10.00"
    )
    (failed,) = services.request_notices(cast.assigned, case, kind="query", platforms=["taobao"], respondent=company.pk)
    Notice.objects.filter(pk=failed.pk).update(state=NoticeState.FAILED)
    return case, company, connector, awaiting, failed


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def snapshot():
    return (
        Notice.objects.count(),
        AuditEntry.objects.count(),
        CaseEvent.objects.count(),
        list(Notice.objects.order_by("pk").values_list("state", flat=True)),
        Connector.objects.count(),
    )


# expected status per cast member: (list, request query, detail, approve, replay)
EXPECTED = {
    "assigned": (200, 201, 200, 403, 200),
    "colleague": (404, 404, 404, 404, 404),
    "head": (200, 201, 200, 200, 200),
    "supervisor": (200, 403, 200, 403, 403),
    "high_supervisor": (200, 403, 200, 403, 403),
    "sibling_head": (404, 404, 404, 404, 404),
    "outsider": (404, 404, 404, 404, 404),
    "other_supervisor": (404, 404, 404, 404, 404),
    "admin": (404, 404, 404, 404, 404),
    "superuser": (404, 404, 404, 404, 404),
}


@pytest.mark.parametrize("who", CAST)
def test_notice_endpoints_permission_matrix(cast, world, who):
    case, company, _connector, awaiting, failed = world
    client = client_for(getattr(cast, who))
    list_s, request_s, detail_s, approve_s, replay_s = EXPECTED[who]

    before = snapshot()
    assert client.get(f"/api/v1/cases/{case.pk}/notices/").status_code == list_s
    assert client.get(f"/api/v1/notices/{awaiting.pk}/").status_code == detail_s
    assert snapshot() == before  # reads write nothing

    response = client.post(
        f"/api/v1/cases/{case.pk}/notices/",
        {"kind": "query", "platforms": "all", "respondent": company.pk},
        format="json",
    )
    assert response.status_code == request_s, response.content
    if request_s != 201:
        assert snapshot() == before

    before = snapshot()
    response = client.post(f"/api/v1/notices/{awaiting.pk}/approve/")
    assert response.status_code == approve_s
    if approve_s != 200:
        assert snapshot() == before
    else:
        assert response.json()["state"] == "queued"

    before = snapshot()
    response = client.post(f"/api/v1/notices/{failed.pk}/replay/")
    assert response.status_code == replay_s
    if replay_s != 200:
        assert snapshot() == before
    else:
        assert response.json()["idempotency_key"] == failed.idempotency_key


@pytest.mark.parametrize("who", CAST)
def test_connectors_are_for_system_admins_only_and_never_show_the_secret(cast, world, who):
    _case, _company, connector, _awaiting, _failed = world
    client = client_for(getattr(cast, who))
    allowed = who in ("admin", "superuser")
    before = snapshot()
    listing = client.get("/api/v1/connectors/")
    assert listing.status_code == (200 if allowed else 403)
    patched = client.patch(f"/api/v1/connectors/{connector.pk}/", {"enabled": False}, format="json")
    assert patched.status_code == (200 if allowed else 403)
    if allowed:
        assert SECRET not in listing.content.decode() and "secret" not in listing.json()["results"][0]
        assert patched.json()["enabled"] is False
        created = client.post(
            "/api/v1/connectors/",
            {
                "platform": PlatformFactory(code="jd").code,
                "base_url": "http://127.0.0.1:9/jd",
                "key_id": "k2",
                "secret": "another-secret-00001",
                "capabilities": ["query"],
            },
            format="json",
        )
        assert created.status_code == 201 and "secret" not in created.json()
    else:
        assert snapshot() == before
        assert Connector.objects.get(pk=connector.pk).enabled is True


def test_bad_notice_requests_answer_400_in_chinese(cast, world):
    case, company, *_ = world
    client = client_for(cast.head)
    response = client.post(
        f"/api/v1/cases/{case.pk}/notices/",
        {"kind": "freeze", "platforms": ["taobao"], "respondent": company.pk, "account": "a", "amount": "-5"},
        format="json",
    )
    assert response.status_code == 400 and "金额" in response.json()["amount"][0]
    response = client.post(
        f"/api/v1/cases/{case.pk}/notices/", {"kind": "seize", "respondent": company.pk}, format="json"
    )
    assert response.status_code == 400 and "kind" in response.json()


def test_notice_list_queries_do_not_grow_with_the_number_of_notices(cast, world, settings):
    settings.QUERY_RATE_PER_CASE_HOUR = 100
    case, company, *_ = world

    def count():
        client = client_for(type(cast.head).objects.get(pk=cast.head.pk))  # a fresh user, as per request
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/v1/cases/{case.pk}/notices/").status_code == 200
        return len(ctx)

    few = count()
    for _ in range(10):
        services.request_notices(cast.head, case, kind="query", platforms="all", respondent=company.pk)
    assert count() == few
