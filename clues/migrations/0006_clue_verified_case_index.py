# A case's verified, undisposed clues with their verification time: the supervisor's "property
# long undisposed" reason (transfers.queries.eligible_cases) is answered from this index alone.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clues", "0005_workbench_panel_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="propertyclue",
            index=models.Index(
                condition=models.Q(("status__in", ("verified", "under_measure")), ("verified_at__isnull", False)),
                fields=["case", "verified_at"],
                name="clue_verified_case_idx",
            ),
        ),
    ]
