"""执转破: entity respondents only, written consent, internal steps in order, the intermediate court
of the domicile, suspension of every case against the respondent, release marks, refusal resumes."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from enforcement.models import Court, EnforcementCase
from tests.clues.factories import add_clue, add_measure
from tests.factories import EnforcementCaseFactory, PartyFactory, UserFactory
from tests.transfers.conftest import decide_bankruptcy, document, snapshot, start
from transfers import services
from transfers.models import HandoverRecord, MeasureReleaseMark

pytestmark = pytest.mark.django_db


@pytest.fixture
def company_cases(people):
    Court.objects.filter(pk=people.courts.mid.pk).update(region="430300")
    company = PartyFactory(entity=True, name="湘潭鲜享家网络科技有限公司", region="430302")
    case = EnforcementCaseFactory(court=people.courts.yuhu, judges=[people.assigned], parties__respondents=[company])
    start(case, people.assigned)
    other_judge = UserFactory(court=people.courts.yuetang, roles=["judge"])
    other = EnforcementCaseFactory(court=people.courts.yuetang, judges=[other_judge], parties__respondents=[company])
    start(other, other_judge)
    consent = document(people.assigned, case, title="申请执行人同意移送破产审查的书面意见")
    return case, other, consent


def _refer(people, case, consent):
    return services.create_transfer(
        people.assigned,
        case=case,
        mode="bankruptcy",
        trigger="court_request",
        reason="不能清偿到期债务",
        consent_document=consent.pk,
    )


def test_conditions_are_refused_when_unmet(people, company_cases):
    case, _other, consent = company_cases
    before = snapshot()
    with pytest.raises(ValidationError) as exc:  # a natural person
        services.create_transfer(
            people.assigned, case=people.case, mode="bankruptcy", trigger="court_request", reason="x"
        )
    assert "企业法人" in exc.value.message_dict["mode"][0] and "consent_document" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_transfer(people.assigned, case=case, mode="bankruptcy", trigger="court_request", reason="x")
    assert "书面同意" in exc.value.message_dict["consent_document"][0]
    foreign = document(people.assigned, people.case)
    with pytest.raises(ValidationError) as exc:
        services.create_transfer(
            people.assigned,
            case=case,
            mode="bankruptcy",
            trigger="court_request",
            reason="x",
            consent_document=foreign.pk,
        )
    assert "consent_document" in exc.value.message_dict
    with pytest.raises(Http404):  # not the case's judge: hidden
        services.create_transfer(
            people.colleague,
            case=case,
            mode="bankruptcy",
            trigger="court_request",
            reason="x",
            consent_document=consent.pk,
        )
    after = snapshot()
    assert after["transfers"] == before["transfers"] and after["events"] == before["events"] + 1  # the upload


def test_steps_in_order_and_the_decision_suspends_every_case(people, company_cases):
    case, other, consent = company_cases
    clue = add_clue(people.assigned, case, account="zfb-9")
    measure = add_measure(people.assigned, case, clue, amount="2000.00")
    transfer = _refer(people, case, consent)
    assert transfer.deciding_court == people.courts.yuhu and transfer.state == "proposed"
    with pytest.raises(ValidationError) as exc:
        services.approve_transfer(people.head, transfer)
    assert "steps" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.record_bankruptcy_step(people.assigned, transfer, kind="panel", note="合议")
    with pytest.raises(PermissionDenied):
        services.record_bankruptcy_step(people.supervisor, transfer, kind="judge_opinion", note="x")
    services.record_bankruptcy_step(people.assigned, transfer, kind="judge_opinion", note="资不抵债")
    services.record_bankruptcy_step(people.assigned, transfer, kind="panel", note="合议庭同意")
    with pytest.raises(PermissionDenied):
        services.record_bankruptcy_step(people.assigned, transfer, kind="president_signature", note="签发")
    services.record_bankruptcy_step(people.head, transfer, kind="president_signature", note="签发")
    with pytest.raises(PermissionDenied):
        services.approve_transfer(people.supervisor, transfer)
    transfer = services.approve_transfer(people.head, transfer)
    assert transfer.receiving_court == people.courts.mid  # the intermediate court of the domicile
    assert transfer.answer_due is not None
    for c in (case, other):
        assert EnforcementCase.objects.get(pk=c.pk).status == "suspended"
    assert {link.case_id for link in transfer.links.all()} == {case.pk, other.pk}
    records = HandoverRecord.objects.filter(transfer=transfer)
    assert records.count() == 2 and records.get(original_case=case).counts["debt"] == "100000.00"
    transfer = services.accept_transfer(people.mid_head, transfer)
    assert transfer.state == "accepted"
    assert list(MeasureReleaseMark.objects.values_list("measure_id", flat=True)) == [measure.pk]


def test_refusal_resumes_enforcement(people, company_cases):
    case, other, consent = company_cases
    transfer = _refer(people, case, consent)
    transfer = decide_bankruptcy(people, transfer)
    with pytest.raises(Http404):
        services.refuse_transfer(people.sibling_head, transfer, reason="x")
    transfer = services.refuse_transfer(people.mid_head, transfer, reason="不符合受理条件")
    assert transfer.state == "returned"
    for c in (case, other):
        assert EnforcementCase.objects.get(pk=c.pk).status == "in_progress"
