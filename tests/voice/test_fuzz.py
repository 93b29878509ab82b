"""Hostile input: every decoder raises its own error type and nothing else."""

import contextlib
import io
import wave
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.voice.media.dtmf import DtmfReceiver
from hotline.voice.media.g711 import Codec
from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.rtp import RtpError, RtpPacket, parse_rtp
from hotline.voice.sdp import LocalSession, SdpError, answer_offer, parse_sdp
from hotline.voice.sip.message import (
    ParseError,
    Request,
    parse_message,
    parse_name_addr,
    parse_uri,
)
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
def mutated(draw, samples=SAMPLES):
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


def exercise(message):
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
def test_parser_on_arbitrary_bytes_raises_only_parse_error(data):
    try:
        message = parse_message(data)
    except ParseError:
        return
    exercise(message)


@FUZZ
@given(st.lists(st.sampled_from([*SPECIAL, b"INVITE", b"Via", b"v", b"From", b"sip:", b"a"]),
                max_size=60))
def test_parser_on_grammar_soup_raises_only_parse_error(parts):
    data = b"INVITE sip:a@b SIP/2.0\r\n" + b"".join(parts)
    with contextlib.suppress(ParseError):
        exercise(parse_message(data))


@FUZZ
@given(mutated())
def test_parser_on_mutated_real_messages_raises_only_parse_error(data):
    try:
        message = parse_message(data)
    except ParseError:
        return
    exercise(message)


@FUZZ
@given(st.lists(mutated(), min_size=1, max_size=4), st.floats(0, 100))
def test_user_agent_never_raises_on_hostile_datagrams(datagrams, now):
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
def test_rtp_and_dtmf_decoders_raise_only_rtp_error(data):
    receiver = DtmfReceiver(payload_type=None)
    try:
        packet = parse_rtp(data)
        receiver.receive(packet)
    except RtpError:
        pass


@FUZZ
@given(st.integers(0, 127), st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1),
       st.integers(0, 2**32 - 1), st.binary(max_size=200), st.booleans())
def test_rtp_round_trip(payload_type, sequence, timestamp, ssrc, payload, marker):
    packet = RtpPacket(payload_type, sequence, timestamp, ssrc, payload, marker)
    assert parse_rtp(packet.to_bytes()) == packet


@FUZZ
@given(mutated(samples=[OFFER, (FIXTURES / "baresip_invite.sip").read_bytes().split(b"\r\n\r\n")[1]]))
def test_sdp_parser_and_answerer_raise_only_sdp_error(data):
    try:
        answer = answer_offer(parse_sdp(data), LocalSession("127.0.0.1", 1), 20000)
    except SdpError:
        return
    # Whatever we answer must itself be valid SDP we can read back.
    parse_sdp(answer.sdp)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1), st.integers(0, 3),
                          st.binary(max_size=200)), max_size=40))
def test_recorder_survives_any_packet_sequence_and_stays_a_valid_wav(packets):
    buffer = io.BytesIO()
    recorder = WavRecorder(buffer, window=4)
    for sequence, timestamp, ssrc, payload in packets:
        recorder.add_packet(RtpPacket(0, sequence, timestamp, ssrc, payload), Codec.PCMU)
        assert recorder.packets_lost <= 0x10000
    recorder.close()
    buffer.seek(0)
    with wave.open(buffer, "rb") as wav:
        assert wav.getnframes() == recorder.samples_written
