"""Background work of insight, run by the django-tasks worker (``manage.py db_worker``).

The worker's scheduler enqueues (``PERIODIC``) ``refresh_city_reports_task`` every half
``HOTLINE_HOT_ISSUES_REFRESH_SECONDS``; it is idempotent (it overwrites the same snapshots).
``score_recent_assessment_task`` scores the assessment's recent months every
``HOTLINE_ASSESSMENT_SCORING_SECONDS`` (late call-back answers change them);
``score_assessment_task`` scores one month and the later ones after an appeal is decided.
Both overwrite the month's stored facts and standings, so running one twice is harmless.
``refresh_order_rollups_task`` every ``HOTLINE_ROLLUP_SECONDS`` brings the order rollups up to
date with the order history; idempotent and serialised by its watermark's row lock.
``refresh_topics_task`` every ``HOTLINE_HOT_TOPICS_SECONDS`` adds the orders since to the
standing topics of the hot issues, and clusters them anew every
``HOTLINE_HOT_ISSUES_EPOCH_SECONDS`` (``hotline.insight.topics``).
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
def refresh_topics_task() -> str:
    from hotline.insight.topics import do_refresh

    return do_refresh()


@task()
def score_assessment_task(month: str) -> list[str]:
    from hotline.insight.assessment_runs import score_from

    return score_from(month)


@task()
def score_recent_assessment_task() -> list[str]:
    from hotline.insight.assessment_runs import score_recent_months

    return score_recent_months()


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


def _sample_calls() -> int:
    from hotline.insight.quality import do_sample_recent

    return do_sample_recent()


def _weekly_brief() -> str:
    from hotline.insight.brief import do_weekly_brief_job

    return do_weekly_brief_job()


@task()
def refresh_call_rollups_task() -> str:
    """Idempotent: recomputes the days a late change can reach (``call_rollups``)."""
    from hotline.insight.call_rollups import refresh_call_rollups

    done = refresh_call_rollups()
    return f"{done.day_from}..{done.day_to}: {done.calls} queue-hours"


PERIODIC = [
    PeriodicJob("hot-issues-refresh", _refresh_period, task=refresh_city_reports_task),
    PeriodicJob("hot-topics", "HOTLINE_HOT_TOPICS_SECONDS", task=refresh_topics_task),
    PeriodicJob("assessment-scoring", "HOTLINE_ASSESSMENT_SCORING_SECONDS",
                task=score_recent_assessment_task),
    PeriodicJob("qa-sampling", 3600, run=_sample_calls),
    PeriodicJob("weekly-brief", 3600, run=_weekly_brief),
    PeriodicJob("order-rollups", "HOTLINE_ROLLUP_SECONDS", task=refresh_order_rollups_task),
    # Hourly: a report due today goes out within the hour after midnight (or the worker's start).
    PeriodicJob("custom-report-mail", 3600.0, task=mail_custom_reports_task),
    PeriodicJob("call-rollups", "HOTLINE_CALL_ROLLUP_SECONDS", task=refresh_call_rollups_task),
]
