"""Hostile input: every decoder raises its own error type and nothing else."""

import contextlib
import io
import wave
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.core.digest import ha1
from hotline.voice.media.dtmf import DtmfReceiver
from hotline.voice.media.g711 import Codec
from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.rtp import RtpError, RtpPacket, parse_rtp
from hotline.voice.sdp import LocalSession, SdpError, answer_offer, parse_sdp
from hotline.voice.sip.auth import authorization, parse_challenge
from hotline.voice.sip.message import (
    ParseError,
    Request,
    Response,
    parse_message,
    parse_name_addr,
    parse_uri,
)
from hotline.voice.sip.registrar import PhoneCredentials, Registrar
from hotline.voice.sip.transaction import Send, TransactionLayer
from hotline.voice.sip.useragent import UserAgent
from tests.voice.sipfakes import CALLER, OFFER, request

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = [
    (FIXTURES / name).read_bytes()
    for name in ("sipp_uac_invite.sip", "baresip_invite.sip", "linphone_compact_invite.sip")
] + [
    request("BYE", to_tag="t"),
    request("CANCEL"),
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n"
    b"CSeq: 1 BYE\r\nCall-ID: a\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n\r\n",
]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Bytes that matter to the grammar, so mutations hit interesting places.
SPECIAL = [b":", b";", b",", b"<", b">", b'"', b"\\", b"\r\n", b"\n", b" ", b"\t", b"=", b"@",
           b"[", b"]", b"\x00", b"\xff", b"\r\n\r\n", b"0", b"99999999999", b"-1", b"SIP/2.0",
           b"\r\n ", b"%", b"?", b"/", b"\xe4\xb8\xad"]


@st.composite
def mutated(draw: st.DrawFn, samples: list[bytes] = SAMPLES) -> bytes:
    data = bytearray(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "special", "truncate"]))
        if action == "flip" and position < len(data):
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[position : position + draw(st.integers(1, 20))]
        elif action == "special":
            data[position:position] = draw(st.sampled_from(SPECIAL))
        else:
            del data[position:]
    return bytes(data)


def exercise(message: Request | Response) -> None:
    """Touch every lazily parsed part a caller may use; only ParseError may come out."""
    for accessor in ("call_id", "cseq", "vias", "from_", "to"):
        with contextlib.suppress(ParseError):
            getattr(message, accessor)
    for name in ("Contact", "Record-Route", "Route", "Allow"):
        try:
            for value in message.headers.get_all(name):
                parse_uri(parse_name_addr(value).uri)
        except ParseError:
            pass
    if isinstance(message, Request):
        with contextlib.suppress(ParseError):
            message.check()
    message.to_bytes()


@FUZZ
@given(st.binary(max_size=2000))
def test_parser_on_arbitrary_bytes_raises_only_parse_error(data: bytes) -> None:
    try:
        message = parse_message(data)
    except ParseError:
        return
    exercise(message)


@FUZZ
@given(st.lists(st.sampled_from([*SPECIAL, b"INVITE", b"Via", b"v", b"From", b"sip:", b"a"]),
                max_size=60))
def test_parser_on_grammar_soup_raises_only_parse_error(parts: list[bytes]) -> None:
    data = b"INVITE sip:a@b SIP/2.0\r\n" + b"".join(parts)
    with contextlib.suppress(ParseError):
        exercise(parse_message(data))


@FUZZ
@given(mutated())
def test_parser_on_mutated_real_messages_raises_only_parse_error(data: bytes) -> None:
    try:
        message = parse_message(data)
    except ParseError:
        return
    exercise(message)


@FUZZ
@given(st.lists(mutated(), min_size=1, max_size=4), st.floats(0, 100))
def test_user_agent_never_raises_on_hostile_datagrams(datagrams: list[bytes], now: float) -> None:
    agent = UserAgent("127.0.0.1", 5060)
    for data in datagrams:
        agent.receive(data, CALLER, now)
        agent.tick(now + 1)
    for call_id in list(agent.calls):
        agent.answer(call_id, 20000, now + 2)
        agent.hangup(call_id, now + 3)
    agent.tick(now + 100)


@FUZZ
@given(st.binary(max_size=300))
def test_rtp_and_dtmf_decoders_raise_only_rtp_error(data: bytes) -> None:
    receiver = DtmfReceiver(payload_type=None)
    try:
        packet = parse_rtp(data)
        receiver.receive(packet)
    except RtpError:
        pass


