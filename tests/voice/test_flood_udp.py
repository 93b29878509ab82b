"""One address cannot take the voice line (issue 10, finding 6), with real sockets.

A raw UDP socket on 127.0.0.1 floods the gateway with INVITEs and never ACKs, as an attacker
would; meanwhile a caller from 127.0.0.3 (a raw UDP phone: INVITE, ACK, listens to the IVR's
RTP, BYE) must reach the IVR. The gateway's global limit is set low (20 calls) so that,
without per-source limits, the flood alone fills it. Contacts are written only for confirmed
calls: the flood's half-open calls leave no row, and their slots are free again once their
2xx gives up (64*T1). And one wrong password from each of twenty addresses locks an
extension on a real gateway, though no address is blocked by itself.
"""

import asyncio
import random
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from hotline.orders.models import Contact
from hotline.voice.gateway import GatewayConfig
from hotline.voice.prompts import ToneTts
from hotline.voice.server import build_gateway
from hotline.voice.sip.message import Response, parse_message
from hotline.voice.sip.transaction import T1
from tests.conftest import City
from tests.voice.agentphone import PASSWORD, extension
from tests.voice.test_gateway_sipp import short_flow
from tests.voice.test_sip_registrar import Phone as RegisteringPhone
from tests.voice.test_sip_registrar import answer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FLOOD = 60
GLOBAL_LIMIT = 20
CALLER_HOST = "127.0.0.3"
GUESSES = 20  # the default HOTLINE_SIP_EXTENSION_MAX_FAILURES (registrar.USER_MAX_FAILURES)


def sdp(host: str, port: int) -> bytes:
    return (f"v=0\r\no=x 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
            ).encode()


def sip_request(method: str, *, host: str, port: int, gateway_port: int, call_id: str, tag: str,
                branch: str, cseq: int, to_tag: str = "", user: str = "13800138000",
                body: bytes = b"") -> bytes:
    headers = [
        f"{method} sip:12345@127.0.0.1:{gateway_port} SIP/2.0",
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{branch};rport",
        f"From: <sip:{user}@{host}>;tag={tag}",
        f"To: <sip:12345@127.0.0.1:{gateway_port}>" + (f";tag={to_tag}" if to_tag else ""),
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
        f"Contact: <sip:{user}@{host}:{port}>",
        "Max-Forwards: 70",
    ]
    if body:
        headers.append("Content-Type: application/sdp")
    headers.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


def flood_invite(number: int, port: int, gateway_port: int) -> bytes:
    return sip_request("INVITE", host="127.0.0.1", port=port, gateway_port=gateway_port,
                       call_id=f"flood-{number}@127.0.0.1", tag=f"f{number}",
                       branch=f"flood{number}", cseq=1, user=f"1390000{number:04d}",
                       body=sdp("127.0.0.1", 9))


class Phone(asyncio.DatagramProtocol):
    """A caller's SIP side: keeps every response it receives."""

    def __init__(self) -> None:
        self.responses: list[Response] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        message = parse_message(data)
        if isinstance(message, Response):
            self.responses.append(message)


class Ear(asyncio.DatagramProtocol):
    """A caller's RTP side: counts the packets of the IVR's prompts."""

    def __init__(self) -> None:
        self.packets = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets += 1


