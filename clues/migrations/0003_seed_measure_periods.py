"""Seed the statutory maximum periods of measures (clues/defaults.py); operators may change them."""

from django.db import migrations

from clues.defaults import DEFAULT_PERIOD_MONTHS as DEFAULT_MONTHS


def seed(apps, schema_editor):
    Rule = apps.get_model("clues", "MeasurePeriodRule")
    for asset_kind, months in DEFAULT_MONTHS.items():
        Rule.objects.get_or_create(asset_kind=asset_kind, defaults={"months": months})


class Migration(migrations.Migration):
    dependencies = [("clues", "0002_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
