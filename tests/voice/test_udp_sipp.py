"""The asyncio adapter against a real peer: sipp over loopback."""

import asyncio
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest

from hotline.voice.sip.udp import SipEndpoint, open_sip_endpoint
from hotline.voice.sip.useragent import CallEnded, CallEstablished, EndReason, IncomingCall

SCENARIOS = Path(__file__).parent / "sipp"
pytestmark = pytest.mark.e2e


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class HotlineStub:
    """Answers every call except service "ring"; hangs up itself on service "hangup"."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self.called: dict[str, Any] = {}

    def __call__(self, endpoint: SipEndpoint, event: object) -> None:
        self.events.append(event)
        if isinstance(event, IncomingCall):
            self.called[event.call_id] = event.called_user
            if event.called_user != "ring":
                endpoint.answer(event.call_id, 40000)
        elif isinstance(event, CallEstablished) and self.called[event.call_id] == "hangup":
            asyncio.get_running_loop().call_later(0.05, endpoint.hangup, event.call_id)

    def ended(self) -> list[str]:
        return [e.reason for e in self.events if isinstance(e, CallEnded)]


async def run_sipp(tmp_path: Path, scenario_args: list[str], service: Any,
                   calls: int) -> tuple[int | None, Any, Any, str]:
    app = HotlineStub()
    endpoint = await open_sip_endpoint("127.0.0.1", 0, app)
    port = endpoint.agent.local_port
    error_file = tmp_path / "sipp_errors.log"
    process = await asyncio.create_subprocess_exec(
        shutil.which("sipp") or "sipp", *scenario_args, "-s", service,
        f"127.0.0.1:{port}", "-i", "127.0.0.1", "-p", str(free_udp_port()),
        "-m", str(calls), "-r", "20", "-l", "10", "-nostdin",
        "-timeout", "15s", "-timeout_error", "-trace_err", "-error_file", str(error_file),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    await asyncio.sleep(0.1)  # let the last datagrams land
    endpoint.close()
    errors = error_file.read_text(errors="replace") if error_file.exists() else ""
    return process.returncode, app, endpoint, errors + stderr.decode(errors="replace")


@pytest.fixture
def sipp_available() -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed: apt-get install -y sip-tester")


def test_sipp_default_uac_calls_are_answered_and_ended_by_the_caller(tmp_path: Path,
                                                                     sipp_available: None) -> None:
    code, app, endpoint, log = asyncio.run(run_sipp(tmp_path, ["-sn", "uac"], "12345", 10))
    assert code == 0, log
    assert app.ended() == [EndReason.REMOTE_BYE] * 10
    assert endpoint.agent.calls == {} and endpoint.dropped == 0


def test_gateway_hangs_up_and_sipp_accepts_our_bye(tmp_path: Path, sipp_available: None) -> None:
    scenario = ["-sf", str(SCENARIOS / "uac_gateway_hangs_up.xml")]
    code, app, endpoint, log = asyncio.run(run_sipp(tmp_path, scenario, "hangup", 5))
    assert code == 0, log
    assert app.ended() == [EndReason.LOCAL_BYE] * 5
    assert endpoint.agent.calls == {}


def test_cancel_while_ringing(tmp_path: Path, sipp_available: None) -> None:
    scenario = ["-sf", str(SCENARIOS / "uac_cancel.xml")]
    code, app, endpoint, log = asyncio.run(run_sipp(tmp_path, scenario, "ring", 5))
    assert code == 0, log
    assert app.ended() == [EndReason.CANCELLED] * 5
    assert endpoint.agent.calls == {}


def test_options_ping(tmp_path: Path, sipp_available: None) -> None:
    scenario = ["-sf", str(SCENARIOS / "uac_options.xml")]
    code, app, _, log = asyncio.run(run_sipp(tmp_path, scenario, "12345", 3))
    assert code == 0, log
    assert app.events == []
