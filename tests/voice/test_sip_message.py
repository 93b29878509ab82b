from pathlib import Path

import pytest

from hotline.voice.sip.message import (
    Headers,
    ParseError,
    Request,
    Response,
    make_response,
    parse_cseq,
    parse_message,
    parse_name_addr,
    parse_uri,
    parse_via,
)

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_sipp_default_uac_invite() -> None:
    message = parse_message(load("sipp_uac_invite.sip"))
    assert isinstance(message, Request)
    message.check()
    assert message.method == "INVITE"
    assert message.uri == "sip:service@127.0.0.1:5099"
    assert message.call_id == "1-15358@127.0.0.1"
    assert message.cseq.number == 1 and message.cseq.method == "INVITE"
    assert message.from_.tag == "15358SIPpTag001"
    assert message.from_.display_name == "sipp"
    assert message.to.tag is None
    assert message.top_via.branch == "z9hG4bK-15358-1-0"
    assert message.top_via.response_address() == ("127.0.0.1", 5060)
    # "Content-Length:   129" with extra spaces; the body is exactly that long.
    assert len(message.body) == 129
    assert message.body.startswith(b"v=0\r\n")
    assert message.headers.get("content-type") == "application/sdp"
    assert message.headers.get("SUBJECT") == "Performance Test"


def test_baresip_invite_with_empty_supported_header() -> None:
    message = parse_message(load("baresip_invite.sip"))
    assert isinstance(message, Request)
    message.check()
    assert message.headers.get("Supported") == ""
    assert message.headers.get_all("Supported") == []
    assert message.headers.get_all("Allow")[:3] == ["INVITE", "ACK", "BYE"]
    via = message.top_via
    assert "rport" in via.params and via.params["rport"] is None
    # rport without value: respond to the packet's source port (RFC 3581).
    assert via.response_address(("127.0.0.1", 40000)) == ("127.0.0.1", 40000)
    assert parse_name_addr(message.headers.get("Contact") or "").parsed_uri.user == (
        "caller-0x55e556922160"
    )
    assert len(message.body) == 339


def test_linphone_style_compact_headers_folding_and_via_list() -> None:
    message = parse_message(load("linphone_compact_invite.sip"))
    assert isinstance(message, Request)
    message.check()
    assert message.call_id == "2yQo1Rb~xk"
    vias = message.vias
    assert [v.host for v in vias] == ["10.0.0.1", "192.168.1.20"]
    assert vias[1].params == {
        "rport": "40123",
        "received": "198.51.100.7",
        "branch": "z9hG4bK.Qy7m~1xN",
    }
    assert vias[1].response_address() == ("198.51.100.7", 40123)
    assert message.from_.display_name == "Li Lei"
    assert message.to.uri == "sip:12345@sip.example.org"
    contact = parse_name_addr(message.headers.get("m") or "")
    assert contact.parsed_uri.port == 5062
    assert contact.parsed_uri.params == {"transport": "udp"}
    assert contact.params["+sip.instance"] == "<urn:uuid:6b1f8c5e-0000-0000-0000-000000000001>"
    allow = message.headers.get_all("Allow")
    assert allow[-1] == "UPDATE" and "SUBSCRIBE" in allow  # the folded line joined
    assert message.headers.get_all("k") == ["replaces", "outbound", "gruu"]
    assert message.body.endswith(b"trr-int 1000\r\n")


def test_vias_in_one_line_and_in_several_lines_are_one_list() -> None:
    raw = (
        b"OPTIONS sip:a@b SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP p1.example;branch=z9hG4bK1, SIP/2.0/TCP p2.example:5070;branch=z9hG4bK2\r\n"
        b"VIA: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK3\r\n"
        b"From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n"
    )
    message = parse_message(raw)
    assert [(v.transport, v.host, v.port) for v in message.vias] == [
        ("UDP", "p1.example", None),
        ("TCP", "p2.example", 5070),
        ("UDP", "2001:db8::1", 5060),
    ]


def test_body_without_content_length_is_the_rest_of_the_datagram() -> None:
    raw = b"MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n\r\nhello"
    assert parse_message(raw).body == b"hello"


def test_extra_bytes_after_content_length_are_ignored_and_short_body_is_an_error() -> None:
    base = b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 3\r\n\r\n"
    assert parse_message(base + b"hello").body == b"hel"
    with pytest.raises(ParseError):
        parse_message(base + b"he")
    with pytest.raises(ParseError):
        parse_message(b"MESSAGE sip:a@b SIP/2.0\r\nl: -1\r\n\r\n")


def test_bare_lf_line_endings_and_leading_crlf_are_tolerated() -> None:
    raw = b"\r\n\r\nSIP/2.0 180 Ringing\nVia: SIP/2.0/UDP h:5060;branch=z9hG4bKq\nCSeq: 7 INVITE\n\n"
    message = parse_message(raw)
    assert isinstance(message, Response)
    assert (message.status, message.reason) == (180, "Ringing")
    assert message.cseq.number == 7


