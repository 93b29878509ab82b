"""Background work of hot issues and reports, run by the django-tasks worker
(``manage.py db_worker``).

The worker's scheduler enqueues (``PERIODIC``) ``refresh_city_reports_task`` every half
``HOTLINE_HOT_ISSUES_REFRESH_SECONDS``; it is idempotent (it overwrites the same snapshots).
``refresh_order_rollups_task`` every ``HOTLINE_ROLLUP_SECONDS`` brings the order rollups up to
date with the order history; idempotent and serialised by its watermark's row lock.
``mail_custom_reports_task`` hourly mails the scheduled custom reports that are due.
"""

from __future__ import annotations

from django.conf import settings
from django_tasks import task

from hotline.core.periodic import PeriodicJob


@task()
def refresh_city_reports_task() -> list[str]:
    from hotline.insight.snapshots import refresh_city_reports

    return refresh_city_reports()


@task()
def refresh_order_rollups_task() -> dict[str, int]:
    from hotline.insight.rollups import refresh_order_rollups

    stats = refresh_order_rollups()
    return {"events": stats.events, "orders": stats.orders, "watermark": stats.watermark}


@task()
def mail_custom_reports_task() -> int:
    from hotline.insight.custom_reports import do_mail_due_reports

    return do_mail_due_reports()


def _refresh_period() -> float:
    """Half the refresh period, so that a snapshot younger than the period is always there
    (0 switches the refresh off)."""
    return settings.HOTLINE_HOT_ISSUES_REFRESH_SECONDS / 2


PERIODIC = [
    PeriodicJob("hot-issues-refresh", _refresh_period, task=refresh_city_reports_task),
    PeriodicJob("order-rollups", "HOTLINE_ROLLUP_SECONDS", task=refresh_order_rollups_task),
    # Hourly: a report due today goes out within the hour after midnight (or the worker's start).
    PeriodicJob("custom-report-mail", 3600.0, task=mail_custom_reports_task),
]
