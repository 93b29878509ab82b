"""Outgoing calls (the UA as UAC): INVITE, progress, 2xx and its ACK, failures, CANCEL, BYE
both ways, the callee's re-INVITE, digest challenges, and the SDP answer to our offer."""

import itertools
from collections.abc import Iterable
from typing import Any, TypeVar

import pytest

from hotline.core.digest import ha1
from hotline.voice.sdp import (
    Direction,
    LocalSession,
    NoAcceptableCodec,
    accept_answer,
    make_offer,
    parse_sdp,
)
from hotline.voice.sip.auth import check_response, parse_credentials
from hotline.voice.sip.message import Request, Response, make_response, parse_message
from hotline.voice.sip.transaction import T1, Address, Send
from hotline.voice.sip.useragent import (
    CallEnded,
    CallEstablished,
    EndReason,
    IncomingCall,
    MediaChanged,
    OutgoingAnswered,
    OutgoingFailed,
    OutgoingProgress,
    UaEvent,
    UserAgent,
)
from tests.voice.sipfakes import CALLER, OFFER, narrow, present, request

PHONE = ("192.0.2.20", 5072)
TARGET = "sip:8001@192.0.2.20:5072"
PHONE_CONTACT = "<sip:8001@192.0.2.20:5072>"
ANSWER = (
    b"v=0\r\no=phone 7 7 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\n"
    b"m=audio 41000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
)
BRANCHES = itertools.count()
T = TypeVar("T")


@pytest.fixture
def ua() -> UserAgent:
    return UserAgent("127.0.0.1", 5060, media_address="127.0.0.1")


def of_type(events: Iterable[UaEvent], kind: type[T]) -> list[T]:
    return [e for e in events if isinstance(e, kind)]


def sent(events: Iterable[UaEvent]) -> list[tuple[Request | Response, Address]]:
    return [(parse_message(e.data), e.address) for e in events if isinstance(e, Send)]


def requests_sent(events: Iterable[UaEvent]) -> list[tuple[Request, Address]]:
    return [(m, a) for m, a in sent(events) if isinstance(m, Request)]


def place(ua: UserAgent, now: float = 0.0, target: str = TARGET, destination: Address = PHONE,
          **options: Any) -> tuple[str, Request, list[UaEvent]]:
    """Our INVITE: returns (call_id, the INVITE as the phone receives it, events)."""
    call_id, events = ua.invite(target, destination, 30000, now, **options)
    ((invite, address),) = requests_sent(events)
    assert address == destination
    return call_id, invite, events


def reply(invite: Request, status: int, *, tag: str = "callee", body: bytes = b"",
          contact: str = PHONE_CONTACT, headers: Iterable[tuple[str, str]] = ()) -> bytes:
    extra = [("Contact", contact)] if contact and status < 300 else []
    if body:
        extra.append(("Content-Type", "application/sdp"))
    reason = {401: "Unauthorized", 407: "Proxy Authentication Required"}.get(status)
    response = make_response(invite, status, reason, to_tag=tag if status > 100 else None,
                             extra_headers=[*extra, *headers], body=body)
    return response.to_bytes()


