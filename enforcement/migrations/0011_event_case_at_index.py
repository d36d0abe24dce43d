# A case's events by time: the timeline and the supervisor's "no progress for long" reason
# (transfers.queries.eligible_cases) read a case's last event from this index alone. It also
# serves every lookup by case, so it replaces the foreign key's own index.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0010_respondent_load_per_identity"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="caseevent",
            index=models.Index(fields=["case", "at"], name="event_case_at_idx"),
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="case",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="enforcement.enforcementcase",
            ),
        ),
    ]
