"""The media bridge's cost per 20 ms tick with many calls in one process; prints one JSON line.

`--bridges` bridges of `--legs` legs each (2: caller and agent; 3: a three-way call;
4: plus a supervisor whispering to the agent), every leg a real `MediaSession` (µ-law and
A-law alternately) receiving one real RTP packet with a tone per tick, every bridge
recording to its own WAV file (`--no-record` to leave that out). No sockets: this
measures the CPU of the media path, not the kernel.

Phase 1, back to back (`--ticks` ticks): per tick, the time of all sessions' `receive()`
(what the RTP socket's callback does), of all bridges' `tick()` (the number asked for:
`tick_p50_ms`, `tick_p99_ms`, `tick_max_ms`; it must stay far below 20 ms), and of all
sessions' `due_packets()` (encoding and packetising the mix). `media_p50_ms` is the sum of
the three medians: the share of each 20 ms that the whole media path takes.

Phase 2, real time (`--realtime` seconds, 0 to skip): as in the gateway, one `BridgeRunner`
per bridge and, per session, a member of the loop's `MediaClock` that feeds it one packet
and sends its due packets as an `RtpEndpoint` does, all driven by the one 20 ms clock of
the loop (asyncio's, as the gateway runs by default, or `--loop uvloop`); calls start at
random moments.
Reported: how late the runners' ticks fire against their 20 ms grid (`runner_late_p50_ms`,
`runner_late_p99_ms`), ticks skipped after stalls, the spacing of every leg's outgoing
packets (`leg_spacing_p50_ms`, `_p99_`, `_max_`, as `voice_load.py` measures it), the
clock's wake-ups per second and the CPU share of the process over the phase. No sockets:
the kernel's share of real RTP is not in it. Recording writes each file once a second; on
a shared machine the real-time figures move with what else runs (the JSON has the load).

    .venv/bin/python bench/bridge.py                     # 300 bridges of 2 legs, recorded
    .venv/bin/python bench/bridge.py --legs 4 --bridges 150
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotline.voice.media import g711  # noqa: E402
from hotline.voice.media.bridge import Bridge, BridgeRunner, LegMode  # noqa: E402
from hotline.voice.media.clock import media_clock  # noqa: E402
from hotline.voice.media.g711 import Codec  # noqa: E402
from hotline.voice.media.recorder import WavRecorder  # noqa: E402
from hotline.voice.media.rtp import RtpPacket  # noqa: E402
from hotline.voice.media.session import MediaSession  # noqa: E402
from hotline.voice.prompts import tone_pcm  # noqa: E402
from hotline.voice.sdp import AudioAnswer, Direction  # noqa: E402

SOURCE = ("127.0.0.1", 40000)
TONES = (300.0, 500.0, 700.0, 900.0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Leg:
    """One leg and the packets its phone sends (a one-second tone, replayed)."""

    def __init__(self, index: int, start: float) -> None:
        self.codec = Codec.PCMU if index % 2 == 0 else Codec.PCMA
        answer = AudioAnswer(SOURCE[0], SOURCE[1], int(self.codec), self.codec, 101,
                             Direction.SENDRECV, b"")
        self.session = MediaSession(answer, start=start)
        payload = g711.encode(self.codec, tone_pcm(TONES[index % len(TONES)], 1.0, 6000))
        self.payloads = [payload[i:i + 160] for i in range(0, len(payload), 160)]
        self.sequence = 0
        self.ssrc = 1000 + index

    def packet(self) -> bytes:
        payload = self.payloads[self.sequence % len(self.payloads)]
        packet = RtpPacket(int(self.codec), self.sequence & 0xFFFF, 160 * self.sequence,
                           self.ssrc, payload)
        self.sequence += 1
        return packet.to_bytes()


def build(args: argparse.Namespace, work: Path, start: float) -> list[tuple[Bridge, list[Leg]]]:
    calls = []
    for number in range(args.bridges):
        recorder = WavRecorder(str(work / f"call-{number}.wav")) if args.record else None
        bridge = Bridge(recorder=recorder)
        legs = [Leg(index, start) for index in range(args.legs)]
        names = ("caller", "agent", "department", "supervisor")
        for index, leg in enumerate(legs):
            if index == 3:
                bridge.add(names[index], leg.session, LegMode.WHISPER, whisper_to="agent")
            else:
                bridge.add(names[index], leg.session)
        calls.append((bridge, legs))
    return calls


def back_to_back(args: argparse.Namespace, work: Path) -> dict[str, float]:
    calls = build(args, work, start=0.0)
    sessions = [leg for _, legs in calls for leg in legs]
    receive_ms, tick_ms, send_ms = [], [], []
    packets = 0
    for number in range(args.ticks):
        now = 0.02 * number
        wire = [(leg, leg.packet()) for leg in sessions]  # the phones' side: not measured
        started = time.perf_counter()
        for leg, data in wire:
            leg.session.receive(data, SOURCE, now)
        ticked = time.perf_counter()
        for bridge, _ in calls:
            bridge.tick()
        mixed = time.perf_counter()
        for leg in sessions:
            packets += len(leg.session.due_packets(now))
        sent = time.perf_counter()
        receive_ms.append(1000 * (ticked - started))
        tick_ms.append(1000 * (mixed - ticked))
        send_ms.append(1000 * (sent - mixed))
    dropped = sum(leg.session.counters.frames_dropped for leg in sessions)
    for bridge, _ in calls:
        if bridge.recorder is not None:
            bridge.recorder.close()
    tick_p50 = percentile(tick_ms, 0.5)
    return {
        "tick_p50_ms": round(tick_p50, 3),
        "tick_p99_ms": round(percentile(tick_ms, 0.99), 3),
        "tick_max_ms": round(max(tick_ms), 3),
        "tick_per_bridge_us": round(1000 * tick_p50 / args.bridges, 1),
        "receive_p50_ms": round(percentile(receive_ms, 0.5), 3),
        "send_p50_ms": round(percentile(send_ms, 0.5), 3),
        "media_p50_ms": round(percentile(receive_ms, 0.5) + tick_p50
                              + percentile(send_ms, 0.5), 3),
        "packets_sent": packets,
        "frames_dropped": dropped,
    }


class ClockLeg:
    """What an `RtpEndpoint` does for one leg on each clock tick: a packet in (the phone's,
    as if it had just arrived), the due packets out; the send times kept."""

    def __init__(self, leg: Leg) -> None:
        self.leg = leg
        self.send_times: list[float] = []

    def on_tick(self, tick_time: float) -> None:
        session = self.leg.session
        session.receive(self.leg.packet(), SOURCE, tick_time)
        if session.due_packets(tick_time):
            self.send_times.append(time.monotonic())


async def real_time(args: argparse.Namespace, work: Path) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    clock = media_clock()
    calls = build(args, work, start=loop.time())
    runners = [BridgeRunner(bridge, measure=True) for bridge, _ in calls]
    members = [ClockLeg(leg) for _, legs in calls for leg in legs]

    def join(runner: BridgeRunner, call_members: list[ClockLeg]) -> None:
        runner.start()
        for member in call_members:
            member.leg.session.pacer.start = clock.align(loop.time())
            clock.add_stream(member)

    # Calls begin at random moments (the clock puts them all on its one grid).
    spread = random.Random(7)
    per_call = iter(members)
    for runner, (_, legs) in zip(runners, calls, strict=True):
        call_members = [next(per_call) for _ in legs]
        loop.call_later(spread.uniform(0.0, 0.2), join, runner, call_members)
    await asyncio.sleep(0.3)
    wakeups = clock.wakeups
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    await asyncio.sleep(args.realtime)
    cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
    wakeups = clock.wakeups - wakeups
    for runner in runners:
        runner.stop()
    for member in members:
        clock.remove(member)
    for bridge, _ in calls:
        if bridge.recorder is not None:
            bridge.recorder.close()
    late = [1000 * seconds for runner in runners for seconds in runner.lateness]
    gaps = [1000 * (b - a) for member in members
            for a, b in zip(member.send_times, member.send_times[1:], strict=False) if b > a]
    return {
        "loop": type(loop).__module__.split(".")[0],
        "runner_late_p50_ms": round(percentile(late, 0.5), 2),
        "runner_late_p99_ms": round(percentile(late, 0.99), 2),
        "runner_ticks_skipped": sum(runner.ticks_skipped for runner in runners),
        "leg_spacing_p50_ms": round(percentile(gaps, 0.5), 2),
        "leg_spacing_p99_ms": round(percentile(gaps, 0.99), 2),
        "leg_spacing_max_ms": round(max(gaps, default=0.0), 2),
        "clock_wakeups_per_s": round(wakeups / wall, 1),
        "realtime_cpu_share": round(cpu / wall, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bridges", type=int, default=300)
    parser.add_argument("--legs", type=int, default=2, choices=(2, 3, 4))
    parser.add_argument("--ticks", type=int, default=500, help="back-to-back ticks (20 ms each)")
    parser.add_argument("--realtime", type=float, default=5.0, help="seconds; 0 skips it")
    parser.add_argument("--no-record", dest="record", action="store_false")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="phase 2's event loop (the gateway's default: asyncio)")
    args = parser.parse_args()

    from hotline.voice.media.music import builtin_music_pcm

    started = time.perf_counter()
    builtin_music_pcm()
    music_ms = 1000 * (time.perf_counter() - started)

    report: dict[str, object] = {
        "bridges": args.bridges, "legs": args.legs, "recorded": args.record,
        "ticks": args.ticks, "load_average_at_start": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory(prefix="bridge-bench-") as tmp:
        report.update(back_to_back(args, Path(tmp)))
        gc.collect()  # phase 1's garbage is not phase 2's to collect
        if args.realtime > 0:
            from hotline.voice.server import run_loop

            report.update(run_loop(real_time(args, Path(tmp)), args.loop))
    report["music_build_ms"] = round(music_ms, 1)
    report["load_average_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report, ensure_ascii=False))
    return 0 if report["frames_dropped"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
