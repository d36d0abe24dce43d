"""Transfers: the cast of tests/conftest.py plus a receiving court's people and SPC supervisors."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from rest_framework.test import APIClient

from enforcement import services as case_services
from enforcement.models import (
    AuditEntry,
    CaseDocument,
    CaseEvent,
    CaseStatus,
    CaseUserObjectPermission,
    EnforcementCase,
    Role,
)
from tests.factories import UserFactory
from transfers import services
from transfers.models import FileAccessGrant, HandoverRecord, Transfer, TransferCase, TransferStep


@pytest.fixture
def people(cast):
    """Everyone of the cast plus: the receiving court (岳塘) judge, the SPC supervisor, a Fujian
    intermediate supervisor and the 蕉城 judge."""
    courts = cast.courts
    return SimpleNamespace(
        **vars(cast),
        receiving_judge=UserFactory(username="receiving_judge", court=courts.yuetang, roles=[Role.JUDGE]),
        receiving_judge2=UserFactory(username="receiving_judge2", court=courts.yuetang, roles=[Role.JUDGE]),
        spc_supervisor=UserFactory(username="spc_supervisor", court=courts.supreme, roles=[Role.SUPERVISOR]),
        ningde_supervisor=UserFactory(username="ningde_supervisor", court=courts.ningde, roles=[Role.SUPERVISOR]),
        mid_head=UserFactory(username="mid_head", court=courts.mid, roles=[Role.BUREAU_HEAD, Role.JUDGE]),
        mid_judge=UserFactory(username="mid_judge", court=courts.mid, roles=[Role.JUDGE]),
    )


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def start(case, actor):
    """Move a filed case to 执行中 (as its handler)."""
    return case_services.transition_case(actor, case, CaseStatus.IN_PROGRESS)


def document(actor, case, doc_type="other", title="材料"):
    upload = SimpleUploadedFile("doc.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    return case_services.add_document(actor, case, doc_type=doc_type, title=title, upload=upload)


def designate(people, *, mode="designate", receiving=None, case=None, approve=True, **kwargs) -> Transfer:
    """A transfer started by the intermediate court's supervisor and (by default) approved."""
    case = case or people.case
    transfer = services.create_transfer(
        people.supervisor, case=case, mode=mode, trigger="supervisor_initiative", reason="长期未执行", **kwargs
    )
    if approve:
        receiving = receiving if receiving is not None else people.courts.yuetang
        transfer = services.approve_transfer(
            people.supervisor,
            transfer,
            receiving_court=None if mode in ("elevate", "supervise") else receiving,
            deadline_days=30,
        )
    return transfer


def decide_bankruptcy(people, transfer) -> Transfer:
    """执转破 decided inside the court: judge's opinion, panel, president's signature, approval."""
    for kind, actor in (
        ("judge_opinion", people.assigned),
        ("panel", people.assigned),
        ("president_signature", people.head),
    ):
        services.record_bankruptcy_step(actor, transfer, kind=kind, note="意见")
    return services.approve_transfer(people.head, transfer)


def snapshot() -> dict:
    """Row counts (and case rows) a refused call must leave untouched."""
    return {
        "transfers": list(Transfer.objects.order_by("pk").values_list("pk", "state", "receiving_court_id")),
        "links": TransferCase.objects.count(),
        "steps": TransferStep.objects.count(),
        "handovers": HandoverRecord.objects.count(),
        "grants": sorted(CaseUserObjectPermission.objects.values_list("user_id", "permission_id", "content_object_id")),
        "file_grants": list(FileAccessGrant.objects.order_by("pk").values_list("pk", "state")),
        "events": CaseEvent.objects.count(),
        "audit": AuditEntry.objects.count(),
        "documents": CaseDocument.objects.count(),
        "cases": [model_to_dict(c) for c in EnforcementCase.objects.order_by("pk")],
    }
