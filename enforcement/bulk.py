"""Set-based statements on PostgreSQL: one statement for many rows, without building one SQL
expression per row and field as ``bulk_update`` does."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections

# a field's array type, per database alias (the same at every call)
_array_types: dict[tuple[str, object], str] = {}


def unnest(fields, rows) -> tuple[str, list]:
    """``UNNEST(%s::type[], …)`` over ``fields`` (model fields) of ``rows`` (model instances), and its
    parameters: one array per field, for ``INSERT … SELECT * FROM`` it or ``UPDATE … FROM`` it.

    The connection is looked up once, not at every value: through the ``connection`` proxy each of
    the thousands of attribute reads that preparing the values makes went through a context-local
    lookup, which was a third of the time of writing an audit batch (docs/PERFORMANCE.md)."""
    alias = DEFAULT_DB_ALIAS  # the callers' ``connection``
    conn = connections[alias]
    types = []
    for field in fields:
        key = (alias, field)
        if key not in _array_types:
            _array_types[key] = f"{field.db_type(conn)}[]"
        types.append(_array_types[key])
    sql = "UNNEST(" + ", ".join(f"%s::{array_type}" for array_type in types) + ")"
    params = [[field.get_db_prep_save(getattr(row, field.attname), conn) for row in rows] for field in fields]
    return sql, params
