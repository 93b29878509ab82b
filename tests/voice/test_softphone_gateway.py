"""The desk's softphone in the gateway without a browser: an aiortc peer plays the desk (its SDP
offer through the same registration service the desk's view calls, its answer and hang-up on
the "control" data channel), a sipp caller dials 12345 and the ACD rings the softphone.

Tones tell the parties apart: the softphone sends 700 Hz, the caller 1400 Hz. The browser
test (tests/e2e/test_softphone_browser.py) does the same through Chromium and the desk page.
"""

from __future__ import annotations

import asyncio
import fractions
import json
from typing import TYPE_CHECKING, Any

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from hotline.contactcentre import softphones
from hotline.contactcentre.models import (
    CallOutcome,
    CallRecording,
    PhoneKind,
    Queue,
    QueuedCall,
    SoftphoneSession,
    SoftphoneState,
)
from tests.voice.agentphone import (  # noqa: F401 - the fixtures are used by name
    HEARD,
    NOT_HEARD,
    Scene,
    _no_gateway_errors,
    _peers_and_media,
    actions,
    db,
    extension,
    levels,
    ready,
)
from tests.voice.test_baresip import read_mono

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import City

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("_peers_and_media", "_no_gateway_errors")]
DESK_HZ, CALLER_HZ = 700.0, 1400.0


class ToneTrack(MediaStreamTrack):
    """A microphone that hears a tone: 48 kHz mono 20 ms frames, paced."""

    kind = "audio"

    def __init__(self, frequency: float) -> None:
        super().__init__()
        self.frequency = frequency
        self._index = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        await asyncio.sleep(max(0.0, self._start + self._index * 0.02 - loop.time()))
        t = (np.arange(960) + self._index * 960) / 48000
        pcm = (8000 * np.sin(2 * np.pi * self.frequency * t)).astype("<i2")
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = self._index * 960
        frame.time_base = fractions.Fraction(1, 48000)
        self._index += 1
        return frame


class Desk:
    """What the desk's script does, in Python: register, answer, hang up, press keys."""

    def __init__(self, user: Any, frequency: float) -> None:
        self.user = user
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTrack(ToneTrack(frequency))
        self.channel = self.pc.createDataChannel("control")
        self.messages: list[dict[str, Any]] = []
        self.heard = bytearray()  # 8 kHz mono PCM of what the gateway sent
        self.channel.on("message", lambda raw: self.messages.append(json.loads(raw)))
        self.pc.on("track", self._on_track)
        self.reader: asyncio.Task[None] | None = None

    def _on_track(self, track: Any) -> None:
        from hotline.voice.webrtc.frames import To8k

        async def read() -> None:
            to8k = To8k()
            while True:
                try:
                    frame = await track.recv()
                except Exception:
                    return
                for chunk in to8k.feed(frame):
                    self.heard += chunk

        self.reader = asyncio.get_running_loop().create_task(read())

    async def register(self) -> SoftphoneSession:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        session = await db(softphones.do_offer_softphone, self.user, self.pc.localDescription.sdp)
        for _ in range(150):
            row = await db(softphones.softphone_session_for, self.user, session.pk)
            if row.state == SoftphoneState.ANSWERED:
                await self.pc.setRemoteDescription(RTCSessionDescription(row.answer_sdp, "answer"))
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"no answer from the gateway: {row.state} {row.reason}")
        for _ in range(150):
            if self.channel.readyState == "open":
                return row
            await asyncio.sleep(0.1)
        raise AssertionError("the control channel did not open")

    async def wait(self, kind: str, timeout: float = 20.0) -> dict[str, Any]:
        for _ in range(int(timeout / 0.05)):
            for message in self.messages:
                if message["type"] == kind:
                    self.messages.remove(message)
                    return message
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind} message: {self.messages}")

    def send(self, **message: Any) -> None:
        self.channel.send(json.dumps(message))

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        await self.pc.close()


def softphone_extension(user: Any, number: str) -> Any:
    phone = extension(user, number)
    phone.phone = PhoneKind.SOFTPHONE
    phone.save(update_fields=["phone"])
    return phone


async def registered(scene: Scene, number: str) -> None:
    for _ in range(100):
        if number in scene.gateway.agents.softphones.phones:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"softphone {number} not registered")


