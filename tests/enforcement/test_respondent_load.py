"""RespondentLoad: open cases per respondent identity and court, kept by the case services.

The supervisor's "same respondent in several courts" trigger reads this table, so it must follow
every filing, closing and 执恢 exactly, also when two courts file against one debtor at once.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from enforcement import services
from enforcement.models import CaseParty, CaseStatus, ClosingMethod, CourtLevel, RespondentLoad, Role
from tests.concurrency import run_at_once
from tests.factories import CourtFactory, PartyFactory, UserFactory
from transfers.services import update_trigger_config

pytestmark = pytest.mark.django_db


def load() -> dict[str, tuple[int, int]]:
    """identity -> (open cases, courts they are in)"""
    return {r.identity: (r.open_cases, r.open_courts) for r in RespondentLoad.objects.all()}


def recounted() -> dict[str, tuple[int, int]]:
    """What a full recount from the cases gives (and leaves in the table)."""
    services.rebuild_respondent_load()
    return load()


def file_case(judge, respondents, applicant=None):
    return services.open_case(
        judge,
        applicants=[(applicant or PartyFactory()).pk],
        respondents=[p.pk for p in respondents],
        basis_document_number="（2025）湘0302民初1号",
        basis_issuing_court="湘潭市雨湖区人民法院",
        amount_due="1000.00",
    )


def test_filing_closing_and_resuming_keep_the_counts(courts):
    yuhu = UserFactory(court=courts.yuhu, roles=[Role.JUDGE])
    yuetang = UserFactory(court=courts.yuetang, roles=[Role.JUDGE])
    person = PartyFactory()
    twin = PartyFactory(name="同一人另登记", id_number=person.id_number)  # the same person, another party row
    company = PartyFactory(entity=True)
    nobody = PartyFactory(kind="organization", id_number="", uscc="")  # no identity number: not counted

    a = file_case(yuhu, [person, company])
    b = file_case(yuhu, [twin])
    c = file_case(yuetang, [person, nobody])
    ident, uscc = person.id_number, company.uscc
    assert load() == {ident: (3, 2), uscc: (1, 1)}

    # suspending keeps a case open; closing takes it out
    services.transition_case(yuhu, a, CaseStatus.IN_PROGRESS)
    services.transition_case(yuhu, a, CaseStatus.SUSPENDED, reason="等待")
    assert load()[ident] == (3, 2)
    services.transition_case(
        yuhu, a, CaseStatus.CLOSED, closing_method=ClosingMethod.CLOSED_FOR_NOW, reason="无可供执行财产"
    )
    services.transition_case(yuetang, c, CaseStatus.CLOSED, closing_method=ClosingMethod.REJECTED)
    assert load() == {ident: (1, 1)}

    # 执恢: the new case counts again, under both of its respondents
    services.resume_case(yuhu, a, reason="发现财产")
    assert load() == {ident: (2, 1), uscc: (1, 1)}
    assert b.status == CaseStatus.FILED
    before = load()
    assert recounted() == before


def test_a_refused_filing_leaves_the_table_as_it_was(courts):
    judge = UserFactory(court=courts.yuhu, roles=[Role.JUDGE])
    person = PartyFactory()
    file_case(judge, [person])
    before = load()
    with pytest.raises(Exception):  # noqa: B017, PT011 - the amount is refused by the service
        services.open_case(
            judge,
            applicants=[PartyFactory().pk],
            respondents=[person.pk],
            basis_document_number="x",
            basis_issuing_court="y",
            amount_due="-1",
        )
    assert load() == before == {person.id_number: (1, 1)}


@pytest.mark.django_db(transaction=True)
def test_courts_filing_against_one_debtor_at_once_are_all_counted(courts):
    """Six courts file against the same person at the same moment: each filing's recount waits
    for the others' (advisory lock per identity), so none is lost and no insert collides."""
    basics = [CourtFactory(level=CourtLevel.BASIC, parent=courts.mid) for _ in range(6)]
    judges = [UserFactory(court=court, roles=[Role.JUDGE]) for court in basics]
    person = PartyFactory()
    _filed, failures = run_at_once(lambda judge: file_case(judge, [person]), [(j,) for j in judges])
    assert not failures, failures
    assert load() == {person.id_number: (6, 6)}
    assert recounted() == {person.id_number: (6, 6)}


def _waiting_for_an_advisory_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_load_refresh_waits_for_a_change_of_thresholds(courts):
    """A high court changing its same-respondent thresholds and a filing against one of its
    respondents at the same time: the filing's marks wait for the change (shared and exclusive
    advisory locks), so they are made with the new thresholds and equal a recount."""
    supervisor = UserFactory(court=courts.high, roles=[Role.SUPERVISOR])
    judge, other = (UserFactory(court=c, roles=[Role.JUDGE]) for c in (courts.yuhu, courts.yuetang))
    person = PartyFactory()
    file_case(judge, [person])
    changed, release = threading.Event(), threading.Event()

    def change_thresholds():
        try:
            with transaction.atomic():
                update_trigger_config(supervisor, courts.high, same_respondent_min_cases=2)
                changed.set()
                release.wait(30)
        finally:
            connection.close()

    def file_second():
        try:
            return file_case(other, [person])
        finally:
            connection.close()

    changer = threading.Thread(target=change_thresholds)
    changer.start()
    try:
        assert changed.wait(30)
        with ThreadPoolExecutor(1) as pool:
            filing = pool.submit(file_second)
            deadline = time.monotonic() + 10
            while not _waiting_for_an_advisory_lock() and time.monotonic() < deadline:
                time.sleep(0.05)
            waited = _waiting_for_an_advisory_lock() and not filing.done()
            release.set()
            filing.result(30)
        assert waited  # the filing waited for the change
    finally:
        release.set()  # both threads end before the test database is flushed
        changer.join(30)
    # 2 open cases in 2 courts reach the new threshold of 2: both respondent rows are marked
    marked = set(CaseParty.objects.filter(over_trigger=True).values_list("pk", flat=True))
    assert len(marked) == 2
    services.rebuild_respondent_load()
    assert set(CaseParty.objects.filter(over_trigger=True).values_list("pk", flat=True)) == marked
