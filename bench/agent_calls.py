"""Agent-bridged calls through one voice gateway process, recorded; prints one JSON line.

`--calls` agents (users of role agent, each with a SIP extension whose digest password is
set, signed in on it and ready) and one queue, on a fresh SQLite database. The agents'
phones are one sipp UAS: a second sipp registers every extension to the gateway with digest
authentication first, as a proxy in front of the phones would (two Vias, so the registrar
sends each extension's calls to its Contact, the UAS's port). Then sipp places `--calls`
callers at once (`--rate` a second, default all within a second) to 12345: each presses 1
at the welcome menu (the IVR's transfer to a person), joins the queue, hears the holding
prompt and music, and the ACD offers it to a ready agent: the gateway rings that agent's
registered phone (a second SIP call, the agent's leg), the phone answers, the gateway bridges
the two legs and records the conversation into one WAV. Both sides then speak (sipp's
g711a.pcap, twice, about 13 s bridged) and the caller hangs up; the gateway hangs up the
agent's leg, the agent goes to wrap-up and the recording is stored with the call's contact.
The gateway runs in this process (asyncio's loop, or `--loop uvloop`, as `serve` runs it),
with tone prompts so TTS does not weigh on the measurement.

Reported: calls bridged (both legs in the bridge) and their queue entries completed in the
database; recordings stored, missing, and of the wrong length (each WAV read back: its
length against the bridged time, from the agent leg's first packet to the caller's last, and
its level: not silent); the spacing of the RTP packets the gateway sent on the callers' legs
and on the agents' legs (p50/p99/max, from each packet's monotonic send time, as
`voice_load.py` measures it); from the gateway's log, the wait from joining the queue to the
agent's answer and from the caller's hang-up to the recording stored (the database's share);
CPU seconds of the gateway process (its worker threads included) per bridged call and in
all, the sipp processes' CPU, wall time, the most database jobs in threads at once, and the
load average at the start and the end. Exit status 1 only when something went wrong (a call
not bridged, a recording missing or of the wrong length, a phone not registered), never for
a missed target (SPEC 8: RTP spacing p99 < 30 ms).

    .venv/bin/python bench/agent_calls.py               # 150 calls at once, ~13 s bridged
    .venv/bin/python bench/agent_calls.py --calls 20 --loop uvloop
"""

from __future__ import annotations

import argparse
import array
import asyncio
import collections
import itertools
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.voice_load import PCAPS, SCENARIO, free_udp_port, percentile, setup_django  # noqa: E402

PASSWORD = "bench-agent-phone"
FIRST_EXTENSION = 8001
GATEWAY_ID = "bench-agents"
SPEECH = PCAPS / "g711a.pcap"  # 7 s of PCMA speech
SPEECH_S = 7.1
TRACE: list[str] = []  # ["-trace_msg"] with --keep: every SIP message in the sipp logs
SIPP_CHATTER = ("In pcap ", "max pkt length", "base port", "Resolving remote host")


def caller_script(talks: int) -> str:
    """After the ACK: 1 at the welcome menu (a person) once its prompt has played, then
    speech until the BYE."""
    plays = "".join(f'  <nop><action><exec play_pcap_audio="{SPEECH}"/></action></nop>\n'
                    f'  <pause milliseconds="{int(SPEECH_S * 1000)}"/>\n' for _ in range(talks))
    return ('  <pause milliseconds="2000"/>\n'
            f'  <nop><action><exec play_pcap_audio="{PCAPS / "dtmf_2833_1.pcap"}"/></action></nop>\n'
            '  <pause milliseconds="1000"/>\n' + plays)


def registration_scenario(phones_port: int) -> str:
    """REGISTER each extension of the CSV (its number; sipp's authentication keyword, which
    cannot take a field inside it) with digest, through a 'proxy' (sipp's own Via on
    top, the phones' below), the Contact on the phones' UAS."""
    def register(cseq: int, auth: str) -> str:
        return f"""  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      Via: SIP/2.0/UDP 127.0.0.1:{phones_port};branch=z9hG4bK-phone-[call_number]-{cseq}
      From: <sip:[field0]@[remote_ip]>;tag=[pid]reg[call_number]
      To: <sip:[field0]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:[field0]@127.0.0.1:{phones_port}>
      Expires: 3600{auth}
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="agents' phones register">
{register(1, "")}  <recv response="401" auth="true"/>
{register(2, chr(10) + "      [field1]")}  <recv response="200"/>
</scenario>
"""


