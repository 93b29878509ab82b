"""The gateway's database jobs run in worker threads (``closing_connections``): a SQLite
connection stays open for the thread's next job (opening one per job cost the media clock a
quarter of its CPU with 150 bridged calls); a server's session is closed after the job as at
the end of a request (CONN_MAX_AGE=0), and so is a SQLite connection left broken or in a
transaction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from hotline.directory.models import Unit
from hotline.voice.db_threads import closing_connections

pytestmark = pytest.mark.django_db(transaction=True)


def _job() -> object:
    Unit.objects.count()
    return connection.connection  # held by the test: its identity cannot be reused


def _still_open() -> bool:
    return connection.connection is not None


def test_a_worker_threads_connection_is_kept_on_sqlite_closed_on_a_server() -> None:
    with ThreadPoolExecutor(max_workers=1) as thread:
        first = thread.submit(closing_connections, _job).result()
        still_open = thread.submit(_still_open).result()
        second = thread.submit(closing_connections, _job).result()
        thread.submit(_close).result()
    if connection.vendor == "sqlite":
        assert still_open and first is second
    else:
        assert not still_open  # CONN_MAX_AGE=0: no idle session left behind


def _close() -> None:
    connection.close()  # the worker thread's own (``connection`` is per thread)


def _autocommit() -> bool:
    return connection.get_autocommit()


def _leaves_a_transaction_open() -> None:
    transaction.set_autocommit(False)
    Unit.objects.count()


def test_a_connection_left_in_a_transaction_is_closed() -> None:
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(closing_connections, _leaves_a_transaction_open).result()
        assert not thread.submit(_still_open).result()
        # The thread's next job gets a fresh connection in autocommit, and works.
        thread.submit(closing_connections, _job).result()
        assert thread.submit(_autocommit).result()
        thread.submit(_close).result()
