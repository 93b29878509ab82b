"""Return visits (回访) end to end through the gateway, driven from the desk's HTTP views.

The centre accepts a department's reply, the periodic job queues the call-back task, and the
agent (logged in, 签入 with a registered baresip phone) opens the task on the desk and clicks
"call". The running gateway rings the agent's phone, dials the citizen (sipp behind the
``Trunk`` row) and bridges them, recorded. The agent records the outcome on the desk:
satisfied closes the order, unsatisfied reopens it (重办) with the citizen's words. A citizen
who is busy or never answers for the configured number of tries gets the centre's rule:
closed as 联系不上 with the reason, or asked for the rating by SMS.

The gateway runs in this process over the transactional test database; the desk's views run
through Django's test client in worker threads (they are synchronous code).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from hotline.contactcentre.models import AgentStatus, CallRecording
from hotline.intake.models import SmsMessage
from hotline.orders.models import Attachment, Contact, Order, OrderEvent
from hotline.outreach import callbacks
from hotline.outreach.models import CallAttempt, OutboundCall, Survey, Trunk
from hotline.outreach.models_callbacks import (
    CallbackRules,
    CallbackTask,
    TaskResult,
    TaskState,
    UnreachableRule,
)
from tests.outreach.callback_policy import agents_call_back  # noqa: F401 - autouse
from tests.outreach.conftest import order_in_callback
from tests.voice.agentphone import (  # noqa: F401 - the fixtures are used by name
    HEARD,
    PROMPT_HZ,
    Scene,
    _no_gateway_errors,
    _peers_and_media,
    db,
    extension,
    now,
    power,
)
from tests.voice.test_baresip import read_mono

if TYPE_CHECKING:
    from pathlib import Path

    from django.http import HttpResponse
    from pytest_django.fixtures import Settings

    from tests.conftest import City
    from tests.voice.agentphone import AgentPhone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("_peers_and_media", "_no_gateway_errors")]
AGENT_HZ, CITIZEN_HZ = 500.0, 1400.0
HTMX = {"HX-Request": "true"}
RECORD_FORM = 'data-testid="callback-record-form"'


@pytest.fixture(autouse=True)
def _no_quiet_hours(settings: Settings) -> None:
    settings.HOTLINE_OUTREACH_QUIET_START = dt.time(0, 0)
    settings.HOTLINE_OUTREACH_QUIET_END = dt.time(0, 0)


def signed_in_desk(user: Any, *actions: str) -> Client:
    """The agent's browser: logged in, 签入 (and ``actions``) through the desk's state form."""
    client = Client()
    client.force_login(user)
    for action in ("sign_in", *actions):
        r = client.post("/desk/state/", {"action": action}, headers=HTMX)
        assert r.status_code in (200, 204, 302), r.content
    assert AgentStatus.objects.get(pk=user.pk).state != "signed_out"
    return client


def agent_state(user: Any) -> tuple[str, str]:
    status = AgentStatus.objects.get(pk=user.pk)
    return status.state, status.reason


async def post(client: Client, url: str, data: dict[str, str] | None = None) -> HttpResponse:
    return await db(lambda: client.post(url, data or {}, headers=HTMX))


async def get(client: Client, url: str) -> HttpResponse:
    return await db(lambda: client.get(url, headers=HTMX))


def trunk_to(scene: Scene) -> None:
    """The carrier's trunk as the admin enters it (before the gateway starts: it reads the
    trunk then and every minute): sipp is the citizen's side."""
    assert scene.trunk is not None
    Trunk.objects.create(name="carrier", registrar_host="127.0.0.1",
                         registrar_port=scene.trunk.port, register=False, caller_id="12345",
                         max_concurrent=2)


def queued_task(order: Order) -> CallbackTask:
    """The periodic job's first step for an order in 待回访: its return-visit task."""
    assert callbacks.do_queue_visits() == 1
    return CallbackTask.objects.get(order=order)