def phones_scenario(talks: int) -> str:
    """The agents' phones: answer at once (180, 200 with PCMA; a retransmitted INVITE, sent
    before the gateway read the 200, is taken in silence), speak, take the BYE."""
    plays = "".join(f'  <nop><action><exec play_pcap_audio="{SPEECH}"/></action></nop>\n'
                    f'  <pause milliseconds="{int(SPEECH_S * 1000)}"/>\n'
                    for _ in range(max(0, talks - 1)))
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="agents' phones answer and talk">
  <recv request="INVITE"/>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:agent@[local_ip]:[local_port]>
      Content-Length: 0
    ]]></send>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:agent@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=agent 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [auto_media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
    ]]></send>
  <recv request="INVITE" optional="true"/>
  <recv request="ACK" crlf="true"/>
{plays}  <nop><action><exec play_pcap_audio="{SPEECH}"/></action></nop>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]></send>
</scenario>
"""


def prepare_agents(count: int) -> list[str]:
    """``count`` agents with an extension each (digest password set), signed in and ready,
    and the queue the IVR's transfer joins. The extensions' numbers."""
    from hotline.contactcentre import services as desk
    from hotline.contactcentre.models import Queue, SipExtension
    from hotline.core.roles import Role
    from hotline.directory.models import User

    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=15)
    numbers = []
    for index in range(count):
        number = str(FIRST_EXTENSION + index)
        user = User.objects.create_user(username=f"bench-agent-{number}", role=Role.AGENT,
                                        display_name=f"坐席{number}")
        phone = SipExtension.objects.create(number=number, agent=user)
        desk.do_set_extension_password(phone, PASSWORD)
        desk.do_sign_in(user, extension=number)
        desk.do_set_state(user, "ready")
        numbers.append(number)
    return numbers


def database_outcomes() -> dict[str, Any]:
    """What the database holds after the run: the calls' outcomes, the agents' states, and
    each stored recording (the caller's Call-ID, the file, the seconds written)."""
    from django.db import close_old_connections
    from django.db.models import Count

    from hotline.contactcentre.models import AgentStatus, CallRecording, QueuedCall

    try:
        outcomes = dict(QueuedCall.objects.values_list("outcome").annotate(n=Count("pk"))
                        .values_list("outcome", "n"))
        states = dict(AgentStatus.objects.values_list("state").annotate(n=Count("pk"))
                      .values_list("state", "n"))
        recordings = [(r.call.call_ref if r.call is not None else "", r.file.path, r.seconds,
                       r.contact_id) for r in CallRecording.objects.select_related("call")]
        return {"outcomes": outcomes, "states": states, "recordings": recordings}
    finally:
        close_old_connections()


def wav_facts(path: str) -> tuple[float, float]:
    """A WAV's length (s) and mean absolute sample value (a sample in 16)."""
    with wave.open(path, "rb") as wav:
        frames = wav.getnframes()
        rate = wav.getframerate()
        samples = array.array("h", wav.readframes(frames))
    if sys.byteorder == "big":
        samples.byteswap()
    picked = samples[::16]
    level = sum(abs(s) for s in picked) / len(picked) if picked else 0.0
    return frames / rate, level


def gaps_of(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times) if b > a]


def spacing(prefix: str, gaps: list[float]) -> dict[str, float]:
    gaps.sort()
    return {f"{prefix}_spacing_p50_ms": round(percentile(gaps, 0.50) * 1000, 2),
            f"{prefix}_spacing_p99_ms": round(percentile(gaps, 0.99) * 1000, 2),
            f"{prefix}_spacing_max_ms": round((gaps[-1] if gaps else 0.0) * 1000, 2)}


