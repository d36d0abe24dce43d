"""The transfer itself: who may start one, the deciding court across provinces, the state machine,
the decision's deadlines and the reconsideration window (holiday rule)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from enforcement.periods import Period, period_end
from tests.factories import EnforcementCaseFactory
from tests.transfers.conftest import designate, document, snapshot
from transfers import services
from transfers.models import Transfer, TransferStep

pytestmark = pytest.mark.django_db


def test_court_request_is_decided_by_the_next_higher_court(people):
    transfer = services.create_transfer(
        people.head, case=people.case, mode="designate", trigger="court_request", reason="本院回避"
    )
    assert transfer.state == "proposed" and transfer.deciding_court == people.courts.mid
    assert list(transfer.cases.all()) == [people.case]


def test_court_request_to_another_province_goes_to_the_common_superior(people):
    transfer = services.create_transfer(
        people.head,
        case=people.case,
        mode="designate",
        trigger="court_request",
        reason="财产在福建",
        receiving_court=people.courts.jiaocheng.pk,
    )
    assert transfer.deciding_court == people.courts.supreme
    # the intermediate court cannot decide it; the SPC can
    with pytest.raises(Http404):
        services.approve_transfer(people.other_supervisor, transfer, receiving_court=people.courts.jiaocheng)
    with pytest.raises(PermissionDenied):
        services.approve_transfer(people.supervisor, transfer, receiving_court=people.courts.jiaocheng)
    transfer = services.approve_transfer(people.spc_supervisor, transfer, receiving_court=people.courts.jiaocheng)
    assert transfer.state == "approved" and transfer.receiving_court == people.courts.jiaocheng
    assert transfer.decision_number.startswith(f"（{timezone.localdate().year}）最高法执监")
    transfer = services.accept_transfer(people.outsider, transfer, judges=[people.outsider.pk])
    assert transfer.receiving_case.court == people.courts.jiaocheng


def test_a_supervisor_may_not_designate_outside_the_jurisdiction(people):
    with pytest.raises(ValidationError) as exc:
        services.create_transfer(
            people.supervisor,
            case=people.case,
            mode="designate",
            trigger="supervisor_initiative",
            reason="x",
            receiving_court=people.courts.jiaocheng.pk,
        )
    assert "最高人民法院" in exc.value.message_dict["receiving_court"][0]
    transfer = designate(people, approve=False)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.approve_transfer(people.supervisor, transfer, receiving_court=people.courts.jiaocheng)
    assert "不在决定法院" in exc.value.message_dict["receiving_court"][0]
    with pytest.raises(ValidationError) as exc:
        services.approve_transfer(people.supervisor, transfer, receiving_court=people.courts.yuhu)
    assert "原执行法院" in exc.value.message_dict["receiving_court"][0]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("who", "trigger", "error"),
    [
        ("assigned", "court_request", PermissionDenied),  # a judge does not ask the higher court
        ("colleague", "court_request", Http404),
        ("sibling_head", "court_request", Http404),
        ("head", "supervisor_initiative", PermissionDenied),
        ("other_supervisor", "supervisor_initiative", Http404),
        ("outsider", "court_request", Http404),
        ("admin", "court_request", PermissionDenied),
        ("superuser", "court_request", PermissionDenied),
    ],
)
def test_who_may_start_a_transfer(people, who, trigger, error):
    before = snapshot()
    with pytest.raises(error):
        services.create_transfer(getattr(people, who), case=people.case, mode="designate", trigger=trigger, reason="x")
    assert snapshot() == before


def test_art237_application_needs_the_six_months(people):
    with pytest.raises(ValidationError) as exc:
        services.create_transfer(
            people.supervisor, case=people.case, mode="designate", trigger="art237_application", reason="申请"
        )
    assert "237" in exc.value.message_dict["trigger"][0]
    old = EnforcementCaseFactory(court=people.courts.yuhu, judges=[people.assigned], filed_on=dt.date(2025, 1, 6))
    application = document(people.assigned, old, doc_type="application", title="申请书")
    transfer = services.create_transfer(
        people.supervisor,
        case=old,
        mode="designate",
        trigger="art237_application",
        reason="申请执行人申请",
        application_document=application.pk,
    )
    assert transfer.state == "under_review" and transfer.application_document == application
    assert transfer.deciding_court == people.courts.mid


def test_one_running_transfer_per_case_and_validation_messages(people):
    designate(people, approve=False)
    with pytest.raises(ValidationError) as exc:
        services.create_transfer(
            people.high_supervisor, case=people.case, mode="elevate", trigger="supervisor_initiative", reason="x"
        )
    assert "进行中" in exc.value.message_dict["case"][0]
    other = EnforcementCaseFactory(court=people.courts.yuhu)
    with pytest.raises(ValidationError) as exc:
        services.create_transfer(
            people.supervisor, case=other, mode="teleport", trigger="supervisor_initiative", reason=""
        )
    assert "mode" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_transfer(
            people.supervisor, case=other, mode="designate", trigger="supervisor_initiative", reason=" "
        )
    assert exc.value.message_dict["reason"] == ["请写明理由"]


def test_state_machine_refuses_anything_outside_the_table(people):
    transfer = designate(people, approve=False)
    with pytest.raises(Http404):  # no receiving court yet: the case is not theirs to know
        services.accept_transfer(people.sibling_head, transfer)
    with pytest.raises(ValidationError) as exc:
        services.reject_transfer(people.supervisor, transfer, reason="")
    assert "reason" in exc.value.message_dict
    transfer = services.reject_transfer(people.supervisor, transfer, reason="不符合条件")
    assert transfer.state == "rejected"
    with pytest.raises(ValidationError):
        services.approve_transfer(people.supervisor, transfer, receiving_court=people.courts.yuetang)
    assert list(TransferStep.objects.filter(transfer=transfer).values_list("from_state", "to_state")) == [
        ("proposed", "under_review"),
        ("under_review", "rejected"),
    ]
    assert services.allowed_transitions(transfer) == []


def test_decision_deadlines_follow_the_period_rules(people, monkeypatch):
    real = timezone.localdate
    monkeypatch.setattr(
        timezone, "localdate", lambda value=None, tz=None: dt.date(2025, 9, 26) if value is None else real(value)
    )
    transfer = designate(people)
    assert transfer.decided_on == dt.date(2025, 9, 26)
    # 5 days → 2025-10-01, National Day: the first working day after the holiday, 10-09
    assert transfer.reconsideration_due == dt.date(2025, 10, 9)
    assert transfer.registration_due == period_end(dt.date(2025, 9, 26), Period(days=7)) == dt.date(2025, 10, 9)
    assert transfer.deadline_on == dt.date(2025, 10, 27)


def test_reconsideration_within_five_days(people, monkeypatch):
    transfer = designate(people)
    with pytest.raises(PermissionDenied):
        services.request_reconsideration(people.assigned, transfer, reason="x")
    transfer = services.request_reconsideration(people.head, transfer, reason="本院已查到财产")
    with pytest.raises(ValidationError):  # the receiving court waits for the answer
        services.accept_transfer(people.sibling_head, transfer)
    with pytest.raises(ValidationError):
        services.request_reconsideration(people.sibling_head, transfer, reason="again")
    transfer = services.answer_reconsideration(people.supervisor, transfer, upheld=False, answer="撤销指定")
    assert transfer.state == "rejected" and transfer.reconsideration_upheld is False
    # late: the window has passed
    other = EnforcementCaseFactory(court=people.courts.yuhu)
    late = designate(people, case=other)
    Transfer.objects.filter(pk=late.pk).update(reconsideration_due=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(ValidationError) as exc:
        services.request_reconsideration(people.head, late, reason="x")
    assert "届满" in exc.value.message_dict["state"][0]
