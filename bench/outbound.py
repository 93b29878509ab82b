"""Outbound benchmark: a real campaign through the gateway's dialler to sipp; one JSON line.

    .venv/bin/python bench/outbound.py                      # the target: 300 calls at 120/min
    .venv/bin/python bench/outbound.py --calls 60 --cpm 60  # a quick check

A campaign is made through the campaigns service (``campaigns.do_create_number_campaign``: a
voice campaign to ``--calls`` numbers, a synthesized notice followed by the keypad question
"重听请按1，收到请按2", ``--cpm`` calls per minute, ``--max-concurrent`` in flight) and started
(``do_campaign_action(..., "start")``). The worker's periodic job "campaign-pacer" (run here by
the worker's own ``Scheduler`` in a thread, once a second as in production) releases the
recipients at the campaign's pace as OutboundCall rows; the gateway (in this process, one asyncio
loop as in production) claims each row when due (``claim_call``: quiet hours, the do-not-call
list and the daily cap applied), dials it through the trunk (a ``Trunk`` row pointing at sipp),
plays the notice, takes the key and reports the attempt (``do_finish_attempt``); the campaign is
told (``campaigns.on_call_finished``) and records the recipient's result. sipp is every citizen:
it answers, waits 1.5 s and presses 2 (an RFC 4733 event), and waits for the gateway's BYE. So
the pace measured is the campaign's: pacer, dialler and database together.

Measured:
- ``pacing_cpm`` and ``pacing_error_pct``: the attempts' start times (CallAttempt.started_at)
  against ``--cpm`` (the target: within 5 %);
- ``concurrent_peak_calls``: the most attempts in progress at once (from the attempts' start
  and end), and ``max_concurrent`` the campaign's and the trunk's limit;
- ``answered_far_end`` (sipp's successful calls: answered, the key sent, our BYE) against
  ``answers_recorded`` (recipients recorded as answered with the far end's key);
  ``answered_rows`` counts every answered recipient and ``answered_keys_differ`` those whose
  key was not the far end's; ``progress`` is ``campaign_progress`` at the end;
- ``quiet_hour_calls``: attempts that started in quiet hours (must be 0). The quiet hours are
  the defaults (21:00-08:00 in the centre's zone) unless the run falls into them; then they are
  moved to start after the campaign (``quiet_hours`` says which were in force);
- ``rtp_spacing_p50_ms``/``p99``/``max``: the spacing of the gateway's RTP packets as they
  arrived at the far end, from a capture of the loopback interface (an AF_PACKET socket in a
  separate process with kernel time stamps; needs root, else the gateway's own send times are
  used and ``rtp_measured_at`` says so);
- ``sms_per_s``: ``--sms`` messages sent one after the other through intake's SMS service
  with the "log" provider (each recorded as an SmsMessage row).

The database is ``--database-url`` (PostgreSQL by default, created and migrated if missing;
``sqlite:///path`` works too) and is emptied of campaigns and outbound calls first. Exit status
1 only when something went wrong (a crash, answers lost, a call in quiet hours), never for a
figure.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hotline_bench_outbound"
SCENARIOS = ROOT / "tests" / "voice" / "sipp"
PCAPS = Path("/usr/share/sip-tester")
NOTICE = "明天上午九点至下午五点，鼓楼区部分路段计划停水，请提前储水。"
EXPECTED = {"ack": "2"}  # 收到请按2: the key the far end presses
PACER = "campaign-pacer"


def log(message: str) -> None:
    print(f"[outbound {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", file=sys.stderr,
          flush=True)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, round(fraction * (len(values) - 1)))]


# --- the far end ------------------------------------------------------------------------------

def far_end_scenario(work: Path) -> Path:
    def key(name: str, pause: int) -> str:
        return (f'  <pause milliseconds="{pause}"/>\n'
                f'  <nop><action><exec play_pcap_audio="{PCAPS / name}"/></action></nop>\n')

    xml = (SCENARIOS / "outbound_answers.xml").read_text()
    xml = xml.replace("      <!-- DIALOG -->\n", "").replace("  <!-- AUTH -->\n", "")
    xml = xml.replace("  <!-- KEYS -->\n", key("dtmf_2833_2.pcap", 1500))
    xml = xml.replace("  <!-- END -->\n", (SCENARIOS / "outbound_end_gateway_bye.xml").read_text())
    path = work / "far_end.xml"
    path.write_text(xml)
    return path


def sipp_successful(stat_file: Path) -> int:
    """SuccessfulCall(C) of the last line of sipp's statistics file."""
    if not stat_file.exists():
        return 0
    lines = [line for line in stat_file.read_text(errors="replace").splitlines() if line]
    if len(lines) < 2:
        return 0
    names, last = lines[0].split(";"), lines[-1].split(";")
    try:
        return int(last[names.index("SuccessfulCall(C)")])
    except (ValueError, IndexError):
        return 0


