"""An index on ``Order (district, id)``: a sub-centre's order search reads its district's
newest orders a chunk at a time, which without it walks every order newest first. Built
CONCURRENTLY on PostgreSQL (the orders table is the largest and takes writes all day), plainly
elsewhere."""

from typing import Any

from django.db import migrations, models

INDEX = models.Index(fields=["district", "id"], name="order_district_id")


def create(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("orders", "Order")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('CREATE INDEX CONCURRENTLY IF NOT EXISTS "order_district_id" '
                              'ON "orders_order" ("district_id", "id")')
    else:
        schema_editor.add_index(model, INDEX)


def drop(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("orders", "Order")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX CONCURRENTLY IF EXISTS "order_district_id"')
    else:
        schema_editor.remove_index(model, INDEX)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("orders", "0020_order_queue_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="order", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
