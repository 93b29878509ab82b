"""The desk's call-back tasks as an agent uses them: the due list (masked numbers), one click
to call, the call's progress, the outcome; refusals are 4xx with a message, never a 500."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client

from hotline.orders.models import Order
from hotline.outreach import callbacks, calls
from hotline.outreach.models import OutboundCall, Outcome
from hotline.outreach.models_callbacks import CallbackTask, TaskResult, TaskState
from tests.outreach.callback_policy import agents_call_back  # noqa: F401 - autouse
from tests.outreach.conftest import add_phones, order_in_callback

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
NOON = dt.datetime(2026, 12, 3, 12, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def phones(desk: Any) -> Any:
    return add_phones(desk)


@pytest.fixture(autouse=True)
def _noon() -> Iterator[None]:
    with time_machine.travel(NOON, tick=False):  # outside the quiet hours: the gateway dials
        yield


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def one_visit(desk: Any, **overrides: Any) -> tuple[Order, CallbackTask]:
    order = order_in_callback(desk, **overrides)
    callbacks.do_queue_visits()
    return order, CallbackTask.objects.get(order=order)


def test_the_desk_shows_the_due_tasks_with_the_number_masked(phones: Any) -> None:
    order, _task = one_visit(phones)
    page = client_for(phones.agent).get("/desk/")
    assert page.status_code == 200 and b'id="desk-callback-tasks"' in page.content
    r = client_for(phones.agent).get("/desk/callback-tasks/")
    assert r.status_code == 200
    text = r.content.decode()
    assert order.number in text and "138****1234" in text and "13812341234" not in text
    assert 'data-testid="callback-task-row"' in text


def test_a_reporters_number_is_not_shown_outside_the_centre(phones: Any) -> None:
    order, _task = one_visit(phones, type="report")
    text = client_for(phones.sub_agent).get("/desk/callback-tasks/").content.decode()
    assert order.number in text  # the sub-centre's district: the task is listed ...
    assert "138****1234" not in text and "13812341234" not in text  # ... without the number
    text = client_for(phones.agent).get("/desk/callback-tasks/").content.decode()
    assert "138****1234" in text and "13812341234" not in text


def test_call_then_progress_then_record(phones: Any,
                                        django_capture_on_commit_callbacks: Any) -> None:
    order, task = one_visit(phones)
    alice = client_for(phones.agent)
    r = alice.post(f"/desk/callback-tasks/{task.pk}/call/", headers=HTMX)
    assert r.status_code == 200 and r["HX-Trigger"] == "desk-callback-tasks-changed"
    assert 'hx-trigger="every 3s"' in r.content.decode()  # progress polled while queued
    call = OutboundCall.objects.get()
    assert call.agent_extension == "8001" and call.agent_id == phones.agent.pk
    # The gateway's part: it dials, the citizen answers.
    job = calls.claim_call("gw")
    assert job is not None
    with django_capture_on_commit_callbacks(execute=True):
        calls.do_finish_attempt(job.id, Outcome.ANSWERED,
                                answered_at=dt.datetime.now(dt.UTC))
    panel = alice.get(f"/desk/callback-tasks/{task.pk}/", headers=HTMX).content.decode()
    assert 'data-testid="callback-record-form"' in panel and "every 3s" not in panel
    bad = alice.post(f"/desk/callback-tasks/{task.pk}/record/",
                     {"resolved": "no", "satisfaction": "unsatisfied", "words": ""}, headers=HTMX)
    assert bad.status_code == 422 and bad.content  # the words are needed
    r = alice.post(f"/desk/callback-tasks/{task.pk}/record/",
                   {"resolved": "no", "satisfaction": "unsatisfied", "words": "还是停水"},
                   headers=HTMX)
    assert r.status_code == 200
    task.refresh_from_db()
    assert task.result == TaskResult.REOPENED
    order.refresh_from_db()
    assert order.state == "handling"


def test_the_outcome_form_waits_for_the_citizen_to_answer(phones: Any) -> None:
    from hotline.voice.outbound_db import record_contact

    _order, task = one_visit(phones)
    alice = client_for(phones.agent)
    alice.post(f"/desk/callback-tasks/{task.pk}/call/", headers=HTMX)
    job = calls.claim_call("gw")  # the gateway dials: the phones ring
    assert job is not None
    panel = alice.get(f"/desk/callback-tasks/{task.pk}/", headers=HTMX).content.decode()
    assert 'data-testid="callback-record-form"' not in panel and "every 3s" in panel
    r = alice.post(f"/desk/callback-tasks/{task.pk}/record/",
                   {"resolved": "yes", "satisfaction": "satisfied"}, headers=HTMX)
    assert r.status_code == 409 and r.content  # not answered yet: a clear refusal
    record_contact(job.id, job.number, "sip-call-1")  # the citizen answers, bridged
    panel = alice.get(f"/desk/callback-tasks/{task.pk}/", headers=HTMX).content.decode()
    # The form while they talk, and no more polling that would replace what is typed.
    assert 'data-testid="callback-record-form"' in panel and "every 3s" not in panel


def test_the_second_agent_gets_a_conflict_not_a_500(phones: Any) -> None:
    _order, task = one_visit(phones)
    assert client_for(phones.agent).post(f"/desk/callback-tasks/{task.pk}/call/",
                                         headers=HTMX).status_code == 200
    r = client_for(phones.bob).post(f"/desk/callback-tasks/{task.pk}/call/", headers=HTMX)
    assert r.status_code == 409 and (b"another agent is calling this citizen" in r.content
                                     or "正在呼叫这位市民".encode() in r.content)
    assert b'id="desk-callback-task"' in r.content  # the panel, with the reason
    assert CallbackTask.objects.get(pk=task.pk).agent_id == phones.agent.pk


def test_bad_input_is_a_clear_4xx(phones: Any) -> None:
    _order, task = one_visit(phones)
    alice = client_for(phones.agent)
    assert alice.post("/desk/callback-tasks/999999/call/", headers=HTMX).status_code == 404
    r = alice.post(f"/desk/callback-tasks/{task.pk}/record/", {"resolved": "maybe"},
                   headers=HTMX)
    assert r.status_code == 422
    r = alice.post(f"/desk/callback-tasks/{task.pk}/record/",
                   {"resolved": "yes", "satisfaction": "satisfied"}, headers=HTMX)
    assert r.status_code == 409  # nobody is calling yet
    assert alice.post(f"/desk/callback-tasks/{task.pk}/release/",
                      headers=HTMX).status_code == 409


def test_departments_and_leaders_do_not_reach_the_tasks(phones: Any) -> None:
    _order, task = one_visit(phones)
    for user in (phones.handler, phones.leader, phones.auditor):
        r = client_for(user).get("/desk/callback-tasks/")
        assert r.status_code in (302, 403), user
        r = client_for(user).post(f"/desk/callback-tasks/{task.pk}/call/")
        assert r.status_code in (302, 403), user
    assert CallbackTask.objects.get(pk=task.pk).state == TaskState.OPEN


def test_cancel_before_the_gateway_dials(phones: Any) -> None:
    _order, task = one_visit(phones)
    alice = client_for(phones.agent)
    alice.post(f"/desk/callback-tasks/{task.pk}/call/", headers=HTMX)
    r = alice.post(f"/desk/callback-tasks/{task.pk}/release/", headers=HTMX)
    assert r.status_code == 200
    assert OutboundCall.objects.get().state == OutboundCall.State.CANCELLED
    assert CallbackTask.objects.get(pk=task.pk).state == TaskState.OPEN


