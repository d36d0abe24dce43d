"""Each mode's effect on ownership and permissions, before and after acceptance; 销案, the new
case's number and amount, the handover record, cancelled notices, supervision orders, cooperation,
elevation and concentration."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from clues.models import PropertyClue
from enforcement import services as case_services
from enforcement.models import AuditEntry, CaseNumberSequence, CaseStatus, EnforcementCase
from enforcement.permissions import can
from platforms import services as platform_services
from platforms.models import Notice
from tests.clues.factories import PlatformFactory, add_clue, add_measure
from tests.factories import EnforcementCaseFactory, PartyFactory, UserFactory
from tests.transfers.conftest import client_for, designate, document, start
from transfers import services
from transfers.models import HandoverRecord, Transfer, TransferReminder

pytestmark = pytest.mark.django_db

ACTIONS = ("view", "view_file", "handle", "approve", "assign")


def rights(user, case) -> set[str]:
    return {a for a in ACTIONS if can(user, a, case)}


def test_designation_moves_ownership_and_permissions(people):
    case = people.case
    transfer = designate(people)
    # decided, not yet accepted: the case stays with its judge; the receiving head may read it
    assert rights(people.assigned, case) == {"view", "view_file", "handle"}
    assert rights(people.sibling_head, case) == {"view", "view_file"}
    assert rights(people.receiving_judge, case) == set()
    assert rights(people.supervisor, case) == {"view", "view_file"}
    assert rights(people.outsider, case) == set()

    transfer = services.accept_transfer(people.sibling_head, transfer, judges=[people.receiving_judge.pk])
    new = transfer.receiving_case
    case.refresh_from_db()
    # original: read-only for its court, readable by the receiving court
    assert rights(people.assigned, case) == {"view", "view_file"}
    assert rights(people.receiving_judge, case) == {"view", "view_file"}
    assert rights(people.sibling_head, case) == {"view", "view_file"}
    assert rights(people.supervisor, case) == {"view", "view_file"}
    assert rights(people.outsider, case) == set()
    assert rights(people.receiving_judge2, case) == set()
    # new case: handled by the receiving court
    assert rights(people.receiving_judge, new) == {"view", "view_file", "handle"}
    assert rights(people.sibling_head, new) == set(ACTIONS)
    assert rights(people.assigned, new) == set()
    assert rights(people.head, new) == set()
    assert rights(people.supervisor, new) == {"view", "view_file"}
    assert rights(people.outsider, new) == set()
    # through the API
    assert client_for(people.receiving_judge).get(f"/api/v1/cases/{case.pk}/clues/").status_code == 200
    assert client_for(people.receiving_judge).get(f"/api/v1/cases/{case.pk}/documents/").status_code == 200
    assert client_for(people.outsider).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert client_for(people.outsider).get(f"/api/v1/cases/{new.pk}/").status_code == 404
    answer = client_for(people.assigned).post(
        f"/api/v1/cases/{case.pk}/clues/",
        {"respondent": 1, "category": "funds", "kind": "bank_deposit", "account": "x", "source": "applicant"},
        format="json",
    )
    assert answer.status_code == 403
    assert client_for(people.assigned).get(f"/api/v1/cases/{new.pk}/").status_code == 404


def test_withdrawal_and_the_new_case_number_and_amount(people):
    case = people.case
    start(case, people.assigned)
    case_services.record_recovery(people.assigned, case, Decimal("30000.00"), reason="扣划")
    EnforcementCaseFactory(court=people.courts.yuetang)  # the receiving court's sequence is at 1
    transfer = designate(people)
    transfer = services.accept_transfer(people.sibling_head, transfer, judges=[people.receiving_judge.pk])
    new = transfer.receiving_case
    case.refresh_from_db()
    year = timezone.localdate().year
    assert case.status == CaseStatus.CLOSED and case.closing_method == "withdrawn_by_transfer"
    assert case.successor_case == new and new.origin_case == case
    assert new.court == people.courts.yuetang and new.type_code == "执"
    assert new.number == f"（{year}）湘0304执2号"
    assert CaseNumberSequence.objects.get(court=people.courts.yuetang, type_code="执", year=year).last_value == 2
    assert new.amount_due == Decimal("70000.00") and new.amount_recovered == 0
    assert {cp.party_id for cp in new.case_parties.all()} == {cp.party_id for cp in case.case_parties.all()}
    assert set(case_services.assigned_judges(new)) == {people.receiving_judge}
    # one transaction wrote the 销案 and the new case's filing, each audited
    actions = set(AuditEntry.objects.filter(actor=people.sibling_head).values_list("action", flat=True))
    assert {"case.transition", "case.open", "transfer.handover", "transfer.accept"} <= actions


def test_handover_record_lists_everything_with_a_checksum(people):
    case = people.case
    clue = add_clue(people.assigned, case, account="tb-001")
    add_measure(people.assigned, case, clue, amount="5000.00")
    document(people.assigned, case, title="判决书")
    transfer = designate(people)
    transfer = services.accept_transfer(people.sibling_head, transfer)
    record = HandoverRecord.objects.get(transfer=transfer)
    assert record.original_case == case and record.successor_case == transfer.receiving_case
    assert record.counts["clues"] == 1 and record.counts["measures"] == 1 and record.counts["documents"] == 1
    assert record.counts["events"] >= 4 and record.measures_count_as_receiving
    canonical = json.dumps(
        record.manifest, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert record.sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    assert [c["pk"] for c in record.manifest["clues"]] == [clue.pk]
    # the receiving court reads the clue through the original case
    body = client_for(people.receiving_judge2).get(f"/api/v1/transfers/{transfer.pk}/")
    assert body.status_code == 404  # not assigned: not part of the handover
    body = client_for(people.sibling_head).get(f"/api/v1/transfers/{transfer.pk}/").json()
    assert body["handovers"][0]["sha256"] == record.sha256


def test_a_notice_queued_by_the_original_judge_is_cancelled_on_acceptance(people):
    sysadmin = UserFactory(username="sysadmin", court=None, roles=["system_admin"])
    platform = PlatformFactory(code="taobao", name="淘宝")
    platform_services.save_connector(
        sysadmin,
        platform,
        base_url="http://127.0.0.1:9/taobao",
        key_id="k1",
        secret="secret-of-taobao-0123456789",
        capabilities=["query", "freeze"],
        timeout_s=2,
    )
    respondent = people.case.case_parties.get(role="respondent").party
    [queued] = platform_services.request_notices(people.assigned, people.case, kind="query", respondent=respondent.pk)
    assert queued.state == "queued"
    transfer = designate(people)
    services.accept_transfer(people.sibling_head, transfer)
    queued.refresh_from_db()
    assert queued.state == "cancelled" and "交叉执行" in queued.cancel_reason
    record = HandoverRecord.objects.get(transfer=transfer)
    assert record.counts["notices"] == 1 and record.counts["notices_cancelled"] == 1
    assert Notice.objects.filter(case=people.case, state="queued").count() == 0


def test_supervision_order_keeps_the_case_and_flags_it_when_overdue(people):
    start(people.case, people.assigned)
    transfer = designate(people, mode="supervise")
    assert transfer.receiving_court == people.courts.yuhu and transfer.deadline_days == 30
    assert transfer.deadline_on is not None and transfer.registration_due is None
    transfer = services.accept_transfer(people.head, transfer)  # the original court receives the order
    assert transfer.receiving_case is None
    people.case.refresh_from_db()
    assert people.case.is_open and rights(people.assigned, people.case) >= {"handle"}
    Transfer.objects.filter(pk=transfer.pk).update(deadline_on=timezone.localdate() - dt.timedelta(days=1))
    assert services.flag_overdue_orders() == 1
    assert services.flag_overdue_orders() == 0  # idempotent
    transfer.refresh_from_db()
    assert transfer.flagged_at and "提级执行或指定执行" in transfer.flag_reason
    assert TransferReminder.objects.filter(transfer=transfer, kind="supervision").count() == 1


def test_supervision_order_with_progress_is_not_flagged(people):
    start(people.case, people.assigned)
    transfer = designate(people, mode="supervise")
    case_services.record_recovery(people.assigned, people.case, Decimal("100.00"), reason="到账")
    Transfer.objects.filter(pk=transfer.pk).update(deadline_on=timezone.localdate() - dt.timedelta(days=1))
    assert services.flag_overdue_orders() == 0


def test_cooperation_gives_the_helping_judges_handle_rights_until_it_ends(people):
    transfer = designate(people, mode="cooperate")
    with pytest.raises(ValidationError) as exc:
        services.accept_transfer(people.sibling_head, transfer)
    assert set(exc.value.message_dict) == {"judges", "tasks"}
    with pytest.raises(ValidationError) as exc:
        services.accept_transfer(people.sibling_head, transfer, judges=[people.outsider.pk], tasks="x")
    assert "judges" in exc.value.message_dict
    transfer = services.accept_transfer(
        people.sibling_head, transfer, judges=[people.receiving_judge.pk], tasks="查控岳塘区仓库货物"
    )
    people.case.refresh_from_db()
    assert people.case.is_open and transfer.receiving_case is None and transfer.tasks == "查控岳塘区仓库货物"
    assert rights(people.receiving_judge, people.case) == {"view", "view_file", "handle"}
    assert rights(people.assigned, people.case) == {"view", "view_file", "handle"}
    assert rights(people.receiving_judge2, people.case) == set()
    services.report_progress(people.receiving_judge, transfer, text="已查封货物")
    transfer = services.conclude_transfer(people.supervisor, transfer, note="协同完成")
    assert transfer.state == "concluded"
    assert rights(people.receiving_judge, people.case) == set()
    assert rights(people.assigned, people.case) == {"view", "view_file", "handle"}


def test_elevation_moves_the_case_to_the_deciding_court(people):
    transfer = designate(people, mode="elevate")
    assert transfer.receiving_court == people.courts.mid
    transfer = services.accept_transfer(people.mid_head, transfer, judges=[people.mid_judge.pk])
    new = transfer.receiving_case
    assert new.court == people.courts.mid and new.number.startswith(f"（{timezone.localdate().year}）湘03执")
    assert rights(people.mid_judge, new) == {"view", "view_file", "handle"}
    assert rights(people.mid_judge, people.case) == {"view", "view_file"}
    assert rights(people.assigned, people.case) == {"view", "view_file"}


def test_concentration_moves_several_cases_of_one_respondent(people):
    respondent = people.case.case_parties.get(role="respondent").party
    twin = PartyFactory(name="同一人", id_number=respondent.id_number)
    second = EnforcementCaseFactory(court=people.courts.yuhu, judges=[people.colleague], parties__respondents=[twin])
    stranger = EnforcementCaseFactory(court=people.courts.yuhu)
    with pytest.raises(ValidationError) as exc:
        designate(people, mode="concentrate", approve=False, cases=[stranger.pk])
    assert "同一被执行人" in exc.value.message_dict["cases"][0]
    with pytest.raises(ValidationError):
        designate(people, mode="designate", approve=False, cases=[second.pk])
    transfer = designate(people, mode="concentrate", cases=[second.pk])
    assert {c.pk for c in transfer.cases.all()} == {people.case.pk, second.pk}
    transfer = services.accept_transfer(people.sibling_head, transfer, judges=[people.receiving_judge.pk])
    for original in (people.case, second):
        original.refresh_from_db()
        assert original.closing_method == "withdrawn_by_transfer"
        assert original.successor_case.court == people.courts.yuetang
        assert rights(people.receiving_judge, original.successor_case) >= {"handle"}
    assert rights(people.colleague, second) == {"view", "view_file"}
    assert HandoverRecord.objects.filter(transfer=transfer).count() == 2
    assert transfer.receiving_case == EnforcementCase.objects.get(pk=people.case.pk).successor_case


def test_missing_materials_and_progress_reports(people):
    transfer = designate(people)
    transfer = services.accept_transfer(people.sibling_head, transfer, judges=[people.receiving_judge.pk])
    assert transfer.materials_due is not None
    request = services.request_materials(people.receiving_judge, transfer, description="原审卷宗第二册")
    with pytest.raises(Exception):  # noqa: B017 - the receiving court cannot supply its own request
        services.supply_materials(people.sibling_head, request, note="x")
    request = services.supply_materials(people.head, request, note="已电子移送")
    assert request.supplied_at is not None
    report = services.report_progress(people.receiving_judge, transfer, text="已冻结支付宝账户")
    transfer.refresh_from_db()
    assert transfer.state == "in_progress" and report.text == "已冻结支付宝账户"
    # the deadline tracking: a report interval passed
    Transfer.objects.filter(pk=transfer.pk).update(accepted_on=timezone.localdate() - dt.timedelta(days=100))
    transfer.reports.all().update(at=timezone.now() - dt.timedelta(days=100))
    assert services.remind_transfer_deadlines() == 1
    assert services.remind_transfer_deadlines() == 0
    assert TransferReminder.objects.get().kind == "report"


def test_registration_reminders_near_and_overdue(people):
    transfer = designate(people)
    Transfer.objects.filter(pk=transfer.pk).update(registration_due=timezone.localdate() + dt.timedelta(days=1))
    assert services.remind_transfer_deadlines() == 1
    Transfer.objects.filter(pk=transfer.pk).update(registration_due=timezone.localdate() - dt.timedelta(days=1))
    assert services.remind_transfer_deadlines() == 1
    assert services.remind_transfer_deadlines() == 0
    assert sorted(TransferReminder.objects.values_list("kind", "overdue")) == [
        ("registration", False),
        ("registration", True),
    ]


def test_clues_remain_with_the_original_and_count_for_the_receiving_court(people):
    clue = add_clue(people.assigned, people.case, account="zfb-1")
    transfer = designate(people)
    transfer = services.accept_transfer(people.sibling_head, transfer, judges=[people.receiving_judge.pk])
    assert PropertyClue.objects.get(pk=clue.pk).case == people.case
    body = client_for(people.receiving_judge).get(f"/api/v1/cases/{people.case.pk}/clues/").json()
    assert [c["id"] for c in body] == [clue.pk]
