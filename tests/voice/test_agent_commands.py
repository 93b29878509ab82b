"""The desk's commands on a live agent call, with real peers: a baresip caller (1400 Hz, and it
records what it heard), the agent's baresip phone (500 Hz), a colleague's (700 Hz), a
supervisor's (900 Hz), a leader's (2200 Hz) and sipp as the trunk's far end (1900 Hz, a
department's number or 110). Each command goes through ``do_issue_command`` as the desk sends
it; the gateway in this process carries it out. Who heard whom is read from the phones' WAV
files and the call's recording, phase by phase on the loop's clock; the database must say
what happened (command results, queue entries, agents' states, desk events).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest

from hotline.contactcentre import acd_services
from hotline.contactcentre.models import (
    AgentStatus,
    CallCommand,
    CallOutcome,
    CallRecording,
    DeskEvent,
    Queue,
    QueuedCall,
)
from tests.voice.agentphone import (  # noqa: F401 - the fixtures are used by name
    HEARD,
    NOT_HEARD,
    Heard,
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
    ready,
    until,
)
from tests.voice.test_baresip import read_mono

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import City

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("_peers_and_media", "_no_gateway_errors", "_latency_summary")]
CALLER_HZ, AGENT_HZ, COLLEAGUE_HZ, SUPERVISOR_HZ = 1400.0, 500.0, 700.0, 900.0
LEADER_HZ, TRUNK_HZ = 2200.0, 1900.0
EVERY_TONE = (CALLER_HZ, AGENT_HZ, COLLEAGUE_HZ, SUPERVISOR_HZ, LEADER_HZ, TRUNK_HZ)
MARGIN = 0.5  # s around a change: jitter buffers and the command poll
MEDIA: dict[str, Any] = {}  # the gateway's legs' media counters at the end of the last call


def hears(heard: Heard, start: float, end: float, *tones: float, who: str = "") -> None:
    """Between two loop times ``heard`` contains exactly ``tones`` among the test's tones."""
    part = heard.between(start + MARGIN, end - MARGIN / 2)
    assert len(part) > heard.rate * (end - start - 1.5 * MARGIN) * 0.8, \
        f"{who}: only {len(part) / heard.rate:.2f} s heard in {end - start:.2f} s"
    found = dict(zip(EVERY_TONE, levels(part, heard.rate, *EVERY_TONE), strict=True))
    for frequency, level in found.items():
        if frequency in tones:
            assert level > HEARD, f"{who} did not hear {frequency:g} Hz: {found}; {MEDIA}"
        else:
            assert level < NOT_HEARD, f"{who} heard {frequency:g} Hz: {found}; {MEDIA}"


def recording_heard(scene: Scene) -> Heard:
    """The call's recording on the loop's clock: it starts when the bridge does (the agent
    answered), one 20 ms frame per bridge tick."""
    recording = CallRecording.objects.get()
    samples, rate = read_mono(recording.file.path)
    return Heard(list(samples), rate, scene.times("agent")[0])


class Desk:
    """A call answered by the agent on 8001, and the desk's commands on it."""

    def __init__(self, scene: Scene, city: Any) -> None:
        self.s = scene
        self.city = city
        self.marks: dict[str, float] = {}

    async def connect(self) -> tuple[Any, Any, int]:
        agent = await self.s.phone("8001", AGENT_HZ)
        caller = await self.s.caller(CALLER_HZ)
        await caller.dial()
        call = await self.s.settle(
            lambda: QueuedCall.objects.filter(outcome="talking", agent=self.city.agent).first())
        self.marks["answered"] = self.s.times("agent")[0]
        return caller, agent, call.pk

    async def command(self, name: str, actor: Any, call_id: int, action: str,
                      target: str = "") -> CallCommand:
        """Issue at the mark ``name``'s time; marks ``name`` (issued) and ``name_done``."""
        self.marks[name] = now()
        command = await self.s.command(actor, call_id, action, target)
        self.marks[f"{name}_done"] = now()
        return command

    async def hang_up(self, caller: Any) -> None:
        self.marks["hung_up"] = now()
        # For the failure messages: what each leg's media received (foreign: not latched).
        MEDIA.clear()
        MEDIA.update({leg.label: leg.session.counters
                      for leg in self.s.gateway.agents.legs.values() if leg.session})
        await caller.hang_up()
        await self.s.settle(lambda: CallRecording.objects.exists())
        await self.s.settle(lambda: not QueuedCall.objects.filter(
            outcome__in=acd_services.LIVE).exists())
        keep_latencies(self.s)

    def phase(self, start: str, end: str) -> tuple[float, float]:
        return self.marks[start], self.marks[end]


