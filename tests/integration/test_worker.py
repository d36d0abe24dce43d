"""The audit checkpoint runs in a real worker process and signs the heads written by services."""

import pytest

from enforcement import audit
from enforcement.models import AuditCheckpoint, Role
from enforcement.services import open_case
from enforcement.tasks import checkpoint_audit_chains
from tests.factories import CourtFactory, PartyFactory, UserFactory
from tests.support.workers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_signs_audit_checkpoint_of_committed_chains(celery_worker_process):
    judge = UserFactory(court=CourtFactory(code="湘0302"), roles=[Role.JUDGE])
    case = open_case(
        judge,
        applicants=[PartyFactory().pk],
        respondents=[PartyFactory().pk],
        basis_document_number="（2025）湘0302民初1号",
        basis_issuing_court="湘潭市雨湖区人民法院",
        amount_due="1000.00",
    )
    assert not AuditCheckpoint.objects.exists()

    checkpoint_audit_chains.delay()

    checkpoint = wait_for(lambda: AuditCheckpoint.objects.first())
    seq, head_hash = checkpoint.heads[f"case:{case.pk}"]
    assert seq == 1
    assert head_hash == audit.AuditEntry.objects.get(chain=f"case:{case.pk}", seq=1).entry_hash
    assert audit.verify() is None
