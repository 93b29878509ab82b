"""Django on a benchmark's own database: created if missing (PostgreSQL), then migrated."""

from __future__ import annotations

import os


def migrated_django(url: str) -> None:
    if url.startswith("postgres"):
        from bench.intake import ensure_database

        ensure_database(url)
    os.environ.update({
        "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "hotline.settings",
        "HOTLINE_ALLOW_DEV_SECRET": "1", "HOTLINE_DEBUG": "0",
    })
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
