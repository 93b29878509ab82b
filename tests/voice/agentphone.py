"""Real peers for agent-call tests: baresip as an agent's (or supervisor's) phone and sipp as a
caller or as the trunk's far end (a department, 110).

``AgentPhone`` starts baresip registered to the gateway with digest authentication, answering
calls by itself, sending a tone of its own frequency and writing what it heard to a WAV file
(sndfile), so a test can check who heard whom. Commands can be typed into its stdin
(``/hangup``). ``SippCaller`` calls 12345 and talks (sipp's speech capture) for a while.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import wave
from dataclasses import dataclass, field
from pathlib import Path

from tests.voice.test_baresip import read_mono, tone_power
from tests.voice.test_media import tone
from tests.voice.test_udp_sipp import free_udp_port

PCAPS = Path("/usr/share/sip-tester")
CALLER = "13800138000"


def write_tone(path: Path, frequency: float, seconds: int = 40) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(tone(frequency=frequency, amplitude=8000, samples=8000 * seconds))


@dataclass
class AgentPhone:
    directory: Path
    extension: str
    password: str
    gateway_port: int
    frequency: float
    auto_answer: bool = True
    process: asyncio.subprocess.Process | None = None
    output: list[str] = field(default_factory=list)

    @property
    def heard_dir(self) -> Path:
        return self.directory / "heard"

    async def start(self) -> None:
        self.directory.mkdir(parents=True)
        self.heard_dir.mkdir()
        source = self.directory / "voice.wav"
        write_tone(source, self.frequency)
        (self.directory / "config").write_text(
            "poll_method poll\n"
            "net_interface 127.0.0.1\n"
            f"sip_listen 127.0.0.1:{free_udp_port()}\n"
            f"rtp_ports {(base := random.randrange(41000, 49000, 100))}-{base + 99}\n"
            "audio_player aubridge,bridge1\n"
            f"audio_source aufile,{source}\n"
            "module_path /usr/lib/baresip/modules\n"
            "module stdio.so\nmodule g711.so\nmodule aufile.so\nmodule aubridge.so\n"
            "module sndfile.so\nmodule account.so\nmodule_app menu.so\n"
            f"snd_path {self.heard_dir}\n"
        )
        answer = ";answermode=auto" if self.auto_answer else ""
        (self.directory / "accounts").write_text(
            f"<sip:{self.extension}@127.0.0.1:{self.gateway_port}>;auth_pass={self.password}"
            f";regint=600;audio_codecs=PCMU{answer}\n")
        self.process = await asyncio.create_subprocess_exec(
            shutil.which("baresip") or "baresip", "-f", str(self.directory),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.output.append(line.decode(errors="replace").rstrip())

    async def command(self, text: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        await self.process.stdin.drain()

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        try:
            await self.command("/quit")
            await asyncio.wait_for(self.process.wait(), timeout=3)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.process.kill()
            await self.process.wait()

    def heard(self) -> tuple[list[int], int]:
        """What the phone decoded over all its calls (sndfile's *-dec.wav files)."""
        samples: list[int] = []
        rate = 8000
        for path in sorted(self.heard_dir.glob("*-dec.wav")):
            part, rate = read_mono(path)
            samples.extend(part)
        return samples, rate

    def log(self) -> str:
        return "\n".join(self.output)


def power(samples: list[int], rate: int, frequency: float) -> float:
    return tone_power(samples, rate, frequency) if samples else 0.0


def caller_scenario(talk_ms: int, *, hang_up: bool = True) -> str:
    """INVITE 12345 (PCMA for sipp's speech capture), talk, then BYE (or wait for ours)."""
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
""".replace("CALLER", CALLER)


async def run_sipp(directory: Path, scenario: str, target: str, *extra: str,
                   timeout: float = 90) -> tuple[int, str]:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "scenario.xml"
    path.write_text(scenario)
    errors = directory / "errors.log"
    process = await asyncio.create_subprocess_exec(
        shutil.which("sipp") or "sipp", "-sf", str(path), "-s", "12345", target,
        "-i", "127.0.0.1", "-p", str(free_udp_port()), "-mp", str(free_udp_port() & ~1),
        "-m", "1", "-nostdin", "-timeout", f"{int(timeout)}s", "-timeout_error",
        "-trace_err", "-error_file", str(errors), *extra,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=timeout + 10)
    text = errors.read_text() if errors.exists() else ""
    return process.returncode or 0, text + stderr.decode(errors="replace")
