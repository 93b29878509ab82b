"""Agent calls end to end with real peers: a caller (sipp, or a baresip softphone that records
what it heard) calls 12345, the IVR hands it to a person, the ACD rings the agent's baresip
phone (registered with digest), the gateway bridges both and records the conversation into
one file kept with the call's contact. Here: the queue's side (answer, no answer, a caller who
gives up, priority, overflow, a gateway that restarts); the desk's commands on a live call are
in test_agent_commands.py.

The gateway runs in this process over the transactional test database (its worker threads must
see the test's rows). Tones tell the parties apart: the agent's phone sends 500 Hz, a second
agent 700 Hz, a supervisor 900 Hz, a baresip caller 1400 Hz; a sipp caller sends sipp's
recorded speech or a tone; prompts are 1200 Hz tones.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from hotline.contactcentre import acd_services
from hotline.contactcentre import services as desk
from hotline.contactcentre.models import (
    AgentStatus,
    CallOutcome,
    CallRecording,
    DeskEvent,
    OverflowRule,
    Queue,
    QueuedCall,
    StateChange,
)
from hotline.orders.models import Citizen, Contact
from tests.voice.agentphone import (  # noqa: F401 - the fixtures are used by name
    CALLER,
    HEARD,
    NOT_HEARD,
    PASSWORD,
    PROMPT_HZ,
    Scene,
    _latency_summary,
    _no_gateway_errors,
    _peers_and_media,
    actions,
    db,
    extension,
    keep_latencies,
    levels,
    loudness,
    now,
    power,
    ready,
)
from tests.voice.test_baresip import read_mono

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import City

# Both peers installed, media in the test's folder, no error logged by the gateway.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("_peers_and_media", "_no_gateway_errors", "_latency_summary")]
AGENT_HZ, COLLEAGUE_HZ, SUPERVISOR_HZ, CALLER_HZ = 500.0, 700.0, 900.0, 1400.0

__all__ = ["AGENT_HZ", "PASSWORD", "Scene"]  # the desk's browser test drives a Scene too


def waited(call: QueuedCall) -> float:
    assert call.wait_s is not None, "no wait recorded"
    return call.wait_s


def test_a_caller_reaches_a_ready_agent_and_the_call_is_recorded(city: City, tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=15)
    extension(city.agent, "8001")
    ready(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            phone = await s.phone("8001", AGENT_HZ)
            code, log = await s.call(talk_ms=7100)
            await s.settle(lambda: CallRecording.objects.exists())
            keep_latencies(s)
            return s, phone, code, log

    s, phone, code, log = asyncio.run(scene())
    assert code == 0, log + "\n" + phone.log()
    call = QueuedCall.objects.get()
    assert call.outcome == CallOutcome.COMPLETED, (call.outcome, phone.log())
    assert call.agent == city.agent and call.gateway == "test-gateway"
    assert call.wait_s is not None and call.wait_s < 5
    assert actions(city.agent) == ["offer", "answer", "hang_up"]
    assert AgentStatus.objects.get(pk=city.agent.pk).state == "wrap_up"
    assert call.contact_id is not None
    contact = Contact.objects.get(pk=call.contact_id)
    assert contact.citizen is not None
    assert contact.agent == city.agent and contact.citizen.phone == "13800138000"
    recording = CallRecording.objects.get()
    assert recording.contact == contact and recording.call == call
    assert recording.seconds > 5
    samples, rate = read_mono(recording.file.path)
    # Both sides are in the one file: the agent's tone and the caller's speech (broadband).
    assert power(samples, rate, AGENT_HZ) > 20 * power(samples, rate, 1900.0)
    assert loudness(samples) > 500
    # The agent's phone heard the caller (speech), not its own tone.
    heard, heard_rate = phone.heard()
    assert len(heard) > heard_rate * 4, phone.log()
    assert loudness(heard) > 300
    assert power(heard, heard_rate, AGENT_HZ) < power(samples, rate, AGENT_HZ) / 10
    assert not list((tmp_path / "recordings").rglob("agent-*.wav"))  # stored, working copy gone
    assert s.gateway.entries("agent") == ["8001"]


def test_a_phone_that_rings_out_loses_the_call_to_the_next_ready_agent(city: City, tmp_path: Path) -> None:
    """Ring-no-answer: the first agent's phone rings for the queue's ring timeout, the offer is
    withdrawn (that agent becomes busy, 未接), the call goes to the next ready agent."""
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=2)
    extension(city.agent, "8001")
    extension(city.sub_agent, "8002")
    ready(city.agent, "8001")  # ready first: offered first
    ready(city.sub_agent, "8002")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            away = await s.phone("8001", AGENT_HZ, auto_answer=False)
            there = await s.phone("8002", COLLEAGUE_HZ)
            code, log = await s.call(talk_ms=6000, tone_hz=CALLER_HZ)
            await s.settle(lambda: CallRecording.objects.exists())
            keep_latencies(s)
            return s, away, there, code, log

    s, away, there, code, log = asyncio.run(scene())
    assert code == 0, log
    call = QueuedCall.objects.get()
    assert call.outcome == CallOutcome.COMPLETED and call.agent == city.sub_agent
    assert call.unanswered_offers == 1
    assert 2.0 <= waited(call) < 4.0, call.wait_s  # the ring timeout, then the next phone
    first = AgentStatus.objects.get(pk=city.agent.pk)
    assert (first.state, first.reason) == ("busy", "no_answer")
    assert AgentStatus.objects.get(pk=city.sub_agent.pk).state == "wrap_up"
    assert actions(city.agent) == ["offer", "no_answer"]
    assert actions(city.sub_agent) == ["offer", "answer", "hang_up"]
    kinds = list(DeskEvent.objects.filter(call=call).values_list("kind", flat=True))
    assert kinds.count("call_offered") == 2 and kinds.count("call_answered") == 1
    # 8001 rang for the ring timeout and was cancelled: it never took the call.
    dials = s.times("dial")
    assert s.gateway.entries("dial") == ["agent:8001", "agent:8002"]
    assert 1.9 < dials[1] - dials[0] < 3.0, dials
    assert away.count("Incoming call") == 1 and not away.calls(), away.log()
    assert "8001" not in s.gateway.entries("agent")
    # The caller talked with the second agent, and the one recording has both.
    heard = there.calls()
    assert len(heard) == 1
    caller_level, own = levels(heard[0].samples, heard[0].rate, CALLER_HZ, COLLEAGUE_HZ)
    assert caller_level > HEARD and own < NOT_HEARD, (caller_level, own)
    recording = CallRecording.objects.get()
    samples, rate = read_mono(recording.file.path)
    colleague, caller, agent = levels(samples, rate, COLLEAGUE_HZ, CALLER_HZ, AGENT_HZ)
    assert colleague > HEARD and caller > HEARD and agent < NOT_HEARD


def test_a_caller_who_gives_up_waiting_heard_the_prompt_and_music_and_is_abandoned(city: City,
                                                                                     tmp_path: Path) -> None:
    """Nobody ready: the caller (a baresip softphone, recording what it hears) hears the
    holding prompt with the position, then hold music, and hangs up after a few seconds."""
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    extension(city.agent, "8001")
    desk.do_sign_in(city.agent, extension="8001")  # signed in, not ready

    async def scene() -> Any:
        async with Scene(tmp_path, prompt_seconds=0.6) as s:
            caller = await s.caller(CALLER_HZ)
            await caller.dial()
            await s.settle(lambda: QueuedCall.objects.filter(outcome="waiting").exists())
            await asyncio.sleep(4.0)
            await caller.hang_up()
            hung_up = now()
            await s.settle(lambda: QueuedCall.objects.filter(outcome="abandoned").exists())
            return s, caller, hung_up

    s, caller, hung_up = asyncio.run(scene())
    call = QueuedCall.objects.get()
    assert call.outcome == CallOutcome.ABANDONED and call.agent is None
    assert 3.5 < waited(call) < 6.0, call.wait_s
    assert call.abandoned_at is not None
    abandoned = DeskEvent.objects.get(kind="queue_changed", payload__change="abandoned")
    assert abandoned.call == call and abandoned.payload["wait_s"] == pytest.approx(call.wait_s)
    assert actions(city.agent) == []  # never offered
    assert s.gateway.entries("queue") == ["general"]
    # The holding text and the position (nobody serves the queue: no expected wait).
    assert s.gateway.entries("announce") == ["正在为您转接人工服务，请稍候。您是下一位，请稍候。请不要挂机。"]
    (queued,) = s.times("queue")
    (heard,) = caller.calls()
    assert heard.seconds > 3.5, caller.log()
    # The holding prompt and announcement (a 1200 Hz tone phrase) came first, then music.
    prompt = heard.between(queued, queued + 1.5)
    assert power(prompt, heard.rate, PROMPT_HZ) > HEARD, caller.log()
    music = heard.between(queued + 2.0, hung_up - 0.3)
    assert power(music, heard.rate, PROMPT_HZ) < NOT_HEARD
    assert loudness(music) > 300  # the built-in music peaks at -14 dBFS
    assert power(heard.samples, heard.rate, CALLER_HZ) < NOT_HEARD  # no echo of itself


def test_a_caller_who_hangs_up_while_the_phone_rings_cancels_the_ring(city: City, tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=10)
    extension(city.agent, "8001")
    ready(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            phone = await s.phone("8001", AGENT_HZ, auto_answer=False)
            code, log = await s.call(talk_ms=2500, tone_hz=CALLER_HZ)
            await s.settle(lambda: AgentStatus.objects.filter(state="idle").exists())
            await phone.wait_for_end(timeout=5)  # our CANCEL
            keep_latencies(s)
            return s, phone, code, log

    s, phone, code, log = asyncio.run(scene())
    assert code == 0, log
    call = QueuedCall.objects.get()
    assert call.outcome == CallOutcome.ABANDONED and 2.0 < waited(call) < 4.0
    status = AgentStatus.objects.get(pk=city.agent.pk)
    assert (status.state, status.reason) == ("idle", "")  # ready again, not punished
    assert actions(city.agent) == ["offer", "caller_gone"]
    assert phone.count("Incoming call") == 1 and not phone.calls(), phone.log()
    assert s.gateway.entries("dial") == ["agent:8001"]
    assert s.gateway.entries("agent") == []


def test_an_elderly_caller_waiting_second_is_served_first(city: City, tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    Citizen.objects.create(phone="13800138002", tags=["elderly"])
    extension(city.agent, "8001")
    desk.do_sign_in(city.agent, extension="8001")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            await s.phone("8001", AGENT_HZ)
            first = await s.start_call(5000, caller="13800138001", tone_hz=CALLER_HZ)
            await s.settle(lambda: QueuedCall.objects.count() == 1)
            second = await s.start_call(5000, caller="13800138002", tone_hz=CALLER_HZ)
            await s.settle(lambda: QueuedCall.objects.filter(outcome="waiting").count() == 2)
            await db(desk.do_set_state, city.agent, "ready")
            results = [await s.call_result(*first), await s.call_result(*second)]
            await s.settle(lambda: not QueuedCall.objects.filter(outcome__in=acd_services.LIVE)
                           .exists())
            return results

    results = asyncio.run(scene())
    assert [code for code, _ in results] == [0, 0], results
    elderly = QueuedCall.objects.get(caller="13800138002")
    normal = QueuedCall.objects.get(caller="13800138001")
    assert elderly.priority > normal.priority and normal.queued_at < elderly.queued_at
    assert elderly.outcome == CallOutcome.COMPLETED and elderly.agent == city.agent
    assert normal.outcome == CallOutcome.ABANDONED  # still waiting when its sipp hung up
    offered = StateChange.objects.filter(agent=city.agent, action="offer").order_by("at")
    assert [change.call_id for change in offered] == [elderly.pk]


def test_a_queue_overflowing_to_a_call_back_takes_the_number_and_ends_the_call(city: City,
                                                                               tmp_path: Path) -> None:
    queue = Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    OverflowRule.objects.create(queue=queue, after_s=2, action="callback")
    extension(city.agent, "8001")
    desk.do_sign_in(city.agent, extension="8001")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            started = now()
            code, log = await s.call(talk_ms=1000, hang_up=False, tone_hz=CALLER_HZ)
            return s, code, log, now() - started

    s, code, log, seconds = asyncio.run(scene())
    assert code == 0, log  # the gateway hung up (sipp waited for our BYE)
    assert seconds < 8, seconds
    call = QueuedCall.objects.get()
    assert (call.outcome, call.overflow_action) == (CallOutcome.OVERFLOWED, "callback")
    assert 2.0 <= waited(call) < 3.5, call.wait_s
    assert s.gateway.entries("overflow") == ["callback"]
    assert "callback:ok" in s.gateway.entries("service_result")
    request = Contact.objects.exclude(pk=call.contact_id or 0).get()
    assert request.citizen is not None
    assert request.citizen.phone == CALLER and "queue overflow" in request.summary
    # The caller heard the no_agent text (a tone phrase) before the hang-up.
    (overflowed,) = s.times("overflow")
    (ended,) = s.times("end")
    assert ended - overflowed >= 0.15  # the 0.2 s prompt was played out first


def test_a_queue_overflowing_to_voicemail_sends_the_caller_to_the_mailbox(city: City, tmp_path: Path) -> None:
    queue = Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    OverflowRule.objects.create(queue=queue, after_s=2, action="voicemail")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            code, log = await s.call(talk_ms=4500, tone_hz=CALLER_HZ)
            return s, code, log

    s, code, log = asyncio.run(scene())
    assert code == 0, log
    call = QueuedCall.objects.get()
    assert (call.outcome, call.overflow_action) == (CallOutcome.OVERFLOWED, "voicemail")
    assert s.gateway.entries("overflow") == ["voicemail"]
    assert s.gateway.entries("visit")[-1] == "mailbox"
    assert "start" in s.gateway.entries("recording")  # the mailbox records the message


def test_a_caller_waiting_past_the_gateway_limit_gets_a_call_back_request(city: City, tmp_path: Path) -> None:
    """No queue rule, nobody ready: the gateway's own limit on waiting (max_wait_s) ends the
    wait with a call-back request, recorded like a callback overflow."""
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            s.gateway.agents.max_wait_s = 1.5
            code, log = await s.call(talk_ms=500, hang_up=False, tone_hz=CALLER_HZ)
            return s, code, log

    s, code, log = asyncio.run(scene())
    assert code == 0, log  # hung up by the gateway
    call = QueuedCall.objects.get()
    assert (call.outcome, call.overflow_action) == (CallOutcome.OVERFLOWED, "callback")
    assert 1.5 <= waited(call) < 3.0, call.wait_s
    assert s.gateway.entries("overflow") == ["callback"]
    assert "callback:ok" in s.gateway.entries("service_result")
    assert Contact.objects.filter(summary__contains="queue overflow").count() == 1


def test_a_gateway_stopped_with_live_calls_hangs_them_up_and_closes_them(city: City, tmp_path: Path) -> None:
    """A graceful restart (SIGTERM): the callers get a BYE, the talking call ends (the agent
    goes to wrap-up), the waiting one is abandoned."""
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    extension(city.agent, "8001")
    ready(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            phone = await s.phone("8001", AGENT_HZ)
            # Each sipp talks for 0.2 s, then waits for the BYE that ends its call.
            talking = await s.start_call(200, hang_up=False, tone_hz=CALLER_HZ)
            await s.settle(lambda: QueuedCall.objects.filter(outcome="talking").exists())
            waiting = await s.start_call(200, hang_up=False, caller="13800138009",
                                         tone_hz=CALLER_HZ)
            await s.settle(lambda: QueuedCall.objects.filter(outcome="waiting").exists())
            await asyncio.sleep(0.5)
            await s.gateway.stop()
            results = [await s.call_result(*talking), await s.call_result(*waiting)]
            await phone.wait_for_end(timeout=3)
            return results

    results = asyncio.run(scene())
    assert [code for code, _ in results] == [0, 0], results  # each got our BYE
    assert not QueuedCall.objects.filter(outcome__in=acd_services.LIVE).exists()
    assert QueuedCall.objects.get(caller=CALLER).outcome == CallOutcome.COMPLETED
    assert QueuedCall.objects.get(caller="13800138009").outcome == CallOutcome.ABANDONED
    assert AgentStatus.objects.get(pk=city.agent.pk).state == "wrap_up"
    assert actions(city.agent) == ["offer", "answer", "hang_up"]
    assert CallRecording.objects.count() == 1


def test_a_gateway_killed_with_live_calls_closes_them_when_it_starts_again(city: City,
                                                                           tmp_path: Path) -> None:
    """One caller talks with the agent, another waits; the gateway dies without a word (its
    sockets close, nothing is written). The next start under the same gateway id closes both:
    the talk ends (the agent goes to wrap-up), the waiting caller is abandoned."""
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    extension(city.agent, "8001")
    ready(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path) as first:
            await first.phone("8001", AGENT_HZ)
            await first.start_call(20000, tone_hz=CALLER_HZ)
            await first.settle(lambda: QueuedCall.objects.filter(outcome="talking").exists())
            await first.start_call(20000, caller="13800138009", tone_hz=CALLER_HZ)
            await first.settle(lambda: QueuedCall.objects.filter(outcome="waiting").exists())
            kill(first)
            live = await db(
                lambda: list(QueuedCall.objects.filter(outcome__in=acd_services.LIVE)
                             .values_list("outcome", flat=True)))
            second = Scene(tmp_path / "again")
            # The same gateway again: it finds what its predecessor was recording.
            second.gateway.config.recordings_dir = first.config.recordings_dir
            async with second:
                pass
            return live

    live = asyncio.run(scene())
    assert sorted(live) == ["talking", "waiting"]
    assert not QueuedCall.objects.filter(gateway="test-gateway",
                                         outcome__in=acd_services.LIVE).exists()
    talked = QueuedCall.objects.get(caller=CALLER)
    waited = QueuedCall.objects.get(caller="13800138009")
    assert talked.outcome == CallOutcome.COMPLETED and waited.outcome == CallOutcome.ABANDONED
    assert AgentStatus.objects.get(pk=city.agent.pk).state == "wrap_up"
    # The half-finished recording of the talk is not lost: stored with the call's contact.
    recording = CallRecording.objects.get()
    assert recording.call == talked and recording.contact_id == talked.contact_id
    assert recording.seconds > 0.1  # killed soon after the answer
    assert not list((tmp_path / "recordings").rglob("agent-*.wav"))


def kill(scene: Scene) -> None:
    """The gateway process dies: its sockets close and none of its tasks run again."""
    gateway = scene.gateway
    agents = gateway.agents
    for task in agents._tasks:
        task.cancel()
    for acd_call in list(agents.calls.values()):
        if acd_call.runner is not None:
            acd_call.runner.stop()
        if acd_call.waiting_task is not None:
            acd_call.waiting_task.cancel()
        if acd_call.recorder is not None:
            acd_call.recorder.close()  # the dead process's files are closed by the system
    for leg in list(agents.legs.values()):
        leg.rtp.close()
    agents.legs.clear()
    agents.calls.clear()
    agents.by_caller.clear()
    for call in list(gateway.calls.values()):
        for timer in call._timers:
            timer.cancel()
        if call.task is not None:
            call.task.cancel()
        if call.rtp is not None:
            call.rtp.close()
    gateway.calls.clear()
    assert gateway.sip is not None
    gateway.sip.close()
    gateway.agents = None  # Scene's exit stops what is left without closing any call
