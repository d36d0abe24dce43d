from django.core.management.base import BaseCommand, CommandError

from enforcement import audit
from enforcement.models import AuditEntry


class Command(BaseCommand):
    help = "Verify the hash chains of the audit trail; exit non-zero at the first broken link."

    def handle(self, *args, **options):
        broken = audit.verify()
        if broken is not None:
            raise CommandError(f"audit trail broken at {broken}")
        self.stdout.write(self.style.SUCCESS(f"audit trail intact: {AuditEntry.objects.count()} entries"))
