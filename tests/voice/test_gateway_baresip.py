"""A real softphone calls the gateway: baresip dials 12345 and hears the welcome prompt.

baresip's sndfile module writes what it decoded to a WAV file; the prompts are 600 Hz
tones here (ToneTts) so the file can be checked for them.
"""

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hotline.voice.gateway import GatewayConfig
from hotline.voice.prompts import ToneTts
from hotline.voice.server import build_gateway
from tests.conftest import City
from tests.voice.test_baresip import read_mono, tone_power, write_baresip_config
from tests.voice.test_gateway_sipp import short_flow
from tests.voice.test_media import tone

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PROMPT_HZ, CALLER_HZ = 600.0, 300.0


async def call_from_baresip(tmp_path: Path) -> tuple[Any, Any, str]:
    config = GatewayConfig(sip_port=0, rtp_ports=(39500, 39509),
                           recordings_dir=tmp_path / "recordings")
    gateway = build_gateway(config, flow=short_flow(), tts=ToneTts(seconds=0.6,
                                                                   frequency=PROMPT_HZ),
                            prompt_dir=tmp_path / "prompts")
    await gateway.start(warm=False)
    source = tmp_path / "caller.wav"
    import wave

    with wave.open(str(source), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(tone(frequency=CALLER_HZ, amplitude=8000, samples=8000 * 8))
    heard = tmp_path / "heard"
    heard.mkdir()
    write_baresip_config(tmp_path / "baresip", heard, source)
    process = await asyncio.create_subprocess_exec(
        shutil.which("baresip") or "baresip", "-f", str(tmp_path / "baresip"),
        "-e", f"/dial sip:12345@127.0.0.1:{gateway.sip_port}", "-t", "5",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    for _ in range(50):
        if gateway.entries("end"):
            break
        await asyncio.sleep(0.05)
    await gateway.stop()
    return gateway, heard, output.decode(errors="replace")


def test_baresip_hears_the_welcome_prompt(city: City, tmp_path: Path) -> None:
    if shutil.which("baresip") is None:
        pytest.fail("baresip is not installed: apt-get install -y baresip")
    gateway, heard, log = asyncio.run(call_from_baresip(tmp_path))
    assert gateway.entries("visit")[0] == "welcome", log
    assert gateway.entries("call") == ["caller"]  # no digits in the From user: no number
    assert gateway.entries("end"), log
    (decoded,) = heard.glob("*-dec.wav")
    samples, rate = read_mono(decoded)
    assert len(samples) / rate > 2.0, log
    # The prompt's tone is there, well above what the caller itself sent.
    assert tone_power(samples, rate, PROMPT_HZ) > 100 * tone_power(samples, rate, CALLER_HZ)
    info = subprocess.run(["sox", "--i", "-D", str(decoded)], capture_output=True, text=True,
                          check=True)
    assert float(info.stdout) > 2.0
