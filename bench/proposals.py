"""Index changes proposed for enforcement/ and transfers/ (owned by another engineer): created in
the bench database only, to measure their effect (``python -m bench.scale --proposed-indexes``)."""

from __future__ import annotations

PROPOSED: list[tuple[str, str]] = []


def apply() -> list[str]:
    from django.db import connection

    with connection.cursor() as cur:
        for _name, sql in PROPOSED:
            cur.execute(sql)
        cur.execute("ANALYZE")
    return [name for name, _ in PROPOSED]


def revert() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for name, _ in PROPOSED:
            cur.execute(f"DROP INDEX IF EXISTS {name}")
