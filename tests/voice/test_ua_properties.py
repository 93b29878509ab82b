"""Random call traffic: the user agent never raises, never answers a stranger, never leaks."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.voice.sip.transaction import Send
from hotline.voice.sip.useragent import CallEnded, IncomingCall, UserAgent
from tests.voice.sipfakes import CALLER, OFFER, request

OPERATIONS = ["invite", "answer", "ack", "bye", "cancel", "reinvite", "hangup", "tick",
              "options", "stray"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 2),
                          st.floats(0, 40, allow_nan=False)), max_size=40))
def test_random_call_traffic_leaves_nothing_behind(steps: list[tuple[str, int, float]]) -> None:
    agent = UserAgent("127.0.0.1", 5060, media_address="127.0.0.1", max_calls=2)
    now = 0.0
    cseq = {0: 1, 1: 1, 2: 1}
    live = set()

    def tag(call: int) -> str:
        live = agent.calls.get(f"c{call}")
        return live.local_tag if live else "unknown"

    def feed(events: list[Any]) -> None:
        for event in events:
            if isinstance(event, Send):
                assert event.address == CALLER  # every answer goes back where it came from
            if isinstance(event, IncomingCall):
                assert event.call_id not in live
                live.add(event.call_id)
            if isinstance(event, CallEnded):
                live.remove(event.call_id)  # each call ends exactly once

    for counter, (operation, call, delay) in enumerate(steps):
        call_id = f"c{call}"
        if operation == "invite":
            data = request("INVITE", branch=f"z9hG4bKinv{call}", call_id=call_id, body=OFFER)
            feed(agent.receive(data, CALLER, now))
        elif operation == "answer" and call_id in agent.calls:
            feed(agent.answer(call_id, 20000, now))
        elif operation == "ack":
            data = request("ACK", branch=f"z9hG4bKack{counter}", call_id=call_id,
                           to_tag=tag(call), cseq=cseq[call])
            feed(agent.receive(data, CALLER, now))
        elif operation in ("bye", "reinvite"):
            cseq[call] += 1
            method = "BYE" if operation == "bye" else "INVITE"
            body = b"" if operation == "bye" else OFFER.replace(b"sendrecv", b"sendonly")
            data = request(method, branch=f"z9hG4bKr{counter}", call_id=call_id,
                           to_tag=tag(call), cseq=cseq[call], body=body)
            feed(agent.receive(data, CALLER, now))
        elif operation == "cancel":
            data = request("CANCEL", branch=f"z9hG4bKinv{call}", call_id=call_id)
            feed(agent.receive(data, CALLER, now))
        elif operation == "hangup":
            feed(agent.hangup(call_id, now))
        elif operation == "tick":
            now += delay
            feed(agent.tick(now))
        elif operation == "options":
            feed(agent.receive(request("OPTIONS", branch=f"z9hG4bKo{counter}"), CALLER, now))
        elif operation == "stray":
            data = request("BYE", branch=f"z9hG4bKs{counter}", call_id="nobody", to_tag="t")
            feed(agent.receive(data, CALLER, now))
        assert len(agent.calls) <= agent.max_calls

    for call_id in list(agent.calls):
        feed(agent.hangup(call_id, now))
    for later in (40.0, 80.0, 200.0, 400.0):
        feed(agent.tick(now + later))
    assert agent.calls == {}
    assert len(agent.layer) == 0
    assert agent.next_deadline() is None
    assert live == set()  # every call that was offered has ended
