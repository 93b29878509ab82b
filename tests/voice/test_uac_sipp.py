"""Our outgoing calls against a real peer: sipp as the callee (UAS) over loopback.

sipp's default UAS answers; our own scenarios are a callee that holds and hangs up itself,
a busy one, one that never answers (and gets our CANCEL) and a trunk that wants digest.
"""

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from hotline.voice.sdp import Direction
from hotline.voice.sip.udp import SipEndpoint, open_sip_endpoint
from hotline.voice.sip.useragent import (
    CallEnded,
    EndReason,
    MediaChanged,
    OutgoingAnswered,
    OutgoingFailed,
    OutgoingProgress,
)
from tests.voice.test_udp_sipp import SCENARIOS

pytestmark = pytest.mark.e2e


class Dialler:
    """The application: hangs up `hang_up_after` s after the answer, or after the 180."""

    def __init__(self, hang_up_after: float | None = None, cancel_on_ringing: bool = False) -> None:
        self.hang_up_after = hang_up_after
        self.cancel_on_ringing = cancel_on_ringing
        self.events: list[object] = []
        self.over = asyncio.Event()

    def __call__(self, endpoint: SipEndpoint, event: object) -> None:
        self.events.append(event)
        loop = asyncio.get_running_loop()
        if isinstance(event, OutgoingProgress) and self.cancel_on_ringing:
            loop.call_later(0.2, endpoint.hangup, event.call_id)
        elif isinstance(event, OutgoingAnswered) and self.hang_up_after is not None:
            loop.call_later(self.hang_up_after, endpoint.hangup, event.call_id)
        elif isinstance(event, CallEnded | OutgoingFailed):
            self.over.set()

    def of_type(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


async def call_sipp(tmp_path: Path, scenario: list[str], ports: tuple[int, int, int], app: Dialler, *,
                    user: str = "8001", **invite_options: Any) -> tuple[str, int | None, SipEndpoint, str]:
    our_port, sipp_port, media_port = ports
    error_file = tmp_path / "sipp_errors.log"
    process = await asyncio.create_subprocess_exec(
        shutil.which("sipp") or "sipp", *scenario, "-i", "127.0.0.1", "-p", str(sipp_port),
        "-mp", str(media_port), "-m", "1", "-nostdin", "-timeout", "8s", "-timeout_error",
        "-trace_err", "-error_file", str(error_file),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    endpoint = await open_sip_endpoint("127.0.0.1", our_port, app)
    try:
        await asyncio.sleep(0.4)  # let sipp bind its port
        call_id = endpoint.invite(f"sip:{user}@127.0.0.1:{sipp_port}", ("127.0.0.1", sipp_port),
                                  39690, **invite_options)
        await asyncio.wait_for(app.over.wait(), timeout=8)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
        await asyncio.sleep(0.1)
    finally:
        if process.returncode is None:
            process.kill()
        endpoint.close()
    errors = error_file.read_text(errors="replace") if error_file.exists() else ""
    return call_id, process.returncode, endpoint, errors + stderr.decode(errors="replace")


@pytest.fixture(autouse=True)
def _sipp_installed() -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed: apt-get install -y sip-tester")


def test_sipp_default_uas_answers_and_takes_our_bye(tmp_path: Path) -> None:
    app = Dialler(hang_up_after=0.3)
    call_id, code, endpoint, log = asyncio.run(
        call_sipp(tmp_path, ["-sn", "uas"], (39620, 39621, 39660), app))
    assert code == 0, log
    assert app.of_type(OutgoingProgress) == [OutgoingProgress(call_id, 180)]
    (answered,) = app.of_type(OutgoingAnswered)
    assert answered.media.codec.name == "PCMU" and answered.media.remote_port == 39660
    assert answered.media.remote_address == "127.0.0.1"
    assert app.of_type(CallEnded) == [CallEnded(call_id, EndReason.LOCAL_BYE)]
    assert endpoint.agent.calls == {} and endpoint.agent.dialer.pending == {}
    assert endpoint.dropped == 0


def test_sipp_callee_puts_us_on_hold_then_hangs_up(tmp_path: Path) -> None:
    app = Dialler()
    scenario = ["-sf", str(SCENARIOS / "uas_answers_holds_hangs_up.xml")]
    call_id, code, endpoint, log = asyncio.run(
        call_sipp(tmp_path, scenario, (39622, 39623, 39664), app, display_name="Hotline"))
    assert code == 0, log
    (answered,) = app.of_type(OutgoingAnswered)
    assert answered.media.codec.name == "PCMA" and answered.media.telephone_event == 101
    (held,) = app.of_type(MediaChanged)
    assert held.on_hold and held.media.direction == Direction.RECVONLY
    assert app.of_type(CallEnded) == [CallEnded(call_id, EndReason.REMOTE_BYE)]
    assert endpoint.agent.calls == {}


def test_sipp_busy_callee_gives_outgoing_failed_486(tmp_path: Path) -> None:
    app = Dialler()
    call_id, code, endpoint, log = asyncio.run(
        call_sipp(tmp_path, ["-sf", str(SCENARIOS / "uas_busy.xml")], (39624, 39625, 39668), app))
    assert code == 0, log  # sipp got our ACK of the 486
    assert app.of_type(OutgoingFailed) == [OutgoingFailed(call_id, 486, "Busy Here")]
    assert app.of_type(OutgoingAnswered) == [] and endpoint.agent.dialer.pending == {}


def test_sipp_callee_that_never_answers_gets_our_cancel(tmp_path: Path) -> None:
    app = Dialler(cancel_on_ringing=True)
    scenario = ["-sf", str(SCENARIOS / "uas_never_answers.xml")]
    call_id, code, endpoint, log = asyncio.run(
        call_sipp(tmp_path, scenario, (39626, 39627, 39672), app))
    assert code == 0, log
    assert app.of_type(OutgoingProgress) == [OutgoingProgress(call_id, 180)]
    assert app.of_type(OutgoingFailed) == [OutgoingFailed(call_id, 487, "Request Terminated")]
    assert endpoint.agent.dialer.pending == {} and endpoint.agent.calls == {}


@pytest.mark.parametrize(("password", "outcome"), [("trunk-pw", OutgoingAnswered), ("wrong", OutgoingFailed)])
def test_sipp_trunk_checks_the_digest_of_our_invite(tmp_path: Path, password: str,
                                                    outcome: type[Any]) -> None:
    app = Dialler(hang_up_after=0.2)
    scenario = ["-sf", str(SCENARIOS / "uas_trunk_auth.xml")]
    ports = (39628, 39629, 39676) if password == "trunk-pw" else (39630, 39631, 39680)
    call_id, code, _, log = asyncio.run(
        call_sipp(tmp_path, scenario, ports, app, user="110", auth=("gw1", password)))
    assert code == 0, log
    assert app.of_type(outcome), (app.events, log)
    if outcome is OutgoingFailed:
        assert app.of_type(OutgoingFailed) == [OutgoingFailed(call_id, 403, "Forbidden")]
    else:
        assert app.of_type(CallEnded) == [CallEnded(call_id, EndReason.LOCAL_BYE)]
