from django.core.management.base import BaseCommand

from enforcement.services import rebuild_case_activity, rebuild_respondent_load, rebuild_undisposed


class Command(BaseCommand):
    help = (
        "Compute again from the rows the derived data the case services keep, after cases were "
        "loaded in bulk around the services: the open cases per respondent identity (RespondentLoad) "
        "with the same-respondent trigger marks, and each case's last activity and undisposed property."
    )

    def handle(self, *args, **options):
        rows = rebuild_respondent_load()
        cases = rebuild_case_activity()
        rebuild_undisposed()
        self.stdout.write(self.style.SUCCESS(f"respondent load: {rows} rows; {cases} cases"))
