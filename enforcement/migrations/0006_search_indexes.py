"""Indexes for the case search and the eligible-cases list on PostgreSQL (docs/PERFORMANCE.md, scale):
trigram indexes on the upper-cased case number and party name (``icontains`` is ``UPPER(x) LIKE
UPPER(%q%)`` there) and an index on the party identifier expression that
``transfers.queries._identifier`` builds. PostgreSQL only (pg_trgm, expression operator classes);
on SQLite (``make run``) this migration does nothing."""

from django.db import migrations

INDEXES = {
    "enforcement_party_name_upper_trgm": (
        "CREATE INDEX IF NOT EXISTS enforcement_party_name_upper_trgm ON enforcement_party "
        "USING gin ((UPPER(name::text)) gin_trgm_ops)"
    ),
    "enforcement_case_number_upper_trgm": (
        "CREATE INDEX IF NOT EXISTS enforcement_case_number_upper_trgm ON enforcement_enforcementcase "
        "USING gin ((UPPER(number::text)) gin_trgm_ops)"
    ),
    "enforcement_party_identifier": (
        "CREATE INDEX IF NOT EXISTS enforcement_party_identifier ON enforcement_party "
        "(((COALESCE(id_number, ''::character varying))::text || (COALESCE(uscc, ''::character varying))::text))"
    ),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for sql in INDEXES.values():
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("enforcement", "0005_art237_clock_start")]

    operations = [migrations.RunPython(create, drop)]
