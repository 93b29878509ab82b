"""Background work of hot issues, run by the django-tasks worker (``manage.py db_worker``).

The scheduler enqueues ``refresh_city_reports_task`` every half
``HOTLINE_HOT_ISSUES_REFRESH_SECONDS``; it is idempotent (it overwrites the same snapshots).
"""

from __future__ import annotations

from django_tasks import task


@task()
def refresh_city_reports_task() -> list[str]:
    from hotline.insight.snapshots import refresh_city_reports

    return refresh_city_reports()
