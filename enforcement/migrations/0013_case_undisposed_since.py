"""Since when a case has had property found and not disposed of, kept on the case for the
"property long undisposed" trigger; filled once here from the clues and measures."""

from django.db import migrations, models
from django.db.models import DateField, OuterRef, Subquery
from django.db.models.functions import Coalesce, Least, TruncDate


def fill(apps, schema_editor):
    # A frozen copy of services.rebuild_undisposed on the historical models.
    case_model = apps.get_model("enforcement", "EnforcementCase")
    clue = (
        apps.get_model("clues", "PropertyClue")
        .objects.filter(case=OuterRef("pk"), status__in=("verified", "under_measure"), verified_at__isnull=False)
        .order_by("verified_at")
        .values(day=TruncDate("verified_at"))[:1]
    )
    measure = (
        apps.get_model("clues", "Measure")
        .objects.filter(case=OuterRef("pk"), status="active", effective_on__isnull=False)
        .order_by("effective_on")
        .values("effective_on")[:1]
    )
    a, b = Subquery(clue, output_field=DateField()), Subquery(measure, output_field=DateField())
    case_model.objects.update(undisposed_since=Least(Coalesce(a, b), Coalesce(b, a)))


class Migration(migrations.Migration):
    dependencies = [
        ("enforcement", "0012_case_activity_and_same_respondent_marks"),
        ("clues", "0006_clue_verified_case_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="enforcementcase",
            name="undisposed_since",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
