"""The worker's scheduler: the registry the domains declare, and its clock."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.core.management import call_command

from hotline.core.periodic import PeriodicJob
from hotline.demo.tasks import load_demo_chunk_task
from hotline.insight.tasks import (
    mail_custom_reports_task,
    refresh_call_rollups_task,
    refresh_city_reports_task,
    refresh_order_rollups_task,
    refresh_topics_task,
    score_recent_assessment_task,
)
from hotline.intake.tasks import poll_mailbox_task
from hotline.orders.tasks import index_new_orders_task, purge_access_log_task, sweep_deadlines_task
from hotline.outreach.tasks import callback_tasks_task, notify_citizens_task
from hotline.triage.tasks import retrain_classifier_task, suggest_new_orders_task
from hotline.worker.registry import periodic_jobs
from hotline.worker.scheduler import Scheduler

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings


def test_the_registry_holds_every_domains_jobs_at_todays_intervals(settings: Settings) -> None:
    settings.HOTLINE_SWEEP_SECONDS = 60
    settings.HOTLINE_HOT_ISSUES_REFRESH_SECONDS = 600
    settings.HOTLINE_IMAP_URL = ""
    settings.HOTLINE_ASSESSMENT_SCORING_SECONDS = 3600
    settings.HOTLINE_ROLLUP_SECONDS = 60
    settings.HOTLINE_CALL_ROLLUP_SECONDS = 60
    settings.HOTLINE_HOT_TOPICS_SECONDS = 60
    jobs = {job.name: job for job in periodic_jobs()}
    every = {name: job.interval(settings) for name, job in jobs.items()}
    assert every == {
        "deadline-sweep": 60.0, "access-log-purge": 86400.0, "order-indexing": 60.0,
        "hot-issues-refresh": 300.0, "order-suggestions": 60.0, "classifier-retraining": 60.0,
        "wrap-up-end": 1.0, "chat-routing": 2.0, "desk-events-purge": 3600.0,
        "citizen-notices": 60.0, "fax-recovery": 300.0, "outbound-recovery": 60.0,
        "qa-sampling": 3600.0, "weekly-brief": 3600.0, "survey-sweep": 300.0,
        "appointment-reminders": 300.0, "callback-tasks": 60.0,
        "campaign-pacer": 1.0,
        "imap-poll": 0.0,  # no HOTLINE_IMAP_URL: off
        "assessment-scoring": 3600.0,
        "order-rollups": 60.0, "custom-report-mail": 3600.0,
        "call-rollups": 60.0, "hot-topics": 60.0,
        "demo-load": 60.0,  # asks the data: only while the demo's background load is unfinished
    }
    assert {name: job.task for name, job in jobs.items() if job.task is not None} == {
        "deadline-sweep": sweep_deadlines_task, "access-log-purge": purge_access_log_task,
        "order-indexing": index_new_orders_task, "hot-issues-refresh": refresh_city_reports_task,
        "order-suggestions": suggest_new_orders_task,
        "classifier-retraining": retrain_classifier_task,
        "citizen-notices": notify_citizens_task, "imap-poll": poll_mailbox_task,
        "callback-tasks": callback_tasks_task,
        "assessment-scoring": score_recent_assessment_task,
        "order-rollups": refresh_order_rollups_task,
        "custom-report-mail": mail_custom_reports_task,
        "call-rollups": refresh_call_rollups_task, "hot-topics": refresh_topics_task,
        "demo-load": load_demo_chunk_task,
    }
    assert jobs["classifier-retraining"].when is not None
    assert jobs["demo-load"].when is not None


def test_a_job_gives_a_task_or_a_function() -> None:
    with pytest.raises(ValueError, match="either a task or a function"):
        PeriodicJob("nothing", 1.0)
    with pytest.raises(ValueError, match="either a task or a function"):
        PeriodicJob("both", 1.0, task=sweep_deadlines_task, run=lambda: None)


def test_an_interval_is_seconds_a_setting_or_a_function(settings: Settings) -> None:
    settings.HOTLINE_SWEEP_SECONDS = 42
    assert PeriodicJob("a", 5, run=int).interval(settings) == 5.0
    assert PeriodicJob("b", "HOTLINE_SWEEP_SECONDS", run=int).interval(settings) == 42.0
    assert PeriodicJob("b", "HOTLINE_SWEEP_SECONDS", run=int).interval(
        settings, {"HOTLINE_SWEEP_SECONDS": 7}) == 7.0
    assert PeriodicJob("c", lambda: 2.5, run=int).interval(settings) == 2.5


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_one_tick_runs_each_due_job_once() -> None:
    fast, slow = Counter(), Counter()
    scheduler = Scheduler([PeriodicJob("fast", 1.0, run=fast),
                           PeriodicJob("slow", 60.0, run=slow)])
    assert scheduler.tick(100.0) == {"fast": 1, "slow": 1}  # every job is due at the start
    assert scheduler.tick(100.0) == {}  # the same moment again: nothing twice
    assert scheduler.tick(101.0) == {"fast": 2}
    assert (fast.calls, slow.calls) == (2, 1)
    assert scheduler.seconds_to_next(101.5) == pytest.approx(0.5)


def test_a_failing_job_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    before, after = Counter(), Counter()

    def broken() -> None:
        raise RuntimeError("database is locked")

    scheduler = Scheduler([PeriodicJob("before", 1.0, run=before),
                           PeriodicJob("broken", 1.0, run=broken),
                           PeriodicJob("after", 1.0, run=after)])
    with caplog.at_level(logging.ERROR, logger="hotline.scheduler"):
        done = scheduler.tick(0.0)
    assert isinstance(done["broken"], RuntimeError)
    assert (before.calls, after.calls) == (1, 1)
    assert "periodic job broken failed" in caplog.text
    assert "database is locked" in caplog.text
    # It is tried again at its next turn, not at once.
    assert "broken" not in scheduler.tick(0.5)
    assert isinstance(scheduler.tick(1.0)["broken"], RuntimeError)


def test_intervals_are_respected_as_time_passes(settings: Settings) -> None:
    settings.HOTLINE_SWEEP_SECONDS = 60
    second, minute, day = Counter(), Counter(), Counter()
    jobs = [PeriodicJob("second", 1.0, run=second),
            PeriodicJob("minute", "HOTLINE_SWEEP_SECONDS", run=minute),
            PeriodicJob("day", 86400.0, run=day),
            PeriodicJob("off", 0.0, run=lambda: pytest.fail("a job set to 0 must not run"))]
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as machine:
        # time-machine moves the wall clock, not time.monotonic: give the scheduler that one.
        scheduler = Scheduler(jobs, clock=time.time)
        for _ in range(150):  # 150 seconds, one tick each
            scheduler.tick()
            machine.shift(1)
        assert (second.calls, minute.calls, day.calls) == (150, 3, 1)
        machine.shift(dt.timedelta(days=1))
        scheduler.tick()
        assert (second.calls, minute.calls, day.calls) == (151, 4, 2)


def test_a_condition_decides_each_time_the_interval_has_passed() -> None:
    asked: list[float | None] = []
    ran = Counter()

    def when(since: float | None) -> bool:
        asked.append(since)
        return since is None or since >= 25

    scheduler = Scheduler([PeriodicJob("picky", 10.0, run=ran, when=when)])
    for now in (0.0, 10.0, 20.0, 30.0, 40.0):
        scheduler.tick(now)
    # Asked at every turn, with the time since it last went ahead (at 0, then at 30).
    assert asked == [None, 10.0, 20.0, 30.0, 10.0]
    assert ran.calls == 2


def test_all_jobs_off_sleeps_long() -> None:
    scheduler = Scheduler([PeriodicJob("off", 0.0, run=int)])
    assert scheduler.tick(0.0) == {}
    assert scheduler.seconds_to_next(0.0) == 60.0


@pytest.mark.django_db
def test_scheduler_once_runs_every_job_and_reports_it(settings: Settings) -> None:
    settings.HOTLINE_HOT_ISSUES_REFRESH_SECONDS = 0  # switched off: not run
    from io import StringIO

    out = StringIO()
    call_command("scheduler", "--once", stdout=out)
    names = [line.split(":")[0] for line in out.getvalue().splitlines()]
    assert "hot-issues-refresh" not in names
    assert {"deadline-sweep", "order-indexing", "wrap-up-end", "desk-events-purge",
            "access-log-purge", "order-suggestions"} <= set(names)


def test_the_sweep_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        call_command("scheduler", "--once", "--interval", "0")
