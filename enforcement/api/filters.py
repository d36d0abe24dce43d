"""Query-string filters of the list endpoints.

Case and party lists are filtered by ``enforcement.queries`` / the policy; the serializers here
only parse and validate the query string (and describe it in the OpenAPI schema).
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from enforcement.models import CaseStatus, CaseType, Court, CourtLevel, Role, User


class CaseListParams(serializers.Serializer):
    q = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("案号、当事人名称或身份证号/统一社会信用代码")
    )
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False, allow_blank=True, default="")
    court = serializers.IntegerField(required=False, min_value=1, help_text=_("执行法院编号"))
    type_code = serializers.ChoiceField(choices=CaseType.choices, required=False, allow_blank=True, default="")


class PartyListParams(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("名称或证件号码"))


def parse_params(serializer_class, request) -> dict:
    """Validated query parameters (400 with {param: [message]} when malformed)."""
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.validated_data


def search_parties(queryset, q: str):
    q = (q or "").strip()
    if not q:
        return queryset
    return queryset.filter(Q(name__icontains=q) | Q(id_number=q.upper()) | Q(uscc=q.upper()))


class CourtFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=CourtLevel.choices)
    parent = django_filters.ModelChoiceFilter(queryset=Court.objects.all())
    code = django_filters.CharFilter()

    class Meta:
        model = Court
        fields = ["level", "parent", "code"]


class UserFilter(django_filters.FilterSet):
    court = django_filters.ModelChoiceFilter(queryset=Court.objects.all())
    role = django_filters.ChoiceFilter(
        field_name="roles__code", choices=[(code, code) for code in Role.CODES], distinct=True
    )
    username = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = User
        fields = ["court", "role", "username"]
