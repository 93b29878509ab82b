"""The scheduler's clock: which periodic jobs are due, running them, and when to wake next.

Every job is due when the scheduler starts and then every ``interval`` seconds after it last
came due. A job that fails is logged and tried again at its next turn; it never keeps the
others from running.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings

from hotline.core.periodic import PeriodicJob

log = logging.getLogger("hotline.scheduler")

IDLE_WAIT_S = 60.0  # how long to sleep when every job is switched off


def task_waiting(task: Any) -> bool:
    """True when ``task`` is already queued and not yet started (database backend only)."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(task.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(
        task_path=task.module_path, status=TaskResultStatus.READY
    ).exists()


def enqueue_unless_waiting(task: Any) -> str | None:
    """Enqueue ``task``; its result's id, or None when one is still waiting in the queue."""
    if task_waiting(task):
        return None
    return str(task.enqueue().id)


class Scheduler:
    def __init__(self, jobs: Iterable[PeriodicJob], *,
                 overrides: Mapping[str, float] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.jobs = list(jobs)
        self.clock = clock
        self.every = {job.name: job.interval(settings, overrides) for job in self.jobs}
        self.next_due: dict[str, float] = {}
        self.went_ahead: dict[str, float] = {}

    def is_on(self, job: PeriodicJob) -> bool:
        return self.every[job.name] > 0

    def tick(self, now: float | None = None) -> dict[str, object]:
        """Run every job that is due; returns what each one that went ahead gave (a task
        result's id or None when one was waiting, a function's return value, or the
        exception it raised)."""
        now = self.clock() if now is None else now
        done: dict[str, object] = {}
        for job in self.jobs:
            if not self.is_on(job) or now < self.next_due.get(job.name, now):
                continue
            # Counted from when it came due: a failing job waits its turn like the others.
            self.next_due[job.name] = now + self.every[job.name]
            try:
                if job.when is not None:
                    last = self.went_ahead.get(job.name)
                    if not job.when(None if last is None else now - last):
                        continue
                self.went_ahead[job.name] = now
                done[job.name] = (enqueue_unless_waiting(job.task) if job.task is not None
                                  else job.run() if job.run is not None else None)
            except Exception as exc:  # one job's failure must not stop the others
                log.exception("periodic job %s failed", job.name)
                done[job.name] = exc
        return done

    def seconds_to_next(self, now: float | None = None) -> float:
        """How long the scheduler may sleep before a job is due."""
        now = self.clock() if now is None else now
        upcoming = [self.next_due.get(job.name, now) for job in self.jobs if self.is_on(job)]
        if not upcoming:
            return IDLE_WAIT_S
        return max(0.0, min(upcoming) - now)
