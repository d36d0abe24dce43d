from django.core.management.base import BaseCommand

from enforcement.services import rebuild_respondent_load


class Command(BaseCommand):
    help = (
        "Count the open cases per respondent identity and court again from the cases "
        "(RespondentLoad), after cases were loaded in bulk around the services."
    )

    def handle(self, *args, **options):
        rows = rebuild_respondent_load()
        self.stdout.write(self.style.SUCCESS(f"respondent load: {rows} rows"))
