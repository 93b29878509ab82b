import pytest

from hotline.voice.sip.message import Request, Response, make_response, parse_message
from hotline.voice.sip.transaction import (
    T1,
    T2,
    T4,
    Address,
    Event,
    MessageDropped,
    RequestReceived,
    ResponseReceived,
    Send,
    State,
    TransactionLayer,
    TransactionTimeout,
)
from tests.voice.sipfakes import CALLER, OFFER, narrow, present, request, sent, statuses


@pytest.fixture
def layer() -> TransactionLayer:
    return TransactionLayer("127.0.0.1", 5060, branch_factory=iter(
        f"z9hG4bKclient{i}" for i in range(100)).__next__)


def incoming(layer: TransactionLayer, data: bytes, now: float = 0.0,
             source: Address = CALLER) -> tuple[list[Event], list[RequestReceived]]:
    events = layer.receive(data, source, now)
    received = [e for e in events if isinstance(e, RequestReceived)]
    return events, received


def test_invite_gets_100_trying_at_once_routed_by_via_with_rport(layer: TransactionLayer) -> None:
    events, received = incoming(layer, request("INVITE", body=OFFER), source=("198.51.100.1", 31000))
    (response, address), = sent(events)
    assert isinstance(response, Response) and response.status == 100
    # Request came through a NAT: answer the real source, not the Via's sent-by.
    assert address == ("198.51.100.1", 31000)
    top = response.top_via
    assert top.params["received"] == "198.51.100.1" and top.params["rport"] == "31000"
    assert len(received) == 1 and received[0].transaction is not None


def test_without_rport_responses_go_to_received_and_via_port(layer: TransactionLayer) -> None:
    events, _ = incoming(layer, request("OPTIONS", rport=False), source=("198.51.100.1", 31000))
    assert events and not sent(events)  # non-INVITE: no 100 Trying
    key = present(next(e for e in events if isinstance(e, RequestReceived)).transaction)
    out = layer.respond(key, make_response(present(layer.server_request(key)), 200), 0.1)
    assert out == [Send(narrow(out[0], Send).data, ("198.51.100.1", 5062))]


def test_responses_follow_the_top_via_not_the_source_when_via_host_matches(layer: TransactionLayer) -> None:
    raw = request("INVITE", body=OFFER, via_host="10.0.0.7:5070", rport=False)
    events, _ = incoming(layer, raw, source=("10.0.0.7", 5999))
    assert sent(events)[0][1] == ("10.0.0.7", 5070)


def test_invite_retransmissions_are_absorbed_and_resend_last_provisional(layer: TransactionLayer) -> None:
    _events, received = incoming(layer, request("INVITE", body=OFFER))
    key = present(received[0].transaction)
    invite = present(layer.server_request(key))
    layer.respond(key, make_response(invite, 180, to_tag="gw"), 0.1)
    again, received_again = incoming(layer, request("INVITE", body=OFFER), now=0.5)
    assert received_again == []  # the TU does not see the retransmission
    assert statuses(again) == [180]


def test_non_2xx_final_retransmitted_on_timer_g_until_ack(layer: TransactionLayer) -> None:
    _, received = incoming(layer, request("INVITE", body=OFFER))
    key = present(received[0].transaction)
    invite = present(layer.server_request(key))
    first = layer.respond(key, make_response(invite, 486, to_tag="gw"), 1.0)
    assert statuses(first) == [486]
    times: list[float] = []
    now = 1.0
    while now < 1.0 + 17:
        now = round(now + 0.05, 2)
        if statuses(layer.tick(now)) == [486]:
            times.append(now)
    # G doubles from T1 and is capped at T2: 0.5, 1, 2, 4, 4 ...
    assert times == [1.5, 2.5, 4.5, 8.5, 12.5, 16.5]
    assert T2 == 4.0
    ack = request("ACK", to_tag="gw", cseq_method="ACK")
    events, received_ack = incoming(layer, ack, now=18.0)
    assert events == [] and received_ack == []  # absorbed by the transaction
    assert layer.server_state(key) == State.CONFIRMED
    assert layer.tick(18.0 + T4 - 0.1) == []  # no more retransmissions after the ACK
    assert layer.server_state(key) == State.CONFIRMED
    layer.tick(18.0 + T4)
    assert layer.server_state(key) is None  # timer I ended it


def test_timer_h_reports_missing_ack(layer: TransactionLayer) -> None:
    _, received = incoming(layer, request("INVITE", body=OFFER))
    key = present(received[0].transaction)
    layer.respond(key, make_response(present(layer.server_request(key)), 480, to_tag="gw"), 0.0)
    events: list[Event] = []
    for step in range(1, 70):
        events += layer.tick(step * 0.5)
    timeouts = [e for e in events if isinstance(e, TransactionTimeout)]
    assert timeouts == [TransactionTimeout(key, "INVITE", True)]
    assert len(layer) == 0


