"""A real softphone calls the core: baresip dials, hears our prompt, we hang up.

baresip's sndfile module dumps what it decoded (what the caller heard) to a WAV file;
we record what it sent. Each side's tone must arrive at the other on its frequency.
"""

import asyncio
import math
import shutil
import struct
import subprocess
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.session import MediaSession
from hotline.voice.media.udp import open_rtp_endpoint
from hotline.voice.sip.udp import SipEndpoint, open_sip_endpoint
from hotline.voice.sip.useragent import CallEnded, CallEstablished, EndReason, IncomingCall
from tests.voice.test_media import tone

pytestmark = pytest.mark.e2e
PROMPT_HZ, CALLER_HZ = 1000.0, 300.0


def tone_power(samples: Sequence[int], rate: int, frequency: float) -> float:
    """Goertzel: the signal's power at one frequency, normalised by its length."""
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    return (previous**2 + before**2 - coefficient * previous * before) / len(samples) ** 2


def read_mono(path: Path) -> tuple[tuple[int, ...], int]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        frames = wav.readframes(wav.getnframes())
        channels, rate = wav.getnchannels(), wav.getframerate()
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)[::channels]
    return samples, rate


class Gateway:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.events: list[type] = []
        self.rtp: dict[str, Any] = {}
        self.recorder: WavRecorder | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.done = asyncio.Event()

    def __call__(self, endpoint: SipEndpoint, event: object) -> None:
        loop = asyncio.get_running_loop()
        self.events.append(type(event))
        if isinstance(event, IncomingCall):
            task = loop.create_task(self._answer(endpoint, event.call_id))
            self.tasks.add(task)
        elif isinstance(event, CallEstablished):
            self.recorder = WavRecorder(str(self.tmp_path / "heard_from_caller.wav"))
            assert event.media is not None
            session = MediaSession(event.media, start=loop.time(), recorder=self.recorder)
            session.play(tone(frequency=PROMPT_HZ, amplitude=10000, samples=8000 * 3))
            self.rtp[event.call_id].attach(session)
            loop.call_later(3.5, endpoint.hangup, event.call_id)
        elif isinstance(event, CallEnded):
            self.reason = event.reason
            self.rtp[event.call_id].close()
            assert self.recorder is not None
            self.recorder.close()
            self.done.set()

    async def _answer(self, endpoint: SipEndpoint, call_id: str) -> None:
        self.rtp[call_id] = await open_rtp_endpoint("127.0.0.1", lambda digit: None)
        endpoint.answer(call_id, self.rtp[call_id].port)


def write_baresip_config(directory: Path, sound_dir: Path, source_wav: Path) -> None:
    directory.mkdir()
    (directory / "config").write_text(
        "poll_method poll\n"
        "sip_listen 127.0.0.1:0\n"
        "audio_player aubridge,bridge1\n"
        f"audio_source aufile,{source_wav}\n"
        "module_path /usr/lib/baresip/modules\n"
        "module stdio.so\nmodule g711.so\nmodule aufile.so\nmodule aubridge.so\n"
        "module sndfile.so\nmodule account.so\nmodule_app menu.so\n"
        f"snd_path {sound_dir}\n"
    )
    (directory / "accounts").write_text("<sip:caller@127.0.0.1>;regint=0;audio_codecs=PCMU\n")


async def call_from_baresip(tmp_path: Path) -> tuple[Gateway, Path, str]:
    gateway = Gateway(tmp_path)
    endpoint = await open_sip_endpoint("127.0.0.1", 0, gateway)
    source = tmp_path / "caller.wav"
    with wave.open(str(source), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(tone(frequency=CALLER_HZ, amplitude=8000, samples=8000 * 8))
    sound_dir = tmp_path / "heard"
    sound_dir.mkdir()
    write_baresip_config(tmp_path / "baresip", sound_dir, source)
    process = await asyncio.create_subprocess_exec(
        shutil.which("baresip") or "baresip", "-f", str(tmp_path / "baresip"),
        "-e", f"/dial sip:12345@127.0.0.1:{endpoint.agent.local_port}", "-t", "7",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    await asyncio.wait_for(gateway.done.wait(), timeout=5)
    endpoint.close()
    return gateway, sound_dir, output.decode(errors="replace")


def test_baresip_hears_our_prompt_and_we_hear_baresip(tmp_path: Path) -> None:
    if shutil.which("baresip") is None:
        pytest.fail("baresip is not installed: apt-get install -y baresip")
    gateway, sound_dir, log = asyncio.run(call_from_baresip(tmp_path))
    assert gateway.events == [IncomingCall, CallEstablished, CallEnded], log
    assert gateway.reason == EndReason.LOCAL_BYE
    (heard,) = sound_dir.glob("*-dec.wav")  # what baresip decoded from our RTP
    samples, rate = read_mono(heard)
    assert len(samples) / rate > 2.5, log
    assert tone_power(samples, rate, PROMPT_HZ) > 100 * tone_power(samples, rate, CALLER_HZ)
    info = subprocess.run(["sox", "--i", "-D", str(heard)], capture_output=True, text=True,
                          check=True)
    assert float(info.stdout) > 2.5
    ours, rate = read_mono(tmp_path / "heard_from_caller.wav")
    assert rate == 8000 and len(ours) / rate > 2.5
    assert tone_power(ours, rate, CALLER_HZ) > 100 * tone_power(ours, rate, PROMPT_HZ)
