"""``manage.py scheduler``: enqueue the periodic background jobs for the worker (``db_worker``).

Every ``HOTLINE_SWEEP_SECONDS`` it enqueues the deadline sweep, unless the previous one is still
waiting in the queue (a stopped worker must not find a pile of identical sweeps when it comes
back). Every second it also ends agents' finished wrap-up time (``DeskClock``). SIGTERM and
SIGINT stop it between two ticks; ``--once`` enqueues one of each and exits.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections

from hotline.orders.tasks import sweep_deadlines_task

log = logging.getLogger("hotline.scheduler")


def _waiting(task: Any) -> bool:
    """True when ``task`` is already queued and not yet started (database backend only)."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(task.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(
        task_path=task.module_path, status=TaskResultStatus.READY
    ).exists()


def _enqueue_unless_waiting(task: Any) -> str | None:
    if _waiting(task):
        return None
    return str(task.enqueue().id)


def enqueue_sweep() -> str | None:
    """Enqueue one deadline sweep; returns the task result's id, or None when one is waiting."""
    return _enqueue_unless_waiting(sweep_deadlines_task)


def enqueue_order_indexing() -> str | None:
    """Catch the order search index up with new orders (intake itself never waits for it)."""
    from hotline.knowledge.tasks import index_new_orders_task

    return _enqueue_unless_waiting(index_new_orders_task)


def enqueue_order_suggestions() -> str | None:
    """Record the classifier's category suggestion for orders that came in since the last run."""
    from hotline.triage.tasks import suggest_new_orders_task

    return _enqueue_unless_waiting(suggest_new_orders_task)


class HotIssueClock:
    """Refresh the city-wide hot-issue views every half ``HOTLINE_HOT_ISSUES_REFRESH_SECONDS``,
    so a snapshot younger than the refresh period is always there (0 switches it off)."""

    def __init__(self) -> None:
        self.last: float | None = None

    def enqueue_if_due(self, now: float) -> str | None:
        from hotline.insight.tasks import refresh_city_reports_task

        period = settings.HOTLINE_HOT_ISSUES_REFRESH_SECONDS / 2
        if period <= 0 or (self.last is not None and now - self.last < period):
            return None
        self.last = now
        return _enqueue_unless_waiting(refresh_city_reports_task)


class RetrainClock:
    """When to enqueue the next classifier retraining: every ``HOTLINE_TRIAGE_RETRAIN_HOURS``
    after the newest version, and every ``NO_MODEL_RETRY`` seconds while none is in use (a new
    installation trains its first model as soon as enough orders are categorised)."""

    NO_MODEL_RETRY = 600.0

    def __init__(self) -> None:
        self.last_attempt: float | None = None

    def due(self, now: float) -> bool:
        import datetime as dt

        from django.utils import timezone

        from hotline.triage.models import ClassifierVersion, ModelStatus

        hours = settings.HOTLINE_TRIAGE_RETRAIN_HOURS
        if hours <= 0:
            return False
        since_attempt = None if self.last_attempt is None else now - self.last_attempt
        if not ClassifierVersion.objects.filter(status=ModelStatus.ACTIVE).exists():
            return since_attempt is None or since_attempt >= self.NO_MODEL_RETRY
        newest = ClassifierVersion.objects.order_by("-created_at").values_list(
            "created_at", flat=True).first()
        stale = newest is None or timezone.now() - newest >= dt.timedelta(hours=hours)
        return stale and (since_attempt is None or since_attempt >= hours * 3600)

    def enqueue_if_due(self, now: float) -> str | None:
        from hotline.triage.tasks import retrain_classifier_task

        if not self.due(now):
            return None
        self.last_attempt = now
        return _enqueue_unless_waiting(retrain_classifier_task)


class AccessLogClock:
    """Enqueue the access log's retention purge once a day (and once when the scheduler starts,
    so a scheduler restarted more often than daily still purges)."""

    EVERY_S = 86400.0

    def __init__(self) -> None:
        self.last: float | None = None

    def enqueue_if_due(self, now: float) -> str | None:
        from hotline.orders.tasks import purge_access_log_task

        if self.last is not None and now - self.last < self.EVERY_S:
            return None
        self.last = now
        return _enqueue_unless_waiting(purge_access_log_task)


class DeskClock:
    """Agents whose wrap-up time is over become ready within a second or two, whether or not a
    call is waiting (the gateways' routers do it too, but only while they route), and the
    desk's event outbox is trimmed once an hour. Cheap enough to run in the scheduler itself:
    one indexed query each."""

    EVERY_S = 1.0
    PURGE_EVERY_S = 3600.0

    def __init__(self) -> None:
        self._next_purge = 0.0

    def run_if_due(self, now: float) -> None:
        from hotline.desk import events
        from hotline.desk.services import do_expire_wrap_ups

        ready = do_expire_wrap_ups()
        if ready:
            log.info("wrap-up over: %d agents ready", len(ready))
        if now >= self._next_purge:
            self._next_purge = now + self.PURGE_EVERY_S
            events.purge()


class Command(BaseCommand):
    help = "Enqueue the periodic background jobs (the deadline sweep) for the task worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="enqueue one sweep and exit")
        parser.add_argument(
            "--interval", type=float, default=None,
            help="seconds between sweeps (default: HOTLINE_SWEEP_SECONDS)",
        )

    def handle(self, *args: Any, once: bool = False, interval: float | None = None,
               **options: Any) -> None:
        every = interval if interval is not None else float(settings.HOTLINE_SWEEP_SECONDS)
        if every <= 0:
            raise ValueError("the sweep interval must be positive")
        if once:
            found = enqueue_sweep()
            self.stdout.write(f"enqueued deadline sweep {found}" if found
                              else "a deadline sweep is already waiting")
            enqueue_order_indexing()
            enqueue_order_suggestions()
            RetrainClock().enqueue_if_due(time.monotonic())
            HotIssueClock().enqueue_if_due(time.monotonic())
            DeskClock().run_if_due(time.monotonic())
            AccessLogClock().enqueue_if_due(time.monotonic())
            return

        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        log.info("scheduler started: deadline sweep every %s s", every)
        retraining = RetrainClock()
        hot_issues = HotIssueClock()
        desk = DeskClock()
        access_log = AccessLogClock()
        next_sweep = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_sweep:
                    next_sweep = now + every
                    found = enqueue_sweep()
                    log.debug("enqueued deadline sweep %s", found)
                    enqueue_order_indexing()
                    enqueue_order_suggestions()
                    retraining.enqueue_if_due(now)
                    hot_issues.enqueue_if_due(now)
                    access_log.enqueue_if_due(now)
                desk.run_if_due(now)
            except DatabaseError:
                # A locked or restarting database: try again at the next tick, do not die.
                log.exception("could not enqueue the periodic jobs")
            close_old_connections()
            stop.wait(min(DeskClock.EVERY_S, max(0.0, next_sweep - time.monotonic())))
        log.info("scheduler stopped")