def test_2xx_moves_invite_server_transaction_to_accepted_and_absorbs_invites(layer: TransactionLayer) -> None:
    _, received = incoming(layer, request("INVITE", body=OFFER))
    key = present(received[0].transaction)
    layer.respond(key, make_response(present(layer.server_request(key)), 200, to_tag="gw"), 0.0)
    assert layer.server_state(key) == State.ACCEPTED
    assert incoming(layer, request("INVITE", body=OFFER), now=0.4) == ([], [])
    # The 2xx ACK has its own branch and goes to the TU.
    _, acks = incoming(layer, request("ACK", branch="z9hG4bKack", to_tag="gw"), now=0.6)
    assert len(acks) == 1 and acks[0].transaction is None
    layer.tick(64 * T1 + 0.1)
    assert len(layer) == 0  # timer L


def test_non_invite_server_transaction_timer_j(layer: TransactionLayer) -> None:
    _, received = incoming(layer, request("OPTIONS"))
    key = present(received[0].transaction)
    layer.respond(key, make_response(present(layer.server_request(key)), 200), 0.0)
    assert statuses(layer.receive(request("OPTIONS"), CALLER, 1.0)) == [200]
    layer.tick(64 * T1 - 0.01)
    assert layer.server_state(key) == State.COMPLETED
    layer.tick(64 * T1)
    assert layer.server_state(key) is None
    # After J, the same request is new again.
    assert incoming(layer, request("OPTIONS"), now=40.0)[1]


def test_non_invite_retransmission_before_response_is_absorbed(layer: TransactionLayer) -> None:
    incoming(layer, request("BYE", to_tag="x"))
    events, received = incoming(layer, request("BYE", to_tag="x"), now=0.5)
    assert events == [] and received == []


def _client_request(method: str) -> Request:
    raw = request(method, via_host="127.0.0.1:5060")
    message = parse_message(raw)
    assert isinstance(message, Request)
    return message


def _response_to(request_bytes: bytes, status: int, to_tag: str = "far") -> bytes:
    message = narrow(parse_message(request_bytes), Request)
    return make_response(message, status, to_tag=to_tag).to_bytes()


def test_client_non_invite_timers_e_and_f(layer: TransactionLayer) -> None:
    key, events = layer.send_request(_client_request("BYE"), CALLER, 0.0)
    data = narrow(events[0], Send).data
    assert parse_message(data).top_via.branch == "z9hG4bKclient0"
    times: list[float] = []
    timeout = None
    for step in range(1, 700):
        now = step * 0.05
        for event in layer.tick(round(now, 2)):
            if isinstance(event, Send):
                assert event.data == data and event.address == CALLER
                times.append(round(now, 2))
            elif isinstance(event, TransactionTimeout):
                timeout = (event, round(now, 2))
    assert times[:5] == [0.5, 1.5, 3.5, 7.5, 11.5]
    assert timeout == (TransactionTimeout(key, "BYE", False), 32.0)


def test_client_non_invite_final_response_stops_retransmission_and_timer_k(layer: TransactionLayer) -> None:
    key, events = layer.send_request(_client_request("OPTIONS"), CALLER, 0.0)
    reply = layer.receive(_response_to(narrow(events[0], Send).data, 200), CALLER, 0.2)
    assert [type(e) for e in reply] == [ResponseReceived]
    assert narrow(reply[0], ResponseReceived).transaction == key
    assert layer.receive(_response_to(narrow(events[0], Send).data, 200), CALLER, 0.3) == []  # absorbed
    assert layer.tick(5.0) == []
    assert len(layer) == 1
    layer.tick(0.2 + T4)
    assert len(layer) == 0


def test_client_invite_timer_a_doubles_without_cap_and_b_times_out(layer: TransactionLayer) -> None:
    _key, _events = layer.send_request(_client_request("INVITE"), CALLER, 0.0)
    times: list[float] = []
    timed_out: bool | float = False
    for step in range(1, 700):
        now = round(step * 0.05, 2)
        for event in layer.tick(now):
            if isinstance(event, Send):
                times.append(now)
            if isinstance(event, TransactionTimeout):
                timed_out = now
    assert times == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert timed_out == 32.0


def test_client_invite_non_2xx_generates_ack_and_provisional_stops_retransmissions(
    layer: TransactionLayer,
) -> None:
    _key, events = layer.send_request(_client_request("INVITE"), CALLER, 0.0)
    invite_bytes = narrow(events[0], Send).data
    layer.receive(_response_to(invite_bytes, 180), CALLER, 0.1)
    assert layer.tick(5.0) == []  # proceeding: no retransmission, no timer B
    out = layer.receive(_response_to(invite_bytes, 486), CALLER, 6.0)
    ack = parse_message(narrow(out[0], Send).data)
    assert isinstance(ack, Request) and ack.method == "ACK"
    assert ack.top_via.branch == "z9hG4bKclient0"
    assert ack.to.tag == "far" and ack.cseq.method == "ACK"
    assert isinstance(out[1], ResponseReceived) and out[1].response.status == 486
    again = layer.receive(_response_to(invite_bytes, 486), CALLER, 6.5)
    assert [narrow(e, Send).data for e in again] == [narrow(out[0], Send).data]  # re-ACK, not re-reported


