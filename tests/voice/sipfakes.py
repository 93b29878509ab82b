"""Builders for SIP test traffic: a caller's requests as byte strings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from hotline.voice.sip.message import Request, Response, parse_message
from hotline.voice.sip.transaction import Address, Send
from hotline.voice.sip.useragent import UaEvent

T = TypeVar("T")

GATEWAY = ("127.0.0.1", 5060)
CALLER = ("192.0.2.10", 5062)

OFFER = (
    b"v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    b"m=audio 40000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n"
)


def request(
    method: str,
    *,
    branch: str = "z9hG4bKcall1",
    call_id: str = "call-1@192.0.2.10",
    cseq: int = 1,
    cseq_method: str | None = None,
    from_tag: str = "caller-tag",
    to_tag: str | None = None,
    body: bytes = b"",
    via_host: str = "192.0.2.10:5062",
    rport: bool = True,
    extra: str = "",
) -> bytes:
    to = "<sip:12345@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    lines = [
        f"{method} sip:12345@127.0.0.1:5060 SIP/2.0",
        f"Via: SIP/2.0/UDP {via_host};branch={branch}" + (";rport" if rport else ""),
        f'From: "Citizen" <sip:13800138000@192.0.2.10>;tag={from_tag}',
        f"To: {to}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {cseq_method or method}",
        "Contact: <sip:13800138000@192.0.2.10:5062>",
        "Max-Forwards: 70",
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    if extra:
        lines.append(extra)
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def sent(events: Iterable[UaEvent]) -> list[tuple[Request | Response, Address]]:
    """The messages (responses or requests) of the Send events, parsed, with their
    destinations."""
    out = []
    for event in events:
        if isinstance(event, Send):
            message = parse_message(event.data)
            out.append((message, event.address))
    return out


def statuses(events: Iterable[UaEvent]) -> list[int]:
    return [m.status for m, _ in sent(events) if isinstance(m, Response)]


def narrow(value: object, kind: type[T]) -> T:
    """``value``, asserted to be a ``kind``: the test's check, and the type checker's."""
    assert isinstance(value, kind), f"expected a {kind.__name__}, got {value!r}"
    return value


def present(value: T | None) -> T:
    """``value``, asserted to be there (not None)."""
    assert value is not None
    return value
