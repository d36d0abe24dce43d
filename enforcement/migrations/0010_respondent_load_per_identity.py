"""RespondentLoad becomes one row per identity (open cases and the number of their courts), so the
eligible list reads one row instead of grouping a row per court; the derived table is dropped,
created again and counted once from the cases."""

from django.db import migrations, models

# Frozen copy of services.rebuild_respondent_load: a migration must not import code that changes.
FILL = """
INSERT INTO enforcement_respondentload (identity, open_cases, open_courts)
SELECT COALESCE(p.id_number, '') || COALESCE(p.uscc, ''), COUNT(DISTINCT c.id), COUNT(DISTINCT c.court_id)
FROM enforcement_caseparty cp
JOIN enforcement_party p ON p.id = cp.party_id
JOIN enforcement_enforcementcase c ON c.id = cp.case_id
WHERE cp.role = 'respondent' AND c.status <> 'closed' AND (p.id_number <> '' OR p.uscc <> '')
GROUP BY 1
"""


def fill(apps, schema_editor):
    schema_editor.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0009_case_open_court_index"),
    ]

    operations = [
        migrations.DeleteModel(name="RespondentLoad"),
        migrations.CreateModel(
            name="RespondentLoad",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("identity", models.CharField(max_length=18, unique=True)),
                ("open_cases", models.PositiveIntegerField()),
                ("open_courts", models.PositiveIntegerField()),
            ],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
