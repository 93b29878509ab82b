from collections.abc import Iterable
from typing import Any, TypeVar

import pytest

from hotline.voice.sdp import Direction, parse_sdp
from hotline.voice.sip.message import Request, Response, parse_message
from hotline.voice.sip.transaction import T1, Send
from hotline.voice.sip.useragent import (
    CallEnded,
    CallEstablished,
    EndReason,
    IncomingCall,
    MediaChanged,
    UaEvent,
    UserAgent,
)
from tests.voice.sipfakes import CALLER, OFFER, narrow, present, request, sent, statuses

T = TypeVar("T")


@pytest.fixture
def ua() -> UserAgent:
    return UserAgent("127.0.0.1", 5060, media_address="127.0.0.1", max_calls=2)


def of_type(events: Iterable[UaEvent], kind: type[T]) -> list[T]:
    return [e for e in events if isinstance(e, kind)]


def invite(ua: UserAgent, now: float = 0.0, **kwargs: Any) -> list[UaEvent]:
    kwargs.setdefault("body", OFFER)
    return ua.receive(request("INVITE", **kwargs), CALLER, now)


def answered_call(ua: UserAgent, now: float = 0.0,
                  **kwargs: Any) -> tuple[str, str | None, Response, list[UaEvent]]:
    """INVITE, answer, ACK: returns (call_id, local_tag, events of the answer)."""
    events = invite(ua, now, **kwargs)
    call_id = of_type(events, IncomingCall)[0].call_id
    ok_events = ua.answer(call_id, 20000, now + 0.1)
    ok = narrow(sent(ok_events)[0][0], Response)
    tag = ok.to.tag
    ack = ua.receive(
        request("ACK", branch="z9hG4bKack1", to_tag=tag, call_id=call_id,
                cseq=kwargs.get("cseq", 1)),
        CALLER,
        now + 0.2,
    )
    return call_id, tag, ok, ack


def test_invite_100_180_200_ack_establishes_the_call_with_negotiated_media(ua: UserAgent) -> None:
    events = invite(ua)
    assert statuses(events) == [100, 180]
    ringing = sent(events)[1][0]
    assert ringing.to.tag and ringing.headers.get("Contact")
    (incoming,) = of_type(events, IncomingCall)
    assert incoming.caller_user == "13800138000" and incoming.called_user == "12345"
    assert incoming.display_name == "Citizen"
    _call_id, _tag, ok, ack = answered_call(ua, now=5.0, call_id="call-2", branch="z9hG4bK2")
    assert ok.status == 200 and ok.headers.get("Content-Type") == "application/sdp"
    answer = parse_sdp(ok.body)
    audio = answer.media[0]
    assert audio.port == 20000 and audio.formats == ["8", "101"]  # caller preferred PCMA
    assert answer.connection == "127.0.0.1"
    (established,) = of_type(ack, CallEstablished)
    media = present(established.media)
    assert media.remote_address == "192.0.2.10"
    assert media.remote_port == 40000
    assert media.telephone_event == 101


def test_2xx_is_retransmitted_until_ack(ua: UserAgent) -> None:
    events = invite(ua)
    call_id = of_type(events, IncomingCall)[0].call_id
    ua.answer(call_id, 20000, 0.0)
    resent = []
    for step in range(1, 40):
        now = round(step * 0.1, 1)
        for event in ua.tick(now):
            if isinstance(event, Send):
                assert narrow(parse_message(event.data), Response).status == 200
                resent.append(now)
    assert resent == [0.5, 1.5, 3.5]
    tag = call_tag(ua, call_id)
    ack = ua.receive(request("ACK", branch="z9hG4bKa", to_tag=tag, call_id=call_id), CALLER, 4.0)
    assert of_type(ack, CallEstablished)
    assert of_type(ua.tick(8.0), Send) == []


def call_tag(ua: UserAgent, call_id: str) -> str:
    return ua.calls[call_id].local_tag