def callee_request(method: str, invite: Request, *, cseq: int, body: bytes = b"", from_tag: str = "callee",
                   to_tag: str | None = None) -> bytes:
    our_from = present(invite.headers.get("From"))
    if to_tag is not None:
        our_from = our_from.split(";tag=")[0] + f";tag={to_tag}"
    lines = [
        f"{method} sip:hotline@127.0.0.1:5060 SIP/2.0",
        f"Via: SIP/2.0/UDP 192.0.2.20:5072;branch=z9hG4bKcallee{next(BRANCHES)};rport",
        f"From: <{TARGET}>;tag={from_tag}",
        f"To: {our_from}",
        f"Call-ID: {invite.call_id}",
        f"CSeq: {cseq} {method}",
        f"Contact: {PHONE_CONTACT}",
        "Max-Forwards: 70",
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def answered(ua: UserAgent, now: float = 0.0, **options: Any) -> tuple[str, Request, list[UaEvent]]:
    """INVITE, 180, 200: returns (call_id, invite, events of the 200)."""
    call_id, invite, _ = place(ua, now, **options)
    ua.receive(reply(invite, 180), PHONE, now + 0.1)
    return call_id, invite, ua.receive(reply(invite, 200, body=ANSWER), PHONE, now + 0.2)


def test_invite_carries_our_offer_and_who_calls(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua, caller="12345", display_name="Hotline",
                               extra_headers=[("P-Asserted-Identity", "<sip:12345@hotline>")])
    assert invite.method == "INVITE" and invite.uri == TARGET
    assert invite.call_id == call_id and str(invite.cseq) == "1 INVITE"
    sender = invite.from_
    assert sender.uri == "sip:12345@127.0.0.1" and sender.display_name == "Hotline" and sender.tag
    assert invite.to.uri == TARGET and invite.to.tag is None
    assert invite.headers.get("Contact") == "<sip:hotline@127.0.0.1:5060>"
    assert invite.headers.get("P-Asserted-Identity") == "<sip:12345@hotline>"
    assert invite.top_via.host == "127.0.0.1" and present(invite.top_via.branch).startswith("z9hG4bK")
    offer = parse_sdp(invite.body)
    assert invite.headers.get("Content-Type") == "application/sdp"
    assert offer.media[0].port == 30000 and offer.media[0].formats == ["0", "8", "101"]
    assert offer.connection == "127.0.0.1"


def test_invite_arguments_are_checked(ua: UserAgent) -> None:
    place(ua, call_id="leg-1")
    with pytest.raises(ValueError, match="in use"):
        ua.invite(TARGET, PHONE, 30000, 0.0, call_id="leg-1")
    with pytest.raises(ValueError):
        ua.invite(TARGET, PHONE, 30000, 0.0, extra_headers=[("Call-ID", "x")])
    with pytest.raises(ValueError):
        ua.invite("not a uri", PHONE, 30000, 0.0)


def test_provisional_responses_are_reported_and_100_is_not(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua)
    assert of_type(ua.receive(reply(invite, 100), PHONE, 0.1), OutgoingProgress) == []
    assert of_type(ua.receive(reply(invite, 180), PHONE, 0.2), OutgoingProgress) == [
        OutgoingProgress(call_id, 180)]
    assert of_type(ua.receive(reply(invite, 183), PHONE, 0.3), OutgoingProgress) == [
        OutgoingProgress(call_id, 183)]


def test_2xx_is_acked_and_the_answer_gives_the_media(ua: UserAgent) -> None:
    call_id, invite, events = answered(ua)
    ((ack, address),) = requests_sent(events)
    assert ack.method == "ACK" and address == PHONE
    assert ack.uri == TARGET  # the 2xx's Contact
    assert str(ack.cseq) == "1 ACK" and ack.to.tag == "callee"
    assert ack.from_.tag == invite.from_.tag and ack.call_id == call_id
    assert ack.top_via.branch != invite.top_via.branch  # a 2xx's ACK is its own transaction
    (done,) = of_type(events, OutgoingAnswered)
    assert done.call_id == call_id
    media = present(done.media)
    assert (media.remote_address, media.remote_port) == ("192.0.2.20", 41000)
    assert media.payload_type == 8 and media.codec.name == "PCMA"
    assert media.telephone_event == 101 and media.direction == Direction.SENDRECV
    assert media.sdp == invite.body  # our side of the agreement: our offer
    assert of_type(events, CallEstablished) == []
    assert ua.calls[call_id].outgoing


def test_a_retransmitted_2xx_gets_the_same_ack_again(ua: UserAgent) -> None:
    _, invite, events = answered(ua)
    ((first, _),) = sent(events)
    again = ua.receive(reply(invite, 200, body=ANSWER), PHONE, 1.0)
    assert [e.data for e in again if isinstance(e, Send)] == [first.to_bytes()]
    assert of_type(again, OutgoingAnswered) == []


def test_a_2xx_from_a_second_fork_is_acked_and_ended(ua: UserAgent) -> None:
    call_id, invite, _ = answered(ua)
    events = ua.receive(reply(invite, 200, tag="fork2", body=ANSWER), PHONE, 0.5)
    methods = [(m.method, m.to.tag) for m, _ in requests_sent(events)]
    assert methods == [("ACK", "fork2"), ("BYE", "fork2")]
    assert ua.calls[call_id].remote_tag == "callee"  # the first dialog stays


def test_route_set_is_the_record_route_reversed(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua)
    rr = [("Record-Route", "<sip:10.0.0.2;lr>"), ("Record-Route", "<sip:10.0.0.1:5070;lr>")]
    events = ua.receive(reply(invite, 200, body=ANSWER, headers=rr), ("10.0.0.1", 5070), 0.2)
    ((ack, address),) = requests_sent(events)
    assert address == ("10.0.0.1", 5070)
    assert ack.headers.get_all("Route") == ["<sip:10.0.0.1:5070;lr>", "<sip:10.0.0.2;lr>"]
    ((bye, address),) = requests_sent(ua.hangup(call_id, 5.0))
    assert address == ("10.0.0.1", 5070) and bye.headers.get_all("Route")[0] == "<sip:10.0.0.1:5070;lr>"


def test_a_phone_behind_nat_is_reached_at_its_binding_address(ua: UserAgent) -> None:
    nat = ("203.0.113.7", 40000)
    call_id, invite, _ = place(ua, target="sip:8001@10.0.0.5:5060", destination=nat)
    events = ua.receive(reply(invite, 200, body=ANSWER, contact="<sip:8001@10.0.0.5:5060>"),
                        nat, 0.2)
    ((ack, address),) = requests_sent(events)
    assert address == nat and ack.uri == "sip:8001@10.0.0.5:5060"
    ((bye, address),) = requests_sent(ua.hangup(call_id, 3.0))
    assert bye.method == "BYE" and address == nat


def test_a_busy_callee_fails_the_call_and_the_transaction_acks(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua)
    events = ua.receive(reply(invite, 486), PHONE, 0.5)
    assert of_type(events, OutgoingFailed) == [OutgoingFailed(call_id, 486, "Busy Here")]
    ((ack, address),) = requests_sent(events)
    assert ack.method == "ACK" and address == PHONE
    assert ack.top_via.branch == invite.top_via.branch  # within the INVITE transaction
    assert ua.calls == {} and ua.dialer.pending == {}
    assert ua.hangup(call_id, 1.0) == []


def test_nobody_answering_ends_with_408_when_timer_b_fires(ua: UserAgent) -> None:
    call_id, _, _ = place(ua, now=0.0)
    events = []
    for step in range(1, 70):
        events += ua.tick(step * 0.5)
    retransmitted = [m for m, _ in requests_sent(events) if m.method == "INVITE"]
    assert len(retransmitted) == 6  # timer A: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5
    assert of_type(events, OutgoingFailed) == [OutgoingFailed(call_id, 408, "no answer from the callee")]
    assert ua.dialer.pending == {}


def test_hangup_before_any_provisional_waits_then_cancels(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua)
    assert ua.hangup(call_id, 0.05) == []  # RFC 3261 9.1: no CANCEL before a provisional
    events = ua.receive(reply(invite, 180), PHONE, 0.1)
    assert of_type(events, OutgoingProgress) == []
    ((cancel, address),) = requests_sent(events)
    assert cancel.method == "CANCEL" and address == PHONE
    assert cancel.top_via.branch == invite.top_via.branch and str(cancel.cseq) == "1 CANCEL"
    assert cancel.uri == invite.uri and cancel.to.tag is None
    assert ua.receive(reply(cancel, 200), PHONE, 0.2) == []
    events = ua.receive(reply(invite, 487), PHONE, 0.3)
    assert of_type(events, OutgoingFailed) == [OutgoingFailed(call_id, 487, "Request Terminated")]
    assert [m.method for m, _ in requests_sent(events)] == ["ACK"]


def test_hangup_while_ringing_cancels_at_once_and_only_once(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua)
    ua.receive(reply(invite, 180), PHONE, 0.1)
    ((cancel, _),) = requests_sent(ua.hangup(call_id, 1.0))
    assert cancel.method == "CANCEL"
    assert ua.hangup(call_id, 1.1) == []


def test_a_200_crossing_our_cancel_is_acked_then_byed(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua)
    ua.receive(reply(invite, 180), PHONE, 0.1)
    ua.hangup(call_id, 1.0)
    events = ua.receive(reply(invite, 200, body=ANSWER), PHONE, 1.05)
    assert [m.method for m, _ in requests_sent(events)] == ["ACK", "BYE"]
    bye = requests_sent(events)[1][0]
    assert str(bye.cseq) == "2 BYE" and bye.to.tag == "callee"
    assert of_type(events, OutgoingFailed) == [OutgoingFailed(call_id, 487, "cancelled")]
    assert of_type(events, OutgoingAnswered) == [] and ua.calls == {}


def test_a_callee_ignoring_our_cancel_is_given_up(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua)
    ua.receive(reply(invite, 180), PHONE, 0.1)
    cancel = requests_sent(ua.hangup(call_id, 1.0))[0][0]
    ua.receive(reply(cancel, 200), PHONE, 1.1)
    assert present(ua.next_deadline()) <= 1.0 + 64 * T1
    events = ua.tick(1.0 + 64 * T1)
    assert of_type(events, OutgoingFailed) == [OutgoingFailed(call_id, 487, "no final response after CANCEL")]
    assert ua.dialer.pending == {}


def test_our_bye_after_the_answer(ua: UserAgent) -> None:
    call_id, invite, _ = answered(ua)
    events = ua.hangup(call_id, 10.0)
    ((bye, address),) = requests_sent(events)
    assert address == PHONE and bye.uri == TARGET
    assert str(bye.cseq) == "2 BYE"
    assert bye.from_.tag == invite.from_.tag and bye.from_.uri == "sip:12345@127.0.0.1"
    assert bye.to.tag == "callee" and bye.to.uri == TARGET
    assert of_type(events, CallEnded) == [CallEnded(call_id, EndReason.LOCAL_BYE)]
    assert ua.receive(reply(bye, 200), PHONE, 10.1) == []
    assert ua.calls == {}


def test_the_callees_bye(ua: UserAgent) -> None:
    call_id, invite, _ = answered(ua)
    events = ua.receive(callee_request("BYE", invite, cseq=1, to_tag=invite.from_.tag), PHONE, 5.0)
    assert [narrow(m, Response).status for m, _ in sent(events)] == [200]
    assert of_type(events, CallEnded) == [CallEnded(call_id, EndReason.REMOTE_BYE)]
    assert ua.calls == {}


def test_in_dialog_requests_must_name_the_outgoing_dialog(ua: UserAgent) -> None:
    call_id, invite, _ = answered(ua)
    wrong_remote = callee_request("BYE", invite, cseq=1, from_tag="other", to_tag=invite.from_.tag)
    assert [narrow(m, Response).status for m, _ in sent(ua.receive(wrong_remote, PHONE, 1.0))] == [481]
    wrong_local = callee_request("BYE", invite, cseq=2, to_tag="not-ours")
    assert [narrow(m, Response).status for m, _ in sent(ua.receive(wrong_local, PHONE, 1.1))] == [481]
    assert call_id in ua.calls


def test_incoming_and_outgoing_dialogs_side_by_side(ua: UserAgent) -> None:
    incoming = ua.receive(request("INVITE", body=OFFER), CALLER, 0.0)
    caller_call = of_type(incoming, IncomingCall)[0].call_id
    ok = sent(ua.answer(caller_call, 20000, 0.1))[0][0]
    ua.receive(request("ACK", branch="z9hG4bKack", to_tag=ok.to.tag, call_id=caller_call), CALLER, 0.2)
    agent_call, invite, _ = answered(ua, now=1.0)
    # The agent's phone hangs up: only its leg ends.
    events = ua.receive(callee_request("BYE", invite, cseq=5, to_tag=invite.from_.tag), PHONE, 2.0)
    assert of_type(events, CallEnded) == [CallEnded(agent_call, EndReason.REMOTE_BYE)]
    # The citizen hangs up: their leg ends as before.
    bye = request("BYE", branch="z9hG4bKbye", to_tag=ok.to.tag, call_id=caller_call, cseq=2)
    events = ua.receive(bye, CALLER, 3.0)
    assert of_type(events, CallEnded) == [CallEnded(caller_call, EndReason.REMOTE_BYE)]


def test_the_callee_puts_us_on_hold_and_back(ua: UserAgent) -> None:
    _call_id, invite, _ = answered(ua)
    to_tag = invite.from_.tag
    hold = ANSWER.replace(b"a=sendrecv", b"a=sendonly")
    events = ua.receive(callee_request("INVITE", invite, cseq=10, body=hold, to_tag=to_tag),
                        ("192.0.2.20", 5999), 5.0)
    assert [narrow(m, Response).status for m, _ in sent(events)] == [100, 200]
    ok, address = sent(events)[1]
    assert address == ("192.0.2.20", 5999)  # back where the re-INVITE came from (rport)
    assert parse_sdp(ok.body).media[0].direction == Direction.RECVONLY
    (changed,) = of_type(events, MediaChanged)
    assert changed.on_hold and changed.media.remote_port == 41000
    # Until the ACK, the 2xx is retransmitted to the same place.
    resent = [e.address for e in ua.tick(5.0 + T1) if isinstance(e, Send)]
    assert resent == [("192.0.2.20", 5999)]
    ack = callee_request("ACK", invite, cseq=10, to_tag=to_tag)
    assert ua.receive(ack, PHONE, 5.6) == []
    events = ua.receive(callee_request("INVITE", invite, cseq=11, body=ANSWER, to_tag=to_tag),
                        PHONE, 8.0)
    (changed,) = of_type(events, MediaChanged)
    assert not changed.on_hold


def test_an_answer_in_183_counts_when_the_2xx_has_none(ua: UserAgent) -> None:
    _call_id, invite, _ = place(ua)
    ua.receive(reply(invite, 183, body=ANSWER), PHONE, 0.1)
    (done,) = of_type(ua.receive(reply(invite, 200), PHONE, 0.2), OutgoingAnswered)
    assert present(done.media).remote_port == 41000


def test_no_sdp_at_all_answers_without_media(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua)
    assert of_type(ua.receive(reply(invite, 200), PHONE, 0.2), OutgoingAnswered) == [
        OutgoingAnswered(call_id, None)]


def test_an_unusable_answer_is_acked_byed_and_failed(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua)
    declined = ANSWER.replace(b"m=audio 41000", b"m=audio 0")
    events = ua.receive(reply(invite, 200, body=declined), PHONE, 0.2)
    assert [m.method for m, _ in requests_sent(events)] == ["ACK", "BYE"]
    assert of_type(events, OutgoingFailed) == [OutgoingFailed(call_id, 488, "unusable SDP answer")]
    assert ua.calls == {}


@pytest.mark.parametrize(("status", "challenge", "answer_header"),
                         [(401, "WWW-Authenticate", "Authorization"),
                          (407, "Proxy-Authenticate", "Proxy-Authorization")])
def test_a_trunk_challenge_is_answered_once_with_the_credentials(ua: UserAgent, status: int, challenge: str,
                                                                 answer_header: str) -> None:
    call_id, invite, _ = place(ua, target="sip:110@192.0.2.99", destination=("192.0.2.99", 5060),
                               auth=("gw1", "trunk-pw"))
    header = (challenge, 'Digest realm="trunk", nonce="n1", qop="auth", algorithm=MD5')
    events = ua.receive(reply(invite, status, headers=[header]), ("192.0.2.99", 5060), 0.1)
    assert of_type(events, OutgoingFailed) == []
    ((ack, _), (second, _)) = requests_sent(events)
    assert ack.method == "ACK" and second.method == "INVITE"
    assert str(second.cseq) == "2 INVITE" and second.call_id == call_id
    assert second.from_.tag == invite.from_.tag and second.body == invite.body
    assert second.top_via.branch != invite.top_via.branch
    credentials = parse_credentials(present(second.headers.get(answer_header)))
    assert credentials.username == "gw1" and credentials.uri == "sip:110@192.0.2.99"
    assert check_response(ha1("gw1", "trunk", "trunk-pw"), algorithm="MD5", nonce="n1",
                          method="INVITE", uri=credentials.uri, response=credentials.response,
                          qop=credentials.qop, nc=credentials.nc, cnonce=credentials.cnonce)
    # The same nonce again means the password is wrong: no loop.
    events = ua.receive(reply(second, status, headers=[header]), ("192.0.2.99", 5060), 0.2)
    assert [e.status for e in of_type(events, OutgoingFailed)] == [status]


def test_a_challenge_without_credentials_fails_the_call(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua)
    header = ("WWW-Authenticate", 'Digest realm="trunk", nonce="n1"')
    events = ua.receive(reply(invite, 401, headers=[header]), PHONE, 0.1)
    assert of_type(events, OutgoingFailed) == [OutgoingFailed(call_id, 401, "Unauthorized")]


def test_after_a_challenge_the_dialog_uses_the_new_cseq(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua, auth=("gw1", "pw"))
    header = ("WWW-Authenticate", 'Digest realm="trunk", nonce="n1", algorithm=SHA-256, qop="auth"')
    second = requests_sent(ua.receive(reply(invite, 401, headers=[header]), PHONE, 0.1))[1][0]
    ((ack, _),) = requests_sent(ua.receive(reply(second, 200, body=ANSWER), PHONE, 0.2))
    assert str(ack.cseq) == "2 ACK"
    ((bye, _),) = requests_sent(ua.hangup(call_id, 1.0))
    assert str(bye.cseq) == "3 BYE"


def test_a_malformed_2xx_does_not_crash(ua: UserAgent) -> None:
    call_id, invite, _ = place(ua)
    data = reply(invite, 200, body=ANSWER).replace(PHONE_CONTACT.encode(), b"<sip:>")
    events = ua.receive(data, PHONE, 0.1)
    assert of_type(events, OutgoingFailed) == [OutgoingFailed(call_id, 502, "malformed answer")]


# --- accept_answer ---------------------------------------------------------------------


def our_offer(direction: Direction = Direction.SENDRECV) -> bytes:
    return make_offer(LocalSession("127.0.0.1", 1), 30000, direction)


@pytest.mark.parametrize(
    ("ours", "theirs", "agreed"),
    [(Direction.SENDRECV, "sendrecv", Direction.SENDRECV),
     (Direction.SENDRECV, "sendonly", Direction.RECVONLY),
     (Direction.SENDRECV, "recvonly", Direction.SENDONLY),
     (Direction.SENDRECV, "inactive", Direction.INACTIVE),
     (Direction.SENDONLY, "recvonly", Direction.SENDONLY),
     (Direction.INACTIVE, "inactive", Direction.INACTIVE)],
)
def test_accept_answer_agrees_the_direction(ours: Direction, theirs: str, agreed: Direction) -> None:
    answer = parse_sdp(ANSWER.replace(b"a=sendrecv", f"a={theirs}".encode()))
    assert accept_answer(our_offer(ours), answer).direction == agreed


def test_accept_answer_refuses_codecs_we_did_not_offer_and_declined_streams() -> None:
    opus = ANSWER.replace(b"RTP/AVP 8 101", b"RTP/AVP 96").replace(
        b"a=rtpmap:8 PCMA/8000", b"a=rtpmap:96 opus/48000/2")
    with pytest.raises(NoAcceptableCodec):
        accept_answer(our_offer(), parse_sdp(opus))
    with pytest.raises(NoAcceptableCodec):
        accept_answer(our_offer(), parse_sdp(ANSWER.replace(b"m=audio 41000", b"m=audio 0")))
    pcmu = accept_answer(our_offer(), parse_sdp(ANSWER.replace(b"RTP/AVP 8 101", b"RTP/AVP 0")))
    assert pcmu.payload_type == 0 and pcmu.telephone_event is None


def test_accept_answer_reads_old_style_hold() -> None:
    zero = ANSWER.replace(b"c=IN IP4 192.0.2.20", b"c=IN IP4 0.0.0.0")
    assert accept_answer(our_offer(), parse_sdp(zero)).direction == Direction.RECVONLY


def test_responses_of_strangers_are_dropped(ua: UserAgent) -> None:
    invite = narrow(parse_message(request("INVITE")), Request)
    stray = Response(headers=parse_message(reply(invite, 200)).headers, body=b"", status=200)
    events = ua.receive(stray.to_bytes(), PHONE, 0.0)
    assert requests_sent(events) == [] and of_type(events, OutgoingAnswered) == []


def test_a_call_ringing_past_the_ring_timeout_is_cancelled_by_the_ua() -> None:
    ua = UserAgent("127.0.0.1", 5060, ring_timeout=15.0)
    call_id, invite, _ = place(ua, now=100.0)
    ua.receive(reply(invite, 180), PHONE, 100.1)
    assert requests_sent(ua.tick(114.0)) == []
    assert present(ua.next_deadline()) <= 115.0
    ((cancel, _),) = requests_sent(ua.tick(115.0))
    assert cancel.method == "CANCEL"
    events = ua.receive(reply(invite, 487), PHONE, 115.1)
    assert of_type(events, OutgoingFailed) == [
        OutgoingFailed(call_id, 408, "no answer before the ring timeout")]


def test_many_ringing_calls_time_out_in_order_and_next_deadline_looks_at_the_top(
        ua: UserAgent, monkeypatch: pytest.MonkeyPatch) -> None:
    """150 agents' phones ringing at once (the dialler's deadlines are a heap): each call is
    cancelled at its own ring deadline, a call hung up meanwhile is not, and asking for the
    next deadline after a datagram does not pass over every pending call."""
    invites = {}
    for n in range(150):
        call_id, invite, _ = place(ua, now=n * 0.01, target=f"sip:{8001 + n}@192.0.2.20:5072")
        ua.receive(reply(invite, 180), PHONE, n * 0.01 + 0.005)
        invites[call_id] = invite
    ring = ua.dialer.ring_timeout
    first, second = list(invites)[:2]
    ((cancel, _),) = requests_sent(ua.hangup(first, 1.0))  # its ring deadline no longer counts
    ua.receive(reply(cancel, 200), PHONE, 1.05)
    looked = 0
    live = ua.dialer._live

    def counting(when: float, deadline: Any) -> bool:
        nonlocal looked
        looked += 1
        return live(when, deadline)

    monkeypatch.setattr(ua.dialer._deadlines, "_live", counting)
    for _ in range(100):
        ua.dialer.next_deadline()
    assert 100 <= looked <= 100 + 2  # the top each time, and the stale entries once
    monkeypatch.undo()
    # The first call's CANCEL grace is next (its callee never sends the 487), then the
    # second call's ring deadline.
    assert ua.dialer.next_deadline() == pytest.approx(1.0 + 64 * T1)
    events = ua.tick(1.0 + 64 * T1)
    assert [e.call_id for e in of_type(events, OutgoingFailed)] == [first]
    assert ua.dialer.next_deadline() == pytest.approx(0.01 + ring)
    events = ua.tick(0.01 + ring)
    assert [m.call_id for m, _ in requests_sent(events) if m.method == "CANCEL"] == [second]
    events = ua.tick(1.49 + ring)
    later = [m.call_id for m, _ in requests_sent(events)
             if m.method == "CANCEL" and m.call_id != second]  # second's: a retransmission
    assert later == list(invites)[2:]
    assert all(call.timed_out for call in ua.dialer.pending.values())
    assert len(ua.dialer.pending) == 149
