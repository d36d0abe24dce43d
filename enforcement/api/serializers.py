"""Serializers: they parse request bodies into typed values and shape responses.

Domain rules (identity numbers, who may file where, the transition table, ...) live in
``enforcement.services``; these classes never save anything. Output serializers read only data
that ``enforcement.queries`` prefetched, so lists cost a constant number of queries.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from enforcement import queries
from enforcement.models import (
    CasePartyRole,
    CaseStatus,
    CaseType,
    ClosingMethod,
    Court,
    CourtLevel,
    DocumentType,
    PartyKind,
    Role,
)

MONEY = {"max_digits": 16, "decimal_places": 2}
ROLE_CHOICES = [(code, code) for code in Role.CODES]


class StrictSerializer(serializers.Serializer):
    """Rejects fields the endpoint does not know instead of silently ignoring them."""

    def to_internal_value(self, data):
        unknown = sorted(set(data.keys()) - set(self.fields)) if hasattr(data, "keys") else []
        errors = {field: [_("该字段不可修改或不存在")] for field in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict):
                exc.detail.update(serializers.as_serializer_error(serializers.ValidationError(errors)))
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


# --------------------------------------------------------------------------------------------
# auth
# --------------------------------------------------------------------------------------------


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True, help_text=_("请求头中发送 Authorization: Token <token>"))


# --------------------------------------------------------------------------------------------
# courts and users
# --------------------------------------------------------------------------------------------


class CourtSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(max_length=16, allow_blank=True, help_text=_("法院代字，如 苏1002"))
    name = serializers.CharField(max_length=100, allow_blank=True)
    level = serializers.ChoiceField(choices=CourtLevel.choices)
    parent = serializers.PrimaryKeyRelatedField(queryset=Court.objects.all(), allow_null=True, required=False)
    region = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("行政区划代码（GB/T 2260，6位）")
    )


class RoleCodesField(serializers.ListField):
    """Role codes in, sorted role codes out (from the user's prefetched roles)."""

    child = serializers.ChoiceField(choices=ROLE_CHOICES)

    def to_representation(self, data):
        return sorted(data)


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, style={"input_type": "password"}, trim_whitespace=False)
    display_name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    court = serializers.PrimaryKeyRelatedField(queryset=Court.objects.all(), allow_null=True, required=False)
    roles = RoleCodesField(source="role_codes", required=False, default=list)
    is_active = serializers.BooleanField(read_only=True)


# --------------------------------------------------------------------------------------------
# parties
# --------------------------------------------------------------------------------------------


class PartySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=PartyKind.choices)
    name = serializers.CharField(max_length=200, allow_blank=True)
    id_number = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("身份证号（自然人，18位）")
    )
    uscc = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("统一社会信用代码（法人，18位）")
    )
    address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class CasePartySerializer(serializers.Serializer):
    """A party as it appears in a case, with its role there."""

    id = serializers.IntegerField(source="party.id")
    role = serializers.ChoiceField(choices=CasePartyRole.choices)
    kind = serializers.ChoiceField(source="party.kind", choices=PartyKind.choices)
    name = serializers.CharField(source="party.name")
    id_number = serializers.CharField(source="party.id_number")
    uscc = serializers.CharField(source="party.uscc")


# --------------------------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------------------------


class BasisSerializer(serializers.Serializer):
    """执行依据: the judgment or other document being enforced."""

    document_number = serializers.CharField(
        source="basis_document_number", max_length=100, allow_blank=True, help_text=_("执行依据文号")
    )
    issuing_court = serializers.CharField(
        source="basis_issuing_court", max_length=100, allow_blank=True, help_text=_("执行依据作出机关")
    )