async def listed(client: Client, task: CallbackTask) -> str:
    """The desk's due list, which must offer ``task`` with the number masked."""
    r = await get(client, "/desk/callback-tasks/")
    text = r.content.decode()
    assert r.status_code == 200 and f"/desk/callback-tasks/{task.pk}/call/" in text, text
    assert task.phone not in text  # the gateway dials it; the agent never needs the digits
    return text


async def panel_when(client: Client, task: CallbackTask, check: Any,
                     seconds: float = 30.0) -> str:
    """The task's panel, polled as the page does, until ``check(text)``."""
    text = ""
    for _ in range(int(seconds / 0.25)):
        r = await get(client, f"/desk/callback-tasks/{task.pk}/")
        assert r.status_code == 200, r.content
        text = r.content.decode()
        if check(text):
            return text
        await asyncio.sleep(0.25)
    raise AssertionError(f"the panel never showed what was waited for:\n{text}")


def call_done(task_pk: int) -> Any:
    def check() -> Any:
        call = OutboundCall.objects.filter(ref=f"callback-task:{task_pk}").order_by("-pk").first()
        return call if call is not None and call.state == OutboundCall.State.DONE else None

    return check


async def talk_through(scene: Scene, phone: AgentPhone, client: Client, task: CallbackTask,
                       bridged_before: int) -> OutboundCall:
    """Click call; the agent's phone rings (it answers by itself), the citizen is bridged, they
    talk, the agent hangs up."""
    clicked = now()
    r = await post(client, f"/desk/callback-tasks/{task.pk}/call/")
    assert r.status_code == 200, r.content
    assert "every 3s" in r.content.decode()  # the panel follows the call
    await phone.wait_for("Call established", timeout=20, after=clicked)
    for _ in range(200):
        if len(scene.gateway.entries("bridged")) > bridged_before:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the citizen was never bridged:\n" + phone.log())
    # The citizen answered: the desk offers the outcome form while they talk.
    await panel_when(client, task, lambda t: RECORD_FORM in t, 15)
    assert await db(lambda: OutboundCall.objects.filter(
        ref=f"callback-task:{task.pk}", state=OutboundCall.State.DIALLING).exists())
    await asyncio.sleep(2.0)  # they talk
    await phone.hang_up()
    call: OutboundCall = await scene.settle(call_done(task.pk), 20)
    return call


