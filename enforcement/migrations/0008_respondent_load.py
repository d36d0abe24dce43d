"""Open cases per respondent identity and court (RespondentLoad), counted once from the cases here;
from now on the case services keep it (enforcement.services.refresh_respondent_load)."""

import django.db.models.deletion
from django.db import migrations, models


# Frozen copy of services.rebuild_respondent_load: a migration must not import code that changes.
FILL = """
INSERT INTO enforcement_respondentload (identity, court_id, open_cases)
SELECT COALESCE(p.id_number, '') || COALESCE(p.uscc, ''), c.court_id, COUNT(DISTINCT c.id)
FROM enforcement_caseparty cp
JOIN enforcement_party p ON p.id = cp.party_id
JOIN enforcement_enforcementcase c ON c.id = cp.case_id
WHERE cp.role = 'respondent' AND c.status <> 'closed' AND (p.id_number <> '' OR p.uscc <> '')
GROUP BY 1, 2
"""


def fill(apps, schema_editor):
    schema_editor.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0007_case_court_filed_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="RespondentLoad",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("identity", models.CharField(max_length=18)),
                ("open_cases", models.PositiveIntegerField()),
                (
                    "court",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="enforcement.court"
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("identity", "court"), name="respondent_load_unique")],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
