from django.contrib import admin

from .models import MeasurePeriodRule


@admin.register(MeasurePeriodRule)
class MeasurePeriodRuleAdmin(admin.ModelAdmin):
    """Operators configure the statutory maximum per asset kind; case content is not shown."""

    list_display = ("asset_kind", "months")
