"""The media clock: one 20 ms tick per loop for every RTP stream and bridge."""

from __future__ import annotations

import asyncio
import itertools
import socket
import statistics
from typing import Any

import pytest

from hotline.voice.media.bridge import Bridge, BridgeRunner
from hotline.voice.media.clock import MediaClock, media_clock
from hotline.voice.media.g711 import Codec
from hotline.voice.media.rtp import parse_rtp
from hotline.voice.media.session import MediaSession
from hotline.voice.media.udp import open_rtp_endpoint
from hotline.voice.sdp import AudioAnswer, Direction


class FakeHandle:
    def __init__(self, loop: FakeLoop, when: float, callback: Any) -> None:
        self.loop, self.when, self.callback, self.cancelled = loop, when, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class FakeLoop:
    """time() and call_at() only: the clock's scheduling, step by step."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.handles: list[FakeHandle] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Any) -> FakeHandle:
        handle = FakeHandle(self, when, callback)
        self.handles.append(handle)
        return handle

    def pending(self) -> list[FakeHandle]:
        return [h for h in self.handles if not h.cancelled and h.callback is not None]

    def fire(self, at: float | None = None) -> float:
        """Run the one pending timer at its time (or `at`: late or early)."""
        (handle,) = self.pending()
        self.now = handle.when if at is None else at
        callback, handle.callback = handle.callback, None
        callback()
        return handle.when


class Member:
    def __init__(self, name: str, calls: list[tuple[str, float]]) -> None:
        self.name, self.calls = name, calls
        self.action: Any = None

    def on_tick(self, tick_time: float) -> None:
        self.calls.append((self.name, tick_time))
        if self.action is not None:
            self.action()


def make_clock() -> tuple[FakeLoop, MediaClock]:
    loop = FakeLoop()
    return loop, MediaClock(loop)  # type: ignore[arg-type]


def test_one_timer_for_all_members_bridges_first_on_a_drift_free_grid() -> None:
    loop, clock = make_clock()
    calls: list[tuple[str, float]] = []
    stream_a, stream_b, bridge = Member("a", calls), Member("b", calls), Member("bridge", calls)
    loop.now = 100.005
    clock.add_stream(stream_a)
    clock.add_stream(stream_b)
    clock.add_bridge(bridge)
    assert len(loop.pending()) == 1  # one timer, however many members
    first = loop.fire()
    assert first == pytest.approx(100.02)  # the grid's origin is the clock's creation
    assert calls == [("bridge", first), ("a", first), ("b", first)]
    calls.clear()
    # Late wake-ups do not shift the grid: the members get the grid point, not `now`.
    for n in range(1, 50):
        (handle,) = loop.pending()
        assert handle.when == pytest.approx(100.02 + 0.02 * n, abs=1e-9)
        loop.fire(handle.when + 0.007)
    assert [t for name, t in calls if name == "a"] == pytest.approx(
        [100.02 + 0.02 * n for n in range(1, 50)], abs=1e-9)
    assert clock.wakeups == 50 == clock.ticks


def test_an_early_wakeup_counts_as_its_grid_point_and_a_stall_skips_to_now() -> None:
    loop, clock = make_clock()
    calls: list[tuple[str, float]] = []
    clock.add_stream(Member("a", calls))
    loop.fire()  # 100.02
    loop.fire(100.0395)  # 0.5 ms early (uvloop's timers round to the millisecond)
    assert calls[-1][1] == pytest.approx(100.04)
    loop.fire(100.3)  # a stall: one call with the latest grid point, the member catches up
    assert calls[-1][1] == pytest.approx(100.3)
    assert len(calls) == 3
    (handle,) = loop.pending()
    assert handle.when == pytest.approx(100.32)


def test_the_clock_sleeps_without_members_and_keeps_its_grid() -> None:
    loop, clock = make_clock()
    calls: list[tuple[str, float]] = []
    member = Member("a", calls)
    clock.add_stream(member)
    loop.fire()
    clock.remove(member)
    assert loop.pending() == []  # idle: no wake-ups at all
    clock.remove(member)  # twice is harmless
    loop.now = 107.013
    clock.add_bridge(member)
    (handle,) = loop.pending()
    assert handle.when == pytest.approx(107.02)  # the same grid as before
    assert clock.align(107.013) == pytest.approx(107.02)
    assert clock.align(107.02) == pytest.approx(107.02)


def test_a_member_removed_during_a_tick_is_not_called_and_a_failure_stops_nobody(
        caplog: pytest.LogCaptureFixture) -> None:
    loop, clock = make_clock()
    calls: list[tuple[str, float]] = []
    bridge, doomed, failing, other = (Member(n, calls) for n in ("bridge", "doomed", "x", "o"))
    bridge.action = lambda: clock.remove(doomed)  # the mix hung a leg up

    def fail() -> None:
        raise RuntimeError("boom")

    failing.action = fail
    for stream in (doomed, failing, other):
        clock.add_stream(stream)
    clock.add_bridge(bridge)
    loop.fire()
    loop.fire()
    assert [name for name, _ in calls] == ["bridge", "x", "o", "bridge", "x", "o"]
    assert clock.errors == 2
    assert [r.message for r in caplog.records].count(
        "media clock member failed (1 failures)") == 1


def test_one_clock_per_loop() -> None:
    async def clocks() -> tuple[MediaClock, MediaClock]:
        return media_clock(), media_clock()

    first, again = asyncio.run(clocks())
    other, _ = asyncio.run(clocks())
    assert first is again and other is not first
    # A clock does not keep its loop alive (nor, through the per-loop table, itself).
    import gc
    import weakref

    ref = weakref.ref(first)
    del first, again, other
    gc.collect()
    assert ref() is None


def answer(port: int) -> AudioAnswer:
    return AudioAnswer("127.0.0.1", port, int(Codec.PCMU), Codec.PCMU, 101, Direction.SENDRECV,
                       b"")


LOOP_TYPES: list[str] = []


async def streams_and_a_bridge(seconds: float) -> tuple[list[list[bytes]], MediaClock, float]:
    loop = asyncio.get_running_loop()
    LOOP_TYPES.append(type(loop).__module__)
    phones = []
    for _ in range(3):
        phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        phone.bind(("127.0.0.1", 0))
        phone.setblocking(False)
        phones.append(phone)
    endpoints = []
    for index, phone in enumerate(phones):
        endpoint = await open_rtp_endpoint("127.0.0.1", lambda digit: None, measure=True)
        session = MediaSession(answer(phone.getsockname()[1]), start=loop.time(), latch=False)
        endpoint.attach(session)
        endpoints.append(endpoint)
        await asyncio.sleep(0.007 * index)  # calls start at any moment
    bridge = Bridge()
    bridge.add("a", endpoints[0].session)  # type: ignore[arg-type]
    bridge.add("b", endpoints[1].session)  # type: ignore[arg-type]
    runner = BridgeRunner(bridge)
    runner.start()
    clock = media_clock()
    wakeups = clock.wakeups
    await asyncio.sleep(seconds)
    wakeups = clock.wakeups - wakeups
    runner.stop()
    received: list[list[bytes]] = []
    for endpoint, phone in zip(endpoints, phones, strict=True):
        endpoint.close()
        packets = []
        while True:
            try:
                packets.append(phone.recv(2048))
            except BlockingIOError:
                break
        phone.close()
        received.append(packets)
    assert len(clock) == 0  # everything closed: the clock sleeps
    # Every stream's slots were put on the clock's grid (so one wake-up serves them all).
    for endpoint in endpoints:
        assert endpoint.session is not None
        slots = (endpoint.session.pacer.start - clock.origin) / clock.interval
        assert slots == pytest.approx(round(slots), abs=1e-6)
        gaps = [b - a for a, b in itertools.pairwise(endpoint.send_times) if b > a]
        assert statistics.median(gaps) == pytest.approx(0.02, abs=0.004)
    return received, clock, wakeups / seconds


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_real_streams_share_the_ticks_and_keep_rtp_sequence_and_timestamps(loop: str) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
        from hotline.voice.server import run_loop

        received, _, wakeups_per_s = run_loop(streams_and_a_bridge(1.5), "uvloop")
        assert LOOP_TYPES[-1].startswith("uvloop")
    else:
        received, _, wakeups_per_s = asyncio.run(streams_and_a_bridge(1.5))
    # One wake-up per 20 ms for three streams and a bridge (a timer each would be 200/s).
    assert wakeups_per_s < 55
    for packets in received:
        assert len(packets) > 1.0 / 0.02  # a busy machine may skip a few slots
        parsed = [parse_rtp(p) for p in packets]
        for a, b in itertools.pairwise(parsed):
            assert b.sequence == (a.sequence + 1) & 0xFFFF
            assert (b.timestamp - a.timestamp) & 0xFFFFFFFF >= 160
        steps = [(b.timestamp - a.timestamp) & 0xFFFFFFFF for a, b in itertools.pairwise(parsed)]
        assert statistics.median(steps) == 160
        assert parsed[0].marker
