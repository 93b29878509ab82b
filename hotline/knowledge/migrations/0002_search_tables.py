"""The full-text index tables: FTS5 virtual tables on SQLite, tsvector tables with GIN indexes on
PostgreSQL (see hotline/search/backends.py), for the knowledge entries and for the orders
(hotline/orders/search.py). Raw SQL, so the vendor decides."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE knowledge_entry_fts USING fts5(title, keywords, body)",
    "CREATE VIRTUAL TABLE knowledge_order_fts USING fts5(title, text)",
]
POSTGRESQL = [
    "CREATE TABLE knowledge_entry_search (id bigint PRIMARY KEY, document tsvector NOT NULL)",
    "CREATE INDEX knowledge_entry_search_gin ON knowledge_entry_search USING gin (document)",
    "CREATE TABLE knowledge_order_search (id bigint PRIMARY KEY, document tsvector NOT NULL)",
    "CREATE INDEX knowledge_order_search_gin ON knowledge_order_search USING gin (document)",
]
TABLES = {
    "sqlite": ["knowledge_entry_fts", "knowledge_order_fts"],
    "postgresql": ["knowledge_entry_search", "knowledge_order_search"],
}


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(vendor, []):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    for table in TABLES.get(schema_editor.connection.vendor, []):
        schema_editor.execute(f"DROP TABLE IF EXISTS {table}")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
