"""An index on ``Order.closed_at``: the big screen counts the orders closed today every few
seconds, which without it reads every order. Built CONCURRENTLY on PostgreSQL (the orders
table is the largest and takes writes all day), plainly elsewhere."""

from typing import Any

from django.db import migrations, models

INDEX = models.Index(fields=["closed_at"], name="order_closed_at")


def create(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("orders", "Order")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('CREATE INDEX CONCURRENTLY IF NOT EXISTS "order_closed_at" '
                              'ON "orders_order" ("closed_at")')
    else:
        schema_editor.add_index(model, INDEX)


def drop(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("orders", "Order")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX CONCURRENTLY IF EXISTS "order_closed_at"')
    else:
        schema_editor.remove_index(model, INDEX)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("orders", "0013_event_kinds_together"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="order", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
