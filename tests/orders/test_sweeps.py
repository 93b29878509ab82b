"""The deadline sweep: reminders, overdue marks and escalation, each once.

Fixture category 100101 (停水): sign for within 7 working hours, handle within 5 working days.
Dispatched Monday 2025-10-13 09:00: sign_due Monday 17:30, handle_due Friday 2025-10-17 17:30.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
import zoneinfo
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import translation
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.directory.workcalendar import WorkCalendar, default_is_workday, parse_periods
from hotline.insight.tasks import refresh_city_reports_task
from hotline.orders import services, sweeps, tasks
from hotline.orders.models import Order, OrderEvent
from hotline.orders.services import NewOrder, do_action, do_create_order
from hotline.orders.tasks import index_new_orders_task
from hotline.triage.tasks import retrain_classifier_task, suggest_new_orders_task

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytest_django.fixtures import Settings

    from tests.conftest import City

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture(autouse=True)
def _sweep_settings(settings: Settings) -> None:
    settings.HOTLINE_REMIND_BEFORE_HOURS = 4
    settings.HOTLINE_ESCALATE_AFTER_DAYS = 2


def dispatched(city: City, moment: str = "2025-10-13 09:00", phone: str = "13800000001") -> str:
    order, _ = do_create_order(
        city.agent,
        NewOrder(type="complaint", channel="phone", title="停水", text="小区停水",
                 category="100101", citizen_phone=phone),
        now=at(moment),
    )
    do_action(city.agent, order.number, "dispatch", now=at(moment))
    return order.number


def events(number: str, action: str) -> list[OrderEvent]:
    return list(OrderEvent.objects.filter(order__number=number, action=action).order_by("seq"))


def test_sign_reminder_within_the_window_and_only_once(city: City) -> None:
    number = dispatched(city)
    # 11:00 + 4 working hours = 16:30, before the 17:30 deadline: too early.
    assert sweeps.sweep_deadlines(at("2025-10-13 11:00")).reminded == []
    report = sweeps.sweep_deadlines(at("2025-10-13 12:00"))  # horizon 17:30
    assert report.reminded == [number]
    assert sweeps.sweep_deadlines(at("2025-10-13 12:00")).reminded == []
    assert sweeps.sweep_deadlines(at("2025-10-13 15:00")).reminded == []
    [event] = events(number, "remind")
    assert event.data == {"deadline": "sign"}
    assert event.actor is not None
    assert event.actor.username == "system"
    order = Order.objects.get(number=number)
    assert order.reminded_at == at("2025-10-13 12:00") and order.overdue_at is None


def test_overdue_then_handle_reminder_overdue_and_escalation(city: City) -> None:
    number = dispatched(city)
    sweeps.sweep_deadlines(at("2025-10-13 12:00"))
    assert sweeps.sweep_deadlines(at("2025-10-13 17:29")).overdue == []
    assert sweeps.sweep_deadlines(at("2025-10-13 17:31")).overdue == [number]
    assert sweeps.sweep_deadlines(at("2025-10-14 08:00")).overdue == []
    assert [e.data for e in events(number, "mark_overdue")] == [{"deadline": "sign"}]

    do_action(city.handler, number, "sign", now=at("2025-10-14 09:00"))
    # Signing for it cleared the sign-for marks: the handling deadline (Friday 17:30) is new.
    order = Order.objects.get(number=number)
    assert order.overdue_at is None and order.reminded_at is None
    assert sweeps.sweep_deadlines(at("2025-10-17 11:00")).reminded == []  # horizon 16:30
    assert sweeps.sweep_deadlines(at("2025-10-17 13:30")).reminded == [number]
    assert sweeps.sweep_deadlines(at("2025-10-17 14:00")).reminded == []
    assert sweeps.sweep_deadlines(at("2025-10-17 17:30")).overdue == [number]
    assert sweeps.sweep_deadlines(at("2025-10-18 10:00")).overdue == []
    assert [e.data for e in events(number, "remind")] == [
        {"deadline": "sign"}, {"deadline": "handle"}]
    assert [e.data for e in events(number, "mark_overdue")] == [
        {"deadline": "sign"}, {"deadline": "handle"}]

    # Two working days overdue: Monday 20 and Tuesday 21 October, 17:30.
    assert sweeps.sweep_deadlines(at("2025-10-21 17:00")).escalated == []
    assert sweeps.sweep_deadlines(at("2025-10-21 17:30")).escalated == [number]
    assert sweeps.sweep_deadlines(at("2025-10-22 10:00")).escalated == []
    [escalation] = events(number, "escalate_overdue")
    assert escalation.actor is not None
    assert escalation.actor.role == Role.SYSTEM and "2" in escalation.note
    assert escalation.data == {"deadline": "handle"}
    order = Order.objects.get(number=number)
    assert order.state == "handling" and order.supervised
    assert order.overdue_escalated_at == at("2025-10-21 17:30")


def test_extension_clears_the_marks_so_a_new_deadline_is_swept_again(city: City) -> None:
    number = dispatched(city)
    do_action(city.handler, number, "sign", now=at("2025-10-13 10:00"))
    sweeps.sweep_deadlines(at("2025-10-17 17:30"))
    sweeps.sweep_deadlines(at("2025-10-21 17:30"))
    assert len(events(number, "escalate_overdue")) == 1
    do_action(city.handler, number, "request_extension", {"days": 1, "reason": "等配件"},
              now=at("2025-10-22 09:00"))
    order = do_action(city.monitor, number, "approve_extension", now=at("2025-10-22 09:00"))
    assert order.handle_due == at("2025-10-22 17:30") and order.overdue_at is None
    assert sweeps.sweep_deadlines(at("2025-10-22 14:00")).reminded == [number]
    assert sweeps.sweep_deadlines(at("2025-10-22 17:30")).overdue == [number]
    assert sweeps.sweep_deadlines(at("2025-10-24 17:30")).escalated == [number]
    assert len(events(number, "escalate_overdue")) == 2


def test_long_unswept_order_is_marked_and_escalated_in_one_pass_not_reminded(city: City) -> None:
    number = dispatched(city)
    with translation.override("en"):
        report = sweeps.sweep_deadlines(at("2025-10-16 09:00"))  # 2 working days after sign_due
    assert report.overdue == [number] and report.escalated == [number]
    assert report.reminded == []
    assert "sign-for" in events(number, "escalate_overdue")[0].note


def test_escalation_counts_working_days_not_calendar_days(city: City) -> None:
    number = dispatched(city, "2025-10-17 09:00")  # Friday: sign_due Friday 17:30
    sweeps.sweep_deadlines(at("2025-10-17 17:30"))
    # A weekend has passed, but only one working day (Monday).
    assert sweeps.sweep_deadlines(at("2025-10-20 17:30")).escalated == []
    assert sweeps.sweep_deadlines(at("2025-10-21 17:30")).escalated == [number]


def test_suspended_and_finished_orders_are_not_swept(city: City) -> None:
    suspended = dispatched(city, phone="13800000001")
    do_action(city.handler, suspended, "sign", now=at("2025-10-13 10:00"))
    do_action(city.handler, suspended, "suspend", {"reason": "等待市民补充材料"},
              now=at("2025-10-13 11:00"))
    replied = dispatched(city, phone="13800000002")
    do_action(city.handler, replied, "sign", now=at("2025-10-13 10:00"))
    do_action(city.handler, replied, "reply", {"reply": "已修复"}, now=at("2025-10-14 10:00"))
    report = sweeps.sweep_deadlines(at("2025-10-30 10:00"))
    assert report.as_dict() == {"reminded": [], "overdue": [], "escalated": [], "failed": []}


def test_one_failing_order_does_not_stop_the_sweep(city: City, monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    first = dispatched(city, phone="13800000001")
    second = dispatched(city, phone="13800000002")
    real = services.do_action

    def flaky(actor: User, number: str, action: str, params: dict[str, Any] | None = None, *,
              now: dt.datetime | None = None) -> Order:
        if number == first:
            raise RuntimeError("database hiccup")
        return real(actor, number, action, params, now=now)

    monkeypatch.setattr(services, "do_action", flaky)
    report = sweeps.sweep_deadlines(at("2025-10-13 17:31"))
    assert report.failed == [first] and report.overdue == [second]
    assert "database hiccup" in caplog.text
    assert Order.objects.get(number=first).overdue_at is None  # rolled back, retried next time
    monkeypatch.setattr(services, "do_action", real)
    assert sweeps.sweep_deadlines(at("2025-10-13 17:40")).overdue == [first]


def test_a_stale_candidate_is_checked_again_under_the_lock(city: City) -> None:
    number = dispatched(city)
    pk = Order.objects.get(number=number).pk
    actor = sweeps.system_user()
    now = at("2025-10-13 17:31")
    condition = sweeps._overdue_sign(now)
    assert sweeps._apply(actor, pk, condition, sweeps.Action.MARK_OVERDUE, {}, now) == number
    assert sweeps._apply(actor, pk, condition, sweeps.Action.MARK_OVERDUE, {}, now) is None
    assert len(events(number, "mark_overdue")) == 1


def test_default_now_is_the_clock(city: City) -> None:
    number = dispatched(city)
    with time_machine.travel(at("2025-10-13 17:31"), tick=False):
        assert sweeps.sweep_deadlines().overdue == [number]


@pytest.mark.django_db
def test_system_user_is_created_without_a_usable_password() -> None:
    user = sweeps.system_user()
    assert user.role == Role.SYSTEM and not user.has_usable_password()
    assert sweeps.system_user().pk == user.pk


@pytest.mark.django_db
def test_a_system_username_with_another_role_is_refused() -> None:
    User.objects.create_user(username="system", role=Role.AGENT)
    with pytest.raises(Exception, match="role 'system'"):
        sweeps.system_user()


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers; the race needs row locks")
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_act_once(city: City) -> None:
    numbers = [dispatched(city, phone=f"1380000{i:04d}") for i in range(5)]
    barrier = threading.Barrier(3)
    results: list[sweeps.SweepReport] = []

    def run() -> None:
        from django.db import connections

        try:
            barrier.wait()
            results.append(sweeps.sweep_deadlines(at("2025-10-13 17:31")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(n for r in results for n in r.overdue) == sorted(numbers)
    assert all(not r.failed for r in results)
    assert OrderEvent.objects.filter(action="mark_overdue").count() == 5


def test_the_task_runs_the_sweep(city: City) -> None:
    number = dispatched(city)  # the test settings run tasks at once (ImmediateBackend)
    with time_machine.travel(at("2025-10-13 17:31"), tick=False):
        result = tasks.sweep_deadlines_task.enqueue()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value is not None
    assert result.return_value["overdue"] == [number]


@pytest.fixture
def database_tasks(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # The worker closes stale connections between tasks; inside the test's transaction that
    # would close the connection the test runs in.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    # db_worker installs its own signal handlers; give pytest its own back afterwards.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_scheduler_enqueues_one_sweep_that_the_database_worker_runs(city: City, database_tasks: None) -> None:
    number = dispatched(city)
    call_command("scheduler", "--once")
    call_command("scheduler", "--once")  # the first ones are still waiting: no pile-up
    sweep_path = tasks.sweep_deadlines_task.module_path
    index_path = index_new_orders_task.module_path
    # With no classifier in use yet, the first retraining is due at once.
    triage_paths = [suggest_new_orders_task.module_path, retrain_classifier_task.module_path,
                    refresh_city_reports_task.module_path,
                    tasks.purge_access_log_task.module_path,
                    "hotline.outreach.tasks.notify_citizens_task",
                    "hotline.outreach.tasks.callback_tasks_task",
                    "hotline.insight.tasks.score_recent_assessment_task",
                    "hotline.insight.tasks.refresh_order_rollups_task",
                    "hotline.insight.tasks.mail_custom_reports_task",
                    "hotline.insight.tasks.refresh_call_rollups_task",
                    "hotline.insight.tasks.refresh_topics_task"]
    assert sorted(DBTaskResult.objects.values_list("task_path", flat=True)) == sorted(
        [sweep_path, index_path, *triage_paths])
    with time_machine.travel(at("2025-10-13 17:31"), tick=False):
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    result = DBTaskResult.objects.get(task_path=sweep_path)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value is not None
    assert result.return_value["overdue"] == [number]
    index = DBTaskResult.objects.get(task_path=index_path)
    assert index.return_value is not None
    assert index.status == TaskResultStatus.SUCCESSFUL and index.return_value >= 1
    retrain = DBTaskResult.objects.get(task_path=retrain_classifier_task.module_path)
    assert retrain.status == TaskResultStatus.SUCCESSFUL
    assert retrain.return_value is not None
    assert retrain.return_value["trained"] is False  # one order is no history to learn from
    call_command("scheduler", "--once")
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == len(triage_paths) + 2


CAL = WorkCalendar(is_workday=default_is_workday,
                   periods=parse_periods("09:00-12:00,13:30-17:30"), tz=TZ)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    end=st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2026, 12, 31),
                     timezones=st.just(TZ)),
    seconds=st.integers(min_value=1, max_value=10 * 7 * 3600),
)
def test_working_moment_before_is_the_exact_cutoff(end: dt.datetime, seconds: int) -> None:
    cutoff = sweeps.working_moment_before(CAL, end, seconds)
    assert CAL.working_seconds_between(cutoff, end) == pytest.approx(seconds, abs=1e-3)
    later = cutoff + dt.timedelta(seconds=1)
    assert CAL.working_seconds_between(later, end) < seconds


def test_working_moment_before_examples() -> None:
    # Two working days before Tuesday 21 Oct 17:30: Monday 09:00, which covers Friday 17:30
    # and the weekend too (no working time passes between them).
    assert sweeps.working_moment_before(CAL, at("2025-10-21 17:30"), 14 * 3600) == at(
        "2025-10-20 09:00")
    # One working hour before Thursday 9 Oct 09:30 reaches back over the National Day holiday.
    assert sweeps.working_moment_before(CAL, at("2025-10-09 09:30"), 3600) == at(
        "2025-09-30 17:00")
    assert sweeps.working_moment_before(CAL, at("2025-10-09 09:30"), 0) == at("2025-10-09 09:30")


def test_urgent_orders_are_reminded_minutes_not_hours_ahead(city: City, settings: Settings) -> None:
    settings.HOTLINE_URGENT_REMIND_BEFORE_MINUTES = 15
    order, _ = do_create_order(
        city.agent,
        NewOrder(type="complaint", channel="phone", title="燃气泄漏", text="楼道燃气味很重",
                 category="100101", urgency="urgent", citizen_phone="13800000002"),
        now=at("2025-10-13 10:00"),
    )
    number = do_action(city.agent, order.number, "dispatch", now=at("2025-10-13 10:00")).number
    # Sign-for due 11:00 (one clock hour): the first sweep after dispatch does not remind.
    assert sweeps.sweep_deadlines(at("2025-10-13 10:01")).reminded == []
    assert sweeps.sweep_deadlines(at("2025-10-13 10:44")).reminded == []
    assert sweeps.sweep_deadlines(at("2025-10-13 10:46")).reminded == [number]
