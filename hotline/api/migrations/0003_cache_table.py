"""The database cache's table (settings.CACHES on the embedded default), so that the tests, the
launcher and any `manage.py migrate` have it. Idempotent: createcachetable skips existing
tables and caches that are not database caches (Redis). The launcher runs createcachetable
again after migrate, for a switch from Redis back to the database cache."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):  # type: ignore[no-untyped-def]
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False),
    ]