def test_a_return_visit_from_the_desk_through_the_gateway_closes_or_reopens(
        city: City, tmp_path: Path) -> None:
    satisfied = order_in_callback(city)
    extension(city.agent, "8001")

    async def scene() -> Any:
        s = Scene(tmp_path, trunk_hz=CITIZEN_HZ, trunk_calls=2)
        await db(trunk_to, s)
        async with s:
            assert s.gateway.outbound.trunk is not None
            assert s.gateway.outbound.trunk.name == "carrier"  # the row, not the fallback
            phone = await s.phone("8001", AGENT_HZ)
            alice = await db(signed_in_desk, city.agent, "ready")  # 签入, 示闲
            first = await db(queued_task, satisfied)
            await listed(alice, first)
            call1 = await talk_through(s, phone, alice, first, 0)
            # 示忙 (外呼回访) from the click on: the ACD offered no inbound call meanwhile.
            assert await db(agent_state, city.agent) == ("busy", "outbound")
            text = await panel_when(alice, first, lambda t: RECORD_FORM in t)
            assert "every 3s" not in text  # the call is over: no more polling
            r = await post(alice, f"/desk/callback-tasks/{first.pk}/record/",
                           {"resolved": "yes", "satisfaction": "satisfied",
                            "words": "水来了，谢谢"})
            assert r.status_code == 200, r.content

            unhappy = await db(lambda: order_in_callback(
                city, citizen_phone="13900002222", citizen_name="李四"))
            second = await db(queued_task, unhappy)
            await listed(alice, second)
            call2 = await talk_through(s, phone, alice, second, 1)
            await panel_when(alice, second, lambda t: RECORD_FORM in t)
            r = await post(alice, f"/desk/callback-tasks/{second.pk}/record/",
                           {"resolved": "no", "satisfaction": "unsatisfied", "words": ""})
            assert r.status_code == 422  # the department needs the citizen's words
            r = await post(alice, f"/desk/callback-tasks/{second.pk}/record/",
                           {"resolved": "no", "satisfaction": "unsatisfied",
                            "words": "水压还是很低，希望再来看看"})
            assert r.status_code == 200, r.content
            assert s.trunk is not None
            code, log = await s.trunk.result()
            return s, phone, unhappy, call1, call2, code, log

    s, phone, unhappy, call1, call2, code, log = asyncio.run(scene())
    assert code == 0, log + phone.log()
    assert s.trunk is not None
    assert s.trunk.numbers() == [satisfied.citizen.phone, unhappy.citizen.phone]
    assert s.gateway.entries("dial") == [
        "agent:8001", f"citizen:{satisfied.citizen.phone}",
        "agent:8001", f"citizen:{unhappy.citizen.phone}"]

    for order, call in ((satisfied, call1), (unhappy, call2)):
        assert call.outcome == "answered" and call.agent_id == city.agent.pk
        attempt = CallAttempt.objects.get(call=call)
        assert attempt.sip_status == 200 and attempt.talk_seconds >= 2
        contact = Contact.objects.get(pk=call.contact_id)
        assert contact.direction == Contact.Direction.OUTBOUND and contact.agent == city.agent
        assert list(contact.orders.all()) == [order]
        # The conversation, both sides, recorded and attached to the order.
        recording = CallRecording.objects.get(contact=contact)
        samples, rate = read_mono(recording.file.path)
        assert power(samples, rate, AGENT_HZ) > HEARD
        assert power(samples, rate, CITIZEN_HZ) > HEARD
        assert order.attachments.filter(kind=Attachment.Kind.RECORDING).exists()

    satisfied.refresh_from_db()
    assert (satisfied.state, satisfied.resolved, satisfied.satisfaction) == (
        "closed", True, "satisfied")
    closing = OrderEvent.objects.filter(order=satisfied).order_by("-seq").first()
    assert closing is not None and closing.action == "callback"
    assert closing.actor_id == city.agent.pk and "水来了，谢谢" in closing.note
    assert CallbackTask.objects.get(order=satisfied).result == TaskResult.CLOSED

    unhappy.refresh_from_db()
    assert (unhappy.state, unhappy.reopen_count, unhappy.satisfaction) == (
        "handling", 1, "unsatisfied")
    assert unhappy.resolved is False
    reopened = OrderEvent.objects.filter(order=unhappy).order_by("-seq").first()
    assert reopened is not None and reopened.action == "reopen"
    assert "水压还是很低，希望再来看看" in reopened.note
    assert CallbackTask.objects.get(order=unhappy).result == TaskResult.REOPENED


async def try_unreached(scene: Scene, phone: AgentPhone, client: Client, task: CallbackTask,
                        count: int) -> OutboundCall:
    """Click call: the agent's phone answers, the citizen is not reached, the agent hears why
    and is hung up; the call ends not answered."""
    clicked = now()
    r = await post(client, f"/desk/callback-tasks/{task.pk}/call/")
    assert r.status_code == 200, r.content
    await phone.wait_for("Call established", timeout=20, after=clicked)
    call: OutboundCall = await scene.settle(call_done(task.pk), 30)
    await phone.wait_for("session closed", "terminated", timeout=15, after=clicked)
    assert len([c for c in scene.gateway.entries("dial") if c.startswith("citizen:")]) == count
    return call


