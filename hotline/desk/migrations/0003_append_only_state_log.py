"""Triggers that make the agents' state log append-only in the database itself (an UPDATE or
DELETE on desk_statechange fails, whoever issues it), as for the order history."""

from django.db import migrations

PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION desk_statechange_immutable() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'agent state changes are append-only (%% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER desk_statechange_no_update BEFORE UPDATE OR DELETE ON desk_statechange
    FOR EACH ROW EXECUTE FUNCTION desk_statechange_immutable()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS desk_statechange_no_update ON desk_statechange",
    "DROP FUNCTION IF EXISTS desk_statechange_immutable()",
]
SQLITE_FORWARD = [
    """
    CREATE TRIGGER IF NOT EXISTS desk_statechange_no_update BEFORE UPDATE ON desk_statechange
    BEGIN SELECT RAISE(ABORT, 'agent state changes are append-only (UPDATE refused)'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS desk_statechange_no_delete BEFORE DELETE ON desk_statechange
    BEGIN SELECT RAISE(ABORT, 'agent state changes are append-only (DELETE refused)'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS desk_statechange_no_update",
    "DROP TRIGGER IF EXISTS desk_statechange_no_delete",
]


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    for sql in {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}.get(
            schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    for sql in {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(
            schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("desk", "0002_default_skills")]
    operations = [migrations.RunPython(forward, backward)]