def test_the_softphone_rings_answers_talks_both_ways_and_is_recorded(city: City,
                                                                     tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=15)
    softphone_extension(city.agent, "8001")
    ready(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            desk = Desk(city.agent, DESK_HZ)
            try:
                await desk.register()
                await registered(s, "8001")
                directory, process = await s.start_call(talk_ms=5000, tone_hz=CALLER_HZ)
                ring = await desk.wait("ring")
                heard_before = len(desk.heard)
                desk.send(type="dtmf", leg=ring["leg"], digit="5")  # not connected: ignored
                desk.send(type="answer", leg=ring["leg"])
                await desk.wait("connected")
                await asyncio.sleep(1.0)
                # Hold is the desk's call command, carried out on the bridge as for a SIP
                # phone: the caller hears music, the desk hears nobody.
                call_id = ring["call"]
                held = await s.command(city.agent, call_id, "hold")
                assert held.status == "done", held.result
                hold_from = len(desk.heard)
                await asyncio.sleep(1.0)
                hold_to = len(desk.heard)
                resumed = await s.command(city.agent, call_id, "resume")
                assert resumed.status == "done", resumed.result
                desk.send(type="dtmf", leg=ring["leg"], digit="7")
                desk.send(type="bogus")
                desk.channel.send("not json {")
                code, log = await s.call_result(directory, process)
                await desk.wait("ended")
                await s.settle(lambda: CallRecording.objects.exists(), 15)
                during_hold = bytes(desk.heard[hold_from + 3200:hold_to])
                return s, desk, heard_before, during_hold, code, log
            finally:
                await desk.close()

    s, desk, heard_before, during_hold, code, log = asyncio.run(scene())
    assert code == 0, log
    call = QueuedCall.objects.get()
    assert call.outcome == CallOutcome.COMPLETED and call.agent == city.agent
    assert actions(city.agent) == ["offer", "answer", "hang_up"]
    assert s.gateway.entries("dial") == ["agent:8001"]
    assert s.gateway.entries("keypad") == ["8001:7"]
    # The caller's tone reached the desk; the desk's own did not come back.
    heard = np.frombuffer(bytes(desk.heard[heard_before:]), "<i2")
    assert len(heard) > 8000 * 2 * 2
    caller, own = levels(heard, 8000, CALLER_HZ, DESK_HZ)
    assert caller > HEARD and own < NOT_HEARD, (caller, own)
    assert len(during_hold) > 3200
    assert levels(np.frombuffer(during_hold, "<i2"), 8000, CALLER_HZ)[0] < NOT_HEARD
    # The desk's tone (Opus over DTLS-SRTP, resampled to 8 kHz) is in the call's recording.
    samples, rate = read_mono(CallRecording.objects.get().file.path)
    in_recording = levels(samples, rate, DESK_HZ, CALLER_HZ)
    assert min(in_recording) > HEARD, in_recording


def test_a_softphone_that_refuses_the_call_loses_it_and_a_signed_out_desk_is_unregistered(
        city: City, tmp_path: Path) -> None:
    from hotline.contactcentre import services as desk_services
    from hotline.contactcentre.models import AgentStatus

    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=15)
    softphone_extension(city.agent, "8001")
    ready(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            desk = Desk(city.agent, DESK_HZ)
            try:
                row = await desk.register()
                await registered(s, "8001")
                directory, process = await s.start_call(talk_ms=3000, hang_up=True,
                                                        tone_hz=CALLER_HZ)
                ring = await desk.wait("ring")
                desk.send(type="hangup", leg=ring["leg"])
                await desk.wait("ended")
                await s.settle(lambda: AgentStatus.objects.get(pk=city.agent.pk).state == "busy")
                code, log = await s.call_result(directory, process)
                assert code == 0, log
                await s.settle(lambda: QueuedCall.objects.filter(outcome="abandoned").exists())
                await db(desk_services.do_sign_out, city.agent)
                for _ in range(100):
                    if "8001" not in s.gateway.agents.softphones.phones:
                        break
                    await asyncio.sleep(0.1)
                return s, row
            finally:
                await desk.close()

    s, row = asyncio.run(scene())
    assert "8001" not in s.gateway.agents.softphones.phones
    assert SoftphoneSession.objects.get(pk=row.pk).state == SoftphoneState.CLOSED
    assert actions(city.agent)[:2] == ["offer", "no_answer"]


def test_a_supervisor_on_a_softphone_listens_and_whispers_to_an_agent_on_a_softphone(
        city: City, tmp_path: Path) -> None:
    """Listen and whisper work on softphone legs unchanged: the supervisor's desk rings for the
    command, hears both parties; whispering, the agent hears the supervisor and the recording
    (the citizen's side of things) never does."""
    supervisor_hz = 900.0
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=15)
    softphone_extension(city.agent, "8001")
    softphone_extension(city.monitor, "8009")
    ready(city.agent, "8001")
    from hotline.contactcentre import services as desk_services

    desk_services.do_sign_in(city.monitor, extension="8009")

    async def listen_answered_on(s: Scene, desk: Desk, call_id: int) -> Any:
        """The listen command rings the supervisor's desk; it is done once answered there."""
        issued = asyncio.get_running_loop().create_task(s.command(city.monitor, call_id,
                                                                  "listen"))
        ring = await desk.wait("ring")
        desk.send(type="answer", leg=ring["leg"])
        await desk.wait("connected")
        return await issued

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            agent = Desk(city.agent, DESK_HZ)
            supervisor = Desk(city.monitor, supervisor_hz)
            try:
                await agent.register()
                await supervisor.register()
                await registered(s, "8001")
                await registered(s, "8009")
                directory, process = await s.start_call(talk_ms=9000, tone_hz=CALLER_HZ)
                ring = await agent.wait("ring")
                agent.send(type="answer", leg=ring["leg"])
                await agent.wait("connected")
                call_id = ring["call"]
                listened = await listen_answered_on(s, supervisor, call_id)
                assert (listened.status, listened.result) == ("done", "listen")
                listen_from = len(supervisor.heard)
                await asyncio.sleep(2.0)
                listen_to = len(supervisor.heard)
                # Already on the call: the mode changes, nothing rings.
                whispered = await s.command(city.monitor, call_id, "whisper")
                assert (whispered.status, whispered.result) == ("done", "whisper")
                whisper_from = len(agent.heard)
                await asyncio.sleep(2.0)
                whisper_to = len(agent.heard)
                code, log = await s.call_result(directory, process)
                await s.settle(lambda: CallRecording.objects.exists(), 15)
                listening = bytes(supervisor.heard[listen_from + 3200:listen_to])
                whispered_to = bytes(agent.heard[whisper_from + 3200:whisper_to])
                return code, log, listening, whispered_to
            finally:
                await agent.close()
                await supervisor.close()

    code, log, listening, whispered_to = asyncio.run(scene())
    assert code == 0, log
    caller, agent, own = levels(np.frombuffer(listening, "<i2"), 8000, CALLER_HZ, DESK_HZ,
                                supervisor_hz)
    assert caller > HEARD and agent > HEARD and own < NOT_HEARD, (caller, agent, own)
    supervisor_level = levels(np.frombuffer(whispered_to, "<i2"), 8000, supervisor_hz)[0]
    assert supervisor_level > HEARD, supervisor_level
    samples, rate = read_mono(CallRecording.objects.get().file.path)
    assert levels(samples, rate, supervisor_hz)[0] < NOT_HEARD


