"""File-access grants: asked with a reason, decided by the owning court's bureau head, read-only,
time-limited, revocable, expiring by themselves; reads under a grant are audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from enforcement.models import AuditEntry
from enforcement.permissions import can
from tests.transfers.conftest import client_for, document, snapshot
from transfers import services
from transfers.models import FileAccessGrant

pytestmark = pytest.mark.django_db


def test_grant_lifecycle_with_expiry(people):
    case = people.case
    document(people.assigned, case, title="判决书")
    docs = f"/api/v1/cases/{case.pk}/documents/"
    assert client_for(people.outsider).get(docs).status_code == 404
    answer = client_for(people.outsider).post(
        "/api/v1/file-access/", {"case": case.number, "reason": "同一被执行人在本院有案件", "days": 10}, format="json"
    )
    assert answer.status_code == 201 and answer.json()["state"] == "pending"
    grant_id = answer.json()["id"]
    assert client_for(people.outsider).get(docs).status_code == 404  # pending: nothing yet
    # only the owning court's bureau head decides
    assert (
        client_for(people.assigned).post(f"/api/v1/file-access/{grant_id}/approve/", {}, format="json").status_code
        == 403
    )
    assert (
        client_for(people.sibling_head).post(f"/api/v1/file-access/{grant_id}/approve/", {}, format="json").status_code
        == 404
    )
    answer = client_for(people.head).post(f"/api/v1/file-access/{grant_id}/approve/", {}, format="json")
    assert answer.status_code == 200 and answer.json()["state"] == "approved"
    assert can(people.outsider, "view_file", case) and not can(people.outsider, "handle", case)
    reads = AuditEntry.objects.filter(action="case.file_read", actor=people.outsider).count()
    assert client_for(people.outsider).get(docs).status_code == 200
    assert AuditEntry.objects.filter(action="case.file_read", actor=people.outsider).count() == reads + 1
    assert (
        client_for(people.outsider).post(f"/api/v1/cases/{case.pk}/clues/", {"account": "x"}, format="json").status_code
        == 403
    )  # read-only
    # the head sees it in the list; expiry ends it by itself
    listed = client_for(people.head).get("/api/v1/file-access/").json()["results"]
    assert [g["id"] for g in listed] == [grant_id]
    assert services.expire_file_access(timezone.now() + dt.timedelta(days=9)) == 0
    assert services.expire_file_access(timezone.now() + dt.timedelta(days=11)) == 1
    assert services.expire_file_access(timezone.now() + dt.timedelta(days=11)) == 0
    assert FileAccessGrant.objects.get(pk=grant_id).state == "expired"
    assert not can(people.outsider, "view", case)
    assert client_for(people.outsider).get(docs).status_code == 404


def test_refuse_and_revoke(people):
    case = people.case
    grant = services.request_file_access(people.outsider, case=case.pk, reason="核对财产线索")
    assert grant.days == 30
    services.refuse_file_access(people.head, grant, note="理由不足")
    assert not can(people.outsider, "view", case)
    grant = services.request_file_access(people.outsider, case=case.pk, reason="再次申请")
    services.approve_file_access(people.head, grant, days=5)
    assert can(people.outsider, "view_file", case)
    with pytest.raises(Http404):
        services.revoke_file_access(people.sibling_head, grant)
    services.revoke_file_access(people.head, grant, note="已不需要")
    grant.refresh_from_db()
    assert grant.state == "revoked" and not can(people.outsider, "view", case)


def test_request_rules(people):
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.request_file_access(people.colleague, case=people.case.pk, reason="x")
    assert "case" in exc.value.message_dict  # own court: assignment, not a grant
    with pytest.raises(ValidationError) as exc:
        services.request_file_access(people.outsider, case="（2020）不存在执1号", reason="x")
    assert exc.value.message_dict["case"] == ["未找到该案件，请核对案号"]
    with pytest.raises(ValidationError) as exc:
        services.request_file_access(people.outsider, case=people.case.pk, reason=" ", days=400)
    assert set(exc.value.message_dict) == {"reason", "days"}
    with pytest.raises(PermissionDenied):
        services.request_file_access(people.supervisor, case=people.case.pk, reason="x")
    assert snapshot() == before
    services.request_file_access(people.outsider, case=people.case.pk, reason="x")
    with pytest.raises(ValidationError):
        services.request_file_access(people.outsider, case=people.case.pk, reason="again")
