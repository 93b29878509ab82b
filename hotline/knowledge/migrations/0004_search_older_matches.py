"""PostgreSQL: ``search_older_matches(table, query, low, cap)``, the GIN step of newest-first
search (hotline/search/backends.py, ``PostgresTsvectorBackend._older_matches``): up to ``cap``
ids of ``table``'s rows at or below ``low`` matching ``query``, read with sequential and plain
index scans disabled for the function's own run (its SET clauses), so the planner lists them
from the GIN index. One round trip, where setting and restoring the two settings around the
query took a transaction and five. Nothing on SQLite."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION search_older_matches(tbl regclass, q tsquery, low bigint, cap integer)
RETURNS SETOF bigint
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET enable_indexscan = off
AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT id::bigint FROM %s WHERE document @@ $1 AND id <= $2 LIMIT $3', tbl)
        USING q, low, cap;
END
$$
"""
DROP = "DROP FUNCTION IF EXISTS search_older_matches(regclass, tsquery, bigint, integer)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # No parameters: the format() string's %s is not a placeholder.
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0003_suggestion_feedback")]

    operations = [migrations.RunPython(create, drop)]
