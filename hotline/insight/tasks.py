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


def _sample_calls() -> int:
    from hotline.insight.quality import do_sample_recent

    return do_sample_recent()


def _weekly_brief() -> str:
    from hotline.insight.brief import do_weekly_brief_job

    return do_weekly_brief_job()


PERIODIC = [PeriodicJob("hot-issues-refresh", _refresh_period, task=refresh_city_reports_task),
            PeriodicJob("qa-sampling", 3600, run=_sample_calls),
            PeriodicJob("weekly-brief", 3600, run=_weekly_brief)]