def test_a_broken_offer_fails_alone_and_an_unanswered_softphone_rings_out(city: City,
                                                                          tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=2)
    softphone_extension(city.agent, "8001")
    ready(city.agent, "8001")
    # Past the web's checks (an audio session description), not something aiortc can answer.
    broken = softphones.do_offer_softphone(city.agent, "v=0\r\nm=audio x y z\r\na=broken\r\n")

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            await s.settle(lambda: SoftphoneSession.objects.get(pk=broken.pk).state
                           == SoftphoneState.FAILED)
            desk = Desk(city.agent, DESK_HZ)
            try:
                await desk.register()
                await registered(s, "8001")
                directory, process = await s.start_call(talk_ms=5000, tone_hz=CALLER_HZ)
                ring = await desk.wait("ring")
                ended = await desk.wait("ended", timeout=10)
                assert ended["leg"] == ring["leg"]
                code, log = await s.call_result(directory, process)
                return code, log
            finally:
                await desk.close()

    code, log = asyncio.run(scene())
    assert code == 0, log
    assert SoftphoneSession.objects.get(pk=broken.pk).reason == "the offer could not be answered"
    assert actions(city.agent)[:2] == ["offer", "no_answer"]


def test_a_call_back_rings_the_desk_then_the_citizen_and_records_both(
        city: City, tmp_path: Path, settings: Any) -> None:
    """Preview dialling (回访) with the desk as the phone: the softphone rings first, the
    agent answers there, the citizen (sipp behind the trunk) is dialled and bridged; the
    recording holds both and the desk heard the citizen."""
    import datetime as dt

    from hotline.orders.models import Contact
    from hotline.orders.services import NewOrder, do_create_order
    from hotline.outreach.calls import do_queue_call
    from hotline.outreach.models import OutboundCall
    from tests.voice.test_outbound_agent import CITIZEN, finished

    settings.HOTLINE_OUTREACH_QUIET_START = dt.time(0, 0)
    settings.HOTLINE_OUTREACH_QUIET_END = dt.time(0, 0)
    order, _ = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="三天没水", citizen_phone=CITIZEN))
    softphone_extension(city.agent, "8001")
    desk_services_sign_in(city.agent)

    async def scene() -> Any:
        async with Scene(tmp_path, trunk_hz=CALLER_HZ) as s:
            desk = Desk(city.agent, DESK_HZ)
            try:
                await desk.register()
                await registered(s, "8001")
                call = await db(lambda: do_queue_call(
                    CITIZEN, "test", "agent", agent=city.agent, agent_extension="8001",
                    order=order, ref="callback-task:1"))
                ring = await desk.wait("ring", timeout=30)
                desk.send(type="answer", leg=ring["leg"])
                await desk.wait("connected")
                for _ in range(150):  # until the citizen is bridged
                    if s.gateway.entries("bridged"):
                        break
                    await asyncio.sleep(0.1)
                bridged_at = len(desk.heard)
                await asyncio.sleep(3.0)  # they talk
                talked = bytes(desk.heard[bridged_at + 3200:])
                desk.send(type="hangup", leg=ring["leg"])
                done = await s.settle(finished(call.pk), 15)
                assert s.trunk is not None
                code, log = await s.trunk.result()
                return s, done, code, log, talked
            finally:
                await desk.close()

    s, done, code, log, talked = asyncio.run(scene())
    assert code == 0, log
    assert done.outcome == "answered" and done.state == OutboundCall.State.DONE
    assert s.gateway.entries("dial") == ["agent:8001", f"citizen:{CITIZEN}"]
    assert levels(np.frombuffer(talked, "<i2"), 8000, CALLER_HZ)[0] > HEARD
    contact = Contact.objects.get(pk=done.contact_id)
    assert contact.agent == city.agent and list(contact.orders.all()) == [order]
    samples, rate = read_mono(CallRecording.objects.get(contact=contact).file.path)
    assert min(levels(samples, rate, DESK_HZ, CALLER_HZ)) > HEARD


