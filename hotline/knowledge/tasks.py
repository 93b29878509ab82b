"""Background work for search, run by the django-tasks worker (``manage.py db_worker``).

``index_new_orders_task`` indexes the orders created since its last run; enqueue it
periodically (the scheduler, or cron with ``manage.py index_orders``). It is idempotent: two
runs at once index the same rows twice at worst, which replaces them with the same tokens.
"""

from __future__ import annotations

from django_tasks import task

from hotline.knowledge import indexing


@task()
def index_new_orders_task() -> int:
    return indexing.index_new_orders()
