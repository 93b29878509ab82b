"""Background work of hot issues, run by the django-tasks worker (``manage.py db_worker``).

The worker's scheduler enqueues (``PERIODIC``) ``refresh_city_reports_task`` every half
``HOTLINE_HOT_ISSUES_REFRESH_SECONDS``; it is idempotent (it overwrites the same snapshots).
"""

from __future__ import annotations

from django.conf import settings
from django_tasks import task

from hotline.core.periodic import PeriodicJob


@task()
def refresh_city_reports_task() -> list[str]:
    from hotline.insight.snapshots import refresh_city_reports

    return refresh_city_reports()


def _refresh_period() -> float:
    """Half the refresh period, so that a snapshot younger than the period is always there
    (0 switches the refresh off)."""
    return settings.HOTLINE_HOT_ISSUES_REFRESH_SECONDS / 2


@task()
def refresh_call_rollups_task() -> str:
    """Idempotent: recomputes the days a late change can reach (``call_rollups``)."""
    from hotline.insight.call_rollups import refresh_call_rollups

    done = refresh_call_rollups()
    return f"{done.day_from}..{done.day_to}: {done.calls} queue-hours"


PERIODIC = [
    PeriodicJob("hot-issues-refresh", _refresh_period, task=refresh_city_reports_task),
    PeriodicJob("call-rollups", "HOTLINE_CALL_ROLLUP_SECONDS", task=refresh_call_rollups_task),
]
