"""Database work of the voice gateway in worker threads: which connections a job leaves open.

The gateway runs every database job in the loop's worker threads (``asyncio.to_thread``),
which live as long as the gateway. After a job, a server's session is closed when obsolete
(always with CONN_MAX_AGE=0), as at the end of a request: idle worker threads keep no server
session open (PostgreSQL counts them; a test database could not be dropped). A SQLite
connection is kept for the thread's next job unless it is unusable: it is a file, not a
session, and opening one (the backend's functions registered, its pragmas) cost ~4 ms of the
GIL the media clock needs, for every job (bench/agent_calls.py: 150 -> 110 ms of CPU per
bridged call when kept).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def release_connections() -> None:
    """Before or after a job in a worker thread: close what must not be reused or kept
    (Django's own test, as at the end of a request), a SQLite connection never for its age."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.vendor == "sqlite":
            connection.close_at = None  # as with CONN_MAX_AGE=None: kept while usable
        connection.close_if_unusable_or_obsolete()


def closing_connections(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``function`` (in a worker thread), then ``release_connections``."""
    try:
        return function(*args, **kwargs)
    finally:
        release_connections()
