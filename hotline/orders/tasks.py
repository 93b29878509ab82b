"""Background work on orders, run by the django-tasks worker (``manage.py db_worker``).

The worker's scheduler enqueues ``sweep_deadlines_task`` every ``HOTLINE_SWEEP_SECONDS`` and
``purge_access_log_task`` daily (``PERIODIC``). The sweep is idempotent (see ``sweeps``): running
it twice, or in two workers at once, acts once.
"""

from __future__ import annotations

from django_tasks import task

from hotline.core.periodic import PeriodicJob
from hotline.orders import access_log, search, sweeps


@task()
def sweep_deadlines_task() -> dict[str, list[str]]:
    """Remind, mark overdue and escalate orders by their deadlines; returns what was done (the
    numbers of the orders), which the database backend keeps as the task's result."""
    return sweeps.sweep_deadlines().as_dict()


@task()
def purge_access_log_task() -> int:
    """Delete access-log entries older than ``HOTLINE_ACCESS_LOG_RETENTION_DAYS`` (the scheduler
    enqueues it daily); returns how many went."""
    return access_log.do_purge_access_log()


@task()
def index_new_orders_task() -> int:
    """Index the orders created since the last run for search (or cron runs ``manage.py
    index_orders``). Idempotent: two runs at once index the same rows twice at worst, which
    replaces them with the same tokens."""
    return search.index_new_orders()


PERIODIC = [
    PeriodicJob("deadline-sweep", "HOTLINE_SWEEP_SECONDS", task=sweep_deadlines_task),
    # Daily, and once when the scheduler starts, so that a scheduler restarted more often than
    # daily still purges.
    PeriodicJob("access-log-purge", 86400.0, task=purge_access_log_task),
    # The order search index catches up with new orders at every sweep (intake never waits).
    PeriodicJob("order-indexing", "HOTLINE_SWEEP_SECONDS", task=index_new_orders_task),
]