def test_no_ack_ends_the_call_with_a_bye(ua: UserAgent) -> None:
    events = invite(ua)
    call_id = of_type(events, IncomingCall)[0].call_id
    ua.answer(call_id, 20000, 0.0)
    events = []
    for step in range(1, 70):
        events += ua.tick(step * 0.5)
    assert of_type(events, CallEnded) == [CallEnded(call_id, EndReason.NO_ACK)]
    byes = [m for m, _ in sent(events) if isinstance(m, Request)]
    assert [b.method for b in byes][:1] == ["BYE"]
    assert call_id not in ua.calls


def test_remote_bye_ends_the_call_and_a_second_bye_gets_481(ua: UserAgent) -> None:
    call_id, tag, _, _ = answered_call(ua)
    bye = request("BYE", branch="z9hG4bKbye", to_tag=tag, call_id=call_id, cseq=2)
    events = ua.receive(bye, CALLER, 10.0)
    assert statuses(events) == [200]
    assert of_type(events, CallEnded) == [CallEnded(call_id, EndReason.REMOTE_BYE)]
    # Retransmission of the same BYE: absorbed by the transaction (200 again).
    assert statuses(ua.receive(bye, CALLER, 10.5)) == [200]
    other = request("BYE", branch="z9hG4bKbye2", to_tag=tag, call_id=call_id, cseq=3)
    assert statuses(ua.receive(other, CALLER, 11.0)) == [481]


def test_local_hangup_sends_bye_to_where_the_call_came_from(ua: UserAgent) -> None:
    call_id, tag, _, _ = answered_call(ua)
    events = ua.hangup(call_id, 20.0)
    ((bye, address),) = sent(events)
    assert isinstance(bye, Request) and bye.method == "BYE"
    assert address == CALLER
    assert bye.uri == "sip:13800138000@192.0.2.10:5062"  # the caller's Contact
    assert bye.from_.tag == tag and bye.to.tag == "caller-tag"
    assert bye.top_via.host == "127.0.0.1" and present(bye.top_via.branch).startswith("z9hG4bK")
    assert of_type(events, CallEnded) == [CallEnded(call_id, EndReason.LOCAL_BYE)]
    assert of_type(events, CallEnded)


def test_hangup_before_ack_waits_for_the_ack(ua: UserAgent) -> None:
    events = invite(ua)
    call_id = of_type(events, IncomingCall)[0].call_id
    ua.answer(call_id, 20000, 0.0)
    assert ua.hangup(call_id, 0.1) == []
    ack = request("ACK", branch="z9hG4bKa", to_tag=call_tag(ua, call_id), call_id=call_id)
    events = ua.receive(ack, CALLER, 0.2)
    assert [type(e) for e in events if not isinstance(e, Send)] == [CallEstablished, CallEnded]
    assert [narrow(m, Request).method for m, _ in sent(events)] == ["BYE"]


def test_cancel_before_answer_gives_200_and_487(ua: UserAgent) -> None:
    events = invite(ua)
    call_id = of_type(events, IncomingCall)[0].call_id
    cancel = request("CANCEL")  # same branch as the INVITE, as RFC 3261 9.1 requires
    events = ua.receive(cancel, CALLER, 1.0)
    responses = [(narrow(m, Response).status, m.cseq.method) for m, _ in sent(events)]
    assert responses == [(200, "CANCEL"), (487, "INVITE")]
    assert of_type(events, CallEnded) == [CallEnded(call_id, EndReason.CANCELLED)]
    # The caller ACKs the 487 within the INVITE transaction: absorbed, no more 487s.
    ack = request("ACK", to_tag=call_tag_from(events))
    assert ua.receive(ack, CALLER, 1.1) == []
    assert [e for e in ua.tick(3.0) if isinstance(e, Send)] == []


def call_tag_from(events: list[UaEvent]) -> str | None:
    return next(m.to.tag for m, _ in sent(events) if isinstance(m, Response) and m.status == 487)


