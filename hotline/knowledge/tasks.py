"""Background work for search, run by the django-tasks worker (``manage.py db_worker``).

``index_new_orders_task`` indexes the orders created since its last run; enqueue it
periodically (the worker's scheduler, ``PERIODIC``, or cron with ``manage.py index_orders``).
It is idempotent: two runs at once index the same rows twice at worst, which replaces them with
the same tokens.
"""

from __future__ import annotations

from django_tasks import task

from hotline.core.periodic import PeriodicJob
from hotline.knowledge import indexing


@task()
def index_new_orders_task() -> int:
    return indexing.index_new_orders()


# The order search index catches up with new orders at every sweep (intake never waits for it).
PERIODIC = [PeriodicJob("order-indexing", "HOTLINE_SWEEP_SECONDS", task=index_new_orders_task)]