def test_response_without_reason_phrase() -> None:
    message = parse_message(b"SIP/2.0 200\r\n\r\n")
    assert isinstance(message, Response) and message.status == 200 and message.reason == ""


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n\r\n",
        b"INVITE sip:a@b SIP/3.0\r\n\r\n",
        b"INVITE sip:a@b\r\n\r\n",
        b"INV<TE sip:a@b SIP/2.0\r\n\r\n",
        b"INVITE nocolon SIP/2.0\r\n\r\n",
        b"SIP/2.0 2000 OK\r\n\r\n",
        b"SIP/2.0 099 Low\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\n continuation first\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nNoColonHere\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nSubject: \xff\xfe\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nSubject: a\x00b\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 1e3\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nContent-Length: \xd9\xa3\r\n\r\n",
    ],
)
def test_malformed_messages_raise_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_message(raw)


def test_check_reports_missing_or_broken_mandatory_headers() -> None:
    good = parse_message(load("sipp_uac_invite.sip"))
    assert isinstance(good, Request)
    for header, value in [
        ("CSeq", "x INVITE"),
        ("CSeq", "1 BYE"),
        ("CSeq", "4294967296 INVITE"),
        ("From", "<sip:broken"),
        ("Via", "SIP/2.0/UDP"),
        ("Via", "SIP/2.0/UDP host:99999"),
        ("Call-ID", ""),
    ]:
        broken = parse_message(good.to_bytes())
        assert isinstance(broken, Request)
        broken.headers.set(header, value)
        with pytest.raises(ParseError):
            broken.check()


def test_serialise_round_trip_recomputes_content_length() -> None:
    message = parse_message(load("linphone_compact_invite.sip"))
    message.body = b"v=0\r\n"
    again = parse_message(message.to_bytes())
    assert again.body == b"v=0\r\n"
    assert again.headers.get("Content-Length") == "5"
    assert again.headers.get("Call-ID") == message.call_id
    assert next(iter(again.headers))[0] == "Via"  # compact names come out canonical


def test_uri_parsing() -> None:
    uri = parse_uri("sips:alice:secret@[2001:db8::5]:5061;transport=tls;lr?subject=hi")
    assert (uri.scheme, uri.user, uri.password, uri.host, uri.port) == (
        "sips",
        "alice",
        "secret",
        "2001:db8::5",
        5061,
    )
    assert uri.params == {"transport": "tls", "lr": None}
    assert uri.headers == "subject=hi"
    assert str(uri) == "sips:alice:secret@[2001:db8::5]:5061;transport=tls;lr?subject=hi"
    assert parse_uri("sip:gw.example.org").user is None
    assert parse_uri("tel:+86-10-12345").host == "+86-10-12345"
    for bad in ["", "sip:", "sip:@host", "sip:a@host:0", "sip:a@ho st", "sip:a@[::1", "1sip:x"]:
        with pytest.raises(ParseError):
            parse_uri(bad)


def test_name_addr_forms() -> None:
    quoted = parse_name_addr('"Wang \\"Xiao\\" Ming" <sip:wang@example.org>;tag=abc')
    assert quoted.display_name == 'Wang "Xiao" Ming' and quoted.tag == "abc"
    bare = parse_name_addr("sip:wang@example.org;tag=xyz")
    assert bare.uri == "sip:wang@example.org" and bare.tag == "xyz"
    unquoted = parse_name_addr("Anonymous <sip:anonymous@anonymous.invalid>")
    assert unquoted.display_name == "Anonymous"
    assert str(quoted).startswith('"Wang')


def test_via_and_cseq_helpers() -> None:
    via = parse_via("SIP / 2.0 / udp host.example ; branch=z9hG4bK77 ; rport")
    assert via.transport == "UDP" and via.host == "host.example" and via.branch == "z9hG4bK77"
    assert str(parse_via(str(via))) == str(via)
    assert parse_cseq("  42   ack ").method == "ACK"


def test_headers_multimap_is_case_insensitive_and_ordered() -> None:
    headers = Headers([("v", "SIP/2.0/UDP a;branch=z9hG4bK1"), ("X-Custom", "1")])
    headers.add("x-custom", "2")
    assert headers.get("VIA") == "SIP/2.0/UDP a;branch=z9hG4bK1"
    assert headers.get_all("X-CUSTOM") == ["1", "2"]
    headers.set("x-Custom", "3")
    assert [name for name, _ in headers] == ["Via", "X-Custom"]
    assert "call-id" not in headers
    # Authentication headers contain commas but are one value each.
    headers.add("WWW-Authenticate", 'Digest realm="r", nonce="n"')
    assert headers.get_all("www-authenticate") == ['Digest realm="r", nonce="n"']


def test_make_response_copies_headers_and_adds_to_tag() -> None:
    request = parse_message(load("linphone_compact_invite.sip"))
    assert isinstance(request, Request)
    response = make_response(request, 180, to_tag="ourtag")
    parsed = parse_message(response.to_bytes())
    assert isinstance(parsed, Response)
    assert parsed.status == 180 and parsed.reason == "Ringing"
    assert [v.branch for v in parsed.vias] == ["z9hG4bK.proxy1", "z9hG4bK.Qy7m~1xN"]
    assert parsed.to.tag == "ourtag"
    assert parsed.from_.tag == "ZcNiS3b4n"
    assert parsed.cseq.number == 20
    trying = make_response(request, 100, to_tag="ourtag")
    assert parse_message(trying.to_bytes()).to.tag is None