# --- the capture ------------------------------------------------------------------------------

CAPTURE = r"""
import json, signal, socket, struct, sys
first, last, sink, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind(("lo", 0))
s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS: the kernel's receive time
s.settimeout(0.5)
flows, gaps, packets, stop = {}, [], 0, False
def done(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, done)
print("ready", flush=True)
while not stop:
    try:
        data, anc, _, addr = s.recvmsg(2048, 64)
    except (socket.timeout, InterruptedError):
        continue
    if addr[2] == 4 or len(data) < 42 or data[12:14] != b"\x08\x00":  # outgoing copy; not IPv4
        continue
    ihl = (data[14] & 15) * 4
    if data[23] != 17:
        continue
    sport, dport = struct.unpack_from("!HH", data, 14 + ihl)
    if not first <= sport <= last or dport != sink:
        continue
    stamp = None
    for level, kind, value in anc:
        if level == socket.SOL_SOCKET and kind == 35:
            sec, nsec = struct.unpack("qq", value[:16])
            stamp = sec + nsec / 1e9
    if stamp is None:
        continue
    packets += 1
    previous = flows.get(sport)
    flows[sport] = stamp
    if previous is not None and stamp - previous < 1.0:  # a gap of 1 s: another call
        gaps.append(stamp - previous)
json.dump({"packets": packets, "gaps": gaps}, open(out, "w"))
"""


