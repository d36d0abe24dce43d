"""``python manage.py run_mock_platforms --port PORT --data FILE``: the stand-in platform service.

Runs in the foreground until SIGINT or SIGTERM. Needs no database: no system checks, no models.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from platforms.mock.server import ConfigError, serve


class Command(BaseCommand):
    help = "Serve the stand-in platforms of a data file under /<code>/ (see API.md)."
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, required=True, help="TCP port (0: any free port)")
        parser.add_argument("--data", required=True, help='JSON file: {"platforms": {code: {...}}}')
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 in docker-compose)")
        parser.add_argument(
            "--seed", default=None, help="seed for simulated failures (default: $MOCK_PLATFORMS_SEED, else random)"
        )
        parser.add_argument("--verbose", action="store_true", help="log every request to stderr")

    def handle(self, *args, **options):
        try:
            serve(
                options["data"],
                host=options["host"],
                port=options["port"],
                seed=options["seed"],
                verbose=options["verbose"],
                out=self.stdout,
            )
        except ConfigError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"cannot serve on {options['host']}:{options['port']}: {exc}") from exc
