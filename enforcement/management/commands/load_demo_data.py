from django.core.management.base import BaseCommand

from enforcement import demo


class Command(BaseCommand):
    help = "Load the demo court hierarchy, users and cases (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--print-logins", action="store_true", help="only print the demo logins")

    def handle(self, *args, print_logins=False, **options):
        if not print_logins:
            from clues import demo as clue_demo
            from platforms import demo as platform_demo

            created = demo.load()
            created.update(clue_demo.load())
            created["connectors"] = platform_demo.load()
            self.stdout.write(
                "demo data: {courts} courts, {users} users, {cases} cases, {platforms} platforms, "
                "{connectors} connectors, {clues} clues created".format(**created)
            )
            return
        self.stdout.write(f"demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for username, display, court in demo.logins():
            self.stdout.write(f"  {username:<22} {display}  {court}")
