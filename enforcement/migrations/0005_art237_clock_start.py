"""The art. 237 clock per property: where the six months run from (filing, or the day a property
still to enforce was found after filing) and the clue that sets it.

Existing rows get the value ``services.refresh_art237_clock`` would compute: the earliest
max(filed_on, received_on) over the clues pending, verified or under a measure, else filed_on; when
it is later than filing, the excluded days are counted again from it."""

import datetime as dt

import django.db.models.deletion
from django.db import migrations, models

RUNNING = ("pending", "verified", "under_measure")


def _days_covered(after, intervals):
    # enforcement.periods.days_covered as of this migration
    total, reach = 0, after
    for start, end in sorted(intervals):
        start = max(start, reach + dt.timedelta(days=1))
        if end >= start:
            total += (end - start).days + 1
            reach = end
    return total


def fill_clock(apps, schema_editor):
    Case = apps.get_model("enforcement", "EnforcementCase")
    Clue = apps.get_model("clues", "PropertyClue")
    Excluded = apps.get_model("transfers", "Art237ExcludedPeriod")
    Case.objects.filter(art237_clock_from__isnull=True).update(art237_clock_from=models.F("filed_on"))
    firsts = {}
    rows = (
        Clue.objects.filter(status__in=RUNNING)
        .order_by("case_id", "received_on", "pk")
        .values_list("case_id", "case__filed_on", "pk", "received_on")
    )
    for case_id, filed_on, clue_id, received_on in rows.iterator():
        firsts.setdefault(case_id, (filed_on, clue_id, received_on))
    for case_id, (filed_on, clue_id, received_on) in firsts.items():
        if received_on > filed_on:
            intervals = Excluded.objects.filter(case_id=case_id).values_list("started_on", "ended_on")
            Case.objects.filter(pk=case_id).update(
                art237_clock_from=received_on,
                art237_clock_clue_id=clue_id,
                art237_excluded_days=_days_covered(received_on, list(intervals)),
            )


class Migration(migrations.Migration):
    dependencies = [
        ("clues", "0004_measure_renewals"),
        ("enforcement", "0004_court_notice_approval_kinds"),
        ("transfers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="enforcementcase",
            name="art237_clock_clue",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="clues.propertyclue",
                verbose_name="237条期间起算财产",
            ),
        ),
        migrations.AddField(
            model_name="enforcementcase",
            name="art237_clock_from",
            field=models.DateField(blank=True, null=True, verbose_name="237条期间起算日"),
        ),
        migrations.RunPython(fill_clock, migrations.RunPython.noop),
    ]