def desk_services_sign_in(user: Any) -> None:
    from hotline.contactcentre import services as desk_services

    desk_services.do_sign_in(user, extension="8001")

def test_reloading_the_desk_mid_call_keeps_the_call_on_the_new_page(city: City,
                                                                   tmp_path: Path) -> None:
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=15)
    softphone_extension(city.agent, "8001")
    ready(city.agent, "8001")
    reloaded_hz = 500.0

    async def scene() -> Any:
        async with Scene(tmp_path) as s:
            first = Desk(city.agent, DESK_HZ)
            second = Desk(city.agent, reloaded_hz)
            try:
                await first.register()
                await registered(s, "8001")
                directory, process = await s.start_call(talk_ms=7000, tone_hz=CALLER_HZ)
                ring = await first.wait("ring")
                first.send(type="answer", leg=ring["leg"])
                await first.wait("connected")
                await asyncio.sleep(1.0)
                await second.register()  # the page was reloaded: a new registration
                taken = await second.wait("connected")
                assert taken["leg"] == ring["leg"]
                from_ = len(second.heard)
                await asyncio.sleep(2.0)
                heard = bytes(second.heard[from_ + 3200:])
                calls = list(s.gateway.agents.calls.values())
                code, log = await s.call_result(directory, process)  # the caller hangs up
                ended = await second.wait("ended")  # told to the new page
                assert ended["leg"] == ring["leg"]
                await s.settle(lambda: CallRecording.objects.exists(), 15)
                return code, log, heard, calls
            finally:
                await first.close()
                await second.close()

    code, log, heard, calls = asyncio.run(scene())
    assert code == 0, log
    assert len(calls) == 1  # still the one call
    assert levels(np.frombuffer(heard, "<i2"), 8000, CALLER_HZ)[0] > HEARD
    call = QueuedCall.objects.get()
    assert call.outcome == CallOutcome.COMPLETED
    samples, rate = read_mono(CallRecording.objects.get().file.path)
    first_page, second_page = levels(samples, rate, DESK_HZ, reloaded_hz)
    # Both pages were heard: the first for a second of the call, the new one for the rest.
    assert second_page > HEARD and first_page > 5 * NOT_HEARD, (first_page, second_page)
