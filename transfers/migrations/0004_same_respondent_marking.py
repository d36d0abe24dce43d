"""The default same-respondent thresholds the respondents' marks were made with (enforcement 0012
made them with the settings of that moment, which this records)."""

from django.conf import settings
from django.db import migrations, models


def record(apps, schema_editor):
    apps.get_model("transfers", "SameRespondentMarking").objects.update_or_create(
        pk=1,
        defaults={
            "min_cases": settings.TRANSFER_TRIGGER_SAME_RESPONDENT_CASES,
            "min_courts": settings.TRANSFER_TRIGGER_SAME_RESPONDENT_COURTS,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("transfers", "0003_notification_kind_refused"),
        ("enforcement", "0014_eligible_reasons_in_open_court_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="SameRespondentMarking",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("min_cases", models.PositiveSmallIntegerField()),
                ("min_courts", models.PositiveSmallIntegerField()),
                ("marked_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.RunPython(record, migrations.RunPython.noop),
    ]
