"""Seed the four roles and make the audit table append-only at the database level."""

from django.db import migrations

ROLES = [
    ("judge", "执行法官"),
    ("bureau_head", "执行局长"),
    ("supervisor", "上级法院监督"),
    ("system_admin", "系统管理员"),
]


def seed_roles(apps, schema_editor):
    Role = apps.get_model("enforcement", "Role")
    for code, name in ROLES:
        Role.objects.update_or_create(code=code, defaults={"name": name})


def install_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            """
            CREATE OR REPLACE FUNCTION enforcement_audit_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'enforcement_auditentry is append-only: % refused', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER enforcement_auditentry_no_update_delete
                BEFORE UPDATE OR DELETE ON enforcement_auditentry
                FOR EACH ROW EXECUTE FUNCTION enforcement_audit_append_only();
            """,
            None,
        )
    elif vendor == "sqlite":
        for op in ("UPDATE", "DELETE"):
            schema_editor.execute(
                f"CREATE TRIGGER enforcement_auditentry_no_{op.lower()} BEFORE {op} ON enforcement_auditentry "
                f"BEGIN SELECT RAISE(ABORT, 'enforcement_auditentry is append-only: {op} refused'); END;"
            )


def remove_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS enforcement_auditentry_no_update_delete ON enforcement_auditentry;"
            "DROP FUNCTION IF EXISTS enforcement_audit_append_only();"
        )
    elif vendor == "sqlite":
        for op in ("update", "delete"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS enforcement_auditentry_no_{op};")


class Migration(migrations.Migration):
    dependencies = [("enforcement", "0001_initial")]

    operations = [
        migrations.RunPython(seed_roles, migrations.RunPython.noop),
        migrations.RunPython(install_guard, remove_guard),
    ]
