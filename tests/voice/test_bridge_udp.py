"""The bridge over real sockets: two RtpEndpoints on loopback, each with its MediaSession,
joined by a Bridge that a BridgeRunner drives; a UDP socket per side plays the phone,
sending real RTP with a tone (µ-law on the caller's side, A-law on the agent's)."""

import asyncio
import time
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import pytest

from hotline.voice.media import g711
from hotline.voice.media.bridge import Bridge, BridgeRunner
from hotline.voice.media.g711 import Codec
from hotline.voice.media.rtp import RtpPacket, parse_rtp
from hotline.voice.media.session import MediaSession
from hotline.voice.media.udp import open_rtp_endpoint
from hotline.voice.sdp import AudioAnswer, Direction
from tests.voice.test_media_bridge import goertzel, tone_frames

SECONDS = 2.0
TONE_FROM = 25  # packets of silence first: the tone's arrival time gives the delay
CALLER_TONE, AGENT_TONE = 300.0, 500.0


class Phone(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: list[tuple[float, bytes]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append((asyncio.get_running_loop().time(), data))

    @property
    def port(self) -> int:
        return self.transport.get_extra_info("sockname")[1]


async def speak(phone: Phone, codec: Codec, frequency: float, target: tuple[str, int],
                start: float) -> list[float]:
    """Paced RTP like a phone sends it; returns the send time of each packet."""
    loop = asyncio.get_running_loop()
    count = int(SECONDS / 0.02)
    frames = [bytes(320)] * TONE_FROM + tone_frames(frequency, count - TONE_FROM, amplitude=8000)
    sent = []
    for index, frame in enumerate(frames):
        await asyncio.sleep(max(0.0, start + 0.02 * index - loop.time()))
        packet = RtpPacket(int(codec), 5000 + index, 160 * index, 4242 + int(codec),
                           g711.encode(codec, frame), marker=index == 0)
        phone.transport.sendto(packet.to_bytes(), target)
        sent.append(loop.time())
    return sent


def heard(phone: Phone, codec: Codec) -> list[tuple[float, bytes]]:
    packets = [(at, parse_rtp(data)) for at, data in phone.received]
    assert packets and {p.payload_type for _, p in packets} == {int(codec)}
    return [(at, g711.decode(codec, p.payload)) for at, p in packets]


def first_loud(frames: list[tuple[float, bytes]], frequency: float) -> float:
    for at, pcm in frames:
        if goertzel(pcm, frequency) > 2000:
            return at
    raise AssertionError("the tone never arrived")


async def run_call() -> tuple[Any, ...]:
    loop = asyncio.get_running_loop()
    caller_rtp = await open_rtp_endpoint("127.0.0.1", lambda digit: None)
    agent_rtp = await open_rtp_endpoint("127.0.0.1", lambda digit: None)
    _, caller_phone = await loop.create_datagram_endpoint(Phone, local_addr=("127.0.0.1", 0))
    _, agent_phone = await loop.create_datagram_endpoint(Phone, local_addr=("127.0.0.1", 0))
    now = loop.time()
    caller = MediaSession(AudioAnswer("127.0.0.1", caller_phone.port, 0, Codec.PCMU, 101,
                                      Direction.SENDRECV, b""), start=now)
    agent = MediaSession(AudioAnswer("127.0.0.1", agent_phone.port, 8, Codec.PCMA, 101,
                                     Direction.SENDRECV, b""), start=now + 0.007)
    caller_rtp.attach(caller)
    agent_rtp.attach(agent)
    bridge = Bridge()
    bridge.add("caller", caller)
    bridge.add("agent", agent)
    runner = BridgeRunner(bridge)
    runner.start()
    try:
        start = loop.time() + 0.05
        caller_sent, agent_sent = await asyncio.gather(
            speak(caller_phone, Codec.PCMU, CALLER_TONE, ("127.0.0.1", caller_rtp.port), start),
            speak(agent_phone, Codec.PCMA, AGENT_TONE, ("127.0.0.1", agent_rtp.port),
                  start + 0.011),
        )
        await asyncio.sleep(0.1)  # the last packets on their way
    finally:
        runner.stop()
        caller_rtp.close()
        agent_rtp.close()
        caller_phone.transport.close()
        agent_phone.transport.close()
    return caller_phone, agent_phone, caller_sent, agent_sent, bridge, runner, caller, agent


def test_each_phone_hears_the_other_through_the_bridge() -> None:
    caller_phone, agent_phone, caller_sent, agent_sent, bridge, runner, caller, agent = (
        asyncio.run(run_call()))
    assert not runner.running and runner.errors == 0
    assert bridge.ticks >= SECONDS / 0.02 - 5
    at_caller = heard(caller_phone, Codec.PCMU)
    at_agent = heard(agent_phone, Codec.PCMA)
    for frames, hears, own in ((at_caller, AGENT_TONE, CALLER_TONE),
                               (at_agent, CALLER_TONE, AGENT_TONE)):
        assert len(frames) >= SECONDS / 0.02  # a packet every 20 ms, silence included
        tail = b"".join(pcm for _, pcm in frames[TONE_FROM + 15: TONE_FROM + 65])  # 1 s
        assert goertzel(tail, hears) > 6000, (hears, goertzel(tail, hears))
        assert goertzel(tail, own) < 150  # no echo of one's own voice
        gaps = np.diff([at for at, _ in frames])
        assert np.median(gaps) < 0.025
    # Mouth to ear through two sockets, the bridge's queues and both pacers.
    caller_to_agent = first_loud(at_agent, CALLER_TONE) - caller_sent[TONE_FROM]
    agent_to_caller = first_loud(at_caller, AGENT_TONE) - agent_sent[TONE_FROM]
    assert 0 < caller_to_agent < 0.1 and 0 < agent_to_caller < 0.1, (
        caller_to_agent, agent_to_caller)
    for session in (caller, agent):
        assert session.counters.received == SECONDS / 0.02
        assert session.counters.frames_dropped <= 3  # only if this machine stalled


class ScriptedBridge(Bridge):
    """A bridge whose tick also runs `after_tick` (to stall the loop, fail or hang up)."""

    def __init__(self, after_tick: "Callable[[ScriptedBridge], None]") -> None:
        super().__init__()
        self.after_tick = after_tick

    def tick(self) -> None:
        super().tick()
        self.after_tick(self)


async def run_runner(stall_at: int, stall_seconds: float,
                     seconds: float) -> tuple[BridgeRunner, ScriptedBridge, float, int]:
    loop = asyncio.get_running_loop()

    def stall_once(bridge: ScriptedBridge) -> None:
        if bridge.ticks == stall_at:
            time.sleep(stall_seconds)  # the whole loop is blocked (a slow callback elsewhere)

    bridge = ScriptedBridge(stall_once)
    runner = BridgeRunner(bridge, measure=True)
    started = loop.time()
    runner.start()
    runner.start()  # a second start changes nothing
    await asyncio.sleep(seconds)
    runner.stop()
    elapsed = loop.time() - started
    ticks_at_stop = bridge.ticks
    await asyncio.sleep(0.1)
    return runner, bridge, elapsed, ticks_at_stop


def test_the_runner_keeps_its_grid_and_catches_up_without_a_burst() -> None:
    runner, bridge, elapsed, ticks_at_stop = asyncio.run(run_runner(10, 0.2, 1.0))
    assert bridge.ticks == ticks_at_stop  # stopped means stopped
    # 10 stalled slots: 3 run at once on waking, 7 are skipped (more if this machine
    # stalled the loop again); the grid is kept whatever happened.
    assert runner.ticks_skipped >= 10 - runner.max_catch_up
    expected = int(elapsed / 0.02) + 1 - runner.ticks_skipped
    assert abs(bridge.ticks - expected) <= 1, (bridge.ticks, expected)
    assert max(runner.lateness) >= 0.18
    assert sorted(runner.lateness)[len(runner.lateness) // 2] < 0.01


def test_a_failing_tick_is_logged_and_the_runner_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    def fail(bridge: ScriptedBridge) -> None:
        raise RuntimeError("boom")

    async def run() -> tuple[BridgeRunner, ScriptedBridge]:
        bridge = ScriptedBridge(fail)
        runner = BridgeRunner(bridge)
        runner.start()
        await asyncio.sleep(0.2)
        runner.stop()
        return runner, bridge

    runner, bridge = asyncio.run(run())
    assert bridge.ticks >= 8 and runner.errors == bridge.ticks
    assert [r.message for r in caplog.records].count("bridge tick failed (1 failures)") == 1


def test_a_tick_can_stop_its_own_runner() -> None:
    def hang_up_at_the_third(bridge: ScriptedBridge) -> None:
        if bridge.ticks == 3:
            runner.stop()

    async def run() -> None:
        runner.start()
        await asyncio.sleep(0.2)

    bridge = ScriptedBridge(hang_up_at_the_third)
    runner = BridgeRunner(bridge)
    asyncio.run(run())
    assert bridge.ticks == 3 and not runner.running
