"""Media against a real peer: sipp plays speech and RFC 4733 key presses from its pcaps."""

import asyncio
import itertools
import shutil
import statistics
import subprocess
import wave
from pathlib import Path
from typing import Any

import pytest

from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.rtp import parse_rtp
from hotline.voice.media.session import MediaSession
from hotline.voice.media.udp import open_rtp_endpoint
from hotline.voice.sip.udp import SipEndpoint, open_sip_endpoint
from hotline.voice.sip.useragent import CallEnded, CallEstablished, IncomingCall
from tests.voice.pcap import read_udp
from tests.voice.test_media import SIPP_DIR, tone
from tests.voice.test_udp_sipp import SCENARIOS, free_udp_port

pytestmark = pytest.mark.e2e
SIPP_SPEECH = SIPP_DIR / "g711a.pcap"


def capture_samples() -> int:
    """Samples in sipp's speech capture (236 packets of 30 ms), read with our pcap reader."""
    return sum(len(parse_rtp(d.payload).payload) for d in read_udp(str(SIPP_SPEECH)))


class RecordingGateway:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.rtp: dict[str, Any] = {}
        self.recorders: dict[str, WavRecorder] = {}
        self.digits: list[str] = []
        self.ended: list[Any] = []
        self.tasks: set[asyncio.Task[None]] = set()

    def __call__(self, endpoint: SipEndpoint, event: object) -> None:
        loop = asyncio.get_running_loop()
        if isinstance(event, IncomingCall):
            task = loop.create_task(self._answer(endpoint, event.call_id))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif isinstance(event, CallEstablished):
            recorder = WavRecorder(str(self.tmp_path / "caller.wav"))
            self.recorders[event.call_id] = recorder
            assert event.media is not None
            session = MediaSession(event.media, start=loop.time(), recorder=recorder)
            session.play(tone(samples=8000 * 3))  # a 3 s "prompt"
            self.rtp[event.call_id].attach(session)
        elif isinstance(event, CallEnded):
            self.ended.append(event.reason)
            self.rtp[event.call_id].close()
            self.recorders[event.call_id].close()

    async def _answer(self, endpoint: SipEndpoint, call_id: str) -> None:
        rtp = await open_rtp_endpoint("127.0.0.1", lambda d: self.digits.append(d.digit),
                                      measure=True)
        self.rtp[call_id] = rtp
        endpoint.answer(call_id, rtp.port)


async def call_with_sipp(tmp_path: Path) -> tuple[int | None, str, RecordingGateway]:
    gateway = RecordingGateway(tmp_path)
    endpoint = await open_sip_endpoint("127.0.0.1", 0, gateway)
    process = await asyncio.create_subprocess_exec(
        shutil.which("sipp") or "sipp", "-sf", str(SCENARIOS / "uac_pcap_dtmf.xml"),
        "-s", "12345", f"127.0.0.1:{endpoint.agent.local_port}", "-i", "127.0.0.1",
        "-p", str(free_udp_port()), "-mp", str(free_udp_port()), "-m", "1", "-nostdin",
        "-timeout", "30s", "-timeout_error",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    await asyncio.sleep(0.1)
    endpoint.close()
    return process.returncode, stderr.decode(errors="replace"), gateway


def test_sipp_speech_and_keys_reach_the_recorder_and_the_dtmf_receiver(tmp_path: Path) -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed: apt-get install -y sip-tester")
    code, log, gateway = asyncio.run(call_with_sipp(tmp_path))
    assert code == 0, log
    assert gateway.digits == ["1", "2", "#"]
    assert len(gateway.ended) == 1
    path = tmp_path / "caller.wav"
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == 8000 and wav.getnchannels() == 1
        assert wav.getnframes() == capture_samples() == 236 * 240  # all of it, nothing invented
    info = subprocess.run(["sox", "--i", "-D", str(path)], capture_output=True, text=True,
                          check=True)
    assert float(info.stdout) == pytest.approx(236 * 0.03)
    # What we sent: one packet per 20 ms for the whole call (about 9 s), on schedule.
    (rtp,) = gateway.rtp.values()
    times = rtp.send_times
    assert len(times) > 8.0 / 0.02
    gaps = sorted(b - a for a, b in itertools.pairwise(times) if b > a)
    assert statistics.median(gaps) == pytest.approx(0.02, abs=0.003)
