from django.contrib import admin

from .models import TriggerConfig


@admin.register(TriggerConfig)
class TriggerConfigAdmin(admin.ModelAdmin):
    """Operators see the thresholds per high court; the high court's supervisors edit them through
    the service (``transfers.services.update_trigger_config``). No case content here."""

    list_display = (
        "high_court",
        "same_respondent_min_cases",
        "same_respondent_min_courts",
        "undisposed_months",
        "stalled_days",
        "updated_at",
    )
    readonly_fields = list_display + ("updated_by",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