def test_cancel_for_unknown_transaction_gets_481(ua: UserAgent) -> None:
    assert statuses(ua.receive(request("CANCEL", branch="z9hG4bKnone"), CALLER, 0)) == [481]


def test_cancel_after_answer_has_no_effect(ua: UserAgent) -> None:
    events = invite(ua)
    call_id = of_type(events, IncomingCall)[0].call_id
    ua.answer(call_id, 20000, 0.0)
    events = ua.receive(request("CANCEL"), CALLER, 0.1)
    assert statuses(events) == [200]
    assert of_type(events, CallEnded) == []


def test_options_in_and_out_of_dialog(ua: UserAgent) -> None:
    events = ua.receive(request("OPTIONS", branch="z9hG4bKo"), CALLER, 0)
    (response, address), = sent(events)
    assert isinstance(response, Response) and response.status == 200
    assert "INVITE" in present(response.headers.get("Allow"))
    assert address == CALLER


def test_reinvite_hold_and_resume(ua: UserAgent) -> None:
    call_id, tag, ok, _ = answered_call(ua)
    first_version = int(parse_sdp(ok.body).origin.split()[2])
    hold_offer = OFFER.replace(b"a=sendrecv", b"a=sendonly")
    events = ua.receive(
        request("INVITE", branch="z9hG4bKhold", to_tag=tag, call_id=call_id, cseq=2,
                body=hold_offer),
        CALLER,
        30.0,
    )
    assert statuses(events) == [100, 200]
    ok = next(m for m, _ in sent(events) if isinstance(m, Response) and m.status == 200)
    answer = parse_sdp(ok.body)
    assert answer.media[0].direction == Direction.RECVONLY
    assert int(answer.origin.split()[2]) == first_version + 1  # a changed description
    (changed,) = of_type(events, MediaChanged)
    assert changed.on_hold
    ua.receive(request("ACK", branch="z9hG4bKack2", to_tag=tag, call_id=call_id, cseq=2),
               CALLER, 30.1)
    inactive = OFFER.replace(b"a=sendrecv", b"a=inactive")
    events = ua.receive(
        request("INVITE", branch="z9hG4bKinact", to_tag=tag, call_id=call_id, cseq=3,
                body=inactive),
        CALLER,
        31.0,
    )
    ok = next(m for m, _ in sent(events) if isinstance(m, Response) and m.status == 200)
    assert parse_sdp(ok.body).media[0].direction == Direction.INACTIVE
    ua.receive(request("ACK", branch="z9hG4bKack3", to_tag=tag, call_id=call_id, cseq=3),
               CALLER, 31.1)
    events = ua.receive(
        request("INVITE", branch="z9hG4bKresume", to_tag=tag, call_id=call_id, cseq=4,
                body=OFFER),
        CALLER,
        32.0,
    )
    (changed,) = of_type(events, MediaChanged)
    assert not changed.on_hold and changed.media.direction == Direction.SENDRECV
    # Still the same call: the ACK of a re-INVITE does not "establish" it again.
    ack = ua.receive(request("ACK", branch="z9hG4bKack4", to_tag=tag, call_id=call_id, cseq=4),
                     CALLER, 32.1)
    assert of_type(ack, CallEstablished) == []


def test_old_style_hold_with_zero_address(ua: UserAgent) -> None:
    call_id, tag, _, _ = answered_call(ua)
    offer = OFFER.replace(b"c=IN IP4 192.0.2.10", b"c=IN IP4 0.0.0.0")
    events = ua.receive(
        request("INVITE", branch="z9hG4bKh0", to_tag=tag, call_id=call_id, cseq=2, body=offer),
        CALLER, 1.0)
    (changed,) = of_type(events, MediaChanged)
    assert changed.media.direction == Direction.RECVONLY


