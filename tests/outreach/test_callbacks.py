"""Return visits (回访) as tasks: made once per round when the centre accepts a reply, due in
working hours, taken by one agent, dialled through the gateway (its part played here with
``claim_call`` / ``do_finish_attempt``), recorded through the lifecycle, and the unreachable
rule after the configured number of tries."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.directory.calendar_service import current_calendar
from hotline.orders.models import Order, OrderEvent
from hotline.orders.services import do_action
from hotline.outreach import callbacks, calls
from hotline.outreach.models import OutboundCall, Outcome, Purpose
from hotline.outreach.models_callbacks import (
    CallbackRules,
    CallbackTask,
    TaskKind,
    TaskResult,
    TaskState,
    UnreachableRule,
)
from tests.outreach.callback_policy import agents_call_back  # noqa: F401 - autouse
from tests.outreach.conftest import order_in_callback

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 12, 3, 12, 0, tzinfo=TZ)  # a Thursday, a working day

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _noon() -> Iterator[None]:
    with time_machine.travel(NOON, tick=False):
        yield


def visit_for(city: Any, **overrides: Any) -> tuple[Order, CallbackTask]:
    order = order_in_callback(city, **overrides)
    assert callbacks.do_queue_visits() >= 1
    return order, CallbackTask.objects.get(order=order, kind=TaskKind.VISIT)


def gateway(outcome: str, *, captured: Any, contact_id: int | None = None) -> OutboundCall:
    """The gateway's part: claim the due call, dial, report the attempt; the owner is told
    after the commit."""
    job = calls.claim_call("gw-test", purposes=frozenset({Purpose.CALLBACK, Purpose.MISSED}))
    assert job is not None and job.mode == OutboundCall.Mode.AGENT
    with captured(execute=True):
        answered = dt.datetime.now(dt.UTC) if outcome == Outcome.ANSWERED else None
        call = calls.do_finish_attempt(job.id, outcome, answered_at=answered,
                                       talk_seconds=30 if answered else 0,
                                       contact_id=contact_id)
    call.refresh_from_db()
    return call


def rules(**values: Any) -> CallbackRules:
    row = CallbackRules(pk=1, **values)
    row.save()
    return row


def test_an_accepted_reply_gets_one_task_due_in_working_hours(phones: Any) -> None:
    order, task = visit_for(phones)
    assert task.state == TaskState.OPEN and task.phone == order.citizen.phone
    assert task.due_at == current_calendar().add_working_hours(NOON, 8)
    assert callbacks.do_queue_visits() == 0  # idempotent: one per round
    assert CallbackTask.objects.filter(order=order).count() == 1


def test_the_due_list_puts_overdue_first_and_hides_what_waits(phones: Any) -> None:
    _o1, first = visit_for(phones)
    _o2, second = visit_for(phones, citizen_phone="13900002222")
    CallbackTask.objects.filter(pk=second.pk).update(due_at=NOON - dt.timedelta(hours=1))
    assert [t.pk for t in callbacks.due_tasks(phones.agent)] == [second.pk, first.pk]
    CallbackTask.objects.filter(pk=first.pk).update(next_try_at=NOON + dt.timedelta(hours=1))
    assert [t.pk for t in callbacks.due_tasks(phones.agent)] == [second.pk]
    with pytest.raises(Forbidden):
        callbacks.due_tasks(phones.handler)


def test_the_call_rings_the_agents_phone_first(phones: Any) -> None:
    order, task = visit_for(phones)
    task = callbacks.do_start_call(phones.agent, task.pk)
    assert task.state == TaskState.CALLING and task.agent_id == phones.agent.pk
    call = OutboundCall.objects.get(ref=task.ref)
    assert (call.mode, call.purpose, call.agent_extension) == (
        OutboundCall.Mode.AGENT, Purpose.CALLBACK, "8001")
    assert (call.number, call.ref, call.order_id) == (
        order.citizen.phone, f"callback-task:{task.pk}", order.pk)


def test_a_second_agent_clicking_the_same_task_loses(phones: Any) -> None:
    _order, task = visit_for(phones)
    callbacks.do_start_call(phones.agent, task.pk)
    with pytest.raises(Conflict):
        callbacks.do_start_call(phones.bob, task.pk)
    assert OutboundCall.objects.count() == 1


def test_a_ready_agent_is_made_busy_for_the_call_back_so_no_inbound_call_rings(
        phones: Any) -> None:
    from hotline.contactcentre import services as desk
    from hotline.contactcentre.models import AgentStatus

    _order, task = visit_for(phones)
    for user in (phones.agent, phones.bob):
        desk.do_sign_in(user)
        desk.do_set_state(user, "ready")
    callbacks.do_start_call(phones.agent, task.pk)
    status = AgentStatus.objects.get(pk=phones.agent.pk)
    assert (status.state, status.reason) == ("busy", "outbound")  # 示忙 (外呼回访)
    with pytest.raises(Conflict):  # the task is taken: bob stays ready for inbound calls
        callbacks.do_start_call(phones.bob, task.pk)
    assert AgentStatus.objects.get(pk=phones.bob.pk).state == "idle"


def test_the_agent_made_busy_is_ready_again_once_the_visit_is_recorded(
        phones: Any, django_capture_on_commit_callbacks: Any) -> None:
    from hotline.contactcentre import services as desk
    from hotline.contactcentre.models import AgentStatus

    _order, task = visit_for(phones)
    desk.do_sign_in(phones.agent)
    desk.do_set_state(phones.agent, "ready")
    callbacks.do_start_call(phones.agent, task.pk)
    gateway(Outcome.ANSWERED, captured=django_capture_on_commit_callbacks)
    # Reached: still 示忙 while the agent writes down what the citizen said ...
    assert AgentStatus.objects.get(pk=phones.agent.pk).state == "busy"
    callbacks.do_record_visit(phones.agent, task.pk, resolved=True, satisfaction="satisfied")
    # ... then 示闲 again, as before the click.
    assert AgentStatus.objects.get(pk=phones.agent.pk).state == "idle"


def test_an_agent_ready_again_after_a_call_back_that_reached_nobody(
        phones: Any, django_capture_on_commit_callbacks: Any) -> None:
    from hotline.contactcentre import services as desk
    from hotline.contactcentre.models import AgentStatus

    _order, task = visit_for(phones)
    desk.do_sign_in(phones.agent)
    desk.do_set_state(phones.agent, "ready")
    callbacks.do_start_call(phones.agent, task.pk)
    gateway(Outcome.NO_ANSWER, captured=django_capture_on_commit_callbacks)
    assert AgentStatus.objects.get(pk=phones.agent.pk).state == "idle"


def test_an_agent_who_was_busy_before_the_call_back_stays_busy(
        phones: Any, django_capture_on_commit_callbacks: Any) -> None:
    from hotline.contactcentre import services as desk
    from hotline.contactcentre.models import AgentStatus

    _order, task = visit_for(phones)
    desk.do_sign_in(phones.agent)
    desk.do_set_state(phones.agent, "not_ready", reason="paperwork")
    callbacks.do_start_call(phones.agent, task.pk)
    gateway(Outcome.NO_ANSWER, captured=django_capture_on_commit_callbacks)
    status = AgentStatus.objects.get(pk=phones.agent.pk)
    assert (status.state, status.reason) == ("busy", "paperwork")


def test_an_agent_without_a_phone_cannot_call(phones: Any) -> None:
    _order, task = visit_for(phones)
    phones.alice_ext.delete()
    with pytest.raises(Conflict):
        callbacks.do_start_call(phones.agent, task.pk)
    assert CallbackTask.objects.get(pk=task.pk).state == TaskState.OPEN


def test_satisfied_closes_the_order_through_the_callback_action(
        phones: Any, django_capture_on_commit_callbacks: Any) -> None:
    order, task = visit_for(phones)
    callbacks.do_start_call(phones.agent, task.pk)
    call = gateway(Outcome.ANSWERED, captured=django_capture_on_commit_callbacks)
    assert CallbackTask.objects.get(pk=task.pk).state == TaskState.CALLING  # agent records
    assert call.state == OutboundCall.State.DONE
    done = callbacks.do_record_visit(phones.agent, task.pk, resolved=True,
                                     satisfaction="satisfied", words="水已经来了，谢谢")
    assert (done.state, done.result) == (TaskState.DONE, TaskResult.CLOSED)
    order.refresh_from_db()
    assert (order.state, order.resolved, order.satisfaction) == ("closed", True, "satisfied")
    event = OrderEvent.objects.filter(order=order).order_by("-seq").first()
    assert event is not None and event.action == "callback" and event.note == "水已经来了，谢谢"
    with pytest.raises(Conflict):  # recorded once
        callbacks.do_record_visit(phones.agent, task.pk, resolved=True, satisfaction="satisfied")


def test_unsatisfied_reopens_to_the_department_with_the_citizens_words(
        phones: Any, django_capture_on_commit_callbacks: Any) -> None:
    order, task = visit_for(phones)
    callbacks.do_start_call(phones.agent, task.pk)
    gateway(Outcome.ANSWERED, captured=django_capture_on_commit_callbacks)
    with pytest.raises(InvalidInput):  # the department needs the words
        callbacks.do_record_visit(phones.agent, task.pk, resolved=False, satisfaction="unsatisfied")
    with pytest.raises(InvalidInput):
        callbacks.do_record_visit(phones.agent, task.pk, resolved=True, satisfaction="great")
    done = callbacks.do_record_visit(phones.agent, task.pk, resolved=False,
                                     satisfaction="unsatisfied", words="还是没有水")
    assert done.result == TaskResult.REOPENED and done.words == "还是没有水"
    order.refresh_from_db()
    assert (order.state, order.reopen_count, order.lead_unit_id) == (
        "handling", 1, phones.water.pk)
    event = OrderEvent.objects.filter(order=order).order_by("-seq").first()
    assert event is not None and event.action == "reopen" and "还是没有水" in event.note
    # The next accepted reply is a new round with a task of its own.
    do_action(phones.handler, order.number, "reply", {"reply": "已修复管道"})
    do_action(phones.agent, order.number, "approve_reply")
    assert callbacks.do_queue_visits() == 1
    assert CallbackTask.objects.filter(order=order, state=TaskState.OPEN, cycle=1).exists()


def test_recording_needs_the_call_made_and_the_task_held(
        phones: Any, django_capture_on_commit_callbacks: Any) -> None:
    _order, task = visit_for(phones)
    callbacks.do_start_call(phones.agent, task.pk)
    with pytest.raises(Conflict):  # the gateway has not dialled yet
        callbacks.do_record_visit(phones.agent, task.pk, resolved=True, satisfaction="satisfied")
    gateway(Outcome.ANSWERED, captured=django_capture_on_commit_callbacks)
    with pytest.raises(Conflict):  # bob does not hold it
        callbacks.do_record_visit(phones.bob, task.pk, resolved=True, satisfaction="satisfied")
    with pytest.raises(NotFound):
        callbacks.do_record_visit(phones.agent, 999999, resolved=True, satisfaction="satisfied")


def test_recording_waits_for_the_citizen_to_answer(
        phones: Any, django_capture_on_commit_callbacks: Any) -> None:
    from hotline.voice.outbound_db import record_contact

    order, task = visit_for(phones)
    callbacks.do_start_call(phones.agent, task.pk)
    job = calls.claim_call("gw-test")
    assert job is not None  # the gateway rings the agent, then the citizen's phone rings
    with pytest.raises(Conflict):  # nobody may record "satisfied" for a citizen not reached
        callbacks.do_record_visit(phones.agent, task.pk, resolved=True, satisfaction="satisfied")
    with pytest.raises(Conflict):
        callbacks.do_record_not_reached(phones.agent, task.pk)
    record_contact(job.id, job.number, "sip-call-1")  # the citizen answers: bridged
    done = callbacks.do_record_visit(phones.agent, task.pk, resolved=True,
                                     satisfaction="satisfied")  # while they still talk
    assert done.result == TaskResult.CLOSED
    with django_capture_on_commit_callbacks(execute=True):  # then the call ends
        calls.do_finish_attempt(job.id, Outcome.ANSWERED, answered_at=dt.datetime.now(dt.UTC))
    order.refresh_from_db()
    assert order.state == "closed"
    assert CallbackTask.objects.get(pk=task.pk).result == TaskResult.CLOSED


def test_not_reached_counts_a_try_in_the_history_and_waits(
        phones: Any, django_capture_on_commit_callbacks: Any) -> None:
    rules(max_tries=3, retry_minutes=45)
    order, task = visit_for(phones)
    callbacks.do_start_call(phones.agent, task.pk)
    gateway(Outcome.NO_ANSWER, captured=django_capture_on_commit_callbacks)
    task.refresh_from_db()
    assert (task.state, task.tries, task.agent_id) == (TaskState.OPEN, 1, None)
    assert task.next_try_at == NOON + dt.timedelta(minutes=45)
    event = OrderEvent.objects.filter(order=order).order_by("-seq").first()
    assert event is not None and event.action == "callback_attempt"
    assert "1" in event.note and "3" in event.note
    order.refresh_from_db()
    assert order.state == "callback"
    assert callbacks.due_tasks(phones.agent) == []  # not before the next try


def _fail_until_unreachable(phones: Any, task: CallbackTask, captured: Any,
                            outcomes: tuple[str, ...]) -> None:
    for outcome in outcomes:
        CallbackTask.objects.filter(pk=task.pk).update(next_try_at=None)
        callbacks.do_start_call(phones.agent, task.pk)
        gateway(outcome, captured=captured)


def test_unreachable_closes_as_such_with_the_reason_when_the_rule_says_so(
        phones: Any, django_capture_on_commit_callbacks: Any) -> None:
    rules(max_tries=2, unreachable_rule=UnreachableRule.CLOSE)
    order, task = visit_for(phones)
    _fail_until_unreachable(phones, task, django_capture_on_commit_callbacks,
                            (Outcome.BUSY, Outcome.NO_ANSWER))
    task.refresh_from_db()
    assert (task.state, task.result, task.tries) == (TaskState.DONE, TaskResult.UNREACHABLE, 2)
    order.refresh_from_db()
    assert order.state == "closed" and order.satisfaction == "" and order.resolved is None
    actions = list(OrderEvent.objects.filter(order=order).order_by("seq")
                   .values_list("action", flat=True))
    assert actions[-3:] == ["callback_attempt", "callback_attempt", "callback"]
    last = OrderEvent.objects.filter(order=order).order_by("-seq").first()
    assert last is not None and last.data["unreachable"] is True and "2" in last.note


def test_unreachable_asks_for_the_rating_by_sms_when_the_rule_says_so(
        phones: Any, django_capture_on_commit_callbacks: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(callbacks, "import_string",
                        lambda path: (lambda order: asked.append(f"{path}:{order.number}")))
    rules(max_tries=1, unreachable_rule=UnreachableRule.SMS_SURVEY)
    order, task = visit_for(phones)
    _fail_until_unreachable(phones, task, django_capture_on_commit_callbacks, (Outcome.REJECTED,))
    task.refresh_from_db()
    assert (task.state, task.result) == (TaskState.DONE, TaskResult.SMS_SURVEY)
    assert asked == [f"hotline.outreach.surveys.start_sms_survey:{order.number}"]
    order.refresh_from_db()
    assert order.state == "callback"  # the rating by SMS closes it
    last = OrderEvent.objects.filter(order=order).order_by("-seq").first()
    assert last is not None and last.action == "callback_attempt"
    assert "SMS" in last.note or "短信" in last.note  # written in the centre's language


def test_a_failing_survey_leaves_the_call_to_be_told_again(
        phones: Any, django_capture_on_commit_callbacks: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: str) -> Any:
        raise ImportError(path)

    monkeypatch.setattr(callbacks, "import_string", broken)
    rules(max_tries=1, unreachable_rule=UnreachableRule.SMS_SURVEY)
    order, task = visit_for(phones)
    _fail_until_unreachable(phones, task, django_capture_on_commit_callbacks, (Outcome.BUSY,))
    task.refresh_from_db()
    assert task.state == TaskState.CALLING and task.tries == 0  # rolled back, nothing half-done
    assert not OutboundCall.objects.get(ref=task.ref).handled  # the periodic job retries
    assert OrderEvent.objects.filter(order=order, action="callback_attempt").count() == 0


def test_a_number_on_the_do_not_call_list_is_unreachable_at_once(
        phones: Any, django_capture_on_commit_callbacks: Any) -> None:
    rules(max_tries=3, unreachable_rule=UnreachableRule.CLOSE)
    order, task = visit_for(phones)
    calls.do_block_number(None, order.citizen.phone, "asked not to be called")
    with django_capture_on_commit_callbacks(execute=True):
        callbacks.do_start_call(phones.agent, task.pk)
    task.refresh_from_db()
    assert (task.state, task.result) == (TaskState.DONE, TaskResult.UNREACHABLE)
    order.refresh_from_db()
    assert order.state == "closed"


def test_the_order_settled_elsewhere_makes_the_task_obsolete(phones: Any) -> None:
    order, task = visit_for(phones)
    callbacks.do_start_call(phones.agent, task.pk)
    do_action(phones.monitor, order.number, "callback", {"resolved": True,
                                                          "satisfaction": "basic"})
    assert callbacks.do_close_obsolete() == 1
    task.refresh_from_db()
    assert (task.state, task.result) == (TaskState.DONE, TaskResult.OBSOLETE)
    assert OutboundCall.objects.get(ref=task.ref).state == OutboundCall.State.CANCELLED


def test_a_task_given_back_before_dialling_cancels_its_call(phones: Any) -> None:
    _order, task = visit_for(phones)
    task = callbacks.do_start_call(phones.agent, task.pk)
    callbacks.do_release_task(phones.agent, task.pk)
    assert OutboundCall.objects.get(ref=task.ref).state == OutboundCall.State.CANCELLED
    task.refresh_from_db()
    assert task.state == TaskState.OPEN and task.agent_id is None
    assert callbacks.do_start_call(phones.bob, task.pk).agent_id == phones.bob.pk


def test_an_answered_call_by_someone_else_counts_as_not_reached(
        phones: Any, django_capture_on_commit_callbacks: Any) -> None:
    _order, task = visit_for(phones)
    callbacks.do_start_call(phones.agent, task.pk)
    gateway(Outcome.ANSWERED, captured=django_capture_on_commit_callbacks)
    callbacks.do_record_not_reached(phones.agent, task.pk)
    task.refresh_from_db()
    assert (task.state, task.tries) == (TaskState.OPEN, 1)


def test_a_sub_centre_agent_sees_only_its_districts_visits(phones: Any) -> None:
    visit_for(phones)  # gulou
    _o, other = visit_for(phones, district="taijiang", citizen_phone="13900003333")
    seen = {t.pk for t in callbacks.due_tasks(phones.sub_agent)}
    assert other.pk not in seen and len(seen) == 1
    with pytest.raises(NotFound):
        callbacks.get_task_for(phones.sub_agent, other.pk)


def test_no_call_in_the_quiet_hours_or_while_on_a_call(phones: Any) -> None:
    from hotline.contactcentre import services

    _order, task = visit_for(phones)
    with pytest.raises(Conflict):
        callbacks.do_start_call(phones.agent, task.pk, now=NOON.replace(hour=22))
    services.do_sign_in(phones.agent, now=NOON)
    services.do_set_state(phones.agent, "ready", now=NOON)
    queued = services.do_enqueue_call(phones.general, call_ref="in-1", now=NOON)
    assert services.do_offer_call(queued, phones.agent.pk, NOON)
    with pytest.raises(Conflict):
        callbacks.do_start_call(phones.agent, task.pk)
    assert CallbackTask.objects.get(pk=task.pk).state == TaskState.OPEN
    assert not OutboundCall.objects.exists()


def test_an_order_without_a_phone_gets_the_rule_at_once(phones: Any) -> None:
    rules(unreachable_rule=UnreachableRule.CLOSE)
    order = order_in_callback(phones, citizen_phone="", citizen_name="", citizen_email="a@b.cn",
                              channel="email")
    assert callbacks.do_queue_visits() == 1
    task = CallbackTask.objects.get(order=order)
    assert (task.state, task.result) == (TaskState.DONE, TaskResult.UNREACHABLE)
    order.refresh_from_db()
    assert order.state == "closed"


def test_the_periodic_job_makes_and_settles_tasks(phones: Any) -> None:
    from hotline.outreach.tasks import callback_tasks_task

    order_in_callback(phones)
    done = callback_tasks_task.call()
    assert done["visits"] == 1 and CallbackTask.objects.count() == 1
    assert callback_tasks_task.call()["visits"] == 0


def test_the_survey_policy_decides_who_asks_first(phones: Any) -> None:
    """An order type whose policy asks by SMS first gets a survey and no agent's task; once
    the survey hands over to a person (its next way is an agent), the agent's task comes."""
    from hotline.outreach.models import Survey, SurveyPolicy

    SurveyPolicy.objects.create(order_type="complaint", methods="sms,agent")
    order = order_in_callback(phones)
    assert callbacks.do_queue_visits() == 0
    survey = Survey.objects.get(order=order)
    assert survey.state == Survey.State.ASKING and not CallbackTask.objects.filter(order=order)
    assert callbacks.do_queue_visits() == 0  # still asking: nothing new, no second survey
    Survey.objects.filter(pk=survey.pk).update(state=Survey.State.AGENT)
    assert callbacks.do_queue_visits() == 1
    assert CallbackTask.objects.get(order=order).kind == TaskKind.VISIT
    assert Survey.objects.filter(order=order).count() == 1