@FUZZ
@given(st.integers(0, 127), st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1),
       st.integers(0, 2**32 - 1), st.binary(max_size=200), st.booleans())
def test_rtp_round_trip(payload_type: int, sequence: int, timestamp: int, ssrc: int, payload: bytes,
                        marker: bool) -> None:
    packet = RtpPacket(payload_type, sequence, timestamp, ssrc, payload, marker)
    assert parse_rtp(packet.to_bytes()) == packet


@FUZZ
@given(mutated(samples=[OFFER, (FIXTURES / "baresip_invite.sip").read_bytes().split(b"\r\n\r\n")[1]]))
def test_sdp_parser_and_answerer_raise_only_sdp_error(data: bytes) -> None:
    try:
        answer = answer_offer(parse_sdp(data), LocalSession("127.0.0.1", 1), 20000)
    except SdpError:
        return
    # Whatever we answer must itself be valid SDP we can read back.
    parse_sdp(answer.sdp)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1), st.integers(0, 3),
                          st.binary(max_size=200)), max_size=40))
def test_recorder_survives_any_packet_sequence_and_stays_a_valid_wav(
    packets: list[tuple[int, int, int, bytes]],
) -> None:
    buffer = io.BytesIO()
    recorder = WavRecorder(buffer, window=4)
    for sequence, timestamp, ssrc, payload in packets:
        recorder.add_packet(RtpPacket(0, sequence, timestamp, ssrc, payload), Codec.PCMU)
        assert recorder.packets_lost <= 0x10000
    recorder.close()
    buffer.seek(0)
    with wave.open(buffer, "rb") as wav:
        assert wav.getnframes() == recorder.samples_written


# --- the registrar and outgoing calls -------------------------------------------------

_PHONE = ("192.0.2.20", 5072)
_PHONE_CREDENTIALS = PhoneCredentials("8001", "hotline", ha1("8001", "hotline", "pw"),
                                      ha1("8001", "hotline", "pw", "SHA-256"))


def _register(cseq: int, authorization_line: bytes = b"", contact: bytes = b"<sip:8001@192.0.2.20:5072>",
              expires: bytes = b"600") -> bytes:
    return (
        b"REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.20:5072;branch=z9hG4bKreg%d;rport\r\n"
        b"From: <sip:8001@127.0.0.1>;tag=ph\r\nTo: <sip:8001@127.0.0.1>\r\n"
        b"Call-ID: reg-fuzz\r\nCSeq: %d REGISTER\r\nContact: %s\r\nExpires: %s\r\n%s"
        b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        % (cseq, cseq, contact, expires, authorization_line)
    )


def _registrar_samples() -> list[bytes]:
    """REGISTERs that reach every branch of the registrar when intact."""
    agent = UserAgent("127.0.0.1", 5060, registrar=Registrar(lambda u: None, secret=b"fuzz"))
    (challenge_send,) = [e for e in agent.receive(_register(1), _PHONE, 1.0) if isinstance(e, Send)]
    challenge = parse_challenge(parse_message(challenge_send.data).headers.get("WWW-Authenticate") or "")

    def line(cnonce: str) -> bytes:  # a distinct cnonce each: the registrar refuses replayed answers
        value = authorization(challenge, username="8001", password="pw", method="REGISTER",
                              uri="sip:127.0.0.1:5060", cnonce=cnonce)
        return f"Authorization: {value}\r\n".encode()

    return [
        _register(1),
        _register(2, line("a")),
        _register(3, line("b"), expires=b"0"),
        _register(4, line("c"), contact=b"*", expires=b"0"),
        _register(5, line("d"), contact=b"<sip:8001@10.0.0.5:5060>;expires=30, <sip:8001@[::1]:5080>"),
        _register(6, line("e").replace(b"algorithm=SHA-256", b"algorithm=MD5")),
    ]


REGISTER_SAMPLES = _registrar_samples()