def log_waits(events: Any) -> dict[str, float | int]:
    """From the gateway's log: queue -> agent answered, caller's end -> recording stored."""
    queued: dict[str, float] = {}
    ended: dict[str, float] = {}
    to_agent, to_stored = [], []
    for entry in events:
        if entry.kind == "queue":
            queued.setdefault(entry.call_id, entry.at)
        elif entry.kind == "agent" and entry.call_id in queued:
            to_agent.append(entry.at - queued.pop(entry.call_id))
        elif entry.kind == "end":
            ended[entry.call_id] = entry.at
        elif entry.kind == "recording" and entry.detail.startswith("stored:") \
                and entry.call_id in ended:
            to_stored.append(entry.at - ended.pop(entry.call_id))
    to_agent.sort()
    to_stored.sort()
    return {
        "queue_to_agent_p50_ms": round(percentile(to_agent, 0.5) * 1000, 1),
        "queue_to_agent_max_ms": round((to_agent[-1] if to_agent else 0.0) * 1000, 1),
        "hangup_to_recording_stored_p50_ms": round(percentile(to_stored, 0.5) * 1000, 1),
        "hangup_to_recording_stored_max_ms": round((to_stored[-1] if to_stored else 0.0)
                                                   * 1000, 1),
        "recordings_stored_in_log": len(to_stored),
    }


