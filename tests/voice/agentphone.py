"""Real peers for agent-call tests: baresip as an agent's, a supervisor's or a caller's phone,
sipp as a caller or as the trunk's far end (a department, 110), and ``Scene``: a gateway with
the ACD in this process, over the transactional test database.

``AgentPhone`` starts baresip registered to the gateway with digest authentication (or, as a
caller, not registered at all), answering calls by itself unless told not to, sending a tone of
its own frequency and writing what it heard to one WAV file per call (sndfile), so a test can
check who heard whom and when. Every line baresip prints is kept with the loop time it arrived,
so a WAV's samples map to the loop's clock (the gateway's log uses the same monotonic clock).
Commands can be typed into its stdin (``/hangup``, ``/dial``).

The sipp caller and trunk send tones too: ``write_tone_pcap`` makes an RTP capture of a tone
for sipp's ``play_pcap_audio``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import socket
import struct
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hotline.voice.gateway import GatewayConfig, VoiceGateway
from hotline.voice.media import g711
from hotline.voice.prompts import ToneTts
from tests.voice.test_baresip import read_mono
from tests.voice.test_media import tone
from tests.voice.test_udp_sipp import free_udp_port


def free_sip_port() -> int:
    """A port baresip can listen on: it binds UDP and TCP on the port and TLS (TCP) on the next
    one, with no way to switch TCP or TLS off in version 1.0, so all of them must be free."""
    for _ in range(200):
        port = random.randrange(40000, 40999)
        probes = []
        try:
            for kind, offset in ((socket.SOCK_DGRAM, 0), (socket.SOCK_STREAM, 0),
                                 (socket.SOCK_STREAM, 1), (socket.SOCK_DGRAM, 1)):
                probe = socket.socket(socket.AF_INET, kind)
                probes.append(probe)
                probe.bind(("127.0.0.1", port + offset))
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
        return port
    raise RuntimeError("no free port pair for baresip")

PCAPS = Path("/usr/share/sip-tester")
SIPP_SCENARIOS = Path(__file__).parent / "sipp"
CALLER = "13800138000"
PASSWORD = "agent-phone-pw"
PROMPT_HZ = 1200.0  # the gateway's tone "speech" (ToneTts) for prompts and announcements
HEARD = 1e6  # a tone sent at amplitude 8000 arrives at ~1.6e7 (Goertzel power, see levels)
NOT_HEARD = 2e4  # 40 dB below: leakage, quantisation noise and music sidelobes stay under


# --- audio ------------------------------------------------------------------------------------

def write_tone(path: Path, frequency: float, seconds: int = 40) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(tone(frequency=frequency, amplitude=8000, samples=8000 * seconds))


def write_tone_pcap(path: Path, frequency: float, seconds: float) -> None:
    """An RTP capture (Ethernet, IPv4, UDP) of a PCMA tone in 20 ms packets, for sipp's
    ``play_pcap_audio`` (it rewrites the addresses and replays at the captured pace)."""
    pcm = tone(frequency=frequency, amplitude=8000, samples=int(8000 * seconds))
    payload = g711.encode(g711.Codec.PCMA, pcm)
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for index in range(len(payload) // 160):
        rtp = struct.pack("!BBHII", 0x80, 8, index & 0xFFFF, index * 160, 0x5EED) \
            + payload[index * 160:(index + 1) * 160]
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), index & 0xFFFF, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        micros = index * 20_000
        out += struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame),
                           len(frame))
        out += frame
    path.write_bytes(bytes(out))


def levels(samples: Any, rate: int, *frequencies: float) -> list[float]:
    """Each frequency's power in the samples (Goertzel's normalisation: a sine of amplitude A
    gives ~A²/4), computed with numpy."""
    x = np.asarray(samples, dtype=np.float64)
    if not len(x):
        return [0.0 for _ in frequencies]
    n = np.arange(len(x))
    return [float(abs(np.dot(x, np.exp(-2j * np.pi * f * n / rate))) ** 2 / len(x) ** 2)
            for f in frequencies]


def power(samples: Any, rate: int, frequency: float) -> float:
    return levels(samples, rate, frequency)[0]


def loudness(samples: Any) -> float:
    """Mean absolute sample value: speech, music or silence (~0)."""
    x = np.asarray(samples, dtype=np.float64)
    return float(np.abs(x).mean()) if len(x) else 0.0


# --- baresip ----------------------------------------------------------------------------------

@dataclass
class Heard:
    """What a phone decoded during one call: samples from ``started`` (loop time)."""

    samples: list[int]
    rate: int
    started: float

    def between(self, start: float, end: float) -> list[int]:
        """The samples heard between two loop times."""
        first = max(0, int((start - self.started) * self.rate))
        last = max(first, int((end - self.started) * self.rate))
        return self.samples[first:last]

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


@dataclass
class AgentPhone:
    directory: Path
    extension: str
    password: str
    gateway_port: int
    frequency: float
    auto_answer: bool = True
    register: bool = True  # False: a caller's softphone, not registered anywhere
    process: asyncio.subprocess.Process | None = None
    output: list[str] = field(default_factory=list)
    stamps: list[tuple[float, str]] = field(default_factory=list)

    heard_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="heard-")))

    async def start(self) -> None:
        # baresip's sndfile names its dumps in a 128-byte buffer: under a long test directory
        # (pytest-xdist adds popen-gwN/) the name is cut and nothing is written. The dumps go
        # to a short temporary folder of their own instead.
        self.directory.mkdir(parents=True)
        source = self.directory / "voice.wav"
        write_tone(source, self.frequency)
        (self.directory / "config").write_text(
            "poll_method poll\n"
            "net_interface 127.0.0.1\n"
            f"sip_listen 127.0.0.1:{free_sip_port()}\n"
            f"rtp_ports {(base := random.randrange(41000, 49000, 100))}-{base + 99}\n"
            "audio_player aubridge,bridge1\n"
            f"audio_source aufile,{source}\n"
            "module_path /usr/lib/baresip/modules\n"
            "module stdio.so\nmodule g711.so\nmodule aufile.so\nmodule aubridge.so\n"
            "module sndfile.so\nmodule account.so\nmodule_app menu.so\n"
            f"snd_path {self.heard_dir}\n"
        )
        answer = ";answermode=auto" if self.auto_answer else ""
        auth = f";auth_pass={self.password};regint=600" if self.register else ";regint=0"
        (self.directory / "accounts").write_text(
            f"<sip:{self.extension}@127.0.0.1:{self.gateway_port}>{auth}"
            f";audio_codecs=PCMU{answer}\n")
        self.process = await asyncio.create_subprocess_exec(
            shutil.which("baresip") or "baresip", "-f", str(self.directory),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        loop = asyncio.get_running_loop()
        while line := await self.process.stdout.readline():
            text = line.decode(errors="replace").rstrip()
            self.output.append(text)
            self.stamps.append((loop.time(), text))

    async def command(self, text: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        await self.process.stdin.drain()

    async def dial(self, user: str = "12345") -> None:
        await self.command(f"/dial sip:{user}@127.0.0.1:{self.gateway_port}")

    async def hang_up(self) -> None:
        await self.command("/hangup")

    async def wait_for(self, *texts: str, timeout: float = 10.0, after: float = 0.0) -> float:
        """The loop time at which baresip printed a line with one of ``texts`` (after
        ``after``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for at, line in self.stamps:
                if at >= after and any(text in line for text in texts):
                    return at
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.extension} never printed {texts!r}:\n{self.log()}")

    async def wait_for_end(self, timeout: float = 5.0) -> float:
        """The call ended (baresip says "session closed" or "... terminated")."""
        return await self.wait_for("session closed", "terminated", timeout=timeout)

    def count(self, text: str) -> int:
        return sum(1 for line in self.output if text in line)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        try:
            await self.command("/quit")
            await asyncio.wait_for(self.process.wait(), timeout=3)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.process.kill()
            await self.process.wait()

    def calls(self) -> list[Heard]:
        """What the phone decoded in each of its calls, in order (sndfile's *-dec.wav files,
        each starting when baresip said it was dumping to it)."""
        opened = {line.rsplit(" ", 1)[-1]: at for at, line in self.stamps
                  if "sndfile: dumping" in line}
        out = []
        for path in sorted(self.heard_dir.glob("*-dec.wav")):
            samples, rate = read_mono(path)
            out.append(Heard(list(samples), rate, opened.get(str(path), 0.0)))
        return out

    def heard(self) -> tuple[list[int], int]:
        """Everything the phone decoded over all its calls."""
        samples: list[int] = []
        rate = 8000
        for call in self.calls():
            samples.extend(call.samples)
            rate = call.rate
        return samples, rate

    def log(self) -> str:
        return "\n".join(self.output)


