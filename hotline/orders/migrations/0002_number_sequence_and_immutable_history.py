"""The acceptance-number counter, and triggers that make the order history append-only in the
database itself (an UPDATE or DELETE on orders_orderevent fails, whoever issues it)."""

from django.db import migrations

PG_SEQUENCE = "orders_acceptance_number_seq"

PG_FORWARD = [
    f"CREATE SEQUENCE IF NOT EXISTS {PG_SEQUENCE} START 1",
    """
    CREATE OR REPLACE FUNCTION orders_event_immutable() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'order history events are append-only (%% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER orders_event_no_update BEFORE UPDATE OR DELETE ON orders_orderevent
    FOR EACH ROW EXECUTE FUNCTION orders_event_immutable()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS orders_event_no_update ON orders_orderevent",
    "DROP FUNCTION IF EXISTS orders_event_immutable()",
    f"DROP SEQUENCE IF EXISTS {PG_SEQUENCE}",
]
SQLITE_FORWARD = [
    """
    CREATE TRIGGER IF NOT EXISTS orders_event_no_update BEFORE UPDATE ON orders_orderevent
    BEGIN SELECT RAISE(ABORT, 'order history events are append-only (UPDATE refused)'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS orders_event_no_delete BEFORE DELETE ON orders_orderevent
    BEGIN SELECT RAISE(ABORT, 'order history events are append-only (DELETE refused)'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS orders_event_no_update",
    "DROP TRIGGER IF EXISTS orders_event_no_delete",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)
    apps.get_model("orders", "NumberCounter").objects.get_or_create(name="order")


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