@FUZZ
@given(st.lists(mutated(samples=REGISTER_SAMPLES), min_size=1, max_size=6), st.floats(0, 400))
def test_registrar_never_raises_on_hostile_registers(datagrams: list[bytes], now: float) -> None:
    registrar = Registrar(lambda user: _PHONE_CREDENTIALS if user == "8001" else None,
                          secret=b"fuzz")
    agent = UserAgent("127.0.0.1", 5060, registrar=registrar)
    for data in datagrams:
        for event in agent.receive(data, _PHONE, now):
            if isinstance(event, Send):
                parse_message(event.data)  # whatever we answer is itself a SIP message
        agent.tick(now + 1)
    for binding in registrar.bindings(now):
        assert binding.user == "8001"  # only the known extension can ever be bound
    agent.tick(now + 4000)
    assert registrar.bindings(now + 4000) == []


def _callee_samples() -> list[bytes]:
    """What a callee may send back to our INVITE (branch z9hG4bKout0, tag OURTAG)."""
    invite_via = b"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKout0;rport=5060\r\n"
    common = (b"From: <sip:12345@127.0.0.1>;tag=OURTAG\r\nTo: <sip:8001@192.0.2.20>;tag=ph\r\n"
              b"Call-ID: out-fuzz\r\n")
    answer = OFFER.replace(b"RTP/AVP 8 0 101", b"RTP/AVP 0 101")

    def response(status: int, cseq: bytes = b"1 INVITE", extra: bytes = b"", body: bytes = b"") -> bytes:
        content = b"Content-Type: application/sdp\r\n" if body else b""
        return (b"SIP/2.0 %d X\r\n%s%sCSeq: %s\r\nContact: <sip:8001@192.0.2.20:5072>\r\n%s%s"
                b"Content-Length: %d\r\n\r\n%s"
                % (status, invite_via, common, cseq, extra, content, len(body), body))

    def callee(method: bytes, cseq: int, body: bytes = b"") -> bytes:
        content = b"Content-Type: application/sdp\r\n" if body else b""
        return (b"%s sip:hotline@127.0.0.1:5060 SIP/2.0\r\n"
                b"Via: SIP/2.0/UDP 192.0.2.20:5072;branch=z9hG4bKc%d\r\n"
                b"From: <sip:8001@192.0.2.20>;tag=ph\r\nTo: <sip:12345@127.0.0.1>;tag=OURTAG\r\n"
                b"Call-ID: out-fuzz\r\nCSeq: %d %s\r\n%sContent-Length: %d\r\n\r\n%s"
                % (method, cseq, cseq, method, content, len(body), body))

    return [
        response(100), response(180), response(183, body=answer), response(200, body=answer),
        response(200, extra=b"Record-Route: <sip:10.0.0.1;lr>, <sip:10.0.0.2:5070;lr>\r\n"),
        response(486), response(487),
        response(401, extra=b'WWW-Authenticate: Digest realm="t", nonce="n", qop="auth"\r\n'),
        response(407, extra=b'Proxy-Authenticate: Digest realm="t", nonce="n", algorithm=SHA-256\r\n'),
        response(200, cseq=b"1 CANCEL"),
        callee(b"BYE", 2), callee(b"INVITE", 3, OFFER.replace(b"sendrecv", b"sendonly")),
        callee(b"ACK", 3), callee(b"INVITE", 4),
    ]


CALLEE_SAMPLES = _callee_samples()


@FUZZ
@given(st.lists(mutated(samples=CALLEE_SAMPLES), min_size=1, max_size=6), st.floats(0, 100),
       st.booleans())
def test_outgoing_call_never_raises_on_hostile_answers(datagrams: list[bytes], now: float,
                                                       hang_up_early: bool) -> None:
    branches = iter(f"z9hG4bKout{n}" for n in range(1000))
    layer = TransactionLayer("127.0.0.1", 5060, branch_factory=lambda: next(branches))
    agent = UserAgent("127.0.0.1", 5060, layer=layer)
    call_id, sent = agent.invite("sip:8001@192.0.2.20:5072", _PHONE, 30000, now,
                                 call_id="out-fuzz", auth=("gw", "pw"))
    (invite,) = [parse_message(e.data) for e in sent if isinstance(e, Send)]
    assert invite.top_via.branch == "z9hG4bKout0"
    tag = invite.from_.tag or ""
    if hang_up_early:
        agent.hangup(call_id, now)
    for data in datagrams:
        agent.receive(data.replace(b"OURTAG", tag.encode()), _PHONE, now + 0.1)
        agent.tick(now + 0.2)
    agent.hangup(call_id, now + 1)
    agent.tick(now + 200)
    agent.tick(now + 400)
    assert call_id not in agent.calls and call_id not in agent.dialer.pending
