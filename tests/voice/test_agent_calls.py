"""Agent calls end to end with real peers: sipp calls 12345, the IVR hands it to a person, the
ACD rings the agent's baresip phone (registered with digest), the gateway bridges both and
records the conversation into one file kept with the call's contact.

The gateway runs in this process over the transactional test database (its worker threads must
see the test's rows). Tones tell the parties apart: the agent's phone sends 500 Hz, a second
agent 700 Hz, a supervisor 900 Hz; the caller sends sipp's recorded speech.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import wave
from pathlib import Path

import pytest

from hotline.desk import services as desk
from hotline.desk.models import (
    AgentStatus,
    CallOutcome,
    CallRecording,
    Queue,
    QueuedCall,
    SipExtension,
    StateChange,
)
from hotline.orders.models import Contact
from hotline.voice.gateway import GatewayConfig
from hotline.voice.prompts import ToneTts
from hotline.voice.server import build_gateway
from tests.voice.agentphone import AgentPhone, caller_scenario, power, run_sipp
from tests.voice.test_baresip import read_mono
from tests.voice.test_gateway_sipp import short_flow
from tests.voice.test_udp_sipp import free_udp_port

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "agent-phone-pw"
AGENT_HZ, COLLEAGUE_HZ, SUPERVISOR_HZ = 500.0, 700.0, 900.0


@pytest.fixture(autouse=True)
def _peers_and_media(settings, tmp_path):
    for tool in ("sipp", "baresip"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: make debian")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"


def extension(user, number):
    phone = SipExtension.objects.create(number=number, agent=user)
    desk.do_set_extension_password(phone, PASSWORD)
    return phone


def ready(user, number):
    desk.do_sign_in(user, extension=number)
    desk.do_set_state(user, "ready")


class Scene:
    """A gateway with the ACD, and the phones registered to it."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        base = random.randrange(30000, 39000, 20)
        self.config = GatewayConfig(sip_port=free_udp_port(), rtp_ports=(base, base + 19),
                                    recordings_dir=tmp_path / "recordings",
                                    direct_to_agent=True, gateway_id="test-gateway")
        self.gateway = build_gateway(self.config, flow=short_flow(),
                                     tts=ToneTts(seconds=0.2, frequency=1200.0),
                                     prompt_dir=tmp_path / "prompts")
        self.phones: list[AgentPhone] = []

    async def __aenter__(self) -> Scene:
        await self.gateway.start(warm=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for phone in self.phones:
            await phone.stop()
        await self.gateway.stop()

    async def phone(self, number: str, frequency: float) -> AgentPhone:
        phone = AgentPhone(self.tmp_path / f"phone-{number}", number, PASSWORD,
                           self.gateway.sip_port, frequency)
        self.phones.append(phone)
        await phone.start()
        registrar = self.gateway.agents.registrar
        loop = asyncio.get_running_loop()
        for _ in range(100):
            if registrar.binding(number, loop.time()) is not None:
                return phone
            await asyncio.sleep(0.05)
        raise AssertionError(f"phone {number} did not register:\n{phone.log()}")

    async def call(self, talk_ms: int, *, hang_up: bool = True) -> tuple[int, str]:
        return await run_sipp(self.tmp_path / "sipp", caller_scenario(talk_ms, hang_up=hang_up),
                              f"127.0.0.1:{self.gateway.sip_port}")

    async def settle(self, check, seconds: float = 8.0) -> None:  # type: ignore[no-untyped-def]
        for _ in range(int(seconds / 0.1)):
            if await asyncio.to_thread(check):
                return
            await asyncio.sleep(0.1)


def wav_samples(path: str) -> tuple[list[int], int]:
    return read_mono(path)


def test_a_caller_reaches_a_ready_agent_and_the_call_is_recorded(city, tmp_path):
    Queue.objects.create(code="general", name="综合", wrap_up_s=30, ring_timeout_s=15)
    extension(city.agent, "8001")
    ready(city.agent, "8001")

    async def scene():
        async with Scene(tmp_path) as s:
            phone = await s.phone("8001", AGENT_HZ)
            code, log = await s.call(talk_ms=7100)
            await s.settle(lambda: CallRecording.objects.exists())
            return s, phone, code, log

    s, phone, code, log = asyncio.run(scene())
    assert code == 0, log + "\n" + phone.log()
    call = QueuedCall.objects.get()
    assert call.outcome == CallOutcome.COMPLETED, (call.outcome, phone.log())
    assert call.agent == city.agent and call.gateway == "test-gateway"
    assert call.wait_s is not None and call.wait_s < 5
    actions = list(StateChange.objects.filter(agent=city.agent, call=call)
                   .values_list("action", flat=True))
    assert actions == ["offer", "answer", "hang_up"]
    assert AgentStatus.objects.get(pk=city.agent.pk).state == "wrap_up"
    contact = Contact.objects.get(pk=call.contact_id)
    assert contact.agent == city.agent and contact.citizen.phone == "13800138000"
    recording = CallRecording.objects.get()
    assert recording.contact == contact and recording.call == call
    assert recording.seconds > 5
    samples, rate = wav_samples(recording.file.path)
    # Both sides are in the one file: the agent's tone and the caller's speech (broadband).
    assert power(samples, rate, AGENT_HZ) > 20 * power(samples, rate, 1900.0)
    caller_energy = sum(abs(x) for x in samples) / len(samples)
    assert caller_energy > 500
    # The agent's phone heard the caller (speech), not its own tone.
    heard, heard_rate = phone.heard()
    assert len(heard) > heard_rate * 4, phone.log()
    assert sum(abs(x) for x in heard) / len(heard) > 300
    assert power(heard, heard_rate, AGENT_HZ) < power(samples, rate, AGENT_HZ) / 10
    assert not list((tmp_path / "recordings").rglob("agent-*.wav"))  # stored, working copy gone
    assert s.gateway.entries("agent") == ["8001"]
