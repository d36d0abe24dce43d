"""Server-side prepared statements for the few hottest written-out statements (PostgreSQL).

psycopg2 sends every statement as text, and PostgreSQL plans it again each time. For a small
statement run at every request the planning can cost more CPU than the execution (the case-grants
check: 0.5 ms of planning, 0.05 ms of execution; docs/PERFORMANCE.md). A statement prepared once per
database session is planned once (PostgreSQL keeps a generic plan after five executions).

A prepared statement lives as long as its session and survives a rollback; a new connection (after
``CONN_MAX_AGE`` or an error) prepares it again. A connection pooler that resets sessions under the
application (PgBouncer in transaction mode, ``DISCARD ALL``) would drop them unseen: connect to
PostgreSQL directly or through session pooling. Elsewhere (the SQLite of ``make run``) the statement
is executed as it is.
"""

from __future__ import annotations

import re
import weakref

# prepared statement names per psycopg2 connection (a new connection starts with none)
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _numbered(sql: str) -> str:
    """``%s`` placeholders as ``$1``, ``$2``, … (``%%`` stays a literal percent sign)."""
    counter = iter(range(1, 10_000))
    return re.sub(r"%%|%s", lambda m: "%" if m.group() == "%%" else f"${next(counter)}", sql)


def execute(cursor, name: str, sql: str, params: list) -> None:
    """Run ``sql`` (``%s`` placeholders) with ``params`` on ``cursor`` (a Django cursor), as the
    prepared statement ``name`` on PostgreSQL. ``name`` must stand for this one ``sql`` in the whole
    project. The first use on a connection asks the server whether the statement exists (an
    interruption, a task's time limit say, may have come between a PREPARE and its noting here)."""
    db = cursor.db
    if db.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    names = _prepared.setdefault(db.connection, set())
    if name not in names:
        cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f"PREPARE {name} AS {_numbered(sql)}")
        names.add(name)
    cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