def test_a_busy_citizen_after_the_last_try_is_closed_as_unreachable(
        city: City, tmp_path: Path) -> None:
    CallbackRules.objects.create(pk=1, max_tries=2, retry_minutes=0,
                                 unreachable_rule=UnreachableRule.CLOSE)
    order = order_in_callback(city)
    extension(city.agent, "8001")

    async def scene() -> Any:
        s = Scene(tmp_path, trunk_hz=CITIZEN_HZ, trunk_calls=2)
        assert s.trunk is not None
        s.trunk.scenario = "uas_busy.xml"
        await db(trunk_to, s)
        async with s:
            phone = await s.phone("8001", AGENT_HZ)
            alice = await db(signed_in_desk, city.agent)
            task = await db(queued_task, order)
            await listed(alice, task)
            first = await try_unreached(s, phone, alice, task, 1)
            # Not reached: the try is counted and the task is back on the list (retry 0 min).
            after_first = await db(lambda: CallbackTask.objects.get(pk=task.pk))
            await listed(alice, task)
            second = await try_unreached(s, phone, alice, task, 2)
            r = await get(alice, "/desk/callback-tasks/")
            assert f"/desk/callback-tasks/{task.pk}/call/" not in r.content.decode()
            code, log = await s.trunk.result()
            return phone, first, after_first, second, code, log

    phone, first, after_first, second, code, log = asyncio.run(scene())
    assert code == 0, log
    assert (first.outcome, second.outcome) == ("busy", "busy")
    assert [a.sip_status for a in CallAttempt.objects.filter(
        call__in=[first, second]).order_by("pk")] == [486, 486]
    assert (after_first.state, after_first.tries) == (TaskState.OPEN, 1)
    # The agent heard why (the gateway's tone voice) before being hung up.
    heard, rate = phone.heard()
    assert power(heard, rate, PROMPT_HZ) > HEARD, phone.log()

    task = CallbackTask.objects.get(order=order)
    assert (task.state, task.result, task.tries) == (TaskState.DONE, TaskResult.UNREACHABLE, 2)
    order.refresh_from_db()
    assert order.state == "closed" and order.satisfaction == ""
    events = list(OrderEvent.objects.filter(order=order).order_by("seq"))
    attempts = [e for e in events if e.action == "callback_attempt"]
    assert [e.note for e in attempts] == [
        f"Call back {n} of 2 did not reach the citizen: busy" for n in (1, 2)]
    last = events[-1]
    assert last.action == "callback" and last.data.get("unreachable") is True
    assert "联系不上" in last.note and "busy" in last.note and "2" in last.note


def test_a_citizen_who_never_answers_is_asked_for_the_rating_by_sms(
        city: City, tmp_path: Path, settings: Settings) -> None:
    settings.HOTLINE_SMS_PROVIDER = "log"
    CallbackRules.objects.create(pk=1, max_tries=1, retry_minutes=0,
                                 unreachable_rule=UnreachableRule.SMS_SURVEY)
    order = order_in_callback(city)
    extension(city.agent, "8001")

    async def scene() -> Any:
        s = Scene(tmp_path, trunk_hz=CITIZEN_HZ)
        assert s.trunk is not None
        s.trunk.scenario = "uas_never_answers.xml"
        await db(trunk_to, s)
        async with s:
            s.gateway.outbound.ring_timeout_s = 2.0  # then CANCEL: no answer
            phone = await s.phone("8001", AGENT_HZ)
            alice = await db(signed_in_desk, city.agent)
            task = await db(queued_task, order)
            await listed(alice, task)
            call = await try_unreached(s, phone, alice, task, 1)
            code, log = await s.trunk.result()
            return call, code, log

    call, code, log = asyncio.run(scene())
    assert code == 0, log  # sipp got our CANCEL
    assert call.outcome == "no_answer"
    task = CallbackTask.objects.get(order=order)
    assert (task.state, task.result, task.tries) == (TaskState.DONE, TaskResult.SMS_SURVEY, 1)
    order.refresh_from_db()
    assert order.state == "callback"  # waiting for the citizen's rating by SMS
    notes = list(OrderEvent.objects.filter(order=order, action="callback_attempt")
                 .values_list("note", flat=True))
    assert any("no answer" in n for n in notes) and any("SMS" in n for n in notes), notes
    survey = Survey.objects.get(order=order)
    assert (survey.state, survey.method) == (Survey.State.ASKING, "sms")
    sms = SmsMessage.objects.filter(phone=order.citizen.phone).order_by("-pk").first()
    assert sms is not None and sms.status == "sent"