async def call_from_another_address(gateway_port: int) -> dict:
    """INVITE, 200, ACK, listen to the welcome prompt, BYE, 200: returns what was seen."""
    loop = asyncio.get_running_loop()
    sip_port, rtp_port = await free_port(CALLER_HOST), await free_port(CALLER_HOST)
    sip, phone = await loop.create_datagram_endpoint(Phone, local_addr=(CALLER_HOST, sip_port))
    rtp, ear = await loop.create_datagram_endpoint(Ear, local_addr=(CALLER_HOST, rtp_port))
    common: dict[str, Any]
    common = dict(host=CALLER_HOST, port=sip_port, gateway_port=gateway_port,
                  call_id="citizen-1@127.0.0.3", tag="citizen")
    gateway = ("127.0.0.1", gateway_port)
    try:
        sip.sendto(sip_request("INVITE", branch="c1", cseq=1, body=sdp(CALLER_HOST, rtp_port),
                               **common), gateway)
        await wait_for(lambda: any(r.status >= 200 for r in phone.responses), 30)
        final = next((r for r in phone.responses if r.status >= 200), None)
        if final is None or final.status != 200:
            return {"final": final and final.status, "packets": 0, "bye": None}
        to_tag = final.to.tag or ""
        sip.sendto(sip_request("ACK", branch="c2", cseq=1, to_tag=to_tag, **common), gateway)
        await wait_for(lambda: ear.packets >= 25, 30)  # half a second of the welcome prompt
        packets = ear.packets
        before = len(phone.responses)
        sip.sendto(sip_request("BYE", branch="c3", cseq=2, to_tag=to_tag, **common), gateway)
        await wait_for(lambda: any(r.cseq.method == "BYE" for r in phone.responses[before:]), 30)
        bye = next((r.status for r in phone.responses[before:] if r.cseq.method == "BYE"), None)
        return {"final": 200, "packets": packets, "bye": bye}
    finally:
        sip.close()
        rtp.close()


class Flooder(asyncio.DatagramProtocol):
    """Sends INVITEs and records the final responses; never ACKs anything."""

    def __init__(self) -> None:
        self.finals: dict[str, set[int]] = {}
        self.retry_after: set[str] = set()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        message = parse_message(data)
        if isinstance(message, Response) and message.status >= 200:
            self.finals.setdefault(message.call_id, set()).add(message.status)
            if message.headers.get("Retry-After"):
                self.retry_after.add(message.call_id)


async def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


async def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.1)
    return condition()


async def flood_and_call(tmp_path: Path) -> dict[str, Any]:
    base = random.randrange(30000, 39000, 40)
    config = GatewayConfig(sip_host="127.0.0.1", sip_port=0, rtp_host="127.0.0.1",
                           rtp_ports=(base, base + 35), recordings_dir=tmp_path / "recordings")
    gateway = build_gateway(config, flow=short_flow(), tts=ToneTts(seconds=0.08),
                            prompt_dir=tmp_path / "prompts")
    await gateway.start(warm=False)
    assert gateway.sip is not None
    gateway.sip.agent.max_calls = GLOBAL_LIMIT  # small, so that one address could fill it
    loop = asyncio.get_running_loop()
    flood_port = await free_port("127.0.0.1")
    transport, flooder = await loop.create_datagram_endpoint(
        Flooder, local_addr=("127.0.0.1", flood_port))
    try:
        for number in range(FLOOD):
            transport.sendto(flood_invite(number, flood_port, gateway.sip_port),
                             ("127.0.0.1", gateway.sip_port))
        # Every INVITE gets its final answer (a 200 for the few let in, else a refusal).
        await wait_for(lambda: len(flooder.finals) >= FLOOD, 30)
        flood_calls = {call_id for call_id in gateway.calls if call_id.startswith("flood-")}
        # Meanwhile a caller from another address: 200, the IVR, a hang-up.
        caller = await call_from_another_address(gateway.sip_port)
        caller_ended = await wait_for(
            lambda: any(not e.call_id.startswith("flood-") for e in gateway.events if e.kind == "end"), 20)
        # The flood's half-open calls give up after 64*T1 and free their slots.
        freed = await wait_for(lambda: not any(c.startswith("flood-") for c in gateway.calls),
                               64 * T1 + 30)
        flood_ends = [e.detail for e in gateway.events
                      if e.kind == "end" and e.call_id.startswith("flood-")]
    finally:
        transport.close()
        await gateway.stop()
    return dict(caller=caller, gateway=gateway, flooder=flooder,
                flood_calls=flood_calls, caller_ended=caller_ended, freed=freed,
                flood_ends=flood_ends)


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_flood_from_one_address_leaves_the_line_to_another_caller_and_writes_no_contacts(
        city: City, tmp_path: Path) -> None:
    result = asyncio.run(flood_and_call(tmp_path))
    flooder, gateway = result["flooder"], result["gateway"]
    # The other caller got through: its 200, the IVR's welcome heard, its BYE answered.
    assert result["caller"] == {"final": 200, "packets": result["caller"]["packets"], "bye": 200}
    assert result["caller"]["packets"] >= 25
    assert result["caller_ended"]
    # The flood got a few half-open calls (the per-source limit), not the whole line;
    # everything else was refused with 503 and a Retry-After, nothing with 486.
    answered = {c for c, statuses in flooder.finals.items() if 200 in statuses}
    refused = {c for c, statuses in flooder.finals.items() if statuses & {503}}
    assert len(result["flood_calls"]) <= 5 and len(answered) <= 5, flooder.finals
    assert len(refused) >= FLOOD - 5 and refused <= flooder.retry_after
    assert not any(486 in statuses for statuses in flooder.finals.values())
    caller_ids = {e.call_id for e in gateway.events if not e.call_id.startswith("flood-")}
    assert len(caller_ids) == 1
    (caller_id,) = caller_ids
    assert "welcome" in gateway.entries("visit", caller_id)
    # The half-open calls ended (2xx never ACKed) and left no Contact row: only the real call has one.
    assert result["freed"], list(gateway.calls)
    assert result["flood_ends"] and set(result["flood_ends"]) == {"no_ack"}
    contacts = list(Contact.objects.values_list("external_id", flat=True))
    assert contacts == [f"sip:{caller_id}"[:128]]


