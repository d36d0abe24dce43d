"""Set-based statements on PostgreSQL: one statement for many rows, without building one SQL
expression per row and field as ``bulk_update`` does."""

from __future__ import annotations

from django.db import connection


def unnest(fields, rows) -> tuple[str, list]:
    """``UNNEST(%s::type[], …)`` over ``fields`` (model fields) of ``rows`` (model instances), and its
    parameters: one array per field, for ``INSERT … SELECT * FROM`` it or ``UPDATE … FROM`` it."""
    sql = "UNNEST(" + ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields) + ")"
    params = [[field.get_db_prep_save(getattr(row, field.attname), connection) for row in rows] for field in fields]
    return sql, params