# --- sipp -------------------------------------------------------------------------------------

def caller_scenario(talk_ms: int, *, hang_up: bool = True, caller: str = CALLER,
                    tone_pcap: Path | None = None) -> str:
    """INVITE 12345 (PCMA), talk (sipp's recorded speech, or a tone capture), then BYE (or
    wait for ours)."""
    if tone_pcap is not None:
        plays = (f'  <nop><action><exec play_pcap_audio="{tone_pcap}"/></action></nop>\n'
                 f'  <pause milliseconds="{talk_ms}"/>\n')
    else:
        speech = f'{PCAPS / "g711a.pcap"}'
        plays = "".join(
            f'  <nop><action><exec play_pcap_audio="{speech}"/></action></nop>\n'
            '  <pause milliseconds="7100"/>\n' for _ in range(max(1, talk_ms // 7100)))
    ending = ("""  <send retrans="500"><![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: sipp <sip:CALLER@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
  <recv response="200"/>
""" if hang_up else """  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]></send>
""")
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="caller talks to an agent">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: sipp <sip:CALLER@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: sipp <sip:CALLER@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
{plays}{ending}</scenario>
""".replace("CALLER", caller)


def sipp_command(directory: Path, *args: str, timeout: float) -> list[str]:
    errors = directory / "errors.log"
    return [shutil.which("sipp") or "sipp", *args, "-i", "127.0.0.1",
            "-mp", str(free_udp_port() & ~1), "-m", "1", "-nostdin",
            "-timeout", f"{int(timeout)}s", "-timeout_error", "-trace_err",
            "-error_file", str(errors)]


async def start_sipp(directory: Path, scenario: str, target: str, *extra: str,
                     timeout: float = 90) -> asyncio.subprocess.Process:
    """sipp calling ``target`` with the scenario text, in the background."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "scenario.xml"
    path.write_text(scenario)
    return await asyncio.create_subprocess_exec(
        *sipp_command(directory, "-sf", str(path), "-s", "12345", target,
                      "-p", str(free_udp_port()), timeout=timeout), *extra,
        cwd=directory, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )


async def sipp_result(directory: Path, process: asyncio.subprocess.Process,
                      timeout: float = 100) -> tuple[int, str]:
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=timeout)
    errors = directory / "errors.log"
    text = errors.read_text(errors="replace") if errors.exists() else ""
    return process.returncode or 0, text + stderr.decode(errors="replace")


async def run_sipp(directory: Path, scenario: str, target: str, *extra: str,
                   timeout: float = 90) -> tuple[int, str]:
    process = await start_sipp(directory, scenario, target, *extra, timeout=timeout)
    return await sipp_result(directory, process, timeout + 10)


@dataclass
class Trunk:
    """sipp as the trunk's far end (a department's number, 110): answers our INVITE, plays a
    tone and stays up until we hang up (``trunk_answers.xml``); its log names each number
    dialled (``number=...``)."""

    directory: Path
    port: int
    frequency: float
    scenario: str = "trunk_answers.xml"
    process: asyncio.subprocess.Process | None = None

    async def start(self, calls: int = 1) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        write_tone_pcap(self.directory / "trunk_tone.pcap", self.frequency, 30)
        command = sipp_command(self.directory, "-sf", str(SIPP_SCENARIOS / self.scenario),
                               "-p", str(self.port), "-trace_logs", "-log_file",
                               str(self.log_path), timeout=60)
        command[command.index("-m") + 1] = str(calls)
        self.process = await asyncio.create_subprocess_exec(
            *command, cwd=self.directory, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)

    @property
    def log_path(self) -> Path:
        return self.directory / "trunk.log"

    def numbers(self) -> list[str]:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return [line.split("=", 1)[1].strip() for line in text.splitlines()
                if line.startswith("number=")]

    async def result(self, timeout: float = 30) -> tuple[int, str]:
        assert self.process is not None
        return await sipp_result(self.directory, self.process, timeout)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


# --- the gateway ------------------------------------------------------------------------------

class Scene:
    """A gateway with the ACD on free ports, and the phones and trunk around it."""

    def __init__(self, tmp_path: Path, *, trunk_hz: float | None = None,
                 prompt_seconds: float = 0.2, flow: Any = None,
                 gateway_id: str = "test-gateway", trunk_calls: int = 1) -> None:
        from hotline.voice.server import build_gateway
        from tests.voice.test_gateway_sipp import short_flow

        self.tmp_path = tmp_path
        self.trunk_calls = trunk_calls  # calls the trunk's sipp takes before it exits
        base = random.randrange(30000, 39000, 20)
        self.trunk = Trunk(tmp_path / "trunk", free_udp_port(), trunk_hz) \
            if trunk_hz is not None else None
        self.config = GatewayConfig(
            sip_port=free_udp_port(), rtp_ports=(base, base + 19),
            recordings_dir=tmp_path / "recordings", direct_to_agent=True,
            gateway_id=gateway_id,
            trunk=("127.0.0.1", self.trunk.port) if self.trunk is not None else None)
        self.gateway: VoiceGateway = build_gateway(
            self.config, flow=flow or short_flow(),
            tts=ToneTts(seconds=prompt_seconds, frequency=PROMPT_HZ),
            prompt_dir=tmp_path / "prompts")
        self.phones: list[AgentPhone] = []
        self.sipps: list[asyncio.subprocess.Process] = []
        self._sipp_count = 0

    async def __aenter__(self) -> Scene:
        await self.gateway.start(warm=False)
        if self.trunk is not None:
            await self.trunk.start(self.trunk_calls)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for phone in self.phones:
            await phone.stop()
        for process in self.sipps:
            if process.returncode is None:
                process.kill()
                await process.wait()
        if self.trunk is not None:
            await self.trunk.stop()
        await self.gateway.stop()

    @property
    def port(self) -> int:
        return self.gateway.sip_port

    async def phone(self, number: str, frequency: float, *,
                    auto_answer: bool = True) -> AgentPhone:
        """An extension's baresip, registered (waits until the registrar has its binding)."""
        phone = AgentPhone(self.tmp_path / f"phone-{number}", number, PASSWORD,
                           self.gateway.sip_port, frequency, auto_answer=auto_answer)
        self.phones.append(phone)
        await phone.start()
        registrar = self.gateway.agents.registrar
        loop = asyncio.get_running_loop()
        for _ in range(100):
            if registrar.binding(number, loop.time()) is not None:
                return phone
            await asyncio.sleep(0.05)
        raise AssertionError(f"phone {number} did not register:\n{phone.log()}")

    async def caller(self, frequency: float, number: str = CALLER) -> AgentPhone:
        """A citizen's softphone (baresip, not registered); ``dial()`` calls 12345."""
        phone = AgentPhone(self.tmp_path / f"caller-{number}", number, "",
                           self.gateway.sip_port, frequency, register=False)
        self.phones.append(phone)
        await phone.start()
        await phone.wait_for("baresip is ready", timeout=5)
        return phone

    async def start_call(self, talk_ms: int, *, hang_up: bool = True, caller: str = CALLER,
                         tone_hz: float | None = None) -> tuple[Path, asyncio.subprocess.Process]:
        """A sipp caller in the background (speech, or a tone of ``tone_hz``)."""
        self._sipp_count += 1
        directory = self.tmp_path / f"sipp-{self._sipp_count}"
        directory.mkdir(parents=True)
        pcap = None
        if tone_hz is not None:
            pcap = directory / "tone.pcap"
            write_tone_pcap(pcap, tone_hz, talk_ms / 1000 + 1)
        process = await start_sipp(
            directory, caller_scenario(talk_ms, hang_up=hang_up, caller=caller, tone_pcap=pcap),
            f"127.0.0.1:{self.gateway.sip_port}")
        self.sipps.append(process)
        return directory, process

    async def call_result(self, directory: Path,
                          process: asyncio.subprocess.Process) -> tuple[int, str]:
        return await sipp_result(directory, process)

    async def call(self, talk_ms: int, *, hang_up: bool = True, caller: str = CALLER,
                   tone_hz: float | None = None) -> tuple[int, str]:
        directory, process = await self.start_call(talk_ms, hang_up=hang_up, caller=caller,
                                                   tone_hz=tone_hz)
        return await sipp_result(directory, process)

    async def settle(self, check: Callable[[], Any], seconds: float = 8.0) -> Any:
        """Wait until ``check()`` (run in a thread: it may read the database) is truthy."""
        for _ in range(int(seconds / 0.1)):
            if result := await db(check):
                return result
            await asyncio.sleep(0.1)
        raise AssertionError(f"not settled in {seconds} s: {check}")

    async def command(self, actor: Any, call_id: int, action: str, target: str = "",
                      timeout: float = 15.0) -> Any:
        """Issue a desk command and wait until the gateway has carried it out."""
        from hotline.contactcentre.commands import do_issue_command
        from hotline.contactcentre.models import CallCommand, CommandStatus

        issued = await db(do_issue_command, actor, call_id, action, target)

        def done() -> Any:
            command = CallCommand.objects.get(pk=issued.pk)
            return command if command.status != CommandStatus.PENDING else None

        return await self.settle(done, timeout)

    def times(self, kind: str, detail: str | None = None) -> list[float]:
        """Loop times of the gateway's log entries of ``kind`` (and ``detail``)."""
        return [e.at for e in self.gateway.events
                if e.kind == kind and (detail is None or e.detail == detail)]

    def routing_latencies(self) -> list[float]:
        """Seconds from a caller joining a queue to the INVITE of the agent's phone."""
        queued: dict[str, float] = {}
        out = []
        for entry in self.gateway.events:
            if entry.kind == "queue":
                queued.setdefault(entry.call_id, entry.at)
            elif entry.kind == "dial" and entry.detail.startswith("agent:") \
                    and entry.call_id in queued:
                out.append(entry.at - queued.pop(entry.call_id))
        return out


# --- the platform's side -----------------------------------------------------------------------

def extension(user: Any, number: str) -> Any:
    from hotline.contactcentre import services as desk
    from hotline.contactcentre.models import SipExtension

    phone = SipExtension.objects.create(number=number, agent=user)
    desk.do_set_extension_password(phone, PASSWORD)
    return phone


def ready(user: Any, number: str) -> None:
    from hotline.contactcentre import services as desk

    desk.do_sign_in(user, extension=number)
    desk.do_set_state(user, "ready")


def actions(user: Any) -> list[str]:
    """The agent's state changes the ACD made (signing in and ready left out)."""
    from hotline.contactcentre.models import StateChange

    return list(StateChange.objects.filter(agent=user).exclude(action__in=["sign_in", "ready"])
                .values_list("action", flat=True))


@pytest.fixture
def _peers_and_media(settings: Any, tmp_path: Path) -> None:
    for tool in ("sipp", "baresip"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: make debian")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def _no_gateway_errors(caplog: Any) -> Any:
    """A failed task or timer callback in the gateway is a bug even if the call went on."""
    yield
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR
              and (r.name == "asyncio" or r.name.startswith("hotline"))]
    assert not errors, "\n".join(f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}"
                                  for r in errors)


LATENCIES: list[float] = []  # enqueue -> INVITE to the agent's phone, over a test module


def keep_latencies(scene: Scene) -> None:
    """Keep the routing latencies of a test whose agent was ready before the call came."""
    found = scene.routing_latencies()
    LATENCIES.extend(found)
    print("routing latency (enqueue -> INVITE):", ", ".join(f"{s * 1000:.1f} ms" for s in found))


@pytest.fixture(scope="module")
def _latency_summary() -> Any:
    LATENCIES.clear()
    yield
    if LATENCIES:
        ordered = sorted(LATENCIES)
        print(f"\nrouting latency over {len(ordered)} calls: median "
              f"{ordered[len(ordered) // 2] * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms")


def _closing_after(function: Callable[..., Any], *args: Any) -> Any:
    from django.db import close_old_connections

    try:
        return function(*args)
    finally:
        close_old_connections()  # no idle thread keeps a connection (PostgreSQL's drop)


async def db(function: Callable[..., Any], *args: Any) -> Any:
    """Run database code from the test's event loop (Django refuses it on the loop)."""
    return await asyncio.to_thread(_closing_after, function, *args)


def now() -> float:
    return asyncio.get_running_loop().time()


async def until(at: float) -> None:
    await asyncio.sleep(max(0.0, at - now()))