def run(test: Any) -> Any:
    return asyncio.run(test())


def on_hold_reports(call_id: int) -> list[Any]:
    return [e.payload.get("on_hold") for e in DeskEvent.objects.filter(
        kind="call_updated", call_id=call_id).order_by("id")]


def test_hold_plays_music_to_the_caller_and_silence_to_the_agent_until_resumed(city: City,
                                                                               tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    extension(city.agent, "8001")
    ready(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            desk = Desk(s, city)
            caller, agent, call_id = await desk.connect()
            await until(desk.marks["answered"] + 2.5)
            held = await desk.command("hold", city.agent, call_id, "hold")
            on_hold = await db(lambda: QueuedCall.objects.get(pk=call_id).on_hold)
            await until(desk.marks["hold_done"] + 3.0)
            resumed = await desk.command("resume", city.agent, call_id, "resume")
            await until(desk.marks["resume_done"] + 2.5)
            await desk.hang_up(caller)
            return s, desk, caller, agent, call_id, held, resumed, on_hold

    s, desk, caller, agent, call_id, held, resumed, on_hold = run(scene)
    assert (held.status, held.result) == ("done", "on hold")
    assert (resumed.status, resumed.result) == ("done", "resumed")
    assert on_hold is True and QueuedCall.objects.get(pk=call_id).on_hold is False
    assert on_hold_reports(call_id) == [True, False]
    (to_caller,) = caller.calls()
    (to_agent,) = agent.calls()
    recording = recording_heard(s)
    talk, hold = desk.phase("answered", "hold"), desk.phase("hold_done", "resume")
    again = desk.phase("resume_done", "hung_up")
    hears(to_caller, *talk, AGENT_HZ, who="caller")
    hears(to_caller, *hold, who="held caller")  # music only
    assert loudness(to_caller.between(*hold)) > 300, "the held caller heard no music"
    hears(to_caller, *again, AGENT_HZ, who="caller after resume")
    hears(to_agent, *talk, CALLER_HZ, who="agent")
    hears(to_agent, *hold, who="agent while holding")
    assert loudness(to_agent.between(hold[0] + 0.5, hold[1])) < 100, "the agent heard music"
    hears(to_agent, *again, CALLER_HZ, who="agent after resume")
    hears(recording, *talk, CALLER_HZ, AGENT_HZ, who="recording")
    hears(recording, *hold, AGENT_HZ, who="recording while held")  # no caller, no music
    hears(recording, *again, CALLER_HZ, AGENT_HZ, who="recording after resume")
    done = DeskEvent.objects.filter(kind="command_done").values_list("payload__action", flat=True)
    assert list(done) == ["hold", "resume"]


def test_a_blind_transfer_to_a_colleague_hands_the_caller_over_and_keeps_one_recording(
        city: City, tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    extension(city.agent, "8001")
    extension(city.sub_agent, "8002")
    ready(city.agent, "8001")
    ready(city.sub_agent, "8002")  # ready later than 8001: the call goes to 8001 first

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            colleague = await s.phone("8002", COLLEAGUE_HZ)
            desk = Desk(s, city)
            caller, agent, call_id = await desk.connect()
            await until(desk.marks["answered"] + 2.5)
            command = await desk.command("transfer", city.agent, call_id, "blind_transfer",
                                         "8002")
            await agent.wait_for_end(timeout=3)
            first_state = await db(
                lambda: AgentStatus.objects.get(pk=city.agent.pk).state)
            await until(desk.marks["transfer_done"] + 3.0)
            await desk.hang_up(caller)
            return s, desk, caller, agent, colleague, call_id, command, first_state

    s, desk, caller, agent, colleague, call_id, command, first_state = run(scene)
    assert (command.status, command.result) == ("done", "transferred to 8002")
    assert first_state == "wrap_up"  # the first agent left as soon as the colleague answered
    first = QueuedCall.objects.get(pk=call_id)
    second = QueuedCall.objects.exclude(pk=call_id).get()
    assert first.outcome == second.outcome == CallOutcome.COMPLETED
    assert (first.agent, second.agent) == (city.agent, city.sub_agent)
    assert first.call_ref == second.call_ref and first.contact_id == second.contact_id
    assert actions(city.sub_agent) == ["offer", "answer", "hang_up"]
    assert AgentStatus.objects.get(pk=city.sub_agent.pk).state == "wrap_up"
    (to_caller,) = caller.calls()
    (to_agent,) = agent.calls()
    (to_colleague,) = colleague.calls()
    before, after = desk.phase("answered", "transfer"), desk.phase("transfer_done", "hung_up")
    hears(to_caller, *before, AGENT_HZ, who="caller before")
    hears(to_caller, *after, COLLEAGUE_HZ, who="caller after")
    hears(to_colleague, to_colleague.started, after[1], CALLER_HZ, who="colleague")
    assert to_agent.seconds < desk.marks["transfer_done"] - desk.marks["answered"] + 0.5
    recording = recording_heard(s)
    assert CallRecording.objects.get().call_id == second.pk
    hears(recording, *before, CALLER_HZ, AGENT_HZ, who="recording before")
    hears(recording, *after, CALLER_HZ, COLLEAGUE_HZ, who="recording after")
    assert recording.seconds > after[1] - before[0] - 1.0  # one file over the whole call


def test_a_blind_transfer_to_a_queue_puts_the_caller_back_in_line_for_the_next_agent(
        city: City, tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    second_line = Queue.objects.create(code="business", name="企业服务", wrap_up_s=30,
                                       ring_timeout_s=5)
    extension(city.agent, "8001")
    extension(city.sub_agent, "8002")
    ready(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            colleague = await s.phone("8002", COLLEAGUE_HZ)
            desk = Desk(s, city)
            caller, _, call_id = await desk.connect()
            await db(ready, city.sub_agent, "8002")
            await until(desk.marks["answered"] + 2.0)
            command = await desk.command("transfer", city.agent, call_id, "blind_transfer",
                                         "queue:business")
            await s.settle(lambda: QueuedCall.objects.filter(
                queue=second_line, outcome="talking").exists())
            desk.marks["colleague"] = now()
            await until(desk.marks["colleague"] + 3.0)
            await desk.hang_up(caller)
            return s, desk, caller, colleague, call_id, command

    s, desk, caller, colleague, call_id, command = run(scene)
    assert (command.status, command.result) == ("done", "queued in business")
    first = QueuedCall.objects.get(pk=call_id)
    moved = QueuedCall.objects.get(queue=second_line)
    assert first.outcome == CallOutcome.COMPLETED and first.agent == city.agent
    assert moved.outcome == CallOutcome.COMPLETED and moved.agent == city.sub_agent
    assert moved.call_ref == first.call_ref
    assert AgentStatus.objects.get(pk=city.agent.pk).state == "wrap_up"
    (to_caller,) = caller.calls()
    hears(to_caller, *desk.phase("answered", "transfer"), AGENT_HZ, who="caller before")
    hears(to_caller, *desk.phase("colleague", "hung_up"), COLLEAGUE_HZ, who="caller after")
    (to_colleague,) = colleague.calls()
    hears(to_colleague, to_colleague.started, desk.marks["hung_up"], CALLER_HZ,
          who="colleague")
    assert "business" in s.gateway.entries("queue")


def test_a_blind_transfer_to_a_department_number_goes_out_through_the_trunk(city: City,
                                                                            tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    extension(city.agent, "8001")
    ready(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path, trunk_hz=TRUNK_HZ) as s:
            desk = Desk(s, city)
            caller, _, call_id = await desk.connect()
            await until(desk.marks["answered"] + 2.0)
            command = await desk.command("transfer", city.agent, call_id, "blind_transfer",
                                         city.water.phone)
            await until(desk.marks["transfer_done"] + 3.0)
            await desk.hang_up(caller)
            assert s.trunk is not None
            trunk = await s.trunk.result()
            return s, desk, caller, call_id, command, trunk

    s, desk, caller, call_id, command, (code, log) = run(scene)
    assert (command.status, command.result) == ("done", "transferred to 059112345001")
    assert code == 0, log  # the department's side was hung up by us when the caller left
    assert s.trunk is not None and s.trunk.numbers() == ["059112345001"]
    assert QueuedCall.objects.get(pk=call_id).outcome == CallOutcome.COMPLETED
    assert AgentStatus.objects.get(pk=city.agent.pk).state == "wrap_up"
    (to_caller,) = caller.calls()
    hears(to_caller, *desk.phase("answered", "transfer"), AGENT_HZ, who="caller before")
    hears(to_caller, *desk.phase("transfer_done", "hung_up"), TRUNK_HZ, who="caller after")
    recording = recording_heard(s)
    hears(recording, *desk.phase("transfer_done", "hung_up"), CALLER_HZ, TRUNK_HZ,
          who="recording after")


def test_a_transfer_nobody_answers_brings_the_caller_back_to_the_agent(city: City, tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=2)
    extension(city.agent, "8001")
    extension(city.sub_agent, "8002")
    ready(city.agent, "8001")
    ready(city.sub_agent, "8002")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            away = await s.phone("8002", COLLEAGUE_HZ, auto_answer=False)
            desk = Desk(s, city)
            caller, agent, call_id = await desk.connect()
            await until(desk.marks["answered"] + 2.0)
            command = await desk.command("transfer", city.agent, call_id, "blind_transfer",
                                         "8002")
            await until(desk.marks["transfer_done"] + 2.5)
            await desk.hang_up(caller)
            return s, desk, caller, agent, away, call_id, command

    _, desk, caller, agent, away, call_id, command = run(scene)
    assert (command.status, command.result) == ("failed", "8002 did not answer")
    ringing = desk.marks["transfer_done"] - desk.marks["transfer"]
    assert 1.9 < ringing < 3.5, ringing  # the queue's ring timeout
    assert QueuedCall.objects.get(pk=call_id).outcome == CallOutcome.COMPLETED
    withdrawn = QueuedCall.objects.exclude(pk=call_id).get()
    assert withdrawn.outcome == CallOutcome.WITHDRAWN and withdrawn.agent == city.sub_agent
    assert AgentStatus.objects.get(pk=city.sub_agent.pk).state == "idle"
    assert actions(city.sub_agent) == ["offer", "caller_gone"]
    assert on_hold_reports(call_id) == [True, False]
    assert away.count("Incoming call") == 1 and not away.calls()
    (to_caller,) = caller.calls()
    (to_agent,) = agent.calls()
    ring = desk.phase("transfer", "transfer_done")
    hears(to_caller, *ring, who="caller while it rings")  # hold music
    assert loudness(to_caller.between(*ring)) > 300
    back = desk.phase("transfer_done", "hung_up")
    hears(to_caller, *back, AGENT_HZ, who="caller back")
    hears(to_agent, *back, CALLER_HZ, who="agent back")


def test_a_consultation_completed_hands_the_caller_to_the_colleague(city: City, tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    extension(city.agent, "8001")
    extension(city.sub_agent, "8002")
    ready(city.agent, "8001")
    ready(city.sub_agent, "8002")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            colleague = await s.phone("8002", COLLEAGUE_HZ)
            desk = Desk(s, city)
            caller, agent, call_id = await desk.connect()
            await until(desk.marks["answered"] + 2.0)
            consulted = await desk.command("consult", city.agent, call_id, "consult", "8002")
            await until(desk.marks["consult_done"] + 2.5)
            completed = await desk.command("complete", city.agent, call_id,
                                           "complete_transfer")
            await until(desk.marks["complete_done"] + 2.5)
            await desk.hang_up(caller)
            return s, desk, caller, agent, colleague, call_id, consulted, completed

    s, desk, caller, agent, colleague, call_id, consulted, completed = run(scene)
    assert (consulted.status, consulted.result) == ("done", "consulting 8002")
    assert (completed.status, completed.result) == ("done", "transferred to 8002")
    second = QueuedCall.objects.exclude(pk=call_id).get()
    assert second.outcome == CallOutcome.COMPLETED and second.agent == city.sub_agent
    assert QueuedCall.objects.get(pk=call_id).outcome == CallOutcome.COMPLETED
    assert on_hold_reports(call_id) == [True, True, False]  # the last: handed over
    assert on_hold_reports(second.pk) == [False]
    assert not QueuedCall.objects.filter(on_hold=True).exists()
    (to_caller,) = caller.calls()
    (to_agent,) = agent.calls()
    (to_colleague,) = colleague.calls()
    consulting = desk.phase("consult_done", "complete")
    hears(to_caller, *consulting, who="held caller")  # music, neither agent
    assert loudness(to_caller.between(*consulting)) > 300
    hears(to_agent, *consulting, COLLEAGUE_HZ, who="agent consulting")
    hears(to_colleague, *consulting, AGENT_HZ, who="colleague consulted")
    after = desk.phase("complete_done", "hung_up")
    hears(to_caller, *after, COLLEAGUE_HZ, who="caller after")
    hears(to_colleague, *after, CALLER_HZ, who="colleague after")
    assert to_agent.seconds < desk.marks["complete_done"] - desk.marks["answered"] + 0.5
    recording = recording_heard(s)
    hears(recording, *consulting, AGENT_HZ, COLLEAGUE_HZ, who="recording consulting")
    hears(recording, *after, CALLER_HZ, COLLEAGUE_HZ, who="recording after")


def test_a_consultation_cancelled_brings_the_agent_back_to_the_caller(city: City, tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    extension(city.agent, "8001")
    extension(city.sub_agent, "8002")
    ready(city.agent, "8001")
    ready(city.sub_agent, "8002")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            colleague = await s.phone("8002", COLLEAGUE_HZ)
            desk = Desk(s, city)
            caller, agent, call_id = await desk.connect()
            await until(desk.marks["answered"] + 1.5)
            await desk.command("consult", city.agent, call_id, "consult", "8002")
            await until(desk.marks["consult_done"] + 2.0)
            cancelled = await desk.command("cancel", city.agent, call_id, "cancel_consult")
            await colleague.wait_for_end(timeout=3)
            await until(desk.marks["cancel_done"] + 2.5)
            await desk.hang_up(caller)
            return s, desk, caller, agent, colleague, call_id, cancelled

    _, desk, caller, agent, colleague, call_id, cancelled = run(scene)
    assert (cancelled.status, cancelled.result) == ("done", "back with the caller")
    consulted = QueuedCall.objects.exclude(pk=call_id).get()
    assert consulted.outcome == CallOutcome.COMPLETED and consulted.agent == city.sub_agent
    assert QueuedCall.objects.get(pk=call_id).agent == city.agent
    assert on_hold_reports(call_id)[-1] is False
    (to_caller,) = caller.calls()
    (to_agent,) = agent.calls()
    (to_colleague,) = colleague.calls()
    assert to_colleague.seconds < desk.marks["cancel_done"] - desk.marks["consult"] + 0.5
    back = desk.phase("cancel_done", "hung_up")
    hears(to_caller, *back, AGENT_HZ, who="caller back")
    hears(to_agent, *back, CALLER_HZ, who="agent back")
    hears(to_caller, *desk.phase("consult_done", "cancel"), who="held caller")


def test_a_three_way_call_with_a_leader_lets_all_three_hear_each_other(city: City, tmp_path: Path) -> None:
    """The leader is no agent of the ACD: their extension is simply rung."""
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    extension(city.agent, "8001")
    extension(city.leader, "8100")
    ready(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            leader = await s.phone("8100", LEADER_HZ)
            desk = Desk(s, city)
            caller, agent, call_id = await desk.connect()
            await until(desk.marks["answered"] + 2.0)
            command = await desk.command("conference", city.agent, call_id, "conference",
                                         "8100")
            await until(desk.marks["conference_done"] + 3.0)
            # The agent leaves (hangs up the phone): the citizen and the leader go on.
            desk.marks["agent_left"] = now()
            await agent.hang_up()
            await s.settle(lambda: AgentStatus.objects.filter(state="wrap_up").exists())
            await until(desk.marks["agent_left"] + 2.5)
            await desk.hang_up(caller)
            await leader.wait_for_end(timeout=3)
            return s, desk, caller, agent, leader, command

    s, desk, caller, agent, leader, command = run(scene)
    assert (command.status, command.result) == ("done", "8100 joined")
    assert QueuedCall.objects.get().outcome == CallOutcome.COMPLETED
    parties = [sorted(p["label"] for p in e.payload["parties"])
               for e in DeskEvent.objects.filter(kind="call_updated")]
    assert parties == [["8001", "8100"], ["8100"]]  # joined; then the agent left
    three = desk.phase("conference_done", "agent_left")
    (to_caller,) = caller.calls()
    (to_agent,) = agent.calls()
    (to_leader,) = leader.calls()
    hears(to_leader, *three, CALLER_HZ, AGENT_HZ, who="leader")
    hears(to_caller, *three, AGENT_HZ, LEADER_HZ, who="caller")
    hears(to_agent, *three, CALLER_HZ, LEADER_HZ, who="agent")
    hears(recording_heard(s), *three, CALLER_HZ, AGENT_HZ, LEADER_HZ, who="recording")
    assert QueuedCall.objects.count() == 1  # the leader is not in the ACD
    two = desk.phase("agent_left", "hung_up")
    hears(to_leader, *two, CALLER_HZ, who="leader after the agent left")
    hears(to_caller, *two, LEADER_HZ, who="caller after the agent left")
    assert to_agent.seconds < desk.marks["agent_left"] - desk.marks["answered"] + 0.5


def test_an_emergency_transfer_dials_110_through_the_trunk(city: City, tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    extension(city.agent, "8001")
    ready(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path, trunk_hz=TRUNK_HZ) as s:
            desk = Desk(s, city)
            caller, agent, call_id = await desk.connect()
            await until(desk.marks["answered"] + 1.5)
            command = await desk.command("emergency", city.agent, call_id, "emergency", "110")
            await agent.wait_for_end(timeout=3)
            await until(desk.marks["emergency_done"] + 2.5)
            await desk.hang_up(caller)
            assert s.trunk is not None
            trunk = await s.trunk.result()
            return s, desk, caller, command, trunk

    s, desk, caller, command, (code, log) = run(scene)
    assert (command.status, command.result) == ("done", "transferred to 110")
    assert code == 0, log
    assert s.trunk is not None and s.trunk.numbers() == ["110"]
    assert AgentStatus.objects.get(pk=city.agent.pk).state == "wrap_up"
    (to_caller,) = caller.calls()
    hears(to_caller, *desk.phase("emergency_done", "hung_up"), TRUNK_HZ, who="caller")


def test_a_supervisor_listens_whispers_and_barges_in(city: City, tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    extension(city.agent, "8001")
    extension(city.monitor, "8009")
    ready(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            supervisor = await s.phone("8009", SUPERVISOR_HZ)
            desk = Desk(s, city)
            caller, agent, call_id = await desk.connect()
            await until(desk.marks["answered"] + 1.5)
            results = []
            for mode in ("listen", "whisper", "barge"):
                command = await desk.command(mode, city.monitor, call_id, mode)
                results.append((command.status, command.result))
                await until(desk.marks[f"{mode}_done"] + 2.5)
            await desk.hang_up(caller)
            return s, desk, caller, agent, supervisor, call_id, results

    s, desk, caller, agent, supervisor, call_id, results = run(scene)
    assert results == [("done", "listen"), ("done", "whisper"), ("done", "barge")]
    assert supervisor.count("Call established") == 1, supervisor.log()  # one call, 3 modes
    (to_caller,) = caller.calls()
    (to_agent,) = agent.calls()
    (to_supervisor,) = supervisor.calls()
    recording = recording_heard(s)
    listen = desk.phase("listen_done", "whisper")
    whisper = desk.phase("whisper_done", "barge")
    barge = desk.phase("barge_done", "hung_up")
    hears(to_supervisor, *listen, CALLER_HZ, AGENT_HZ, who="supervisor listening")
    hears(to_caller, *listen, AGENT_HZ, who="caller (listened to)")
    hears(to_agent, *listen, CALLER_HZ, who="agent (listened to)")
    hears(recording, *listen, CALLER_HZ, AGENT_HZ, who="recording (listen)")
    hears(to_supervisor, *whisper, CALLER_HZ, AGENT_HZ, who="supervisor whispering")
    hears(to_agent, *whisper, CALLER_HZ, SUPERVISOR_HZ, who="agent (whispered to)")
    hears(to_caller, *whisper, AGENT_HZ, who="caller (whisper)")
    hears(recording, *whisper, CALLER_HZ, AGENT_HZ, who="recording (whisper)")
    hears(to_supervisor, *barge, CALLER_HZ, AGENT_HZ, who="supervisor barging")
    hears(to_agent, *barge, CALLER_HZ, SUPERVISOR_HZ, who="agent (barge)")
    hears(to_caller, *barge, AGENT_HZ, SUPERVISOR_HZ, who="caller (barge)")
    hears(recording, *barge, CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ, who="recording (barge)")
    modes = [[p["mode"] for p in e.payload["parties"] if p["role"] == "monitor"]
             for e in DeskEvent.objects.filter(kind="call_updated", call_id=call_id)]
    assert modes == [["listen"], ["whisper"], ["barge"]]


def test_a_whisper_follows_the_call_to_the_colleague_it_was_transferred_to(city: City,
                                                                           tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=5)
    extension(city.agent, "8001")
    extension(city.sub_agent, "8002")
    extension(city.monitor, "8009")
    ready(city.agent, "8001")
    ready(city.sub_agent, "8002")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            colleague = await s.phone("8002", COLLEAGUE_HZ)
            supervisor = await s.phone("8009", SUPERVISOR_HZ)
            desk = Desk(s, city)
            caller, agent, call_id = await desk.connect()
            await desk.command("whisper", city.monitor, call_id, "whisper")
            await until(desk.marks["whisper_done"] + 2.0)
            command = await desk.command("transfer", city.agent, call_id, "blind_transfer",
                                         "8002")
            await agent.wait_for_end(timeout=3)
            await until(desk.marks["transfer_done"] + 3.0)
            await desk.hang_up(caller)
            return s, desk, caller, agent, colleague, supervisor, command

    s, desk, caller, agent, colleague, supervisor, command = run(scene)
    assert (command.status, command.result) == ("done", "transferred to 8002")
    (to_caller,) = caller.calls()
    (to_agent,) = agent.calls()
    (to_colleague,) = colleague.calls()
    whisper = desk.phase("whisper_done", "transfer")
    after = desk.phase("transfer_done", "hung_up")
    hears(to_agent, *whisper, CALLER_HZ, SUPERVISOR_HZ, who="first agent (whispered to)")
    hears(to_caller, *whisper, AGENT_HZ, who="caller (whisper)")
    # After the hand-over the supervisor is heard by the colleague, still not by the caller.
    hears(to_colleague, *after, CALLER_HZ, SUPERVISOR_HZ, who="colleague (whispered to)")
    (to_supervisor,) = supervisor.calls()  # one call: it stayed on through the transfer
    hears(to_supervisor, *after, CALLER_HZ, COLLEAGUE_HZ, who="supervisor (after)")
    hears(to_caller, *after, COLLEAGUE_HZ, who="caller (after the transfer)")
    hears(recording_heard(s), *after, CALLER_HZ, COLLEAGUE_HZ, who="recording (after)")


def test_a_transfer_nobody_answers_leaves_a_held_caller_on_hold(city: City, tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=2)
    extension(city.agent, "8001")
    extension(city.sub_agent, "8002")
    ready(city.agent, "8001")
    ready(city.sub_agent, "8002")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            await s.phone("8002", COLLEAGUE_HZ, auto_answer=False)
            desk = Desk(s, city)
            caller, agent, call_id = await desk.connect()
            await desk.command("hold", city.agent, call_id, "hold")
            command = await desk.command("transfer", city.agent, call_id, "blind_transfer",
                                         "8002")
            await until(desk.marks["transfer_done"] + 2.5)
            await desk.hang_up(caller)
            return desk, caller, agent, call_id, command

    desk, caller, agent, call_id, command = run(scene)
    assert (command.status, command.result) == ("failed", "8002 did not answer")
    assert on_hold_reports(call_id) == [True, True, True]  # held, ringing, still held
    assert QueuedCall.objects.get(pk=call_id).on_hold is True
    (to_caller,) = caller.calls()
    (to_agent,) = agent.calls()
    after = desk.phase("transfer_done", "hung_up")
    hears(to_caller, *after, who="caller still on hold")  # music, not the agent
    assert loudness(to_caller.between(*after)) > 300
    hears(to_agent, *after, who="agent (caller on hold)")
