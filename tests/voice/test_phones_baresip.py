"""An agent's softphone for real: baresip registers to our registrar with digest, and the
gateway calls it (UAC); baresip auto-answers, audio flows, one side hangs up.

baresip 1.0 (Debian's) aborts on any SHA-256 challenge (ENOSYS, measured), so these
registrars offer MD5 only; SHA-256 is covered by the unit tests.
"""

import asyncio
import contextlib
import shutil
from pathlib import Path
from typing import Any

import pytest

from hotline.core.digest import ha1
from hotline.voice.media.rtp import RtpError, parse_rtp
from hotline.voice.sip.registrar import (
    PhoneCredentials,
    PhoneRegistered,
    PhoneUnregistered,
    Registrar,
    RegistrationRejected,
)
from hotline.voice.sip.udp import SipEndpoint, open_sip_endpoint
from hotline.voice.sip.useragent import (
    CallEnded,
    EndReason,
    OutgoingAnswered,
    OutgoingProgress,
)

pytestmark = pytest.mark.e2e
PASSWORD = "desk-8001-pw"


def lookup(user: str) -> PhoneCredentials | None:
    if user != "8001":
        return None
    return PhoneCredentials("8001", "hotline", ha1("8001", "hotline", PASSWORD),
                            ha1("8001", "hotline", PASSWORD, "SHA-256"))


class RtpCounter(asyncio.DatagramProtocol):
    """Where our side of the call listens: counts the RTP packets the phone sends."""

    def __init__(self) -> None:
        self.payload_types: list[int] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        with contextlib.suppress(RtpError):
            self.payload_types.append(parse_rtp(data).payload_type)


