"""An index on the orders a unit leads and works on (dispatched, handling, suspended): ``Order
(lead_unit, state, handle_due, id) INCLUDE (sign_due, overdue_at)``, so the workbench's to-sign,
in-progress, due-soon and overdue tabs find a department's working orders, test their deadlines
and sort them from the index alone. Built CONCURRENTLY on PostgreSQL (the orders table is the
largest and takes writes all day), plainly elsewhere (SQLite ignores ``INCLUDE``)."""

from typing import Any

from django.db import migrations, models

from hotline.orders.lifecycle import State

WORKING = [State.DISPATCHED, State.HANDLING, State.SUSPENDED]
INDEX = models.Index(fields=["lead_unit", "state", "handle_due", "id"],
                     include=["sign_due", "overdue_at"], name="order_unit_working",
                     condition=models.Q(state__in=WORKING))


def create(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("orders", "Order")
    if schema_editor.connection.vendor == "postgresql":
        states = ", ".join(f"'{state.value}'" for state in WORKING)
        schema_editor.execute(
            'CREATE INDEX CONCURRENTLY IF NOT EXISTS "order_unit_working" ON "orders_order" '
            '("lead_unit_id", "state", "handle_due", "id") INCLUDE ("sign_due", "overdue_at") '
            f'WHERE "state" IN ({states})')
    else:
        schema_editor.add_index(model, INDEX)


def drop(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("orders", "Order")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX CONCURRENTLY IF EXISTS "order_unit_working"')
    else:
        schema_editor.remove_index(model, INDEX)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("orders", "0021_order_district_id"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="order", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
