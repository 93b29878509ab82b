"""Concurrent IVR calls against one voice gateway process; prints one JSON line.

sipp places `--calls` calls, at most `--concurrent` at a time, at `--rate` new calls per
second. Each caller speaks (sipp's g711a.pcap, 7 s of PCMA) over the welcome menu, then
answers the keypad poll (2, 5, 1) and hangs up, so every call exercises SIP, RTP in and
out, DTMF, prompts, a database write through the platform's services and the call's
contact. The gateway runs in this process (one event loop, as in production: asyncio's,
`--loop uvloop` for uvloop) on a fresh SQLite database, with tone
prompts so TTS does not weigh on the measurement.

Reported: calls placed and completed (the poll answer stored and thanked for before the
caller hung up, 1.5 s after the last key), how the others ended, the poll answers in the
database (a save that outlasted the caller still lands), sipp's failed calls, the
peak of concurrent calls in the gateway, the spacing of the RTP packets the gateway sent
(p50/p99/max over every call, from the monotonic send time of each packet), CPU seconds
of the gateway process per completed call and in all, wall time, the media clock's wake-ups
per second over the run (one per 20 ms tick, whatever the number of calls) and the load
average at the start and the end.

    .venv/bin/python bench/voice_load.py                 # 300 calls, 300 at once, 30 a second
    .venv/bin/python bench/voice_load.py --calls 100 --concurrent 100 --rate 20
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "tests" / "voice" / "scenarios" / "ivr_caller_hangs_up.xml"
PCAPS = Path("/usr/share/sip-tester")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def caller_script() -> str:
    def key(name: str, pause: int) -> str:
        return (f'  <nop><action><exec play_pcap_audio="{PCAPS / name}"/></action></nop>\n'
                f'  <pause milliseconds="{pause}"/>\n')

    return ('  <pause milliseconds="300"/>\n'
            f'  <nop><action><exec play_pcap_audio="{PCAPS / "g711a.pcap"}"/></action></nop>\n'
            '  <pause milliseconds="7300"/>\n'
            + key("dtmf_2833_2.pcap", 800) + key("dtmf_2833_5.pcap", 800)
            + key("dtmf_2833_1.pcap", 1500))


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def setup_django(data_dir: str) -> None:
    os.environ.update(DJANGO_SETTINGS_MODULE="hotline.settings", HOTLINE_DATA_DIR=data_dir,
                      HOTLINE_DEBUG="1", HOTLINE_LOG_LEVEL="WARNING")
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "-v", "0")


def poll_answers_stored() -> int:
    """Poll answers in the database: a save still running when the caller hung up (so the
    call did not count as completed) is stored all the same."""
    from django.db import close_old_connections

    from hotline.orders.models import Contact

    try:
        return Contact.objects.filter(summary__startswith="poll:").count()
    finally:
        close_old_connections()


async def run(args: argparse.Namespace, work: Path) -> dict[str, object]:
    from hotline.voice.gateway import GatewayConfig
    from hotline.voice.media.clock import media_clock
    from hotline.voice.prompts import ToneTts
    from hotline.voice.server import build_gateway
    from hotline.voice.sip.limits import SourceLimits

    first = args.rtp_base
    # sipp places every call from one address, as a SIP trunk does: it is trusted like a
    # trunk's proxy, or the per-source limits would refuse all but a few calls.
    config = GatewayConfig(sip_port=0, rtp_ports=(first, first + 2 * args.concurrent + 50),
                           recordings_dir=work / "recordings", measure_rtp=True,
                           max_calls=max(300, args.concurrent),
                           source_limits=SourceLimits(trusted=("127.0.0.1",)))
    gateway = build_gateway(config, tts=ToneTts(seconds=0.3), prompt_dir=work / "prompts")
    await gateway.start(warm=True)
    if not args.no_freeze:
        from hotline.voice.server import freeze_startup_objects

        freeze_startup_objects()  # as `serve` does once the gateway has started
    scenario = work / "caller.xml"
    scenario.write_text(SCENARIO.read_text().replace("  <!-- KEYS -->\n", caller_script()))
    clock = media_clock()
    wakeups_before = clock.wakeups
    cpu_before, wall_before = time.process_time(), time.monotonic()
    sipp = await asyncio.create_subprocess_exec(
        shutil.which("sipp") or "sipp", "-sf", str(scenario), "-s", "12345",
        f"127.0.0.1:{gateway.sip_port}", "-i", "127.0.0.1", "-p", str(free_udp_port()),
        "-mp", str(args.sipp_media_base), "-m", str(args.calls), "-l", str(args.concurrent),
        "-r", str(args.rate), "-nostdin", "-timeout", f"{args.timeout}s", "-timeout_error",
        "-trace_stat", "-stf", str(work / "sipp_stat.csv"),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await sipp.communicate()
    for _ in range(200):
        if not gateway.calls:
            break
        await asyncio.sleep(0.05)
    wall = time.monotonic() - wall_before
    cpu = time.process_time() - cpu_before
    wakeups = clock.wakeups - wakeups_before
    still_open = len(gateway.calls)  # not ended 10 s after sipp finished
    await gateway.stop()
    stored = await asyncio.to_thread(poll_answers_stored)

    gaps: list[float] = []
    packets = 0
    completed = 0
    incomplete: collections.Counter[str] = collections.Counter()  # how the others ended
    for call in gateway.finished:
        if call.rtp is not None:
            times = call.rtp.send_times
            packets += len(times)
            gaps.extend(b - a for a, b in itertools.pairwise(times) if b > a)
        if call.run is not None and "poll_done" in call.run.visits:
            completed += 1
        else:
            trail = call.run.trail[-3:] if call.run is not None else []
            incomplete[f"{call.ending} after {' '.join(d for _, d in trail)}"] += 1
    gaps.sort()
    failed = args.calls - completed
    return {
        "bench": "voice_load",
        "calls": args.calls,
        "concurrent_limit": args.concurrent,
        "rate": args.rate,
        "completed": completed,
        "failed": failed,
        "sipp_exit": sipp.returncode,
        "peak_concurrent": gateway.peak_calls,
        "still_open": still_open,
        "poll_answers_stored": stored,
        "incomplete": dict(incomplete.most_common(5)),
        "rtp_packets_sent": packets,
        "rtp_spacing_p50_ms": round(percentile(gaps, 0.50) * 1000, 2),
        "rtp_spacing_p99_ms": round(percentile(gaps, 0.99) * 1000, 2),
        "rtp_spacing_max_ms": round((gaps[-1] if gaps else 0.0) * 1000, 2),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_call": round(1000 * cpu / max(1, completed), 1),
        "wall_s": round(wall, 1),
        "media_clock_wakeups_per_s": round(wakeups / max(wall, 1e-9), 1),
        "loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "sipp_errors": stderr.decode(errors="replace").strip()[-300:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--concurrent", type=int, default=300)
    parser.add_argument("--rate", type=float, default=30.0, help="new calls per second")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="the gateway's event loop (HOTLINE_VOICE_LOOP's default: asyncio; "
                             "uvloop falls back to asyncio if missing)")
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave the start-up objects to the garbage collector (as before)")
    parser.add_argument("--timeout", type=int, default=120, help="sipp's global timeout (s)")
    parser.add_argument("--rtp-base", type=int, default=40000)
    parser.add_argument("--sipp-media-base", type=int, default=50000)
    args = parser.parse_args()
    if shutil.which("sipp") is None:
        print("sipp is not installed: apt-get install -y sip-tester", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="voice-bench-") as tmp:
        setup_django(tmp)
        import logging

        logging.getLogger("hotline.voice").setLevel(logging.WARNING)
        load_at_start = round(os.getloadavg()[0], 2)
        from hotline.voice.server import run_loop

        result = run_loop(run(args, Path(tmp)), args.loop)
        result["load_average_at_start"] = load_at_start
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
