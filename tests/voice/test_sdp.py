import pytest

from hotline.voice.media.g711 import Codec
from hotline.voice.sdp import (
    Direction,
    LocalSession,
    NoAcceptableCodec,
    SdpError,
    SessionDescription,
    answer_offer,
    make_offer,
    parse_sdp,
)


def offer(media_lines: str, session_extra: str = "") -> SessionDescription:
    text = (
        "v=0\r\no=- 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n"
        + session_extra
        + media_lines
    )
    return parse_sdp(text.encode())


def local() -> LocalSession:
    return LocalSession("192.0.2.1", 777)


def test_static_payload_types_need_no_rtpmap_and_offer_order_wins() -> None:
    answer = answer_offer(offer("m=audio 5004 RTP/AVP 8 0\r\n"), local(), 30000)
    assert (answer.payload_type, answer.codec) == (8, Codec.PCMA)
    assert answer.telephone_event is None
    assert (answer.remote_address, answer.remote_port) == ("203.0.113.5", 5004)
    text = answer.sdp.decode()
    assert "m=audio 30000 RTP/AVP 8\r\n" in text
    assert "c=IN IP4 192.0.2.1" in text and "o=hotline 777 1 IN IP4 192.0.2.1" in text
    assert "a=sendrecv" in text


def test_dynamic_telephone_event_payload_type_is_echoed() -> None:
    media = (
        "m=audio 5004 RTP/AVP 9 0 96\r\na=rtpmap:9 G722/8000\r\n"
        "a=rtpmap:96 Telephone-Event/8000\r\na=fmtp:96 0-15\r\n"
    )
    answer = answer_offer(offer(media), local(), 30000)
    assert answer.codec == Codec.PCMU and answer.telephone_event == 96
    assert "m=audio 30000 RTP/AVP 0 96" in answer.sdp.decode()
    assert "a=rtpmap:96 telephone-event/8000" in answer.sdp.decode()


def test_telephone_event_at_another_rate_is_not_used() -> None:
    media = "m=audio 5004 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/48000\r\n"
    assert answer_offer(offer(media), local(), 1).telephone_event is None


def test_other_streams_are_declined_with_port_zero_in_order() -> None:
    media = (
        "m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
        "m=audio 5004 RTP/SAVP 0\r\n"
        "m=audio 5006 RTP/AVP 0\r\nc=IN IP4 198.51.100.9\r\n"
    )
    answer = answer_offer(offer(media), local(), 30000)
    lines = [line for line in answer.sdp.decode().split("\r\n") if line.startswith("m=")]
    assert lines == ["m=video 0 RTP/AVP 96", "m=audio 0 RTP/SAVP 0", "m=audio 30000 RTP/AVP 0"]
    assert answer.remote_address == "198.51.100.9"  # media-level c= wins


@pytest.mark.parametrize(
    ("offered", "answered"),
    [
        ("sendrecv", Direction.SENDRECV),
        ("sendonly", Direction.RECVONLY),
        ("recvonly", Direction.SENDONLY),
        ("inactive", Direction.INACTIVE),
    ],
)
def test_direction_is_mirrored(offered: str, answered: Direction) -> None:
    answer = answer_offer(offer(f"m=audio 5004 RTP/AVP 0\r\na={offered}\r\n"), local(), 1)
    assert answer.direction == answered
    assert f"a={answered.value}" in answer.sdp.decode()


def test_session_level_direction_and_forced_hold() -> None:
    parsed = offer("m=audio 5004 RTP/AVP 0\r\n", session_extra="a=sendonly\r\n")
    assert answer_offer(parsed, local(), 1).direction == Direction.RECVONLY
    forced = answer_offer(parsed, local(), 1, hold_direction=Direction.INACTIVE)
    assert forced.direction == Direction.INACTIVE


def test_version_increases_with_each_answer() -> None:
    session = local()
    parsed = offer("m=audio 5004 RTP/AVP 0\r\n")
    versions = [int(parse_sdp(answer_offer(parsed, session, 1).sdp).origin.split()[2])
                for _ in range(3)]
    assert versions == [1, 2, 3]


def test_no_acceptable_codec() -> None:
    with pytest.raises(NoAcceptableCodec):
        answer_offer(offer("m=audio 5004 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"), local(), 1)
    with pytest.raises(NoAcceptableCodec):
        answer_offer(offer("m=audio 0 RTP/AVP 0\r\n"), local(), 1)  # stream disabled
    with pytest.raises(NoAcceptableCodec):
        answer_offer(offer(""), local(), 1)
    assert issubclass(NoAcceptableCodec, SdpError)


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\n",
        b"v=0\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nc=IN IP4 host.example\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio 5000 RTP/AVP 0\r\na=rtpmap:zero PCMU/8000\r\n",
        b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nbogus\r\n",
        b"\xff\xfe",
    ],
)
def test_malformed_sdp(text: bytes) -> None:
    with pytest.raises(SdpError):
        parse_sdp(text)


def test_ipv6_and_our_offer() -> None:
    parsed = parse_sdp(
        b"v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n"
        b"m=audio 5004 RTP/AVP 0\r\n"
    )
    answer = answer_offer(parsed, LocalSession("2001:db8::2", 5), 4000)
    assert answer.remote_address == "2001:db8::1"
    assert "c=IN IP6 2001:db8::2" in answer.sdp.decode()
    ours = parse_sdp(make_offer(local(), 4000, Direction.SENDONLY))
    assert ours.media[0].formats == ["0", "8", "101"]
    assert ours.media[0].direction == Direction.SENDONLY