def test_in_dialog_request_for_unknown_dialog_gets_481(ua: UserAgent) -> None:
    events = ua.receive(request("BYE", to_tag="nope", call_id="ghost"), CALLER, 0)
    assert statuses(events) == [481]
    events = ua.receive(request("INVITE", to_tag="nope", call_id="ghost", body=OFFER), CALLER, 0)
    assert statuses(events) == [100, 481]
    assert statuses(ua.receive(request("BYE", branch="z9hG4bKb0"), CALLER, 0)) == [481]


def test_busy_when_at_capacity(ua: UserAgent) -> None:
    invite(ua, call_id="a", branch="z9hG4bKa")
    invite(ua, call_id="b", branch="z9hG4bKb")
    events = invite(ua, call_id="c", branch="z9hG4bKc")
    assert statuses(events) == [100, 486]
    assert of_type(events, IncomingCall) == []


def test_488_when_no_acceptable_codec(ua: UserAgent) -> None:
    opus_only = (
        b"v=0\r\no=x 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
        b"m=audio 4000 RTP/AVP 96 101\r\na=rtpmap:96 opus/48000/2\r\n"
        b"a=rtpmap:101 telephone-event/8000\r\n"
    )
    events = invite(ua, body=opus_only)
    assert statuses(events) == [100, 488]
    assert ua.calls == {}


def test_400_for_broken_sdp_and_415_for_other_bodies(ua: UserAgent) -> None:
    assert statuses(invite(ua, body=b"v=0\r\nm=audio x\r\n")) == [100, 400]
    raw = request("INVITE", branch="z9hG4bKt", call_id="t", body=b"hello").replace(
        b"application/sdp", b"text/plain")
    assert statuses(ua.receive(raw, CALLER, 0)) == [100, 415]


def test_420_for_required_extensions_and_405_501_for_other_methods(ua: UserAgent) -> None:
    events = invite(ua, extra="Require: 100rel, timer")
    assert statuses(events) == [100, 420]
    assert sent(events)[1][0].headers.get("Unsupported") == "100rel, timer"
    assert statuses(ua.receive(request("REGISTER", branch="z9hG4bKr"), CALLER, 0)) == [405]
    assert statuses(ua.receive(request("FROBNICATE", branch="z9hG4bKf"), CALLER, 0)) == [501]


def test_reject_and_hangup_while_ringing(ua: UserAgent) -> None:
    call_id = of_type(invite(ua), IncomingCall)[0].call_id
    events = ua.hangup(call_id, 1.0)
    assert statuses(events) == [480]
    assert of_type(events, CallEnded) == [CallEnded(call_id, EndReason.REJECTED)]


def test_delayed_offer_invite_gets_our_offer_and_answer_comes_in_ack(ua: UserAgent) -> None:
    events = invite(ua, body=b"")
    call_id = of_type(events, IncomingCall)[0].call_id
    (ok, _), = sent(ua.answer(call_id, 22000, 0.1))
    offer = parse_sdp(ok.body)
    assert offer.media[0].formats == ["0", "8", "101"]
    answer = OFFER.replace(b"RTP/AVP 8 0 101", b"RTP/AVP 0 101")
    ack = request("ACK", branch="z9hG4bKa", to_tag=ok.to.tag, call_id=call_id, body=answer)
    (established,) = of_type(ua.receive(ack, CALLER, 0.2), CallEstablished)
    media = present(established.media)
    assert media.payload_type == 0 and media.remote_port == 40000


def test_next_deadline_includes_2xx_retransmission(ua: UserAgent) -> None:
    call_id = of_type(invite(ua), IncomingCall)[0].call_id
    ua.answer(call_id, 20000, 100.0)
    assert ua.next_deadline() == pytest.approx(100.0 + T1)


def test_responses_are_parseable_and_keep_the_callers_via(ua: UserAgent) -> None:
    events = invite(ua)
    for message, address in sent(events):
        assert isinstance(message, Response)
        assert message.top_via.params["rport"] == "5062"
        assert address == CALLER


