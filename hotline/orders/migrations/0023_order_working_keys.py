"""``order_working`` (the ids of the dispatched, handling and suspended orders) replaced by
``order_working_keys``: the same ids with the state and the deadlines the workbench's tabs
test and sort by (``INCLUDE (state, handle_due, sign_due, overdue_at)``), so the orders a unit
co-handles are checked, tested and sorted from the index alone (the in-progress tab read the
city's 40,000 working orders' rows for their deadlines at 1 M orders). Built and dropped
CONCURRENTLY on PostgreSQL (the orders table takes writes all day), plainly elsewhere (SQLite
ignores ``INCLUDE``)."""

from typing import Any

from django.db import migrations, models

from hotline.orders.lifecycle import State

WORKING = [State.DISPATCHED, State.HANDLING, State.SUSPENDED]
OLD = models.Index(fields=["id"], name="order_working", condition=models.Q(state__in=WORKING))
NEW = models.Index(fields=["id"], include=["state", "handle_due", "sign_due", "overdue_at"],
                   name="order_working_keys", condition=models.Q(state__in=WORKING))


def _create_new(schema_editor: Any) -> None:
    states = ", ".join(f"'{state.value}'" for state in WORKING)
    schema_editor.execute(
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "order_working_keys" ON "orders_order" ("id") '
        'INCLUDE ("state", "handle_due", "sign_due", "overdue_at") '
        f'WHERE "state" IN ({states})')


def forwards(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("orders", "Order")
    if schema_editor.connection.vendor == "postgresql":
        _create_new(schema_editor)
        schema_editor.execute('DROP INDEX CONCURRENTLY IF EXISTS "order_working"')
    else:
        schema_editor.add_index(model, NEW)
        schema_editor.remove_index(model, OLD)


def backwards(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("orders", "Order")
    if schema_editor.connection.vendor == "postgresql":
        states = ", ".join(f"'{state.value}'" for state in WORKING)
        schema_editor.execute('CREATE INDEX CONCURRENTLY IF NOT EXISTS "order_working" '
                              f'ON "orders_order" ("id") WHERE "state" IN ({states})')
        schema_editor.execute('DROP INDEX CONCURRENTLY IF EXISTS "order_working_keys"')
    else:
        schema_editor.add_index(model, OLD)
        schema_editor.remove_index(model, NEW)


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("orders", "0022_order_unit_working"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="order", index=NEW),
                migrations.RemoveIndex(model_name="order", name="order_working"),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
