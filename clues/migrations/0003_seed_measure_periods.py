"""Statutory maximum periods of measures (CPL interpretation 2022 art. 485; IP preservation rules).

Platform and payment balances follow the deposit rule (1 year) by default, as DOMAIN.md says;
operators may change any row in the admin.
"""

from django.db import migrations

DEFAULT_MONTHS = {
    "bank_deposit": 12,
    "platform_balance": 12,
    "payment_account": 12,
    "movable": 24,
    "real_estate": 36,
    "other_property_right": 36,
    "patent": 6,
    "trademark": 12,
}


def seed(apps, schema_editor):
    Rule = apps.get_model("clues", "MeasurePeriodRule")
    for asset_kind, months in DEFAULT_MONTHS.items():
        Rule.objects.get_or_create(asset_kind=asset_kind, defaults={"months": months})


class Migration(migrations.Migration):
    dependencies = [("clues", "0002_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
