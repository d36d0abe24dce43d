"""Enforcement cases: numbering, validation, the transition table, 执恢, edits, assignment, documents."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from enforcement import services
from enforcement.models import (
    AuditEntry,
    CaseDocument,
    CaseEvent,
    CaseNumberSequence,
    CaseParty,
    CaseStatus,
    ClosingMethod,
    EnforcementCase,
    Party,
    Role,
)
from enforcement.permissions import Action, can
from tests.concurrency import run_at_once
from tests.factories import PartyFactory, UserFactory, valid_id_number

NUMBER_RE = re.compile(
    r"^（(?P<year>\d{4})）(?P<court>.+?)(?P<type>执恢|执保|执异|执复|执监|执协|执他|执|破申)(?P<seq>[1-9]\d*)号$"
)
VALID_ID = "11010519491231002X"


@pytest.fixture
def parties(db):
    return PartyFactory(name="申请人甲"), PartyFactory(name="被执行人乙")


def open_(actor, parties, **overrides):
    applicant, respondent = parties
    kwargs = {
        "applicants": [applicant.pk],
        "respondents": [respondent.pk],
        "basis_document_number": "（2025）湘0302民初1182号",
        "basis_issuing_court": "湘潭市雨湖区人民法院",
        "amount_due": "10000.00",
    }
    kwargs.update(overrides)
    return services.open_case(actor, **kwargs)


def snapshot() -> dict[str, int]:
    """Counts of everything a case service might write."""
    return {
        "cases": EnforcementCase.objects.count(),
        "case_parties": CaseParty.objects.count(),
        "parties": Party.objects.count(),
        "events": CaseEvent.objects.count(),
        "audit": AuditEntry.objects.count(),
        "documents": CaseDocument.objects.count(),
        "sequences": sum(CaseNumberSequence.objects.values_list("last_value", flat=True)),
    }


def case_state(case: EnforcementCase) -> tuple:
    case = EnforcementCase.objects.get(pk=case.pk)
    return (
        case.status,
        case.closing_method,
        case.closed_on,
        case.amount_due,
        case.amount_recovered,
        case.basis_document_number,
        case.basis_issuing_court,
        case.successor_case_id,
        case.updated_at,
    )


def handlers(case) -> list[str]:
    return [u.username for u in services.assigned_judges(case)]


# --------------------------------------------------------------------------------------------
# case numbers
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_number_has_the_official_format(cast, parties):
    case = open_(cast.assigned, parties, filed_on=dt.date(2025, 6, 3))
    assert case.number == "（2025）湘0302执1号"
    assert case.number[0] == "\uff08" and case.number[5] == "\uff09"  # full-width parentheses
    assert (case.year, case.sequence, case.type_code, case.court) == (2025, 1, "执", cast.courts.yuhu)
    assert EnforcementCase.objects.get(number="（2025）湘0302执1号") == case


@pytest.mark.django_db
def test_year_in_the_number_is_the_filing_year(cast, parties):
    last_year = open_(cast.assigned, parties, filed_on=dt.date(2024, 12, 31))
    this_year = open_(cast.assigned, parties, filed_on=dt.date(2025, 1, 2))
    assert last_year.number == "（2024）湘0302执1号"
    assert this_year.number == "（2025）湘0302执1号"  # a new year starts at 1 again


@pytest.mark.django_db
def test_sequence_counts_up_per_court_type_and_year(cast, parties):
    courts = cast.courts
    day = dt.date(2025, 3, 1)
    first = open_(cast.assigned, parties, filed_on=day)
    second = open_(cast.assigned, parties, filed_on=day)
    preservation = open_(cast.assigned, parties, filed_on=day, type_code="执保")
    resumed = open_(cast.assigned, parties, filed_on=day, type_code="执恢")
    third = open_(cast.assigned, parties, filed_on=day)
    yuetang_judge = UserFactory(court=courts.yuetang, roles=[Role.JUDGE])
    other_court = open_(yuetang_judge, parties, filed_on=day)
    other_year = open_(cast.assigned, parties, filed_on=dt.date(2024, 3, 1))
    assert [c.number for c in (first, second, third)] == [
        "（2025）湘0302执1号",
        "（2025）湘0302执2号",
        "（2025）湘0302执3号",
    ]
    assert preservation.number == "（2025）湘0302执保1号"
    assert resumed.number == "（2025）湘0302执恢1号"
    assert other_court.number == "（2025）湘0304执1号"
    assert other_year.number == "（2024）湘0302执1号"
    for case in (first, second, third, preservation, resumed, other_court, other_year):
        match = NUMBER_RE.match(case.number)
        assert match, case.number
        assert int(match["year"]) == case.filed_on.year
        assert match["court"] == case.court.code
        assert match["type"] == case.type_code
        assert int(match["seq"]) == case.sequence


@pytest.mark.django_db(transaction=True)
def test_concurrent_filings_get_distinct_consecutive_numbers(courts):
    threads_count = 8
    judges = [UserFactory(court=courts.yuhu, roles=[Role.JUDGE]) for _ in range(threads_count)]
    applicant, respondent = PartyFactory(), PartyFactory()
    day = dt.date(2025, 5, 20)
    numbers, failures = run_at_once(
        lambda judge: open_(judge, (applicant, respondent), filed_on=day).number, [(j,) for j in judges]
    )
    assert not failures, failures
    assert sorted(numbers, key=lambda n: int(NUMBER_RE.match(n)["seq"])) == [
        f"（2025）湘0302执{n}号" for n in range(1, threads_count + 1)
    ]
    assert CaseNumberSequence.objects.get(court=courts.yuhu, type_code="执", year=2025).last_value == threads_count
    # each filing was audited on its own chain
    assert AuditEntry.objects.filter(action="case.open").values("chain").distinct().count() == threads_count


# --------------------------------------------------------------------------------------------
# validation of a filing
# --------------------------------------------------------------------------------------------


def _bad_filing_cases():
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    return [
        pytest.param({"amount_due": "0"}, "amount_due", ("执行标的", "零"), id="amount-zero"),
        pytest.param({"amount_due": "-100.00"}, "amount_due", ("执行标的", "零"), id="amount-negative"),
        pytest.param({"amount_due": "100.005"}, "amount_due", ("执行标的", "两位小数"), id="amount-3-decimals"),
        pytest.param({"amount_due": "十万元"}, "amount_due", ("执行标的", "数字"), id="amount-not-a-number"),
        pytest.param({"amount_due": None}, "amount_due", ("执行标的",), id="amount-missing"),
        pytest.param({"amount_due": "NaN"}, "amount_due", ("执行标的",), id="amount-nan"),
        pytest.param({"filed_on": tomorrow}, "filed_on", ("立案日期", "今天"), id="filed-in-future"),
        pytest.param({"basis_document_number": ""}, "basis_document_number", ("执行依据",), id="basis-missing"),
        pytest.param({"basis_issuing_court": "   "}, "basis_issuing_court", ("执行依据",), id="issuer-blank"),
        pytest.param({"applicants": []}, "applicants", ("申请执行人",), id="no-applicant"),
        pytest.param({"respondents": []}, "respondents", ("被执行人",), id="no-respondent"),
        pytest.param({"applicants": [987654321]}, "applicants", ("申请执行人", "不存在"), id="unknown-applicant"),
        pytest.param({"respondents": ["abc"]}, "respondents", ("被执行人", "不存在"), id="respondent-not-an-id"),
        pytest.param({"type_code": "执X"}, "type_code", ("类型",), id="unknown-type"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("overrides", "field", "words"), _bad_filing_cases())
def test_bad_filing_is_refused_by_field_in_chinese_and_writes_nothing(cast, parties, overrides, field, words):
    before = snapshot()
    with pytest.raises(ValidationError) as exc_info:
        open_(cast.assigned, parties, **overrides)
    errors = exc_info.value.message_dict
    assert field in errors, errors
    for word in words:
        assert any(word in message for message in errors[field]), errors[field]
    assert snapshot() == before
    # and no sequence number was consumed
    assert open_(cast.assigned, parties, filed_on=dt.date(2025, 1, 6)).number == "（2025）湘0302执1号"


@pytest.mark.django_db
def test_applicant_who_is_also_respondent_is_refused(cast, parties):
    applicant, _respondent = parties
    before = snapshot()
    with pytest.raises(ValidationError) as exc_info:
        open_(cast.assigned, (applicant, applicant))
    assert "respondents" in exc_info.value.message_dict
    assert "申请执行人" in exc_info.value.message_dict["respondents"][0]
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_judge",
    [
        pytest.param(lambda cast: cast.outsider, id="judge-of-another-court"),
        pytest.param(lambda cast: cast.supervisor, id="supervisor-of-superior-court"),
        pytest.param(lambda cast: UserFactory(court=cast.courts.yuhu, roles=[Role.SUPERVISOR]), id="no-judge-role"),
        pytest.param(lambda cast: UserFactory(court=cast.courts.yuhu, is_active=False), id="inactive-judge"),
    ],
)
def test_assigned_judge_must_be_an_active_judge_of_the_court(cast, parties, make_judge):
    judge = make_judge(cast)
    before = snapshot()
    with pytest.raises(ValidationError) as exc_info:
        open_(cast.head, parties, assigned_judges=[judge.pk])
    assert "assigned_judges" in exc_info.value.message_dict
    assert "承办人" in exc_info.value.message_dict["assigned_judges"][0]
    assert snapshot() == before


@pytest.mark.django_db
def test_filing_in_another_court_is_refused(cast, parties):
    before = snapshot()
    with pytest.raises(ValidationError) as exc_info:
        open_(cast.assigned, parties, court=cast.courts.yuetang)
    assert "本院" in exc_info.value.message_dict["court"][0]
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["supervisor", "admin", "superuser"])
def test_only_judges_and_bureau_heads_file_cases(cast, parties, who):
    before = snapshot()
    with pytest.raises(PermissionDenied):
        open_(getattr(cast, who), parties)
    assert snapshot() == before


@pytest.mark.django_db
def test_amount_is_stored_exactly(cast, parties):
    case = open_(cast.assigned, parties, amount_due="1,234,567.5")
    case.refresh_from_db()
    assert case.amount_due == Decimal("1234567.50")
    assert case.amount_recovered == Decimal("0.00")
    assert case.status == CaseStatus.FILED


@pytest.mark.django_db
def test_filing_writes_parties_timeline_and_audit(cast, parties):
    applicant, respondent = parties
    case = open_(cast.assigned, parties)
    roles = set(case.case_parties.values_list("party_id", "role"))
    assert roles == {(applicant.pk, "applicant"), (respondent.pk, "respondent")}
    (event,) = case.events.all()
    assert event.kind == "filed" and case.number in event.message
    (entry,) = AuditEntry.objects.filter(chain=f"case:{case.pk}")
    assert (entry.seq, entry.action, entry.case_id) == (1, "case.open", case.pk)
    assert entry.payload["number"] == case.number
    assert entry.payload["amount_due"] == "10000.00"


# --------------------------------------------------------------------------------------------
# who handles a new case
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_judge_filing_without_judges_is_assigned(cast, parties):
    case = open_(cast.colleague, parties)
    assert handlers(case) == ["colleague"]
    assert can(cast.colleague, Action.HANDLE, case)


@pytest.mark.django_db
def test_judge_filing_for_a_colleague_assigns_only_the_listed_judge(cast, parties):
    case = open_(cast.colleague, parties, assigned_judges=[cast.assigned.pk])
    assert handlers(case) == ["assigned"]


@pytest.mark.django_db
def test_bureau_head_without_judge_role_is_not_auto_assigned(cast, parties):
    head = UserFactory(username="head_only", court=cast.courts.yuhu, roles=[Role.BUREAU_HEAD])
    case = open_(head, parties)
    assert handlers(case) == []
    case = open_(head, parties, assigned_judges=[cast.assigned.pk])
    assert handlers(case) == ["assigned"]


@pytest.mark.django_db
def test_bureau_head_who_is_also_a_judge_is_not_auto_assigned_unless_listed(cast, parties):
    # cast.head holds bureau_head and judge, like the demo's 执行局长: filing a case does not make
    # them its 承办人; they assign it (分案), or list themselves.
    case = open_(cast.head, parties)
    assert handlers(case) == []
    case = open_(cast.head, parties, assigned_judges=[cast.head.pk])
    assert handlers(case) == ["head"]


# --------------------------------------------------------------------------------------------
# the transition table
# --------------------------------------------------------------------------------------------

S = CaseStatus
# Reasoned from the issue: filed → in_progress → closed; 中止 (suspended) and back; a case can be
# closed from filed (rejected / not enforced), from in progress and while suspended; a case may be
# suspended before enforcement starts (e.g. its respondent is referred to bankruptcy review). A
# closed case never reopens (执恢 files a new case).
EXPECTED_TRANSITIONS = {
    (S.FILED, S.IN_PROGRESS),
    (S.FILED, S.CLOSED),
    (S.FILED, S.SUSPENDED),
    (S.IN_PROGRESS, S.SUSPENDED),
    (S.SUSPENDED, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.CLOSED),
    (S.SUSPENDED, S.CLOSED),
}
FORBIDDEN = [(a, b) for a in S.values for b in S.values if (a, b) not in EXPECTED_TRANSITIONS]


def test_transition_table_is_the_expected_one():
    assert set(services.TRANSITIONS) == EXPECTED_TRANSITIONS
    assert len(FORBIDDEN) == 9


def _put_in(case: EnforcementCase, status: str) -> EnforcementCase:
    """Set a status directly (test setup), keeping the closing-method constraint satisfied."""
    closing = ClosingMethod.TERMINATED if status == S.CLOSED else ""
    EnforcementCase.objects.filter(pk=case.pk).update(
        status=status, closing_method=closing, closed_on=timezone.localdate() if closing else None
    )
    return EnforcementCase.objects.get(pk=case.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(("frm", "to"), FORBIDDEN)
def test_every_forbidden_transition_is_refused_and_changes_nothing(cast, frm, to):
    case = _put_in(cast.case, frm)
    before, counts = case_state(case), snapshot()
    kwargs = {"closing_method": ClosingMethod.TERMINATED, "reason": "无财产"} if to == S.CLOSED else {}
    with pytest.raises(ValidationError) as exc_info:
        services.transition_case(cast.assigned, case, to, **kwargs)
    assert "status" in exc_info.value.message_dict
    assert case_state(case) == before
    assert snapshot() == counts


@pytest.mark.django_db
def test_unknown_target_status_is_refused(cast):
    before = case_state(cast.case)
    with pytest.raises(ValidationError) as exc_info:
        services.transition_case(cast.assigned, cast.case, "archived")
    assert "status" in exc_info.value.message_dict
    assert case_state(cast.case) == before


ALLOWED = [
    (S.FILED, S.IN_PROGRESS, {}, "start"),
    (S.FILED, S.CLOSED, {"closing_method": ClosingMethod.REJECTED}, "close"),
    (S.FILED, S.CLOSED, {"closing_method": ClosingMethod.NOT_ENFORCED}, "close"),
    (S.IN_PROGRESS, S.SUSPENDED, {"reason": "案外人异议"}, "suspend"),
    (S.FILED, S.SUSPENDED, {"reason": "被执行人移送破产审查"}, "suspend"),
    (S.SUSPENDED, S.IN_PROGRESS, {}, "resume_from_suspension"),
    (S.IN_PROGRESS, S.CLOSED, {"closing_method": ClosingMethod.CLOSED_FOR_NOW, "reason": "无可供执行财产"}, "close"),
    (S.IN_PROGRESS, S.CLOSED, {"closing_method": ClosingMethod.TERMINATED, "reason": "申请人撤回"}, "close"),
    (S.SUSPENDED, S.CLOSED, {"closing_method": ClosingMethod.TERMINATED, "reason": "被执行人死亡无遗产"}, "close"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("frm", "to", "kwargs", "step"), ALLOWED)
def test_allowed_transition_writes_one_event_and_one_audit_entry(cast, frm, to, kwargs, step):
    case = _put_in(cast.case, frm)
    chain = f"case:{case.pk}"
    services.transition_case(cast.assigned, case, to, **kwargs)
    case.refresh_from_db()
    assert case.status == to
    assert case.closing_method == kwargs.get("closing_method", "")
    assert case.closed_on == (timezone.localdate() if to == S.CLOSED else None)
    (event,) = CaseEvent.objects.filter(case=case)
    assert event.kind == step
    assert event.actor == cast.assigned
    (entry,) = AuditEntry.objects.all()
    assert (entry.chain, entry.seq, entry.action, entry.case_id) == (chain, 1, "case.transition", case.pk)
    assert entry.payload["from"] == frm and entry.payload["to"] == to
    assert entry.payload["closing_method"] == kwargs.get("closing_method", "")


@pytest.mark.django_db
def test_successive_transitions_extend_the_case_chain(cast):
    case = cast.case
    services.transition_case(cast.assigned, case, S.IN_PROGRESS)
    services.transition_case(cast.assigned, case, S.SUSPENDED, reason="异议审查")
    services.transition_case(cast.assigned, case, S.IN_PROGRESS)
    entries = list(AuditEntry.objects.filter(chain=f"case:{case.pk}").order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3]
    assert [e.prev_hash for e in entries[1:]] == [e.entry_hash for e in entries[:-1]]
    assert CaseEvent.objects.filter(case=case).count() == 3


def _refused_closing(case, actor, field, **kwargs):
    before, counts = case_state(case), snapshot()
    with pytest.raises(ValidationError) as exc_info:
        services.transition_case(actor, case, S.CLOSED, **kwargs)
    assert field in exc_info.value.message_dict, exc_info.value.message_dict
    assert case_state(case) == before
    assert snapshot() == counts
    return exc_info.value.message_dict[field]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["", "paid", None])
def test_closing_needs_a_closing_method(cast, method):
    case = _put_in(cast.case, S.IN_PROGRESS)
    kwargs = {"reason": "x"} if method is None else {"closing_method": method, "reason": "x"}
    (message,) = _refused_closing(case, cast.assigned, "closing_method", **kwargs)
    assert "结案方式" in message


@pytest.mark.django_db
@pytest.mark.parametrize("frm", [S.FILED, S.IN_PROGRESS, S.SUSPENDED])
def test_users_cannot_close_by_withdrawal_after_transfer(cast, frm):
    case = _put_in(cast.case, frm)
    for actor in (cast.assigned, cast.head):
        (message,) = _refused_closing(
            case, actor, "closing_method", closing_method=ClosingMethod.WITHDRAWN_BY_TRANSFER, reason="指定执行"
        )
        assert "销案" in message


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method", [ClosingMethod.FULLY_ENFORCED, ClosingMethod.CLOSED_FOR_NOW, ClosingMethod.TERMINATED]
)
def test_from_filed_only_rejection_or_non_enforcement_closes(cast, method):
    EnforcementCase.objects.filter(pk=cast.case.pk).update(amount_recovered=cast.case.amount_due)
    case = _put_in(cast.case, S.FILED)
    _refused_closing(case, cast.assigned, "closing_method", closing_method=method, reason="理由")


@pytest.mark.django_db
def test_fully_enforced_is_refused_while_money_is_outstanding(cast):
    EnforcementCase.objects.filter(pk=cast.case.pk).update(amount_recovered=Decimal("99999.99"))
    case = _put_in(cast.case, S.IN_PROGRESS)
    (message,) = _refused_closing(case, cast.assigned, "closing_method", closing_method=ClosingMethod.FULLY_ENFORCED)
    assert "0.01" in message  # names the amount still owed


@pytest.mark.django_db
def test_fully_enforced_is_accepted_when_everything_is_recovered(cast):
    EnforcementCase.objects.filter(pk=cast.case.pk).update(amount_recovered=cast.case.amount_due)
    case = _put_in(cast.case, S.IN_PROGRESS)
    services.transition_case(cast.assigned, case, S.CLOSED, closing_method=ClosingMethod.FULLY_ENFORCED)
    case.refresh_from_db()
    assert (case.status, case.closing_method) == (S.CLOSED, ClosingMethod.FULLY_ENFORCED)
    assert case.amount_outstanding == Decimal("0.00")


@pytest.mark.django_db
@pytest.mark.parametrize("method", [ClosingMethod.CLOSED_FOR_NOW, ClosingMethod.TERMINATED])
@pytest.mark.parametrize("reason", ["", "   "])
def test_closed_for_now_and_terminated_need_a_reason(cast, method, reason):
    case = _put_in(cast.case, S.IN_PROGRESS)
    (message,) = _refused_closing(case, cast.assigned, "reason", closing_method=method, reason=reason)
    assert "理由" in message


@pytest.mark.django_db
def test_closing_method_without_closing_is_refused(cast):
    case = _put_in(cast.case, S.FILED)
    before = case_state(case)
    with pytest.raises(ValidationError) as exc_info:
        services.transition_case(cast.assigned, case, S.IN_PROGRESS, closing_method=ClosingMethod.TERMINATED)
    assert "closing_method" in exc_info.value.message_dict
    assert case_state(case) == before


@pytest.mark.django_db
def test_transitions_go_through_the_policy(cast):
    before, counts = case_state(cast.case), snapshot()
    with pytest.raises(Http404):
        services.transition_case(cast.colleague, cast.case, S.IN_PROGRESS)
    with pytest.raises(Http404):
        services.transition_case(cast.outsider, cast.case, S.IN_PROGRESS)
    with pytest.raises(PermissionDenied):
        services.transition_case(cast.supervisor, cast.case, S.IN_PROGRESS)
    assert case_state(cast.case) == before
    assert snapshot() == counts
    services.transition_case(cast.head, cast.case, S.IN_PROGRESS)  # the bureau head may


# --------------------------------------------------------------------------------------------
# 执恢: resuming a case closed for now
# --------------------------------------------------------------------------------------------


@pytest.fixture
def closed_for_now(cast, parties):
    """A case filed through the services, partly recovered (3,000 of 10,000) and closed for now."""
    case = open_(cast.assigned, parties, assigned_judges=[cast.assigned.pk, cast.colleague.pk])
    services.transition_case(cast.assigned, case, S.IN_PROGRESS)
    EnforcementCase.objects.filter(pk=case.pk).update(amount_recovered=Decimal("3000.00"))
    services.transition_case(
        cast.assigned, case, S.CLOSED, closing_method=ClosingMethod.CLOSED_FOR_NOW, reason="未发现可供执行财产"
    )
    case.refresh_from_db()
    return case


@pytest.mark.django_db
def test_resume_files_a_linked_resumed_case_for_the_outstanding_amount(cast, closed_for_now):
    old = closed_for_now
    new = services.resume_case(cast.assigned, old, reason="发现新财产")
    old.refresh_from_db()
    new.refresh_from_db()
    year = timezone.localdate().year
    assert new.number == f"（{year}）湘0302执恢1号"
    assert (new.type_code, new.status, new.court) == ("执恢", S.FILED, old.court)
    assert new.origin_case == old
    assert old.successor_case == new
    assert new.amount_due == Decimal("7000.00")
    assert new.amount_recovered == Decimal("0.00")
    assert (new.basis_document_number, new.basis_issuing_court) == (old.basis_document_number, old.basis_issuing_court)
    assert set(new.case_parties.values_list("party_id", "role")) == set(
        old.case_parties.values_list("party_id", "role")
    )
    assert handlers(new) == handlers(old) == ["assigned", "colleague"]
    # the old case stays closed for now; its chain records the resumption
    assert (old.status, old.closing_method) == (S.CLOSED, ClosingMethod.CLOSED_FOR_NOW)
    last = AuditEntry.objects.filter(chain=f"case:{old.pk}").order_by("-seq").first()
    assert last.action == "case.resume" and last.payload["successor"] == new.pk
    assert AuditEntry.objects.filter(chain=f"case:{new.pk}", action="case.open").count() == 1


@pytest.mark.django_db
def test_resume_twice_is_refused(cast, closed_for_now):
    services.resume_case(cast.assigned, closed_for_now)
    counts = snapshot()
    with pytest.raises(ValidationError) as exc_info:
        services.resume_case(cast.assigned, closed_for_now)
    assert "status" in exc_info.value.message_dict
    assert snapshot() == counts


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "method"),
    [
        (S.FILED, ""),
        (S.IN_PROGRESS, ""),
        (S.SUSPENDED, ""),
        (S.CLOSED, ClosingMethod.TERMINATED),
        (S.CLOSED, ClosingMethod.FULLY_ENFORCED),
    ],
)
def test_only_cases_closed_for_now_can_be_resumed(cast, status, method):
    EnforcementCase.objects.filter(pk=cast.case.pk).update(
        status=status, closing_method=method, closed_on=timezone.localdate() if method else None
    )
    counts = snapshot()
    with pytest.raises(ValidationError) as exc_info:
        services.resume_case(cast.assigned, cast.case)
    assert "status" in exc_info.value.message_dict
    assert snapshot() == counts


@pytest.mark.django_db
def test_resume_goes_through_the_policy(cast, closed_for_now):
    counts = snapshot()
    with pytest.raises(PermissionDenied):
        services.resume_case(cast.supervisor, closed_for_now)
    with pytest.raises(Http404):
        services.resume_case(cast.outsider, closed_for_now)
    assert snapshot() == counts


# --------------------------------------------------------------------------------------------
# update_case
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_edits_basis_and_amount_with_timeline_and_audit(cast):
    case = services.update_case(
        cast.assigned, cast.case, basis_document_number=" （2025）湘03民终88号 ", amount_due="120000.5"
    )
    case.refresh_from_db()
    assert case.basis_document_number == "（2025）湘03民终88号"
    assert case.amount_due == Decimal("120000.50")
    (event,) = case.events.all()
    assert event.kind == "edited"
    assert event.data["before"]["amount_due"] == "100000.00"
    assert event.data["after"]["amount_due"] == "120000.50"
    (entry,) = AuditEntry.objects.all()
    assert (entry.chain, entry.action) == (f"case:{case.pk}", "case.update")
    assert entry.payload["after"]["basis_document_number"] == "（2025）湘03民终88号"


@pytest.mark.django_db
def test_update_refuses_amount_below_recovered(cast):
    EnforcementCase.objects.filter(pk=cast.case.pk).update(amount_recovered=Decimal("5000.00"))
    before, counts = case_state(cast.case), snapshot()
    with pytest.raises(ValidationError) as exc_info:
        services.update_case(cast.assigned, cast.case, amount_due="4999.99")
    assert "已执行到位" in exc_info.value.message_dict["amount_due"][0]
    assert case_state(cast.case) == before
    assert snapshot() == counts
    # equal to what was recovered is fine
    assert services.update_case(cast.assigned, cast.case, amount_due="5000").amount_due == Decimal("5000.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"status": S.CLOSED},
        {"amount_recovered": "100000.00"},
        {"court": 1},
        {"number": "（2025）湘0302执9号"},
        {"amount_due": "1.00", "filed_on": dt.date(2020, 1, 1)},
    ],
)
def test_update_refuses_fields_that_are_not_editable(cast, changes):
    before, counts = case_state(cast.case), snapshot()
    with pytest.raises(ValidationError) as exc_info:
        services.update_case(cast.assigned, cast.case, **changes)
    unknown = set(changes) - {"amount_due"}
    assert unknown <= set(exc_info.value.message_dict)
    assert case_state(cast.case) == before
    assert snapshot() == counts


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_due": "0"}, "amount_due"),
        ({"amount_due": "abc"}, "amount_due"),
        ({"basis_document_number": "  "}, "basis_document_number"),
        ({"basis_issuing_court": ""}, "basis_issuing_court"),
    ],
)
def test_update_validates_values(cast, changes, field):
    before, counts = case_state(cast.case), snapshot()
    with pytest.raises(ValidationError) as exc_info:
        services.update_case(cast.assigned, cast.case, **changes)
    assert field in exc_info.value.message_dict
    assert case_state(cast.case) == before
    assert snapshot() == counts


@pytest.mark.django_db
def test_update_refuses_a_closed_case(cast):
    case = _put_in(cast.case, S.CLOSED)
    before, counts = case_state(case), snapshot()
    with pytest.raises(ValidationError) as exc_info:
        services.update_case(cast.assigned, case, basis_issuing_court="另一法院")
    assert "status" in exc_info.value.message_dict
    assert case_state(case) == before
    assert snapshot() == counts


@pytest.mark.django_db
def test_update_goes_through_the_policy(cast):
    before = case_state(cast.case)
    with pytest.raises(Http404):
        services.update_case(cast.colleague, cast.case, amount_due="1.00")
    with pytest.raises(PermissionDenied):
        services.update_case(cast.high_supervisor, cast.case, amount_due="1.00")
    assert case_state(cast.case) == before


# --------------------------------------------------------------------------------------------
# assign_judges
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_head_replaces_the_handling_judges(cast):
    case = cast.case
    assert can(cast.assigned, Action.HANDLE, case) and not can(cast.colleague, Action.HANDLE, case)
    services.assign_judges(cast.head, case, [cast.colleague.pk])
    assert handlers(case) == ["colleague"]
    assert not can(cast.assigned, Action.HANDLE, case)
    assert not can(cast.assigned, Action.VIEW, case)
    assert can(cast.colleague, Action.HANDLE, case)
    (entry,) = AuditEntry.objects.all()
    assert (entry.chain, entry.action, entry.actor) == (f"case:{case.pk}", "case.assign", cast.head)
    assert entry.payload["judges"] == [cast.colleague.pk]
    (event,) = case.events.all()
    assert event.kind == "assigned" and event.data["judges"] == [cast.colleague.pk]


@pytest.mark.django_db
def test_head_can_keep_one_judge_and_add_another(cast):
    services.assign_judges(cast.head, cast.case, [cast.assigned, cast.colleague])
    assert handlers(cast.case) == ["assigned", "colleague"]


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "error"), [("assigned", PermissionDenied), ("supervisor", PermissionDenied)])
def test_only_the_head_assigns_visible_cases(cast, who, error):
    counts = snapshot()
    with pytest.raises(error):
        services.assign_judges(getattr(cast, who), cast.case, [cast.colleague.pk])
    assert handlers(cast.case) == ["assigned"]
    assert snapshot() == counts


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["outsider", "sibling_head", "colleague", "admin"])
def test_users_who_cannot_see_the_case_get_404_when_assigning(cast, who):
    counts = snapshot()
    with pytest.raises(Http404):
        services.assign_judges(getattr(cast, who), cast.case, [cast.colleague.pk])
    assert handlers(cast.case) == ["assigned"]
    assert snapshot() == counts


@pytest.mark.django_db
@pytest.mark.parametrize("judges", [[], "outsider", "supervisor"])
def test_assignment_needs_judges_of_the_court(cast, judges):
    judges = [] if judges == [] else [getattr(cast, judges).pk]
    counts = snapshot()
    with pytest.raises(ValidationError) as exc_info:
        services.assign_judges(cast.head, cast.case, judges)
    assert "assigned_judges" in exc_info.value.message_dict
    assert handlers(cast.case) == ["assigned"]
    assert snapshot() == counts


# --------------------------------------------------------------------------------------------
# documents
# --------------------------------------------------------------------------------------------


def _media_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.django_db
def test_document_is_stored_with_its_sha256(cast, settings):
    content = b"%PDF-1.4\n" + "执行裁定书".encode() * 100
    upload = SimpleUploadedFile("执行裁定书.PDF", content, content_type="application/pdf")
    document = services.add_document(cast.assigned, cast.case, doc_type="ruling", title=" 执行裁定书 ", upload=upload)
    document.refresh_from_db()
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.size == len(content)
    assert (document.title, document.doc_type, document.original_name) == ("执行裁定书", "ruling", "执行裁定书.PDF")
    with document.file.open("rb") as stored:
        assert stored.read() == content
    assert str(settings.MEDIA_ROOT) in document.file.path
    (entry,) = AuditEntry.objects.all()
    assert (entry.chain, entry.action) == (f"case:{cast.case.pk}", "document.add")
    assert entry.payload["sha256"] == document.sha256
    assert cast.case.events.get().kind == "document"


@pytest.mark.django_db
def test_document_name_cannot_steer_where_the_file_is_stored(cast, settings):
    upload = SimpleUploadedFile("../../../etc/passwd.pdf", b"%PDF-1.4", content_type="application/pdf")
    document = services.add_document(cast.assigned, cast.case, doc_type="evidence", title="证据", upload=upload)
    assert document.original_name == "passwd.pdf"
    stored = document.file.path
    assert stored.startswith(str(settings.MEDIA_ROOT))
    assert "passwd" not in stored


@pytest.mark.django_db
def test_document_at_the_size_limit_is_accepted(cast, settings):
    settings.CASE_DOCUMENT_MAX_BYTES = 1024 * 1024
    content = b"x" * settings.CASE_DOCUMENT_MAX_BYTES
    upload = SimpleUploadedFile("笔录.txt", content, content_type="text/plain")
    document = services.add_document(cast.assigned, cast.case, doc_type="record", title="笔录", upload=upload)
    assert document.size == len(content)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "size", "doc_type", "title", "field", "words"),
    [
        ("病毒.exe", 100, "evidence", "证据", "file", ("文件类型", "pdf")),
        ("证据.pdf.exe", 100, "evidence", "证据", "file", ("文件类型",)),
        ("无扩展名", 100, "evidence", "证据", "file", ("文件类型",)),
        ("过大.pdf", 1024 * 1024 + 1, "evidence", "证据", "file", ("大小", "1 MB")),
        ("空文件.pdf", 0, "evidence", "证据", "file", ("空",)),
        ("证据.pdf", 100, "photo", "证据", "doc_type", ("材料类型",)),
        ("证据.pdf", 100, "evidence", "  ", "title", ("标题",)),
    ],
)
def test_bad_document_is_refused_in_chinese_and_writes_nothing(
    cast, settings, name, size, doc_type, title, field, words
):
    settings.CASE_DOCUMENT_MAX_BYTES = 1024 * 1024
    counts = snapshot()
    upload = SimpleUploadedFile(name, b"a" * size)
    with pytest.raises(ValidationError) as exc_info:
        services.add_document(cast.assigned, cast.case, doc_type=doc_type, title=title, upload=upload)
    (message,) = exc_info.value.message_dict[field]
    for word in words:
        assert word in message
    assert snapshot() == counts
    assert _media_files(settings) == []


@pytest.mark.django_db
def test_size_limit_message_states_a_limit_below_one_megabyte_truthfully(cast, settings):
    settings.CASE_DOCUMENT_MAX_BYTES = 500 * 1024
    upload = SimpleUploadedFile("过大.pdf", b"a" * (500 * 1024 + 1))
    with pytest.raises(ValidationError) as exc_info:
        services.add_document(cast.assigned, cast.case, doc_type="evidence", title="证据", upload=upload)
    (message,) = exc_info.value.message_dict["file"]
    assert not re.search(r"(?<![\d.])0 ?MB", message), message  # "不能超过 0 MB" would be false


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "error"), [("supervisor", PermissionDenied), ("colleague", Http404)])
def test_documents_are_added_only_by_handlers(cast, settings, who, error):
    counts = snapshot()
    with pytest.raises(error):
        services.add_document(
            getattr(cast, who), cast.case, doc_type="evidence", title="证据", upload=SimpleUploadedFile("a.pdf", b"1")
        )
    assert snapshot() == counts
    assert _media_files(settings) == []


# --------------------------------------------------------------------------------------------
# register_case: parties entered with the case
# --------------------------------------------------------------------------------------------

CASE_FIELDS = {
    "basis_document_number": "（2025）湘0302民初77号",
    "basis_issuing_court": "湘潭市雨湖区人民法院",
    "amount_due": "50000",
}


@pytest.mark.django_db
def test_register_case_creates_new_parties_with_the_case(cast):
    existing = PartyFactory(name="既有申请人")
    case = services.register_case(
        cast.assigned,
        applicants=[{"id": existing.pk}],
        respondents=[
            {"kind": "person", "name": "黄志伟", "id_number": "11010519491231002x"},
            {"kind": "entity", "name": "湘潭某科技有限公司", "uscc": "91350100M000100Y43"},
        ],
        **CASE_FIELDS,
    )
    respondents = Party.objects.filter(case_roles__case=case, case_roles__role="respondent").order_by("name")
    assert {(p.name, p.identifier) for p in respondents} == {
        ("黄志伟", "11010519491231002X"),
        ("湘潭某科技有限公司", "91350100M000100Y43"),
    }
    assert list(Party.objects.filter(case_roles__case=case, case_roles__role="applicant")) == [existing]
    assert handlers(case) == ["assigned"]


@pytest.mark.django_db
def test_register_case_reports_party_errors_by_position_and_writes_nothing(cast):
    before = snapshot()
    with pytest.raises(ValidationError) as exc_info:
        services.register_case(
            cast.assigned,
            applicants=[{"kind": "entity", "name": "湘潭绿源农产品有限公司", "uscc": "91350100M000100Y43"}],
            respondents=[{"kind": "person", "name": "张三", "id_number": "110105194912310021"}],
            **CASE_FIELDS,
        )
    errors = exc_info.value.message_dict
    assert "respondents.0.id_number" in errors
    assert "校验位" in errors["respondents.0.id_number"][0]
    assert "respondents" not in errors  # the missing respondent is explained by the party error
    assert snapshot() == before
    assert not Party.objects.filter(name="湘潭绿源农产品有限公司").exists()


@pytest.mark.django_db
def test_register_case_with_one_bad_party_among_good_ones_rolls_everything_back(cast):
    existing = PartyFactory(name="既有被执行人")
    before = snapshot()
    with pytest.raises(ValidationError) as exc_info:
        services.register_case(
            cast.assigned,
            applicants=[{"kind": "person", "name": "张晓燕", "id_number": valid_id_number(7)}],
            respondents=[{"id": existing.pk}, {"kind": "entity", "name": "坏公司", "uscc": "91350100M000100I43"}],
            filed_on=dt.date(2025, 2, 10),
            **CASE_FIELDS,
        )
    assert set(exc_info.value.message_dict) == {"respondents.1.uscc"}
    assert snapshot() == before  # no party, no case, no audit, no sequence bump
    # the next filing still gets number 1
    case = open_(cast.assigned, (PartyFactory(), existing), filed_on=dt.date(2025, 2, 10))
    assert case.number == "（2025）湘0302执1号"


@pytest.mark.django_db
def test_register_case_reports_case_errors_next_to_party_errors(cast):
    before = snapshot()
    with pytest.raises(ValidationError) as exc_info:
        services.register_case(
            cast.assigned,
            applicants=[{"kind": "person", "name": "", "id_number": VALID_ID}],
            respondents=[{"kind": "organization", "name": "某合伙企业"}],
            basis_document_number="",
            basis_issuing_court="某院",
            amount_due="-1",
        )
    errors = exc_info.value.message_dict
    assert {"applicants.0.name", "basis_document_number", "amount_due"} <= set(errors)
    assert snapshot() == before


# --------------------------------------------------------------------------------------------
# computed values
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "recovered", "outstanding"),
    [("10000.00", "0.00", "10000.00"), ("10000.00", "2500.50", "7499.50"), ("10000.00", "10000.00", "0.00")],
)
def test_amount_outstanding(due, recovered, outstanding):
    case = EnforcementCase(amount_due=Decimal(due), amount_recovered=Decimal(recovered))
    assert case.amount_outstanding == Decimal(outstanding)


def test_amount_outstanding_never_goes_below_zero():
    case = EnforcementCase(amount_due=Decimal("100.00"), amount_recovered=Decimal("150.00"))
    assert case.amount_outstanding == Decimal("0.00")


@pytest.mark.parametrize(
    ("filed_on", "eligible_on"),
    [
        # 6 months end on 2025-10-01, inside the National Day holiday (10-01..10-08): next working day
        (dt.date(2025, 4, 1), dt.date(2025, 10, 9)),
        # 2025-09-15 is a Monday, a working day
        (dt.date(2025, 3, 15), dt.date(2025, 9, 15)),
        # 2025-08-31 + 6 months: no 2026-02-31, so the month's last day, 2026-02-28; a Saturday, but an
        # adjusted working day (调休) after the Spring Festival, so it is not moved
        (dt.date(2025, 8, 31), dt.date(2026, 2, 28)),
        # 2025-07-05 + 6 months = Monday 2026-01-05, a working day
        (dt.date(2025, 7, 5), dt.date(2026, 1, 5)),
        # 2025-06-06 + 6 months = Saturday 2025-12-06, an ordinary rest day: Monday 12-08
        (dt.date(2025, 6, 6), dt.date(2025, 12, 8)),
    ],
)
def test_art237_eligible_on(settings, filed_on, eligible_on):
    settings.ART237_MONTHS = 6
    case = EnforcementCase(filed_on=filed_on)
    assert case.art237_eligible_on == eligible_on