# --- failed REGISTERs from many addresses lock the extension ---------------------------------

async def exchange(host: str, data: bytes, gateway_port: int) -> Response | None:
    """One request from a socket on `host`, its final response."""
    loop = asyncio.get_running_loop()
    transport, phone = await loop.create_datagram_endpoint(Phone, local_addr=(host, 0))
    try:
        transport.sendto(data, ("127.0.0.1", gateway_port))
        await wait_for(lambda: any(r.status >= 200 for r in phone.responses), 20)
        return next((r for r in phone.responses if r.status >= 200), None)
    finally:
        transport.close()


async def register_from(host: str, password: str, gateway_port: int) -> Response | None:
    """REGISTER, the 401 challenge, REGISTER with the digest answer: the last response."""
    phone = RegisteringPhone(user="8001", address=(host, 5072), call_id=f"reg-{host}")
    challenge = await exchange(host, phone.register(), gateway_port)
    assert challenge is not None and challenge.status == 401, challenge
    value = answer(challenge, "8001", password)
    return await exchange(host, phone.register(authorization_value=value), gateway_port)


async def guess_then_register(tmp_path: Path) -> tuple[Any, Any, Any]:
    base = random.randrange(30000, 39000, 40)
    config = GatewayConfig(sip_host="127.0.0.1", sip_port=0, rtp_host="127.0.0.1",
                           rtp_ports=(base, base + 9), recordings_dir=tmp_path / "recordings")
    gateway = build_gateway(config, flow=short_flow(), tts=ToneTts(seconds=0.08),
                            prompt_dir=tmp_path / "prompts")
    await gateway.start(warm=False)
    try:
        before = await register_from("127.0.0.40", PASSWORD, gateway.sip_port)
        guesses = [await register_from(f"127.0.0.{11 + n}", "guess", gateway.sip_port)
                   for n in range(GUESSES)]
        after = await register_from("127.0.0.41", PASSWORD, gateway.sip_port)
    finally:
        await gateway.stop()
    return before, guesses, after


def test_failed_registers_from_many_addresses_lock_the_extension_on_a_real_gateway(
        city: City, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    extension(city.agent, "8001")
    before, guesses, after = asyncio.run(guess_then_register(tmp_path))
    assert before is not None and before.status == 200  # the right password works at first
    assert [g.status if g else None for g in guesses] == [403] * GUESSES
    # One guess from each of twenty addresses: none is blocked by itself, yet the extension is
    # locked, and the right password from a new address gets the wrong password's answer.
    assert after is not None and (after.status, after.reason) == (guesses[0].status, guesses[0].reason)
    assert after.headers.get("WWW-Authenticate") is None
    assert "extension '8001' locked" in caplog.text
