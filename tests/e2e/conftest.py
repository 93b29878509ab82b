from __future__ import annotations

import importlib

import pytest
from django.db import connection

_history_migration = importlib.import_module(
    "hotline.orders.migrations.0002_number_sequence_and_immutable_history"
)


@pytest.fixture(autouse=True)
def _history_flushable_on_sqlite(request):
    """Live-server tests run on a real (transactional) database, which is emptied with
    ``flush`` afterwards. On SQLite ``flush`` deletes rows one table at a time, and the trigger
    that keeps the order history append-only refuses that; PostgreSQL truncates, which row
    triggers do not see. So on SQLite the delete trigger is lifted just for the flush and put
    back before the next test."""
    if "live_server" not in request.fixturenames or connection.vendor != "sqlite":
        yield
        return
    request.getfixturevalue("transactional_db")
    with connection.cursor() as cursor:
        for sql in _history_migration.SQLITE_FORWARD:
            cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS orders_event_no_delete")
