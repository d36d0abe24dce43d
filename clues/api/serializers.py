"""Shapes of clues and measures in the API (input parsing only; rules live in services)."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import serializers

from clues.models import Measure, PropertyClue
from clues.queries import days_left

MASK = "***"


class ClueInputSerializer(serializers.Serializer):
    respondent = serializers.IntegerField()
    category = serializers.CharField()
    kind = serializers.CharField()
    platform = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    registry = serializers.CharField(required=False, allow_blank=True, default="")
    account = serializers.CharField(allow_blank=True)
    estimated_value = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    source = serializers.CharField()
    urgent = serializers.BooleanField(required=False, default=False)
    received_on = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class ClueSerializer(serializers.ModelSerializer):
    platform = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    respondent_name = serializers.CharField(source="respondent.name", read_only=True)
    # a decimal string, or MASK for personal data the user may not read (see to_representation)
    estimated_value = serializers.CharField(read_only=True, allow_null=True, help_text=f"yuan, or {MASK}")
    overdue = serializers.SerializerMethodField()
    other_courts = serializers.SerializerMethodField()

    class Meta:
        model = PropertyClue
        fields = [
            "id",
            "case",
            "respondent",
            "respondent_name",
            "category",
            "kind",
            "platform",
            "registry",
            "account",
            "estimated_value",
            "source",
            "urgent",
            "received_on",
            "verify_by",
            "overdue",
            "status",
            "invalid_reason",
            "notes",
            "other_courts",
        ]

    def get_overdue(self, clue) -> bool:
        return clue.status == "pending" and clue.verify_by < timezone.localdate()

    def get_other_courts(self, clue) -> list[dict]:
        return self.context.get("other_courts", {}).get(clue.asset_key, [])

    def to_representation(self, clue):
        data = super().to_representation(clue)
        if clue.is_sensitive and not self.context.get("may_read_file", False):
            for field in ("account", "registry", "notes", "estimated_value"):
                data[field] = MASK if data[field] not in (None, "") else data[field]
        return data


class MeasureInputSerializer(serializers.Serializer):
    clue = serializers.IntegerField()
    kind = serializers.CharField()
    asset_kind = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    amount = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    effective_on = serializers.DateField(required=False, allow_null=True)
    reduce_to_fit = serializers.BooleanField(required=False, default=False)


class MeasureSerializer(serializers.ModelSerializer):
    days_left = serializers.SerializerMethodField()
    renewal = serializers.SerializerMethodField()

    class Meta:
        model = Measure
        fields = [
            "id",
            "case",
            "clue",
            "kind",
            "asset_kind",
            "amount",
            "effective_on",
            "expires_on",
            "days_left",
            "status",
            "queue_position",
            "renewed_from",
            "renewal",
            "released_on",
            "release_reason",
        ]

    def get_days_left(self, measure) -> int | None:
        return days_left(measure) if measure.status == "active" else None

    def get_renewal(self, measure) -> int | None:
        """The renewal in force, if any (prefetched ``renewals``)."""
        active = [r.pk for r in measure.renewals.all() if r.status == "active"]
        return active[-1] if active else None


class RenewSerializer(serializers.Serializer):
    effective_on = serializers.DateField(required=False, allow_null=True)


class ReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class InvalidateSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class VisitScheduleSerializer(serializers.Serializer):
    scheduled_on = serializers.DateField()


class VisitSerializer(serializers.Serializer):
    """A scheduled visit (the answer of scheduling one)."""

    id = serializers.IntegerField(read_only=True)
    scheduled_on = serializers.DateField(read_only=True)


class VisitRecordedSerializer(serializers.Serializer):
    """A recorded visit (the answer of recording one)."""

    id = serializers.IntegerField(read_only=True)
    visited_on = serializers.DateField(read_only=True)
    count = serializers.IntegerField(read_only=True, allow_null=True)
    photos = serializers.ListField(child=serializers.IntegerField(), read_only=True)


class VisitRecordSerializer(serializers.Serializer):
    visited_on = serializers.DateField()
    count = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2_147_483_647)
    condition = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    photos = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, help_text="ids of case documents (photos)"
    )


class ProceedsSerializer(serializers.Serializer):
    amount = serializers.CharField()
