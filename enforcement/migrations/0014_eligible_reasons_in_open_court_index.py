"""The open cases of a court carry the columns the eligible list weighs its reasons and sorts by:
its narrow page query (ids and the total) reads the index alone."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clues', '0006_clue_verified_case_index'),
        ('enforcement', '0013_case_undisposed_since'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='enforcementcase',
            name='case_open_court_idx',
        ),
        migrations.AddIndex(
            model_name='enforcementcase',
            index=models.Index(condition=models.Q(('status', 'closed'), _negated=True), fields=['court'], include=('id', 'filed_on', 'art237_clock_from', 'art237_excluded_days', 'created_at', 'last_activity_at', 'undisposed_since'), name='case_open_court_idx'),
        ),
    ]
