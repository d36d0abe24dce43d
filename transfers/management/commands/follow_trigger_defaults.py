from django.core.management.base import BaseCommand

from transfers.services import follow_trigger_defaults


class Command(BaseCommand):
    help = (
        "Mark the respondents over the same-respondent trigger again when the default thresholds "
        "of the settings are not those the marks were made with (run at start-up; hourly by beat)."
    )

    def handle(self, *args, **options):
        changed = follow_trigger_defaults()
        self.stdout.write("same-respondent marks: " + ("made again" if changed else "up to date"))
