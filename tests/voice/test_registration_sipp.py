"""Registering to a real peer: sipp as the trunk's registrar checks our digest itself."""

import asyncio
import shutil
from typing import Any

import pytest

from hotline.voice.sip.registration import Registered, RegistrationFailed, TrunkAccount
from hotline.voice.sip.udp import open_sip_endpoint
from tests.voice.test_udp_sipp import SCENARIOS, free_udp_port

pytestmark = pytest.mark.e2e


async def register_to_sipp(password: str) -> tuple[Any, int | None, str]:
    registrar_port = free_udp_port()
    process = await asyncio.create_subprocess_exec(
        shutil.which("sipp") or "sipp", "-sf", str(SCENARIOS / "uas_registrar.xml"),
        "-i", "127.0.0.1", "-p", str(registrar_port), "-m", "1", "-nostdin",
        "-timeout", "20s", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    await asyncio.sleep(0.5)  # let sipp bind its port
    outcome = asyncio.get_running_loop().create_future()

    def on_event(endpoint: Any, event: Any) -> None:
        if isinstance(event, Registered | RegistrationFailed) and not outcome.done():
            outcome.set_result(event)

    endpoint = await open_sip_endpoint("127.0.0.1", 0, on_event)
    account = TrunkAccount(registrar=("127.0.0.1", registrar_port), domain="trunk.example",
                           username="1001", password=password)
    endpoint.register(account)
    try:
        result = await asyncio.wait_for(outcome, timeout=15)
    finally:
        endpoint.close()
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    return result, process.returncode, stderr.decode(errors="replace")


@pytest.fixture(autouse=True)
def _sipp_installed() -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed: apt-get install -y sip-tester")


def test_sipp_registrar_accepts_our_digest() -> None:
    result, code, log = asyncio.run(register_to_sipp("s3cret"))
    assert isinstance(result, Registered), log
    assert result.expires == 90  # granted on our Contact, shorter than we asked
    assert code == 0, log


def test_sipp_registrar_rejects_a_wrong_password() -> None:
    result, _, log = asyncio.run(register_to_sipp("wrong"))
    assert isinstance(result, RegistrationFailed), log
    assert result.status == 403
