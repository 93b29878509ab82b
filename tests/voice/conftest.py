from __future__ import annotations

import importlib

import pytest
from django.db import connection

_history_migration = importlib.import_module(
    "hotline.orders.migrations.0002_number_sequence_and_immutable_history"
)


@pytest.fixture(autouse=True)
def _history_flushable_on_sqlite(request):
    """The gateway tests run on a transactional database (the gateway's worker threads must
    see the test's rows), emptied with ``flush`` afterwards. On SQLite ``flush`` deletes row by
    row and the trigger keeping the order history append-only refuses that, so it is lifted
    just for the flush and put back before the next test (as tests/e2e/conftest.py does)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    if not transactional or connection.vendor != "sqlite":
        yield
        return
    request.getfixturevalue("transactional_db")
    with connection.cursor() as cursor:
        for sql in _history_migration.SQLITE_FORWARD:
            cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS orders_event_no_delete")
