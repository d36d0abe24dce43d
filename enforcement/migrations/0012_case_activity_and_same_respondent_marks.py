"""Derived data the eligible list reads instead of probing every candidate case: a case's last
activity (its latest event) and a mark on each respondent whose open cases reach the
same-respondent trigger of the case's high court. Both are filled once here from the rows."""

from django.conf import settings
from django.db import migrations, models

# Frozen copies of services.rebuild_case_activity and transfers.services.mark_same_respondent:
# a migration must not import code that changes.
LAST_ACTIVITY = """
UPDATE enforcement_enforcementcase SET last_activity_at = (
    SELECT MAX(e.at) FROM enforcement_caseevent e WHERE e.case_id = enforcement_enforcementcase.id
)
"""
THRESHOLD = """COALESCE((
    SELECT t.{field} FROM transfers_triggerconfig t JOIN enforcement_court h ON h.id = t.high_court_id
    WHERE ct.path LIKE h.path || '%%'
), %s)"""
MARKS = f"""
UPDATE enforcement_caseparty SET over_trigger = TRUE
WHERE role = 'respondent' AND EXISTS (
    SELECT 1
    FROM enforcement_party p
    JOIN enforcement_respondentload l ON l.identity = COALESCE(p.id_number, '') || COALESCE(p.uscc, '')
    JOIN enforcement_enforcementcase c ON c.id = enforcement_caseparty.case_id
    JOIN enforcement_court ct ON ct.id = c.court_id
    WHERE p.id = enforcement_caseparty.party_id
      AND l.open_cases >= {THRESHOLD.format(field="same_respondent_min_cases")}
      AND l.open_courts >= {THRESHOLD.format(field="same_respondent_min_courts")}
)
"""


def fill(apps, schema_editor):
    schema_editor.execute(LAST_ACTIVITY)
    schema_editor.execute(
        MARKS,
        [settings.TRANSFER_TRIGGER_SAME_RESPONDENT_CASES, settings.TRANSFER_TRIGGER_SAME_RESPONDENT_COURTS],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0011_event_case_at_index"),
        ("transfers", "0001_initial"),  # the thresholds of the high courts (TriggerConfig)
    ]

    operations = [
        migrations.AddField(
            model_name="caseparty",
            name="over_trigger",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
        migrations.AddField(
            model_name="enforcementcase",
            name="last_activity_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="caseparty",
            index=models.Index(
                condition=models.Q(("over_trigger", True)), fields=["case"], name="case_party_over_trigger_idx"
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
