"""Serializers of the transfer endpoints: they parse bodies into plain values and shape answers.
Rules live in ``transfers.services``; output reads only what ``transfers.queries`` prefetched."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from enforcement.api.serializers import StrictSerializer

from ..models import ExcludedKind, GrantState, Mode, State, Trigger

# --------------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------------


class TransferCreateSerializer(StrictSerializer):
    case = serializers.IntegerField(help_text=_("案件编号"))
    mode = serializers.CharField(help_text=" | ".join(Mode.values))
    trigger = serializers.CharField(help_text=" | ".join(Trigger.values))
    reason = serializers.CharField(allow_blank=True)
    cases = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text=_("集中执行：同一被执行人的其他案件")
    )
    receiving_court = serializers.IntegerField(required=False, allow_null=True, help_text=_("建议接收法院"))
    application_document = serializers.IntegerField(required=False, allow_null=True, help_text=_("237条申请书"))
    consent_document = serializers.IntegerField(required=False, allow_null=True, help_text=_("执转破书面同意"))


class ApproveSerializer(StrictSerializer):
    receiving_court = serializers.IntegerField(required=False, allow_null=True)
    deadline_days = serializers.IntegerField(required=False, allow_null=True)
    decision_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(allow_blank=True)


class AcceptSerializer(StrictSerializer):
    judges = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    tasks = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("协同执行的事项"))


class ConcludeSerializer(StrictSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    returned = serializers.BooleanField(required=False, default=False)


class AnswerSerializer(StrictSerializer):
    upheld = serializers.BooleanField()
    answer = serializers.CharField(allow_blank=True)


class StepSerializer(StrictSerializer):
    kind = serializers.CharField(help_text="judge_opinion | panel | president_signature")
    note = serializers.CharField(allow_blank=True)


class ReportSerializer(StrictSerializer):
    text = serializers.CharField(allow_blank=True)


class MaterialRequestInputSerializer(StrictSerializer):
    description = serializers.CharField(allow_blank=True)


class SupplySerializer(StrictSerializer):
    note = serializers.CharField(allow_blank=True)


class ExcludedPeriodInputSerializer(StrictSerializer):
    kind = serializers.CharField(help_text=" | ".join(ExcludedKind.values))
    started_on = serializers.DateField()
    ended_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class TriggerConfigSerializer(serializers.Serializer):
    high_court = serializers.IntegerField(read_only=True)
    same_respondent_min_cases = serializers.IntegerField(required=False)
    same_respondent_min_courts = serializers.IntegerField(required=False)
    undisposed_months = serializers.IntegerField(required=False)
    stalled_days = serializers.IntegerField(required=False)


class FileAccessInputSerializer(StrictSerializer):
    case = serializers.CharField(help_text=_("案件编号或案号"))
    reason = serializers.CharField(allow_blank=True)
    days = serializers.IntegerField(required=False, allow_null=True)


class NoteSerializer(StrictSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class FileAccessDecisionSerializer(StrictSerializer):
    days = serializers.IntegerField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------


class StepOutSerializer(serializers.Serializer):
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    at = serializers.DateTimeField()
    note = serializers.CharField()


class LinkSerializer(serializers.Serializer):
    case = serializers.IntegerField(source="case_id")
    case_number = serializers.CharField(source="case.number")
    successor = serializers.IntegerField(source="successor_id", allow_null=True)
    successor_number = serializers.SerializerMethodField()
    suspended_by_transfer = serializers.BooleanField()

    def get_successor_number(self, link) -> str | None:
        return link.successor.number if link.successor_id else None


class HandoverSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    original_case = serializers.IntegerField(source="original_case_id")
    successor_case = serializers.IntegerField(source="successor_case_id", allow_null=True)
    counts = serializers.DictField()
    sha256 = serializers.CharField()
    measures_count_as_receiving = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class MaterialRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    description = serializers.CharField()
    requested_by = serializers.IntegerField(source="requested_by_id")
    requested_at = serializers.DateTimeField()
    due_on = serializers.DateField()
    supplied_at = serializers.DateTimeField(allow_null=True)
    supply_note = serializers.CharField()


class ReportOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.IntegerField(source="author_id")
    text = serializers.CharField()
    at = serializers.DateTimeField()


class BankruptcyStepOutSerializer(serializers.Serializer):
    kind = serializers.CharField()
    actor = serializers.IntegerField(source="actor_id")
    note = serializers.CharField()
    at = serializers.DateTimeField()


def _court_name(court) -> str | None:
    return court.name if court is not None else None


class TransferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    case_number = serializers.CharField(source="case.number")
    cases = serializers.SerializerMethodField()
    mode = serializers.ChoiceField(choices=Mode.choices)
    trigger = serializers.ChoiceField(choices=Trigger.choices)
    reason = serializers.CharField()
    state = serializers.ChoiceField(choices=State.choices)
    requested_by = serializers.IntegerField(source="requested_by_id")
    original_court = serializers.IntegerField(source="original_court_id")
    original_court_name = serializers.CharField(source="original_court.name")
    deciding_court = serializers.IntegerField(source="deciding_court_id")
    deciding_court_name = serializers.CharField(source="deciding_court.name")
    proposed_court = serializers.IntegerField(source="proposed_court_id", allow_null=True)
    receiving_court = serializers.IntegerField(source="receiving_court_id", allow_null=True)
    receiving_court_name = serializers.SerializerMethodField()
    receiving_case = serializers.IntegerField(source="receiving_case_id", allow_null=True)
    receiving_case_number = serializers.SerializerMethodField()
    decision_number = serializers.CharField()
    decided_on = serializers.DateField(allow_null=True)
    decision_note = serializers.CharField()
    deadline_days = serializers.IntegerField(allow_null=True)
    deadline_on = serializers.DateField(allow_null=True)
    reconsideration_due = serializers.DateField(allow_null=True)
    reconsideration_requested_at = serializers.DateTimeField(allow_null=True)
    reconsideration_upheld = serializers.BooleanField(allow_null=True)
    registration_due = serializers.DateField(allow_null=True)
    materials_due = serializers.DateField(allow_null=True)
    answer_due = serializers.DateField(allow_null=True)
    accepted_on = serializers.DateField(allow_null=True)
    tasks = serializers.CharField()
    flagged = serializers.SerializerMethodField()
    flag_reason = serializers.CharField()
    links = LinkSerializer(many=True)
    steps = StepOutSerializer(many=True)
    bankruptcy_steps = BankruptcyStepOutSerializer(many=True)
    handovers = HandoverSerializer(many=True)
    material_requests = MaterialRequestSerializer(many=True)
    reports = ReportOutSerializer(many=True)
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_cases(self, transfer) -> list[int]:
        return [link.case_id for link in transfer.links.all()]

    def get_receiving_court_name(self, transfer) -> str | None:
        return _court_name(transfer.receiving_court)

    def get_receiving_case_number(self, transfer) -> str | None:
        return transfer.receiving_case.number if transfer.receiving_case_id else None

    def get_flagged(self, transfer) -> bool:
        return transfer.flagged_at is not None


class ReasonOutSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    text = serializers.CharField()


class EligibleCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    court = serializers.IntegerField(source="court_id")
    court_name = serializers.CharField(source="court.name")
    status = serializers.CharField()
    filed_on = serializers.DateField()
    amount_due = serializers.DecimalField(max_digits=16, decimal_places=2)
    amount_outstanding = serializers.DecimalField(max_digits=16, decimal_places=2)
    art237_eligible_on = serializers.DateField()
    art237_excluded_days = serializers.IntegerField()
    respondents = serializers.SerializerMethodField()
    linked_cases = serializers.IntegerField()
    last_activity = serializers.DateTimeField()
    active_transfer = serializers.IntegerField(allow_null=True)
    reasons = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_respondents(self, case) -> list[str]:
        return [cp.party.name for cp in case.case_parties.all() if cp.role == "respondent"]

    @extend_schema_field(ReasonOutSerializer(many=True))
    def get_reasons(self, case) -> list[dict]:
        from ..queries import reasons_of

        return reasons_of(case)


class CandidateSerializer(serializers.Serializer):
    court = serializers.IntegerField(source="court.pk")
    court_name = serializers.CharField(source="court.name")
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class RecommendationSerializer(serializers.Serializer):
    candidates = CandidateSerializer(many=True)


class ExcludedPeriodSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    kind = serializers.ChoiceField(choices=ExcludedKind.choices)
    started_on = serializers.DateField()
    ended_on = serializers.DateField()
    note = serializers.CharField()
    created_by = serializers.IntegerField(source="created_by_id")
    created_at = serializers.DateTimeField()


class FileAccessSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    case_number = serializers.CharField(source="case.number")
    court = serializers.IntegerField(source="case.court_id")
    requester = serializers.IntegerField(source="requester_id")
    requester_court = serializers.IntegerField(source="requester.court_id")
    reason = serializers.CharField()
    days = serializers.IntegerField()
    state = serializers.ChoiceField(choices=GrantState.choices)
    requested_at = serializers.DateTimeField()
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