def test_client_invite_2xx_goes_to_tu_including_retransmissions(layer: TransactionLayer) -> None:
    _key, events = layer.send_request(_client_request("INVITE"), CALLER, 0.0)
    ok = _response_to(narrow(events[0], Send).data, 200)
    first = layer.receive(ok, CALLER, 0.1)
    second = layer.receive(ok, CALLER, 0.6)
    assert [narrow(e, ResponseReceived).response.status for e in first + second] == [200, 200]
    layer.tick(0.1 + 64 * T1)
    assert len(layer) == 0
    late = layer.receive(ok, CALLER, 40.0)
    assert isinstance(late[0], ResponseReceived) and late[0].transaction is None


def test_responses_not_for_us_or_unknown_are_dropped(layer: TransactionLayer) -> None:
    stray = make_response(narrow(parse_message(request("OPTIONS")), Request), 200).to_bytes()
    assert isinstance(layer.receive(stray, CALLER, 0)[0], MessageDropped)
    ours = make_response(_client_request("OPTIONS"), 200).to_bytes()
    assert isinstance(layer.receive(ours, CALLER, 0)[0], MessageDropped)


def test_malformed_request_with_enough_headers_gets_400(layer: TransactionLayer) -> None:
    raw = request("INVITE", body=OFFER).replace(b"CSeq: 1 INVITE", b"CSeq: one INVITE")
    events = layer.receive(raw, CALLER, 0)
    (response, address), = sent(events)
    assert isinstance(response, Response) and response.status == 400
    assert address == CALLER
    assert present(response.headers.get("Warning")).startswith("399 hotline")
    assert isinstance(events[-1], MessageDropped)


def test_malformed_request_without_via_or_unparsable_is_dropped(layer: TransactionLayer) -> None:
    raw = request("INVITE").replace(b"Via: SIP/2.0/UDP", b"Via: SIP/9/UDP")
    events = layer.receive(raw, CALLER, 0)
    assert [type(e) for e in events] == [MessageDropped]
    assert [type(e) for e in layer.receive(b"\x16\x03\x01garbage", CALLER, 0)] == [MessageDropped]


def test_next_deadline_tracks_the_earliest_timer(layer: TransactionLayer) -> None:
    assert layer.next_deadline() is None
    layer.send_request(_client_request("OPTIONS"), CALLER, 10.0)
    assert layer.next_deadline() == 10.0 + T1


def test_the_deadline_heap_agrees_with_every_transactions_timers() -> None:
    """The next deadline comes from a heap, not a scan: after responses, ACKs, retransmissions
    and endings it must still be the earliest timer any live transaction has."""
    import random

    rng = random.Random(5)
    layer = TransactionLayer("127.0.0.1", 5060, branch_factory=iter(
        f"z9hG4bKheap{i}" for i in range(10_000)).__next__)
    sent_requests: list[bytes] = []
    now = 0.0
    for step in range(400):
        now = round(now + rng.choice((0.0, 0.01, 0.1, 0.5, 2.0)), 2)
        roll = rng.random()
        if roll < 0.3:
            method = rng.choice(("OPTIONS", "BYE", "INVITE"))
            _, events = layer.send_request(_client_request(method), CALLER, now)
            sent_requests.append(narrow(events[0], Send).data)
        elif roll < 0.6 and sent_requests:
            data = rng.choice(sent_requests)
            layer.receive(_response_to(data, rng.choice((100, 180, 200, 486))), CALLER, now)
        elif roll < 0.8:
            events, received = incoming(layer, request(
                rng.choice(("INVITE", "OPTIONS")), branch=f"z9hG4bKin{step}", body=OFFER), now)
            for event in received:
                key = present(event.transaction)
                layer.respond(key, make_response(present(layer.server_request(key)),
                                                 rng.choice((200, 404))), now)
        else:
            layer.tick(now)
        live = [d for t in layer._transactions.values() for d in t.timers.values()]
        assert layer.next_deadline() == min(live, default=None), step
    # Every timer fires in time; what is left waits for a final response without a timer
    # (a client INVITE after a 1xx: the TU's business, RFC 3261 17.1.1.2).
    layer.tick(now + 64 * T1 + T4 + 1)
    assert layer.next_deadline() is None
    assert all(not t.timers and t.state == State.PROCEEDING and not t.key.server
               for t in layer._transactions.values())
