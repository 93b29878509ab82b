"""The demo's background load, run by the django-tasks worker (``manage.py db_worker``).

``load_demo_chunk_task`` plays the next chunk of the demo's orders and enqueues itself again
until the demo is complete (``hotline.demo.background``). The launcher enqueues it after the
directory is written; the scheduler (``PERIODIC``) enqueues it again while a load is
unfinished, so a worker stopped half-way, or a chunk that failed, resumes by itself. Two at
once are harmless: each chunk is claimed once.
"""

from __future__ import annotations

import time

from django.db import connection
from django_tasks import task

from hotline.core.periodic import PeriodicJob

# SQLite's busy handler polls for the write lock every 100 ms at most. Back to back, the worker
# would take the lock again for the next chunk within milliseconds of releasing it, and a page
# waiting to write (a login) or the scheduler could miss every window until its timeout; a
# pause longer than one poll lets each of them in between two chunks.
PAUSE_BETWEEN_CHUNKS_S = 0.15


@task()
def load_demo_chunk_task() -> str:
    from hotline.demo import background

    load = background.do_play_next_chunk()
    if load is None:
        return "no demo load"
    if not load.finished:
        if connection.vendor == "sqlite":
            time.sleep(PAUSE_BETWEEN_CHUNKS_S)
        enqueue_next_chunk()
    return str(load)


def enqueue_next_chunk() -> None:
    from hotline.worker.scheduler import enqueue_unless_waiting

    enqueue_unless_waiting(load_demo_chunk_task)


def _load_unfinished(since_attempt: float | None) -> bool:
    from hotline.demo.background import unfinished

    return unfinished()


PERIODIC = [
    PeriodicJob("demo-load", 60.0, task=load_demo_chunk_task, when=_load_unfinished),
]