def start_capture(work: Path, ports: tuple[int, int], sink: int) -> subprocess.Popen[str] | None:
    if os.geteuid() != 0:
        return None
    out = work / "capture.json"
    process = subprocess.Popen([sys.executable, "-c", CAPTURE, str(ports[0]), str(ports[1]),
                                str(sink), str(out)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        process.kill()
        return None
    return process


def stop_capture(process: subprocess.Popen[str] | None, work: Path) -> dict[str, Any] | None:
    if process is None:
        return None
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        return None
    path = work / "capture.json"
    return json.loads(path.read_text()) if path.exists() else None


# --- the run ----------------------------------------------------------------------------------

def quiet_window(duration_s: float) -> tuple[dt.time, dt.time]:
    """The default quiet hours, unless the run falls in them: then from 30 minutes after the
    campaign's end until an hour before now (so nobody is called in quiet hours either way)."""
    from django.conf import settings

    from hotline.outreach.calls import calling_rules, local_zone

    rules = calling_rules()
    now = dt.datetime.now(local_zone())
    end = now + dt.timedelta(seconds=duration_s + 1800)
    if not rules.in_quiet_hours(now) and not rules.in_quiet_hours(end):
        return settings.HOTLINE_OUTREACH_QUIET_START, settings.HOTLINE_OUTREACH_QUIET_END
    start = end.time().replace(second=0, microsecond=0)
    finish = (now - dt.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    return start, finish


def prepare(args: argparse.Namespace, sipp_port: int) -> int:
    """Empty the outbound tables, point a trunk at sipp and make the campaign (a draft)."""
    from django.conf import settings

    from hotline.intake.models import SmsMessage
    from hotline.outreach import campaigns
    from hotline.outreach.models import (
        CallAttempt,
        Campaign,
        OutboundCall,
        Recipient,
        Trunk,
        TrunkStatus,
    )

    duration = args.calls * 60.0 / args.cpm
    settings.HOTLINE_OUTREACH_QUIET_START, settings.HOTLINE_OUTREACH_QUIET_END = \
        quiet_window(duration)
    settings.HOTLINE_OUTREACH_DAILY_CAP = max(settings.HOTLINE_OUTREACH_DAILY_CAP, 3)
    Recipient.objects.all().delete()
    Campaign.objects.all().delete()
    CallAttempt.objects.all().delete()
    OutboundCall.objects.all().delete()
    TrunkStatus.objects.all().delete()
    Trunk.objects.all().delete()
    SmsMessage.objects.filter(purpose="bench").delete()
    Trunk.objects.create(name="bench", registrar_host="127.0.0.1", registrar_port=sipp_port,
                         domain="trunk.example", register=False, caller_id="12345",
                         max_concurrent=args.max_concurrent)
    campaign = campaigns.do_create_number_campaign(
        None, [f"1380{i:07d}" for i in range(args.calls)], name="bench: 停水通知",
        message=NOTICE, per_minute=args.cpm, concurrent=args.max_concurrent,
        max_attempts=1)
    return campaign.pk


def start_campaign(campaign_id: int) -> None:
    from hotline.outreach import campaigns

    campaigns.do_campaign_action(None, campaign_id, "start")


def run_pacer(stop: threading.Event, ticks: list[float]) -> None:
    """The worker's scheduler with the one job the campaign needs, in this thread, until
    ``stop`` (the real scheduler command runs every job the same way)."""
    from django.db import close_old_connections

    from hotline.worker.registry import periodic_jobs
    from hotline.worker.scheduler import Scheduler

    scheduler = Scheduler([job for job in periodic_jobs() if job.name == PACER])
    try:
        while not stop.is_set():
            done = scheduler.tick()
            if PACER in done:
                ticks.append(time.monotonic())
                if isinstance(done[PACER], Exception):
                    log(f"pacer failed: {done[PACER]!r}")
            stop.wait(scheduler.seconds_to_next())
    finally:
        close_old_connections()


def bench_sms(count: int) -> dict[str, Any]:
    from django.test.utils import override_settings

    from hotline.intake.models import SmsMessage
    from hotline.intake.sms import outbound

    with override_settings(HOTLINE_SMS_PROVIDER="log"):
        started = time.perf_counter()
        sent = 0
        for i in range(count):
            result = outbound.send_sms(f"1390{i:07d}", f"【12345】停水通知：第{i}号。", purpose="bench")
            sent += result.sent
        elapsed = time.perf_counter() - started
    outbound.LOG_OUTBOX.clear()
    recorded = SmsMessage.objects.filter(purpose="bench", status="sent").count()
    return {"sms_sent": sent, "sms_recorded": recorded,
            "sms_per_s": round(sent / elapsed, 1) if elapsed else 0.0}


def measure(campaign_id: int, args: argparse.Namespace) -> dict[str, Any]:
    from hotline.outreach.calls import calling_rules, local_zone
    from hotline.outreach.campaigns import campaign_progress
    from hotline.outreach.models import CallAttempt, Campaign, OutboundCall, Recipient

    prefix = f"campaign:{campaign_id}:"
    attempts = list(CallAttempt.objects.filter(call__ref__startswith=prefix)
                    .order_by("started_at"))
    starts = [a.started_at for a in attempts]
    pacing = 0.0
    if len(starts) > 1:
        span = (starts[-1] - starts[0]).total_seconds()
        pacing = (len(starts) - 1) * 60.0 / span if span > 0 else 0.0
    events = sorted([(a.started_at, 1) for a in attempts] + [(a.ended_at, -1) for a in attempts],
                    key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    rules = calling_rules()
    zone = local_zone()
    quiet = sum(rules.in_quiet_hours(a.started_at.astimezone(zone)) for a in attempts)
    recipients = Recipient.objects.filter(campaign_id=campaign_id)
    answered = recipients.filter(status=Recipient.Status.ANSWERED)
    recorded = sum(1 for result in answered.values_list("result", flat=True)
                   if result == EXPECTED)
    rows = OutboundCall.objects.filter(ref__startswith=prefix)
    talk = sorted(a.talk_seconds for a in attempts if a.outcome == "answered")
    campaign = Campaign.objects.get(pk=campaign_id)
    return {
        "attempts": len(attempts),
        "pacing_target_cpm": args.cpm,
        "pacing_cpm": round(pacing, 2),
        "pacing_error_pct": round(abs(pacing - args.cpm) / args.cpm * 100, 2),
        "concurrent_peak_calls": peak,
        "answered_rows": answered.count(),
        "answers_recorded": recorded,
        "outcomes": dict(sorted({o: rows.filter(outcome=o).count()
                                 for o in set(rows.values_list("outcome", flat=True))}.items())),
        "contacts_written": rows.filter(outcome="answered").exclude(contact=None).count(),
        "campaign_state": campaign.state,
        "progress": campaign_progress(campaign_id).as_dict(),
        "quiet_hour_calls": quiet,
        "talk_p50_s": percentile([float(t) for t in talk], 0.5),
    }


async def campaign(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from hotline.outreach.models import Campaign
    from hotline.voice.gateway import GatewayConfig
    from hotline.voice.prompts import ToneTts
    from hotline.voice.server import build_gateway

    sipp_port, sipp_media = free_udp_port(), free_udp_port() & ~1
    rtp = (args.rtp_base, args.rtp_base + args.calls + 2 * args.max_concurrent + 20)
    campaign_id = await asyncio.to_thread(prepare, args, sipp_port)
    log(f"campaign {campaign_id}: {args.calls} numbers at {args.cpm}/min")
    stat = work / "sipp_stat.csv"
    sipp = await asyncio.create_subprocess_exec(
        shutil.which("sipp") or "sipp", "-sf", str(far_end_scenario(work)), "-i", "127.0.0.1",
        "-p", str(sipp_port), "-mp", str(sipp_media), "-m", str(args.calls), "-nostdin",
        "-timeout", f"{int(args.calls * 60 / args.cpm + 120)}s", "-trace_stat", "-stf",
        str(stat), "-fd", "1", "-trace_err", "-error_file", str(work / "sipp_errors.log"),
        cwd=work, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    capture = await asyncio.to_thread(start_capture, work, rtp, sipp_media)
    config = GatewayConfig(sip_port=0, rtp_ports=rtp, recordings_dir=work / "recordings",
                           measure_rtp=True, gateway_id="bench-gateway", acd=False,
                           send_faxes=False)
    gateway = build_gateway(config, tts=ToneTts(seconds=0.6), prompt_dir=work / "prompts")
    await gateway.start(warm=True)
    await asyncio.sleep(2.0)  # the prompts synthesised, the trunk read
    stop, ticks = threading.Event(), list[float]()
    pacer = threading.Thread(target=run_pacer, args=(stop, ticks), name="pacer", daemon=True)
    await asyncio.to_thread(start_campaign, campaign_id)
    pacer.start()
    cpu0, wall0 = time.process_time(), time.monotonic()
    deadline = wall0 + args.calls * 60.0 / args.cpm + 120

    def running() -> bool:
        from django.db import close_old_connections

        try:
            return Campaign.objects.filter(pk=campaign_id, state__in=(
                Campaign.State.RUNNING, Campaign.State.SCHEDULED)).exists()
        finally:
            close_old_connections()

    while time.monotonic() < deadline and await asyncio.to_thread(running):
        await asyncio.sleep(1.0)
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    stop.set()
    await asyncio.to_thread(pacer.join, 10)
    dialler_peak = gateway.outbound.peak
    send_gaps = sorted(b - a for call in gateway.outbound.finished if call.rtp is not None
                       for a, b in zip(call.rtp.send_times, call.rtp.send_times[1:], strict=False)
                       if b > a)
    await gateway.stop()
    try:
        _, stderr = await asyncio.wait_for(sipp.communicate(), 30)
    except TimeoutError:
        sipp.kill()
        _, stderr = await sipp.communicate()
    captured = await asyncio.to_thread(stop_capture, capture, work)
    if captured is not None and captured["gaps"]:
        gaps, measured_at = sorted(captured["gaps"]), "far end (loopback capture)"
    else:
        gaps, measured_at = send_gaps, "gateway (send times)"
    result = await asyncio.to_thread(measure, campaign_id, args)
    tick_gaps = sorted(b - a for a, b in itertools.pairwise(ticks))
    result.update({
        "dialler_peak_calls": dialler_peak,
        "max_concurrent": args.max_concurrent,
        "answered_far_end": sipp_successful(stat),
        "sipp_exit": sipp.returncode,
        "pacer_ticks": len(ticks),
        "pacer_tick_p99_s": round(percentile(tick_gaps, 0.99), 3),
        "quiet_hours": "{}-{}".format(*(t.strftime("%H:%M") for t in quiet_window_used())),
        "rtp_measured_at": measured_at,
        "rtp_packets": captured["packets"] if captured is not None else len(send_gaps),
        "rtp_spacing_p50_ms": round(percentile(gaps, 0.50) * 1000, 2),
        "rtp_spacing_p99_ms": round(percentile(gaps, 0.99) * 1000, 2),
        "rtp_spacing_max_ms": round((gaps[-1] if gaps else 0.0) * 1000, 2),
        "rtp_send_spacing_p99_ms": round(percentile(send_gaps, 0.99) * 1000, 2),
        "gateway_cpu_s": round(cpu, 1),
        "campaign_wall_s": round(wall, 1),
        "sipp_errors": stderr.decode(errors="replace").strip()[-300:],
    })
    return result


def quiet_window_used() -> tuple[dt.time, dt.time]:
    from django.conf import settings

    return settings.HOTLINE_OUTREACH_QUIET_START, settings.HOTLINE_OUTREACH_QUIET_END


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
                   help="postgres://... (created if missing) or sqlite:///path")
    p.add_argument("--calls", type=int, default=300, help="calls in the campaign (target: 300)")
    p.add_argument("--cpm", type=int, default=120, help="the campaign's pace: calls per minute")
    p.add_argument("--max-concurrent", type=int, default=30,
                   help="calls in flight: the campaign's and the trunk's limit")
    p.add_argument("--sms", type=int, default=2000, help="SMS sent through the log provider")
    p.add_argument("--rtp-base", type=int, default=42000)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("sipp") is None:
        print("sipp is not installed: apt-get install -y sip-tester", file=sys.stderr)
        return 2
    from bench.dbsetup import migrated_django

    with tempfile.TemporaryDirectory(prefix="outbound-bench-") as tmp:
        os.environ["HOTLINE_DATA_DIR"] = tmp
        os.environ.setdefault("HOTLINE_LOG_LEVEL", "WARNING")
        migrated_django(args.database_url)
        import logging

        logging.basicConfig(level=logging.WARNING)
        logging.getLogger("hotline.voice").setLevel(logging.WARNING)
        result: dict[str, Any] = {"bench": "outbound", "calls": args.calls}
        result.update(asyncio.run(campaign(args, Path(tmp))))
        log("campaign done; SMS next")
        result.update(bench_sms(args.sms))
    from django.conf import settings
    from django.db import connection

    result["database"] = connection.vendor
    result["cpus"] = os.cpu_count()
    result["time_zone"] = settings.TIME_ZONE
    result["answered_keys_differ"] = result["answered_rows"] - result["answers_recorded"]
    print(json.dumps(result, ensure_ascii=False))
    wrong = (result["answers_recorded"] != result["answered_far_end"]
             or result["quiet_hour_calls"] != 0
             or result["sms_recorded"] != result["sms_sent"])
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