class Desk:
    """The application: calls the phone once it registers; hangs up after `hang_up_after`."""

    def __init__(self, rtp_port: int | None, hang_up_after: float | None = None) -> None:
        self.rtp_port = rtp_port
        self.hang_up_after = hang_up_after
        self.events: list[object] = []
        self.call_id: str | None = None
        self.ended = asyncio.Event()

    def __call__(self, endpoint: SipEndpoint, event: object) -> None:
        self.events.append(event)
        loop = asyncio.get_running_loop()
        if isinstance(event, PhoneRegistered) and self.rtp_port and self.call_id is None:
            binding = event.binding
            self.call_id = endpoint.invite(binding.contact, binding.address, self.rtp_port,
                                           caller="12345", display_name="Hotline")
        elif isinstance(event, OutgoingAnswered) and self.hang_up_after is not None:
            loop.call_later(self.hang_up_after, endpoint.hangup, event.call_id)
        elif isinstance(event, CallEnded | RegistrationRejected):
            self.ended.set()

    def of_type(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def write_phone_config(directory: Path, sip_port: int, gateway_port: int, password: str,
                       source_wav: Path) -> None:
    directory.mkdir()
    (directory / "config").write_text(
        "poll_method poll\n"
        "net_interface 127.0.0.1\n"
        f"sip_listen 127.0.0.1:{sip_port}\n"
        "audio_player aubridge,bridge1\n"
        f"audio_source aufile,{source_wav}\n"
        "module_path /usr/lib/baresip/modules\n"
        "module stdio.so\nmodule g711.so\nmodule aufile.so\nmodule aubridge.so\n"
        "module account.so\nmodule_app menu.so\n"
    )
    (directory / "accounts").write_text(
        f"<sip:8001@127.0.0.1:{gateway_port}>;auth_pass={password};answermode=auto\n"
    )


def write_tone(path: Path, seconds: int = 6) -> None:
    import wave

    from tests.voice.test_media import tone

    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(tone(frequency=400.0, amplitude=8000, samples=8000 * seconds))


async def run_phone(
    tmp_path: Path, ports: tuple[int, int, int], *, password: str = PASSWORD, call: bool = True,
    hang_up_after: float | None = None, phone_seconds: int = 4,
) -> tuple[Desk, Registrar, Any, SipEndpoint, str]:
    gateway_port, phone_port, rtp_port = ports
    loop = asyncio.get_running_loop()
    rtp_transport, counter = await loop.create_datagram_endpoint(
        RtpCounter, local_addr=("127.0.0.1", rtp_port))
    desk = Desk(rtp_port if call else None, hang_up_after)
    registrar = Registrar(lookup, algorithms=("MD5",), min_expires=60)
    endpoint = await open_sip_endpoint("127.0.0.1", gateway_port, desk, registrar=registrar)
    write_tone(tmp_path / "phone.wav")
    write_phone_config(tmp_path / "baresip", phone_port, gateway_port, password,
                       tmp_path / "phone.wav")
    process = await asyncio.create_subprocess_exec(
        shutil.which("baresip") or "baresip", "-f", str(tmp_path / "baresip"),
        "-t", str(phone_seconds),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
        await asyncio.wait_for(desk.ended.wait(), timeout=3)
        await asyncio.sleep(0.2)  # the last un-REGISTER / BYE answers land
    finally:
        if process.returncode is None:
            process.kill()
        endpoint.close()
        rtp_transport.close()
    return desk, registrar, counter, endpoint, output.decode(errors="replace")


@pytest.fixture(autouse=True)
def _baresip_installed() -> None:
    if shutil.which("baresip") is None:
        pytest.fail("baresip is not installed: apt-get install -y baresip")


def test_the_phone_registers_is_called_answers_and_we_hang_up(tmp_path: Path) -> None:
    desk, registrar, counter, endpoint, log = asyncio.run(
        run_phone(tmp_path, (39600, 39601, 39602), hang_up_after=1.5))
    (registered, *_) = desk.of_type(PhoneRegistered)
    assert registered.binding.user == "8001"
    assert registered.binding.address == ("127.0.0.1", 39601), log
    assert registered.binding.contact.startswith("sip:8001") and ":39601" in registered.binding.contact
    assert desk.of_type(RegistrationRejected) == []
    assert desk.call_id is not None
    assert desk.of_type(OutgoingProgress) == [OutgoingProgress(desk.call_id, 180)], log
    (answered,) = desk.of_type(OutgoingAnswered)
    media = answered.media
    assert media.codec.name == "PCMU" and media.remote_address == "127.0.0.1", log
    assert media.remote_port > 0
    # The phone's audio reached us with the payload type the answer agreed.
    assert len(counter.payload_types) > 25, log
    assert set(counter.payload_types) == {media.payload_type}
    assert desk.call_id is not None
    assert desk.of_type(CallEnded) == [CallEnded(desk.call_id, EndReason.LOCAL_BYE)]
    assert "terminated" in log, log  # baresip saw our BYE
    assert "200 OK" in log and "registered successfully" in log
    # baresip un-REGISTERs on its way out, with digest again.
    assert desk.of_type(PhoneUnregistered) == [PhoneUnregistered("8001", "removed")], log
    assert registrar.bindings(0.0) == [] and endpoint.agent.calls == {}


def test_the_phone_hangs_up_first(tmp_path: Path) -> None:
    desk, _, _, endpoint, log = asyncio.run(
        run_phone(tmp_path, (39603, 39604, 39605), hang_up_after=None, phone_seconds=3))
    assert desk.of_type(OutgoingAnswered), log
    assert desk.call_id is not None
    assert desk.of_type(CallEnded) == [CallEnded(desk.call_id, EndReason.REMOTE_BYE)], log
    assert endpoint.agent.calls == {}


def test_a_wrong_password_is_refused(tmp_path: Path) -> None:
    desk, registrar, _, _, log = asyncio.run(
        run_phone(tmp_path, (39606, 39607, 39608), password="not-the-password", call=False,
                  phone_seconds=2))
    assert desk.of_type(PhoneRegistered) == [] and registrar.bindings(0.0) == []
    (rejected, *_) = desk.of_type(RegistrationRejected)
    assert rejected.user == "8001" and rejected.reason == "wrong password"
    assert rejected.source == ("127.0.0.1", 39607)
    assert "403 Forbidden" in log, log