def test_unanswered_call_times_out_with_480(ua: UserAgent) -> None:
    call_id = of_type(invite(ua, now=10.0), IncomingCall)[0].call_id
    assert statuses(ua.tick(10.0 + ua.ring_timeout - 1)) == []
    assert call_id in ua.calls
    events = ua.tick(10.0 + ua.ring_timeout)
    assert statuses(events) == [480]
    assert of_type(events, CallEnded) == [CallEnded(call_id, EndReason.TIMEOUT)]
    assert ua.calls == {}


def test_bye_in_the_early_dialog_ends_the_pending_invite_with_487(ua: UserAgent) -> None:
    events = invite(ua)
    call_id = of_type(events, IncomingCall)[0].call_id
    tag = call_tag(ua, call_id)
    bye = request("BYE", branch="z9hG4bKearly", to_tag=tag, call_id=call_id, cseq=2)
    events = ua.receive(bye, CALLER, 1.0)
    assert [(narrow(m, Response).status, m.cseq.method) for m, _ in sent(events)] == [
        (200, "BYE"), (487, "INVITE")]
    assert of_type(events, CallEnded) == [CallEnded(call_id, EndReason.REMOTE_BYE)]


def test_crlf_keepalives_are_ignored_silently(ua: UserAgent) -> None:
    assert ua.receive(b"\r\n\r\n", CALLER, 0) == []


def test_bye_goes_to_the_contact_behind_a_proxy_that_did_not_record_route(ua: UserAgent) -> None:
    proxied = request("INVITE", body=OFFER, via_host="10.0.0.1:5060", rport=False,
                      extra="Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKorig")
    events = ua.receive(proxied, ("10.0.0.1", 5060), 0.0)
    call_id = of_type(events, IncomingCall)[0].call_id
    ((_, address),) = sent(ua.answer(call_id, 20000, 0.1))
    assert address == ("10.0.0.1", 5060)  # responses retrace the Via path
    ack = request("ACK", branch="z9hG4bKa", to_tag=call_tag(ua, call_id), call_id=call_id)
    ua.receive(ack, CALLER, 0.2)
    ((bye, address),) = sent(ua.hangup(call_id, 1.0))
    assert isinstance(bye, Request) and bye.method == "BYE" and address == ("192.0.2.10", 5062)


def test_bye_and_2xx_go_back_through_the_nat_of_a_caller(ua: UserAgent) -> None:
    nat = ("203.0.113.50", 40111)
    events = ua.receive(request("INVITE", body=OFFER), nat, 0.0)
    call_id = of_type(events, IncomingCall)[0].call_id
    ua.answer(call_id, 20000, 0.1)
    resent = [e.address for e in ua.tick(0.6) if isinstance(e, Send)]
    assert resent == [nat]
    ack = request("ACK", branch="z9hG4bKa", to_tag=call_tag(ua, call_id), call_id=call_id)
    ua.receive(ack, nat, 0.7)
    ((bye, address),) = sent(ua.hangup(call_id, 1.0))
    # The Contact says 192.0.2.10, which is not reachable from here.
    assert isinstance(bye, Request) and bye.method == "BYE" and address == nat


def test_bye_follows_the_record_route(ua: UserAgent) -> None:
    rr = "Record-Route: <sip:10.9.9.9:5070;lr>"
    events = invite(ua, extra=rr)
    call_id = of_type(events, IncomingCall)[0].call_id
    ((ok, _),) = sent(ua.answer(call_id, 20000, 0.1))
    assert ok.headers.get("Record-Route") == "<sip:10.9.9.9:5070;lr>"
    ua.receive(request("ACK", branch="z9hG4bKa", to_tag=ok.to.tag, call_id=call_id), CALLER, 0.2)
    ((bye, address),) = sent(ua.hangup(call_id, 1.0))
    assert address == ("10.9.9.9", 5070)
    assert bye.headers.get("Route") == "<sip:10.9.9.9:5070;lr>"
