"""Preview dialling (outbound calls in mode "agent") with real peers: the agent's phone is
baresip registered at the gateway's registrar, the citizen is sipp behind the trunk.

The agent's phone rings first; when it answers, the citizen is dialled through the trunk and
the two are bridged (and recorded with the outbound contact); a citizen who does not answer is
told to the agent by a prompt, then the agent's phone is hung up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from hotline.contactcentre.models import CallRecording
from hotline.orders.models import Contact
from hotline.orders.services import NewOrder, do_create_order
from hotline.outreach.calls import do_queue_call
from hotline.outreach.models import CallAttempt, OutboundCall
from tests.voice.agentphone import (  # noqa: F401 - the fixtures are used by name
    HEARD,
    PROMPT_HZ,
    Scene,
    _no_gateway_errors,
    _peers_and_media,
    db,
    extension,
    power,
)
from tests.voice.test_baresip import read_mono

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_django.fixtures import Settings

    from tests.conftest import City

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("_peers_and_media", "_no_gateway_errors")]
AGENT_HZ, CITIZEN_HZ = 500.0, 1400.0
CITIZEN = "13800138000"


@pytest.fixture(autouse=True)
def _no_quiet_hours(settings: Settings) -> None:
    settings.HOTLINE_OUTREACH_QUIET_START = dt.time(0, 0)
    settings.HOTLINE_OUTREACH_QUIET_END = dt.time(0, 0)


def finished(pk: int) -> Any:
    def check() -> Any:
        call = OutboundCall.objects.get(pk=pk)
        return call if call.attempts and call.state != OutboundCall.State.DIALLING else None

    return check


def test_the_agent_answers_then_the_citizen_is_dialled_and_bridged(city: City,
                                                                   tmp_path: Path) -> None:
    order, _ = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="三天没水", citizen_phone=CITIZEN))
    extension(city.agent, "8001")

    async def scene() -> Any:
        async with Scene(tmp_path, trunk_hz=CITIZEN_HZ) as s:
            phone = await s.phone("8001", AGENT_HZ)
            call = await db(lambda: do_queue_call(
                CITIZEN, "test", "agent", agent=city.agent, agent_extension="8001",
                order=order, ref="callback-task:1"))
            await phone.wait_for("Call established", timeout=15)
            for _ in range(100):  # until the citizen is bridged
                if s.gateway.entries("bridged"):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(3.0)  # they talk
            await phone.hang_up()
            done = await s.settle(finished(call.pk), 15)
            assert s.trunk is not None
            code, log = await s.trunk.result()
            return s, phone, done, code, log

    s, phone, done, code, log = asyncio.run(scene())
    assert code == 0, log + phone.log()
    assert s.trunk is not None and s.trunk.numbers() == [CITIZEN]
    assert done.outcome == "answered" and done.state == OutboundCall.State.DONE
    attempt = CallAttempt.objects.get(call=done)
    assert attempt.sip_status == 200 and attempt.talk_seconds >= 2
    contact = Contact.objects.get(pk=done.contact_id)
    assert contact.direction == Contact.Direction.OUTBOUND and contact.agent == city.agent
    assert list(contact.orders.all()) == [order]
    recording = CallRecording.objects.get(contact=contact)
    assert recording.seconds >= 2
    samples, rate = read_mono(recording.file.path)
    # Both sides in the recording: the agent's tone and the citizen's.
    assert power(samples, rate, AGENT_HZ) > HEARD and power(samples, rate, CITIZEN_HZ) > HEARD
    # The agent's phone heard the citizen.
    heard, heard_rate = phone.heard()
    assert power(heard, heard_rate, CITIZEN_HZ) > HEARD, phone.log()
    assert s.gateway.entries("dial") == ["agent:8001", f"citizen:{CITIZEN}"]


def test_a_busy_citizen_is_told_to_the_agent_and_the_agent_is_hung_up(city: City,
                                                                      tmp_path: Path) -> None:
    extension(city.agent, "8001")

    async def scene() -> Any:
        s = Scene(tmp_path, trunk_hz=CITIZEN_HZ)
        assert s.trunk is not None
        s.trunk.scenario = "uas_busy.xml"
        async with s:
            phone = await s.phone("8001", AGENT_HZ)
            call = await db(lambda: do_queue_call(
                CITIZEN, "test", "agent", agent=city.agent, agent_extension="8001"))
            done = await s.settle(finished(call.pk), 20)
            await phone.wait_for_end(timeout=10)
            code, log = await s.trunk.result()
            return phone, done, code, log

    phone, done, code, log = asyncio.run(scene())
    assert code == 0, log
    attempt = CallAttempt.objects.get(call=done)
    assert (attempt.outcome, attempt.sip_status) == ("busy", 486)
    assert done.state == OutboundCall.State.QUEUED  # tried again later by the rules
    assert done.contact_id is None
    # The agent heard the prompt (the tone voice) before the gateway hung up.
    heard, heard_rate = phone.heard()
    assert power(heard, heard_rate, PROMPT_HZ) > HEARD, phone.log()


def test_an_agent_phone_not_registered_fails_the_attempt_without_dialling(
        city: City, tmp_path: Path) -> None:
    async def scene() -> Any:
        async with Scene(tmp_path, trunk_hz=CITIZEN_HZ) as s:
            call = await db(lambda: do_queue_call(
                CITIZEN, "test", "agent", agent_extension="8009"))
            done = await s.settle(finished(call.pk), 10)
            assert s.trunk is not None
            return s.trunk, done

    trunk, done = asyncio.run(scene())
    assert trunk.numbers() == []
    assert done.outcome == "failed" and "not registered" in done.error