class BasisUpdateSerializer(StrictSerializer, BasisSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


_ID_LIST = serializers.ListField(child=serializers.IntegerField())


class CaseSerializer(serializers.Serializer):
    """A case as the API shows it (list and detail)."""

    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True, help_text=_("案号，如（2025）苏1002执1234号"))
    court = serializers.IntegerField(source="court_id", read_only=True)
    court_name = serializers.CharField(source="court.name", read_only=True)
    type_code = serializers.ChoiceField(choices=CaseType.choices, read_only=True)
    status = serializers.ChoiceField(choices=CaseStatus.choices, read_only=True)
    closing_method = serializers.SerializerMethodField()
    closed_on = serializers.DateField(read_only=True, allow_null=True)
    amount_due = serializers.DecimalField(**MONEY, read_only=True)
    amount_recovered = serializers.DecimalField(**MONEY, read_only=True)
    amount_outstanding = serializers.DecimalField(**MONEY, read_only=True)
    amount_frozen = serializers.DecimalField(**MONEY, read_only=True)
    applicants = serializers.SerializerMethodField()
    respondents = serializers.SerializerMethodField()
    # a declared nested field: its fields are copied once per list, not once per case
    parties = CasePartySerializer(source="case_parties", many=True, read_only=True)
    assigned_judges = serializers.SerializerMethodField()
    basis = BasisSerializer(source="*", read_only=True)
    filed_on = serializers.DateField(read_only=True)
    art237_eligible_on = serializers.DateField(read_only=True)
    origin_case = serializers.IntegerField(source="origin_case_id", read_only=True, allow_null=True)
    successor_case = serializers.IntegerField(source="successor_case_id", read_only=True, allow_null=True)

    @extend_schema_field(serializers.ChoiceField(choices=ClosingMethod.choices, allow_null=True))
    def get_closing_method(self, case) -> str | None:
        return case.closing_method or None

    @extend_schema_field(_ID_LIST)
    def get_applicants(self, case) -> list[int]:
        return [party.pk for party in queries.applicants(case)]

    @extend_schema_field(_ID_LIST)
    def get_respondents(self, case) -> list[int]:
        return [party.pk for party in queries.respondents(case)]

    @extend_schema_field(_ID_LIST)
    def get_assigned_judges(self, case) -> list[int]:
        return [judge.pk for judge in queries.judges(case)]

    def to_representation(self, case) -> dict:
        """What DRF's generic ``to_representation`` gives for the fields declared above, built
        directly: the generic walk looks up some sixty attributes per case through DRF's field
        machinery, and the case lists show fifty cases a page. Money and days go through the
        declared fields' own conversions. A test compares both on varied cases, keys in order."""
        fields = self.fields
        money, day = fields["amount_due"].to_representation, fields["filed_on"].to_representation
        data = {
            "id": case.id,
            "number": case.number,
            "court": case.court_id,
            "court_name": case.court.name,
            "type_code": case.type_code,
            "status": case.status,
            "closing_method": self.get_closing_method(case),
            "closed_on": _or_none(day, case.closed_on),
            "amount_due": _or_none(money, case.amount_due),
            "amount_recovered": _or_none(money, case.amount_recovered),
            "amount_outstanding": _or_none(money, case.amount_outstanding),
            # an annotation of the case queries; a case read without it has no such key (as DRF)
            "amount_frozen": _or_none(money, getattr(case, "amount_frozen", None)),
            "applicants": self.get_applicants(case),
            "respondents": self.get_respondents(case),
            "parties": [
                {
                    "id": cp.party.id,
                    "role": cp.role,
                    "kind": cp.party.kind,
                    "name": cp.party.name,
                    "id_number": cp.party.id_number,
                    "uscc": cp.party.uscc,
                }
                for cp in queries.case_parties(case)
            ],
            "assigned_judges": self.get_assigned_judges(case),
            "basis": {"document_number": case.basis_document_number, "issuing_court": case.basis_issuing_court},
            "filed_on": _or_none(day, case.filed_on),
            "art237_eligible_on": _or_none(day, case.art237_eligible_on),
            "origin_case": case.origin_case_id,
            "successor_case": case.successor_case_id,
        }
        if not hasattr(case, "amount_frozen"):
            del data["amount_frozen"]
        return data


def _or_none(convert, value):
    """A field's value as DRF writes it: None stays None, anything else is converted."""
    return None if value is None else convert(value)


class CaseCreateSerializer(StrictSerializer):
    court = serializers.PrimaryKeyRelatedField(
        queryset=Court.objects.all(), required=False, allow_null=True, help_text=_("默认为本人所属法院")
    )
    type_code = serializers.ChoiceField(choices=CaseType.choices, default=CaseType.ENFORCEMENT)
    applicants = serializers.ListField(child=serializers.IntegerField(min_value=1), help_text=_("申请执行人编号"))
    respondents = serializers.ListField(child=serializers.IntegerField(min_value=1), help_text=_("被执行人编号"))
    basis = BasisSerializer()
    amount_due = serializers.DecimalField(**MONEY, help_text=_("执行标的（元）"))
    filed_on = serializers.DateField(required=False, allow_null=True, help_text=_("立案日期，默认为今天"))
    assigned_judges = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, help_text=_("承办法官的用户编号")
    )


class CaseUpdateSerializer(StrictSerializer):
    basis = BasisUpdateSerializer(required=False)
    amount_due = serializers.DecimalField(**MONEY, required=False)

    def validate(self, attrs):
        if not attrs or (attrs.get("basis") == {} and len(attrs) == 1):
            raise serializers.ValidationError(_("请至少提供一个要修改的字段"))
        return attrs

    def changes(self) -> dict:
        """The keyword arguments of ``services.update_case``."""
        data = dict(self.validated_data)
        changes = dict(data.pop("basis", {}) or {})
        changes.update(data)
        return changes


class TransitionSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices, help_text=_("目标状态"))
    closing_method = serializers.ChoiceField(
        choices=ClosingMethod.choices, required=False, allow_blank=True, default="", help_text=_("结案时必填")
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class AssignSerializer(StrictSerializer):
    assigned_judges = serializers.ListField(child=serializers.IntegerField(min_value=1))


class ResumeSerializer(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CaseEventSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    at = serializers.DateTimeField(read_only=True)
    actor = serializers.IntegerField(source="actor_id", read_only=True, allow_null=True)
    actor_name = serializers.SerializerMethodField()
    kind = serializers.CharField(read_only=True)
    message = serializers.CharField(read_only=True)
    data = serializers.JSONField(read_only=True)

    def get_actor_name(self, event) -> str:
        return str(event.actor) if event.actor_id else ""


# --------------------------------------------------------------------------------------------
# documents
# --------------------------------------------------------------------------------------------


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    doc_type = serializers.ChoiceField(choices=DocumentType.choices, read_only=True)
    title = serializers.CharField(read_only=True)
    original_name = serializers.CharField(read_only=True)
    content_type = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True, help_text=_("字节数"))
    sha256 = serializers.CharField(read_only=True)
    uploaded_by = serializers.IntegerField(source="uploaded_by_id", read_only=True)
    uploaded_at = serializers.DateTimeField(read_only=True)
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, document) -> str:
        return reverse("api:case-document-download", kwargs={"pk": document.case_id, "doc_id": document.pk})


class DocumentUploadSerializer(StrictSerializer):
    doc_type = serializers.ChoiceField(choices=DocumentType.choices)
    title = serializers.CharField(max_length=200, allow_blank=True)
    file = serializers.FileField(allow_empty_file=True, use_url=False)
