"""The audit trail: every write is chained, the database refuses edits, and tampering is detected.

Tamper tests need rows changed behind the trigger. They switch it off with ``ALTER TABLE ...
DISABLE TRIGGER USER`` inside the test's own transaction, which PostgreSQL rolls back with the test.
Django's foreign keys are ``DEFERRABLE INITIALLY DEFERRED``, so the inserts leave pending trigger
events on the table and ALTER TABLE would refuse ("pending trigger events"); ``SET CONSTRAINTS
ALL IMMEDIATE`` fires them first.
"""

from __future__ import annotations

import io
import threading
from contextlib import contextmanager

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from enforcement import audit, services
from enforcement.models import (
    AuditChainHead,
    AuditCheckpoint,
    AuditEntry,
    CaseStatus,
    ClosingMethod,
    Role,
)
from tests.factories import PartyFactory, UserFactory

TABLE = AuditEntry._meta.db_table


def sql(statement: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


@contextmanager
def trigger_disabled():
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    sql(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        sql(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


def chain_entries(chain: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(chain=chain).order_by("seq"))


def verify_command() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def assert_detected(chain: str):
    broken = audit.verify()
    assert broken is not None, "tampering went unnoticed"
    assert broken.chain == chain, broken
    with pytest.raises(CommandError) as exc_info:
        verify_command()
    assert chain in str(exc_info.value)
    return broken


@pytest.fixture
def trail(cast):
    """A realistic trail: system entries and a case chain of five entries."""
    admin = cast.admin
    court = services.create_court(admin, code="湘0321", name="湘潭县人民法院", level="basic", parent=cast.courts.mid)
    services.create_user(
        admin,
        username="new_judge",
        password="Zx9-long-enough-2025",
        display_name="新法官",
        court=court,
        roles=[Role.JUDGE],
    )
    applicant = services.create_party(cast.assigned, kind="person", name="张三", id_number="11010519491231002X")
    respondent = services.create_party(cast.assigned, kind="entity", name="某公司", uscc="91350100M000100Y43")
    case = services.open_case(
        cast.assigned,
        applicants=[applicant.pk],
        respondents=[respondent.pk],
        basis_document_number="（2025）湘0302民初1号",
        basis_issuing_court="湘潭市雨湖区人民法院",
        amount_due="5000",
    )
    services.transition_case(cast.assigned, case, CaseStatus.IN_PROGRESS)
    services.update_case(cast.assigned, case, amount_due="6000")
    services.assign_judges(cast.head, case, [cast.assigned.pk, cast.colleague.pk])
    services.transition_case(cast.assigned, case, CaseStatus.SUSPENDED, reason="异议")
    return case


# --------------------------------------------------------------------------------------------
# what gets written
# --------------------------------------------------------------------------------------------


def assert_well_linked(chain: str) -> list[AuditEntry]:
    entries = chain_entries(chain)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == audit.GENESIS
    for previous, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == previous.entry_hash
    for entry in entries:
        assert entry.entry_hash == audit.entry_hash(entry)
        assert len(entry.entry_hash) == 64
    head = AuditChainHead.objects.get(chain=chain)
    assert (head.seq, head.entry_hash) == (entries[-1].seq, entries[-1].entry_hash)
    return entries


@pytest.mark.django_db
def test_every_service_write_lands_on_the_right_chain(trail, cast):
    system = assert_well_linked("system")
    assert [e.action for e in system] == ["court.create", "user.create", "party.create", "party.create"]
    assert [e.actor for e in system] == [cast.admin, cast.admin, cast.assigned, cast.assigned]
    assert all(e.case_id is None for e in system)
    case_chain = assert_well_linked(f"case:{trail.pk}")
    assert [e.action for e in case_chain] == [
        "case.open",
        "case.transition",
        "case.update",
        "case.assign",
        "case.transition",
    ]
    assert all(e.case_id == trail.pk for e in case_chain)
    assert set(AuditEntry.objects.values_list("chain", flat=True)) == {"system", f"case:{trail.pk}"}


@pytest.mark.django_db
def test_documents_closing_and_resumption_are_chained_per_case(trail, cast):
    services.add_document(
        cast.assigned, trail, doc_type="evidence", title="证据", upload=SimpleUploadedFile("证据.pdf", b"%PDF")
    )
    services.transition_case(cast.assigned, trail, CaseStatus.IN_PROGRESS)
    services.transition_case(
        cast.assigned, trail, CaseStatus.CLOSED, closing_method=ClosingMethod.CLOSED_FOR_NOW, reason="无财产"
    )
    new = services.resume_case(cast.assigned, trail, reason="发现财产")
    old_chain = assert_well_linked(f"case:{trail.pk}")
    assert [e.action for e in old_chain[5:]] == ["document.add", "case.transition", "case.transition", "case.resume"]
    new_chain = assert_well_linked(f"case:{new.pk}")
    assert [e.action for e in new_chain] == ["case.open"]
    assert new_chain[0].prev_hash == audit.GENESIS  # a chain of its own, not a continuation
    assert audit.verify() is None


@pytest.mark.django_db
def test_payload_digest_covers_the_stored_payload(trail):
    entry = chain_entries(f"case:{trail.pk}")[2]
    assert entry.payload == {"before": {"amount_due": "5000.00"}, "after": {"amount_due": "6000.00"}}
    assert entry.payload_digest == audit._digest(audit._canonical(entry.payload))


@pytest.mark.django_db
def test_file_reads_from_outside_the_court_are_audited_and_inside_reads_are_not(cast):
    services.record_file_read(cast.assigned, cast.case, "documents")
    assert not AuditEntry.objects.exists()
    services.record_file_read(cast.supervisor, cast.case, "documents")
    (entry,) = AuditEntry.objects.all()
    assert (entry.chain, entry.action, entry.actor) == (f"case:{cast.case.pk}", "case.file_read", cast.supervisor)


@pytest.mark.django_db
def test_refused_writes_leave_no_entry(trail, cast):
    before = AuditEntry.objects.count()
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; the point is the count
        services.transition_case(cast.assigned, trail, CaseStatus.FILED)
    with pytest.raises(Exception):  # noqa: B017
        services.create_party(cast.assigned, kind="person", name="李四", id_number="110105194912310021")
    assert AuditEntry.objects.count() == before


# --------------------------------------------------------------------------------------------
# verification of an intact trail
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_intact_trail_verifies(trail):
    assert audit.verify() is None
    out = verify_command()
    assert f"{AuditEntry.objects.count()} entries" in out


@pytest.mark.django_db
def test_empty_trail_verifies():
    assert audit.verify() is None
    assert "0 entries" in verify_command()


@pytest.mark.django_db
def test_checkpoint_signs_the_heads_and_a_checkpointed_trail_verifies(trail):
    cp = audit.checkpoint()
    heads = {h.chain: [h.seq, h.entry_hash] for h in AuditChainHead.objects.all()}
    assert cp.heads == heads
    assert cp.heads[f"case:{trail.pk}"][0] == 5
    assert audit.verify() is None
    # writing after a checkpoint is normal, not tampering
    services.transition_case(
        trail.created_by, trail, CaseStatus.IN_PROGRESS
    )  # suspended -> in progress by the filing judge
    assert audit.verify() is None


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_raises(courts):
    with pytest.raises(RuntimeError):
        audit.record(None, "test.outside", courts.yuhu)
    assert not AuditEntry.objects.exists()
    assert not AuditChainHead.objects.exists()


# --------------------------------------------------------------------------------------------
# the database refuses changes
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_direct_update_is_refused_by_the_database(trail):
    entry = chain_entries(f"case:{trail.pk}")[1]
    with pytest.raises(DatabaseError) as exc_info, transaction.atomic():
        sql(f"UPDATE {TABLE} SET action = 'case.view' WHERE id = %s", [entry.pk])
    assert "append-only" in str(exc_info.value)
    assert AuditEntry.objects.get(pk=entry.pk).action == "case.transition"


@pytest.mark.django_db
def test_orm_update_is_refused_by_the_database(trail):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(chain="system").update(payload={})
    assert audit.verify() is None


@pytest.mark.django_db
def test_direct_delete_is_refused_by_the_database(trail):
    count = AuditEntry.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic():
        sql(f"DELETE FROM {TABLE} WHERE chain = %s", [f"case:{trail.pk}"])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(chain="system").delete()
    assert AuditEntry.objects.count() == count
    assert audit.verify() is None


# --------------------------------------------------------------------------------------------
# tampering behind the trigger is detected
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_edited_payload_is_detected(trail):
    chain = f"case:{trail.pk}"
    entry = chain_entries(chain)[2]
    with trigger_disabled():
        sql(
            f"UPDATE {TABLE} SET payload = jsonb_set(payload, '{{after,amount_due}}', '\"600.00\"') WHERE id = %s",
            [entry.pk],
        )
    assert AuditEntry.objects.get(pk=entry.pk).payload["after"]["amount_due"] == "600.00"
    broken = assert_detected(chain)
    assert (broken.seq, broken.entry_id) == (3, entry.pk)


@pytest.mark.django_db
def test_edited_action_is_detected(trail):
    entry = chain_entries("system")[1]
    with trigger_disabled():
        sql(f"UPDATE {TABLE} SET action = 'user.view' WHERE id = %s", [entry.pk])
    broken = assert_detected("system")
    assert (broken.seq, broken.entry_id) == (2, entry.pk)


@pytest.mark.django_db
def test_edited_actor_is_detected(trail, cast):
    entry = chain_entries(f"case:{trail.pk}")[3]  # the assignment by the bureau head
    with trigger_disabled():
        sql(f"UPDATE {TABLE} SET actor_id = %s WHERE id = %s", [cast.colleague.pk, entry.pk])
    assert assert_detected(f"case:{trail.pk}").seq == 4


@pytest.mark.django_db
def test_payload_edit_with_a_recomputed_digest_is_still_detected(trail):
    chain = f"case:{trail.pk}"
    entry = chain_entries(chain)[2]
    forged = {"before": {"amount_due": "5000.00"}, "after": {"amount_due": "600.00"}}
    with trigger_disabled():
        AuditEntry.objects.filter(pk=entry.pk).update(
            payload=forged, payload_digest=audit._digest(audit._canonical(forged))
        )
    assert assert_detected(chain).seq == 3


@pytest.mark.django_db
def test_deleted_middle_entry_is_detected(trail):
    chain = f"case:{trail.pk}"
    victim = chain_entries(chain)[2]
    with trigger_disabled():
        assert sql(f"DELETE FROM {TABLE} WHERE id = %s", [victim.pk]) == 1
    broken = assert_detected(chain)
    assert broken.seq == 4  # the entry after the gap


@pytest.mark.django_db
def test_deleted_first_entry_is_detected(trail):
    victim = chain_entries("system")[0]
    with trigger_disabled():
        sql(f"DELETE FROM {TABLE} WHERE id = %s", [victim.pk])
    assert_detected("system")


@pytest.mark.django_db
@pytest.mark.parametrize("chain_of", ["case", "system"])
def test_deleted_last_entry_is_detected(trail, chain_of):
    chain = f"case:{trail.pk}" if chain_of == "case" else "system"
    victim = chain_entries(chain)[-1]
    with trigger_disabled():
        sql(f"DELETE FROM {TABLE} WHERE id = %s", [victim.pk])
    assert audit.verify().reason.startswith("chain head")
    assert_detected(chain)


@pytest.mark.django_db
def test_swapped_sequence_numbers_are_detected(trail):
    chain = f"case:{trail.pk}"
    second, third = chain_entries(chain)[1:3]
    with trigger_disabled():
        sql(f"UPDATE {TABLE} SET seq = 1000000 WHERE id = %s", [second.pk])
        sql(f"UPDATE {TABLE} SET seq = 2 WHERE id = %s", [third.pk])
        sql(f"UPDATE {TABLE} SET seq = 3 WHERE id = %s", [second.pk])
    assert [e.pk for e in chain_entries(chain)[1:3]] == [third.pk, second.pk]
    assert_detected(chain)


@pytest.mark.django_db
def test_swapped_rows_are_detected(trail):
    """Reordering by exchanging the contents of two rows, each keeping its place (id and seq)."""
    chain = f"case:{trail.pk}"
    second, third = chain_entries(chain)[1:3]
    columns = ["at", "actor_id", "actor_name", "action", "payload", "payload_digest", "prev_hash", "entry_hash"]
    assignments = ", ".join(f"{c} = other.{c}" for c in columns)
    with trigger_disabled():
        sql(
            f"UPDATE {TABLE} AS t SET {assignments} FROM {TABLE} AS other "
            "WHERE (t.id, other.id) IN ((%s, %s), (%s, %s))",
            [second.pk, third.pk, third.pk, second.pk],
        )
    assert [e.action for e in chain_entries(chain)[1:3]] == [third.action, second.action]
    assert assert_detected(chain).seq == 2


@pytest.mark.django_db
def test_entry_moved_to_another_chain_is_detected(trail):
    chain = f"case:{trail.pk}"
    last = chain_entries(chain)[-1]
    system_len = len(chain_entries("system"))
    with trigger_disabled():
        sql(f"UPDATE {TABLE} SET chain = 'system', seq = %s WHERE id = %s", [system_len + 1, last.pk])
    assert audit.verify() is not None


@pytest.mark.django_db
def test_consistent_rewrite_is_detected_through_the_checkpoint(trail):
    """An attacker who recomputes every digest and hash and the chain head is caught by the signed checkpoint."""
    chain = f"case:{trail.pk}"
    audit.checkpoint()
    entries = chain_entries(chain)
    with trigger_disabled():
        prev = entries[1].entry_hash
        for index, entry in enumerate(entries[2:], start=2):
            if index == 2:
                entry.payload = {"before": {"amount_due": "5000.00"}, "after": {"amount_due": "600.00"}}
                entry.payload_digest = audit._digest(audit._canonical(entry.payload))
            entry.prev_hash = prev
            entry.entry_hash = audit.entry_hash(entry)
            AuditEntry.objects.filter(pk=entry.pk).update(
                payload=entry.payload,
                payload_digest=entry.payload_digest,
                prev_hash=entry.prev_hash,
                entry_hash=entry.entry_hash,
            )
            prev = entry.entry_hash
        AuditChainHead.objects.filter(chain=chain).update(entry_hash=prev)
    broken = assert_detected(chain)
    assert "checkpoint" in broken.reason


@pytest.mark.django_db
def test_truncation_with_a_rewound_head_is_detected_through_the_checkpoint(trail):
    chain = f"case:{trail.pk}"
    audit.checkpoint()
    entries = chain_entries(chain)
    newest, previous = entries[-1], entries[-2]
    with trigger_disabled():
        sql(f"DELETE FROM {TABLE} WHERE id = %s", [newest.pk])
    AuditChainHead.objects.filter(chain=chain).update(seq=previous.seq, entry_hash=previous.entry_hash)
    broken = assert_detected(chain)
    assert "checkpoint" in broken.reason


@pytest.mark.django_db
def test_truncation_with_a_rewound_head_is_detected_through_an_older_checkpoint(trail, cast):
    """Entries written after the checkpoint may be lost unnoticed, the ones it covers may not."""
    chain = f"case:{trail.pk}"
    audit.checkpoint()
    services.transition_case(cast.assigned, trail, CaseStatus.IN_PROGRESS)  # seq 6, after the checkpoint
    entries = chain_entries(chain)
    with trigger_disabled():
        sql(f"DELETE FROM {TABLE} WHERE id IN (%s, %s)", [entries[-1].pk, entries[-2].pk])
    AuditChainHead.objects.filter(chain=chain).update(seq=entries[-3].seq, entry_hash=entries[-3].entry_hash)
    assert_detected(chain)


@pytest.mark.django_db
def test_whole_chain_deleted_with_its_head_is_detected_through_the_checkpoint(trail):
    chain = f"case:{trail.pk}"
    audit.checkpoint()
    with trigger_disabled():
        sql(f"DELETE FROM {TABLE} WHERE chain = %s", [chain])
    AuditChainHead.objects.filter(chain=chain).delete()
    assert_detected(chain)


@pytest.mark.django_db
def test_forged_checkpoint_signature_is_detected(trail):
    cp = audit.checkpoint()
    heads = dict(cp.heads)
    heads[f"case:{trail.pk}"] = [3, heads[f"case:{trail.pk}"][1]]
    AuditCheckpoint.objects.filter(pk=cp.pk).update(heads=heads)
    broken = audit.verify()
    assert broken is not None and broken.chain == "checkpoint"
    with pytest.raises(CommandError):
        verify_command()


@pytest.mark.django_db
def test_checkpoint_signed_with_another_key_is_detected(trail, settings):
    settings.AUDIT_SIGNING_KEY = "attacker-key"
    audit.checkpoint()
    settings.AUDIT_SIGNING_KEY = "the-real-key"
    assert audit.verify().chain == "checkpoint"


@pytest.mark.django_db
def test_verify_reports_the_first_break_in_id_order(trail):
    """Two edits: the one written first is reported."""
    system_first = chain_entries("system")[0]
    case_last = chain_entries(f"case:{trail.pk}")[-1]
    with trigger_disabled():
        sql(f"UPDATE {TABLE} SET action = 'x' WHERE id IN (%s, %s)", [system_first.pk, case_last.pk])
    assert audit.verify().entry_id == system_first.pk


# --------------------------------------------------------------------------------------------
# verification while the system is in use
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_verify_gives_no_false_alarm_while_entries_are_being_written(courts):
    """verify_audit may run on a live system: entries committed while it runs are not tampering."""
    judge = UserFactory(court=courts.yuhu, roles=[Role.JUDGE])
    applicant, respondent = PartyFactory(), PartyFactory()
    case = services.open_case(
        judge,
        applicants=[applicant.pk],
        respondents=[respondent.pk],
        basis_document_number="（2025）湘0302民初1号",
        basis_issuing_court="湘潭市雨湖区人民法院",
        amount_due="5000",
    )
    stop = threading.Event()
    failures: list[BaseException] = []

    def write():
        try:
            amount = 5000
            while not stop.is_set():
                amount += 1
                services.update_case(judge, case, amount_due=str(amount))
                services.create_party(judge, kind="organization", name=f"组织{amount}")
        except BaseException as exc:  # noqa: BLE001 - reported in the main thread
            failures.append(exc)
        finally:
            connection.close()

    writers = [threading.Thread(target=write) for _ in range(2)]
    for w in writers:
        w.start()
    alarms = []
    try:
        for _ in range(150):
            broken = audit.verify()
            if broken is not None:
                alarms.append(str(broken))
    finally:
        stop.set()
        for w in writers:
            w.join(timeout=30)
    assert not failures, failures
    assert AuditEntry.objects.count() > 50  # the writers really wrote while we verified
    assert audit.verify() is None  # the trail is intact once writing stops
    assert alarms == [], f"{len(alarms)} false alarms, first: {alarms[0]}"
