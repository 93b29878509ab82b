"""Missed calls (未接来电回拨): abandoned calls after the minimum wait, queue-overflow call-back
requests and after-hours voicemails become one open task per number, due within the configured
time, done when the citizen is reached by the call back or calls in again."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
import time_machine

from hotline.contactcentre import services
from hotline.contactcentre.models import OverflowAction, OverflowRule, QueuedCall
from hotline.core.errors import Conflict
from hotline.orders.models import Channel
from hotline.outreach import callbacks, calls, missed_calls
from hotline.outreach.models import OutboundCall, Outcome, Purpose
from hotline.outreach.models_callbacks import (
    CallbackRules,
    CallbackTask,
    MissedCall,
    MissedSource,
    TaskKind,
    TaskResult,
    TaskState,
)
from tests.orders.helpers import new_order

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 12, 3, 12, 0, tzinfo=TZ)  # a working day
NIGHT = dt.datetime(2026, 12, 2, 23, 0, tzinfo=TZ)
MORNING = dt.datetime(2026, 12, 3, 10, 0, tzinfo=TZ)  # inside the working periods

pytestmark = pytest.mark.django_db


def abandoned(desk: Any, caller: str, at: dt.datetime, waited_s: float) -> QueuedCall:
    call = services.do_enqueue_call(desk.general, call_ref=f"c-{caller}-{at:%H%M%S}-{waited_s}",
                                    caller=caller, now=at)
    return services.do_call_abandoned(call.pk, now=at + dt.timedelta(seconds=waited_s))


def missed_tasks() -> list[CallbackTask]:
    return list(CallbackTask.objects.filter(kind=TaskKind.MISSED).order_by("pk"))


def test_abandoned_calls_after_the_minimum_wait_make_one_task_per_number(desk: Any) -> None:
    CallbackRules(pk=1, missed_min_wait_s=10, missed_within_minutes=30).save()
    with time_machine.travel(NOON + dt.timedelta(minutes=5), tick=False):
        first = abandoned(desk, "13800001111", NOON, 20)
        abandoned(desk, "13800001111", NOON + dt.timedelta(minutes=1), 40)
        abandoned(desk, "13800002222", NOON, 3)  # hung up at once: not called back
        assert missed_calls.do_collect_missed() == 2
        assert missed_calls.do_collect_missed() == 0  # each missed call taken once
    (task,) = missed_tasks()
    assert (task.phone, task.state) == ("13800001111", TaskState.OPEN)
    assert first.abandoned_at is not None
    assert task.due_at == first.abandoned_at + dt.timedelta(minutes=30)
    assert task.missed_calls.count() == 2


def test_overflow_call_back_requests_become_tasks(desk: Any) -> None:
    OverflowRule.objects.create(queue=desk.general, after_s=60, action=OverflowAction.CALLBACK)
    call = services.do_enqueue_call(desk.general, call_ref="overflow-1", caller="13800003333",
                                    now=NOON)
    services.do_route(NOON + dt.timedelta(seconds=61))
    call.refresh_from_db()
    assert call.overflow_action == OverflowAction.CALLBACK
    with time_machine.travel(NOON + dt.timedelta(minutes=2), tick=False):
        assert missed_calls.do_collect_missed() == 1
    (row,) = MissedCall.objects.all()
    assert (row.source, row.task.phone) == (MissedSource.OVERFLOW, "13800003333")


def test_voicemails_outside_working_hours_become_tasks(city: Any) -> None:
    with time_machine.travel(NIGHT, tick=False):
        new_order(city.system, channel=Channel.VOICEMAIL, type="suggestion",
                  citizen_phone="13800004444")
    with time_machine.travel(MORNING, tick=False):
        new_order(city.system, channel=Channel.VOICEMAIL, type="suggestion",
                  citizen_phone="13800005555")
        assert missed_calls.do_collect_missed() == 1
    assert [t.phone for t in missed_tasks()] == ["13800004444"]
    CallbackRules(pk=1, after_hours_voicemail=False).save()
    CallbackTask.objects.all().delete()
    with time_machine.travel(MORNING, tick=False):
        assert missed_calls.do_collect_missed() == 0


def test_old_missed_calls_and_do_not_call_numbers_are_left(desk: Any) -> None:
    CallbackRules(pk=1, missed_lookback_hours=2).save()
    abandoned(desk, "13800006666", NOON - dt.timedelta(hours=3), 30)
    abandoned(desk, "13800007777", NOON, 30)
    calls.do_block_number(None, "13800007777")
    with time_machine.travel(NOON + dt.timedelta(minutes=1), tick=False):
        assert missed_calls.do_collect_missed() == 0


def test_the_citizen_reached_by_the_call_back_closes_the_task(
        desk: Any, django_capture_on_commit_callbacks: Any) -> None:
    from hotline.contactcentre.models import SipExtension

    SipExtension.objects.create(number="8001", agent=desk.agent)
    abandoned(desk, "13800008888", NOON, 30)
    with time_machine.travel(NOON + dt.timedelta(minutes=2), tick=False):
        missed_calls.do_collect_missed()
        (task,) = missed_tasks()
        task = callbacks.do_start_call(desk.agent, task.pk)
        call = OutboundCall.objects.get(ref=task.ref)
        assert (call.purpose, call.agent_extension, call.order_id) == (Purpose.MISSED, "8001", None)
        job = calls.claim_call("gw")
        assert job is not None
        with django_capture_on_commit_callbacks(execute=True):
            calls.do_finish_attempt(job.id, Outcome.ANSWERED,
                                    answered_at=NOON + dt.timedelta(minutes=2))
    task.refresh_from_db()
    assert (task.state, task.result, task.done_by_id) == (
        TaskState.DONE, TaskResult.REACHED, desk.agent.pk)
    # A new missed call from the number later is a new task.
    abandoned(desk, "13800008888", NOON + dt.timedelta(hours=1), 30)
    with time_machine.travel(NOON + dt.timedelta(hours=1, minutes=1), tick=False):
        assert missed_calls.do_collect_missed() == 1
    assert len(missed_tasks()) == 2


def test_not_reached_n_times_is_unreachable(desk: Any,
                                            django_capture_on_commit_callbacks: Any) -> None:
    from hotline.contactcentre.models import SipExtension

    SipExtension.objects.create(number="8001", agent=desk.agent)
    CallbackRules(pk=1, max_tries=2).save()
    abandoned(desk, "13800009999", NOON, 30)
    with time_machine.travel(NOON + dt.timedelta(minutes=2), tick=False):
        missed_calls.do_collect_missed()
        (task,) = missed_tasks()
        for _try in range(2):
            CallbackTask.objects.filter(pk=task.pk).update(next_try_at=None)
            callbacks.do_start_call(desk.agent, task.pk)
            job = calls.claim_call("gw")
            assert job is not None
            with django_capture_on_commit_callbacks(execute=True):
                calls.do_finish_attempt(job.id, Outcome.BUSY)
    task.refresh_from_db()
    assert (task.state, task.result, task.tries) == (TaskState.DONE, TaskResult.UNREACHABLE, 2)


def test_calling_in_again_closes_the_task(desk: Any) -> None:
    abandoned(desk, "13800001212", NOON, 30)
    with time_machine.travel(NOON + dt.timedelta(minutes=1), tick=False):
        missed_calls.do_collect_missed()
    again = services.do_enqueue_call(desk.general, call_ref="again", caller="13800001212",
                                     now=NOON + dt.timedelta(minutes=5))
    assert missed_calls.do_close_called_in() == 0  # waiting is not being reached
    services.do_sign_in(desk.agent, now=NOON)
    services.do_set_state(desk.agent, "ready", now=NOON)
    assert services.do_offer_call(again, desk.agent.pk, NOON + dt.timedelta(minutes=5))
    services.do_call_answered(again.pk, now=NOON + dt.timedelta(minutes=6))
    assert missed_calls.do_close_called_in() == 1
    (task,) = missed_tasks()
    assert (task.state, task.result) == (TaskState.DONE, TaskResult.CALLED_IN)


def test_an_agent_clicking_after_the_citizen_called_in_is_told(desk: Any) -> None:
    from hotline.contactcentre.models import SipExtension

    SipExtension.objects.create(number="8001", agent=desk.agent)
    abandoned(desk, "13800001313", NOON, 30)
    with time_machine.travel(NOON + dt.timedelta(minutes=1), tick=False):
        missed_calls.do_collect_missed()
    QueuedCall.objects.create(call_ref="in", queue=desk.general, caller="13800001313",
                              queued_at=NOON + dt.timedelta(minutes=3),
                              entered_at=NOON + dt.timedelta(minutes=3),
                              answered_at=NOON + dt.timedelta(minutes=4), outcome="completed")
    (task,) = missed_tasks()
    with pytest.raises(Conflict):
        callbacks.do_start_call(desk.agent, task.pk, now=NOON + dt.timedelta(minutes=5))
    task.refresh_from_db()
    assert task.result == TaskResult.CALLED_IN and not OutboundCall.objects.exists()