async def start_sipp(work: Path, name: str, *args: str) -> asyncio.subprocess.Process:
    errors = work / f"{name}_errors.log"
    return await asyncio.create_subprocess_exec(
        shutil.which("sipp") or "sipp", *args, "-i", "127.0.0.1", "-nostdin", "-trace_err", *TRACE,
        "-error_file", str(errors), cwd=work,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


async def sipp_done(work: Path, name: str, process: asyncio.subprocess.Process,
                    timeout: float) -> tuple[int, str]:
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        _, stderr = await process.communicate()
    errors = work / f"{name}_errors.log"
    text = errors.read_text(errors="replace") if errors.exists() else ""
    said = [line for line in stderr.decode(errors="replace").splitlines()
            if line.strip() and not any(chatter in line for chatter in SIPP_CHATTER)]
    return process.returncode or 0, (text + "\n".join(said)).strip()[-300:]


async def run(args: argparse.Namespace, work: Path, extensions: list[str]) -> dict[str, Any]:
    from hotline.voice.gateway import GatewayConfig
    from hotline.voice.prompts import ToneTts
    from hotline.voice.server import build_gateway, freeze_startup_objects
    from hotline.voice.sip.limits import SourceLimits

    loop = asyncio.get_running_loop()
    first = args.rtp_base
    # sipp's callers and phones come from one address, as through a trunk and a proxy: it is
    # trusted like them, or the per-source limits would refuse all but a few calls.
    config = GatewayConfig(sip_port=0, rtp_ports=(first, first + 4 * args.calls + 100),
                           recordings_dir=work / "recordings", measure_rtp=True,
                           max_calls=max(300, args.calls), gateway_id=GATEWAY_ID,
                           outbound=False, send_faxes=False,
                           source_limits=SourceLimits(trusted=("127.0.0.1",)))
    gateway = build_gateway(config, tts=ToneTts(seconds=0.3), prompt_dir=work / "prompts")
    await gateway.start(warm=True)
    freeze_startup_objects()  # as `serve` does once the gateway has started
    agents = gateway.agents
    assert agents is not None, "the gateway runs without the ACD"
    target = f"127.0.0.1:{gateway.sip_port}"
    talks = max(1, round(args.talk / SPEECH_S))

    # The phones (one UAS for every extension), then their registrations.
    phones_port = free_udp_port()
    (work / "phones.xml").write_text(phones_scenario(talks))
    phones = await start_sipp(work, "phones", "-sf", str(work / "phones.xml"),
                              "-p", str(phones_port), "-mp", str(args.phones_media_base),
                              "-m", str(args.calls), "-timeout", f"{args.timeout}s")
    (work / "register.xml").write_text(registration_scenario(phones_port))
    (work / "phones.csv").write_text(
        "SEQUENTIAL\n" + "".join(f"{number};[authentication username={number} "
                                  f"password={PASSWORD}];\n" for number in extensions))
    register = await start_sipp(work, "register", "-sf", str(work / "register.xml"), target,
                                "-inf", str(work / "phones.csv"), "-p", str(free_udp_port()),
                                "-m", str(len(extensions)), "-l", "50", "-r", "100",
                                "-timeout", "60s", "-timeout_error")
    register_exit, register_errors = await sipp_done(work, "register", register, 90)
    registered = 0
    for _ in range(100):
        registered = sum(agents.registrar.binding(n, loop.time()) is not None for n in extensions)
        if registered == len(extensions):
            break
        await asyncio.sleep(0.1)
    report: dict[str, Any] = {"phones_registered": registered, "register_exit": register_exit}
    if registered < len(extensions):
        phones.kill()
        await phones.wait()
        await gateway.stop()
        report["register_errors"] = register_errors
        return report
    await asyncio.sleep(1.0)  # the router has seen every agent ready (it polls every 0.5 s)

    # The callers; meanwhile every agent call is noted as it appears (the gateway forgets
    # them when they end: their legs' send times are read from these).
    scenario = work / "callers.xml"
    scenario.write_text(SCENARIO.read_text().replace("  <!-- KEYS -->\n", caller_script(talks)))
    seen: dict[str, Any] = {}
    bridged: set[str] = set()
    watching = True

    async def watch() -> None:
        while watching:
            for caller_id, acd_call in list(agents.by_caller.items()):
                seen.setdefault(caller_id, acd_call)
                if acd_call.bridge is not None and acd_call.agent_leg is not None:
                    bridged.add(caller_id)
            await asyncio.sleep(0.1)

    watcher = loop.create_task(watch())
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before, wall_before = time.process_time(), time.monotonic()
    lanes = getattr(agents, "lanes", None)  # per-call database lanes (absent before them)
    rate = args.rate if args.rate > 0 else float(args.calls)
    callers = await start_sipp(
        work, "callers", "-sf", str(scenario), "-s", "12345", target,
        "-p", str(free_udp_port()), "-mp", str(args.callers_media_base),
        "-m", str(args.calls), "-l", str(args.calls), "-r", str(rate),
        "-timeout", f"{args.timeout}s", "-timeout_error")
    callers_exit, callers_errors = await sipp_done(work, "callers", callers, args.timeout + 30)
    for _ in range(200):  # the last hang-ups and recordings are written by worker threads
        if not gateway.calls and not agents.legs and not (lanes is not None and len(lanes)):
            break
        await asyncio.sleep(0.05)
    wall = time.monotonic() - wall_before
    cpu = time.process_time() - cpu_before
    watching = False
    await watcher
    phones_exit, phones_errors = await sipp_done(work, "phones", phones, 15)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    still_open = len(gateway.calls)
    await gateway.stop()
    found = await asyncio.to_thread(database_outcomes)

    # RTP spacing on both legs; the bridged time of each call (agent's first packet to the
    # caller's last) for its recording.
    caller_gaps: list[float] = []
    agent_gaps: list[float] = []
    caller_packets = agent_packets = 0
    expected_s: dict[str, float] = {}
    for caller_id, acd_call in seen.items():
        caller_times = acd_call.call.rtp.send_times if acd_call.call.rtp is not None else []
        caller_packets += len(caller_times)
        caller_gaps.extend(gaps_of(caller_times))
        agent_legs = [leg for leg in acd_call.legs if leg.rtp is not None]
        for leg in agent_legs:
            agent_packets += len(leg.rtp.send_times)
            agent_gaps.extend(gaps_of(leg.rtp.send_times))
        firsts = [leg.rtp.send_times[0] for leg in agent_legs if leg.rtp.send_times]
        if firsts and caller_times:
            expected_s[caller_id] = caller_times[-1] - min(firsts)
    # Callers that never reached the queue: how their calls ended, after which IVR steps.
    not_queued: collections.Counter[str] = collections.Counter()
    for call in gateway.finished:
        if call.call_id not in seen:
            trail = call.run.trail[-3:] if call.run is not None else []
            not_queued[f"{call.ending} after {' '.join(d for _, d in trail)}"] += 1
    lengths_off: list[str] = []
    silent = 0
    recording_seconds: list[float] = []
    stored = {call_ref: (path, seconds) for call_ref, path, seconds, contact
              in found["recordings"] if contact is not None}
    for caller_id in bridged:
        if caller_id not in stored:
            continue
        path, seconds = stored[caller_id]
        if not os.path.exists(path):
            continue
        length, level = wav_facts(path)
        recording_seconds.append(length)
        if level < 100:
            silent += 1
        expected = expected_s.get(caller_id)
        if expected is None or abs(length - expected) > max(1.0, 0.1 * expected) \
                or abs(length - seconds) > 0.5:
            lengths_off.append(f"{length:.1f}s/{seconds:.1f}s vs {expected or 0:.1f}s")
    missing = sum(caller_id not in stored or not os.path.exists(stored[caller_id][0])
                  for caller_id in bridged)
    recording_seconds.sort()
    report.update({
        "calls": args.calls,
        "rate": rate,
        "calls_seen_by_acd": len(seen),
        "calls_bridged": len(bridged),
        "not_queued": dict(not_queued.most_common(5)),
        "queued_calls": found["outcomes"],
        "agents_after": found["states"],
        "recordings_stored": len(stored),
        "recordings_missing": missing,
        "recordings_wrong_length": len(lengths_off),
        "recordings_wrong_length_examples": lengths_off[:3],
        "recordings_silent": silent,
        "recording_p50_s": round(statistics.median(recording_seconds), 2)
        if recording_seconds else 0.0,
        "recording_min_s": round(recording_seconds[0], 2) if recording_seconds else 0.0,
        "callers_exit": callers_exit,
        "phones_exit": phones_exit,
        "still_open": still_open,
        "peak_concurrent_calls": gateway.peak_calls,
        "db_jobs_peak_in_threads": lanes.peak_running if lanes is not None else 1,
        "rtp_packets_sent_callers": caller_packets,
        "rtp_packets_sent_agents": agent_packets,
        **spacing("caller_leg", caller_gaps),
        **spacing("agent_leg", agent_gaps),
        **spacing("rtp", caller_gaps + agent_gaps),
        **log_waits(gateway.events),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_call": round(1000 * cpu / max(1, len(bridged)), 1),
        "sipp_cpu_s": round(children.ru_utime + children.ru_stime
                            - children_before.ru_utime - children_before.ru_stime, 2),
        "wall_s": round(wall, 1),
        "loop": type(loop).__module__.split(".")[0],
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "sipp_errors": (callers_errors + " " + phones_errors).strip()[-300:],
    })
    return report


def failures(report: dict[str, Any], calls: int) -> list[str]:
    """What went wrong (a missed figure is not in it)."""
    wrong = []
    if report.get("phones_registered", 0) < calls:
        wrong.append("phones not registered")
        return wrong
    if report["calls_bridged"] < calls:
        wrong.append(f"{calls - report['calls_bridged']} calls not bridged")
    if report["recordings_missing"]:
        wrong.append(f"{report['recordings_missing']} recordings missing")
    if report["recordings_wrong_length"]:
        wrong.append(f"{report['recordings_wrong_length']} recordings of the wrong length")
    if report["recordings_silent"]:
        wrong.append(f"{report['recordings_silent']} recordings silent")
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=150, help="callers, agents and phones")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="new calls per second (0: all within one second)")
    parser.add_argument("--talk", type=float, default=14.0,
                        help="seconds each side speaks (sipp's 7.1 s speech, repeated)")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="the gateway's event loop (HOTLINE_VOICE_LOOP's default: asyncio)")
    parser.add_argument("--timeout", type=int, default=120, help="sipp's global timeout (s)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this folder and keep it (sipp's logs, the database)")
    parser.add_argument("--rtp-base", type=int, default=40000)
    parser.add_argument("--callers-media-base", type=int, default=50000)
    parser.add_argument("--phones-media-base", type=int, default=54000)
    args = parser.parse_args()
    if shutil.which("sipp") is None:
        print("sipp is not installed: apt-get install -y sip-tester", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="agent-calls-bench-") as tmp:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = str(args.keep.resolve())
            TRACE.append("-trace_msg")
        setup_django(tmp)
        import logging

        logging.getLogger("hotline.voice").setLevel(logging.WARNING)
        logging.getLogger("hotline.contactcentre").setLevel(logging.WARNING)
        started = time.monotonic()
        extensions = prepare_agents(args.calls)
        setup_s = time.monotonic() - started
        load_at_start = round(os.getloadavg()[0], 2)
        from hotline.voice.server import run_loop

        result = run_loop(run(args, Path(tmp), extensions), args.loop)
        result["agents_setup_s"] = round(setup_s, 1)
        result["load_average_at_start"] = load_at_start
    wrong = failures(result, args.calls)
    result["failures"] = wrong
    print(json.dumps({"bench": "agent_calls", **result}, ensure_ascii=False))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
