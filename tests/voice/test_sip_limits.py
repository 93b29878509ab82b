"""Per-source limits and the extension lockout, sans-I/O (issue 10, finding 6).

Finding 6: one address could take the whole voice line. Three hundred INVITEs from one socket
that never ACK filled the gateway's global call limit for about 35 s (every other caller got
486), and an extension could be guessed from many addresses, since failed REGISTERs were only
counted per source. The real-peer side (a UDP flood next to a sipp caller, no Contact rows for
the unACKed calls) is tests/voice/test_flood_udp.py.
"""

import logging

import pytest

from hotline.voice.sip import limits
from hotline.voice.sip.limits import SourceGuard, SourceLimits, parse_trusted
from hotline.voice.sip.message import Request, Response, parse_message
from hotline.voice.sip.registrar import Registrar, RegistrationRejected
from hotline.voice.sip.transaction import T1, Address
from hotline.voice.sip.useragent import CallEnded, EndReason, IncomingCall, UaEvent, UserAgent
from tests.voice.sipfakes import OFFER, narrow, present, request, sent
from tests.voice.test_sip_registrar import PASSWORDS, Phone, lookup, of_type, only_response, register

FLOODER = ("192.0.2.66", 5060)
OTHER = ("198.51.100.7", 5060)
PROXY = ("10.0.0.2", 5060)
RELAXED = SourceLimits(rate=1000.0, burst=1000)  # call limits only, no rate limit in the way


def invite_from(ua: UserAgent, source: Address, number: int, now: float, *,
                proxied_from: Address | None = None) -> list[UaEvent]:
    """A new INVITE (its own Call-ID and branch) from `source`; through a proxy when
    `proxied_from` names the caller's address (the proxy's Via on top, the caller's below,
    annotated with received as a proxy does)."""
    via_host = f"{proxied_from[0]}:{proxied_from[1]}" if proxied_from else f"{source[0]}:{source[1]}"
    data = request("INVITE", branch=f"z9hG4bKf{number}", call_id=f"flood-{number}",
                   from_tag=f"t{number}", body=OFFER, via_host=via_host)
    if proxied_from:
        data = data.replace(b"\r\nVia: ", f"\r\nVia: SIP/2.0/UDP {PROXY[0]}:{PROXY[1]};branch="
                            f"z9hG4bKp{number}\r\nVia: ".encode(), 1)
        data = data.replace(b";rport", f";received={proxied_from[0]};rport={proxied_from[1]}"
                            .encode(), 1)
    return ua.receive(data, source, now)


def final(events: list[UaEvent]) -> Response | None:
    responses = [m for m, _ in sent(events) if isinstance(m, Response) and m.status >= 200]
    return responses[-1] if responses else None


def answer_all(ua: UserAgent, events: list[UaEvent], now: float) -> None:
    for incoming in of_type(events, IncomingCall):
        ua.answer(incoming.call_id, 20000, now)


def ack(ua: UserAgent, call_id: str, source: Address, now: float) -> list[UaEvent]:
    call = ua.calls[call_id]
    data = request("ACK", branch=f"z9hG4bKa{call_id}", call_id=call_id, to_tag=call.local_tag,
                   from_tag=present(call.remote_tag), via_host=f"{source[0]}:{source[1]}")
    return ua.receive(data, source, now)


# --- finding 6: one source cannot take the line ----------------------------------------------

def test_three_hundred_unacked_invites_from_one_socket_leave_the_line_to_others() -> None:
    ua = UserAgent("127.0.0.1", 5060, max_calls=300, limits=SourceLimits())
    statuses: dict[int, int] = {}
    for number in range(300):
        events = invite_from(ua, FLOODER, number, 0.001 * number)
        answer_all(ua, events, 0.001 * number)  # the gateway answers every call it is offered
        response = final(events)
        if response is not None:
            statuses[response.status] = statuses.get(response.status, 0) + 1
            assert response.headers.get("Retry-After"), response.status
    held = [call for call in ua.calls.values() if call.origin == FLOODER[0]]
    assert len(held) == SourceLimits().unconfirmed  # 5 half-open calls, not 300
    assert statuses == {503: 300 - len(held)}
    # Another caller gets through at once: it rings, it is not told 486.
    events = invite_from(ua, OTHER, 1000, 0.5)
    assert [e.caller_user for e in of_type(events, IncomingCall)] == ["13800138000"]
    assert final(events) is None
    # The refusals over the rate kept no transaction state (the flood is stateless for us).
    assert len(ua.layer) <= 2 * SourceLimits().burst


def test_unconfirmed_calls_per_source_are_limited_and_an_ack_frees_a_slot() -> None:
    ua = UserAgent("127.0.0.1", 5060, max_calls=300, limits=RELAXED)
    for number in range(5):
        answer_all(ua, invite_from(ua, FLOODER, number, 0.0), 0.0)
    refused = final(invite_from(ua, FLOODER, 5, 0.1))
    assert refused is not None and refused.status == 503
    assert refused.headers.get("Retry-After") == str(limits.CALL_RETRY_AFTER)
    assert "flood-5" not in ua.calls
    ack(ua, "flood-0", FLOODER, 0.2)  # one call confirmed: one half-open slot again
    assert of_type(invite_from(ua, FLOODER, 6, 0.3), IncomingCall)
    assert final(invite_from(ua, OTHER, 7, 0.3)) is None  # other sources were never affected


def test_concurrent_calls_per_source_are_limited_and_a_bye_frees_a_slot() -> None:
    ua = UserAgent("127.0.0.1", 5060, max_calls=300, limits=RELAXED)
    for number in range(10):
        events = invite_from(ua, FLOODER, number, 0.0)
        answer_all(ua, events, 0.0)
        ack(ua, f"flood-{number}", FLOODER, 0.1)
    refused = final(invite_from(ua, FLOODER, 10, 1.0))
    assert refused is not None and refused.status == 503
    call = ua.calls["flood-0"]
    bye = request("BYE", branch="z9hG4bKbye0", call_id="flood-0", to_tag=call.local_tag,
                  from_tag=present(call.remote_tag), cseq=2, via_host=f"{FLOODER[0]}:{FLOODER[1]}")
    ua.receive(bye, FLOODER, 2.0)
    assert of_type(invite_from(ua, FLOODER, 11, 3.0), IncomingCall)


def test_a_half_open_call_frees_its_slot_when_the_2xx_gives_up() -> None:
    ua = UserAgent("127.0.0.1", 5060, max_calls=300, limits=SourceLimits(unconfirmed=1))
    answer_all(ua, invite_from(ua, FLOODER, 0, 0.0), 0.0)
    assert present(final(invite_from(ua, FLOODER, 1, 1.0))).status == 503
    ended = []
    now = 0.0
    while now < 64 * T1 + 1:
        now += 0.5
        ended += of_type(ua.tick(now), CallEnded)
    assert ended == [CallEnded("flood-0", EndReason.NO_ACK)]
    assert of_type(invite_from(ua, FLOODER, 2, now), IncomingCall)


def test_new_transactions_per_source_are_a_token_bucket() -> None:
    ua = UserAgent("127.0.0.1", 5060, limits=SourceLimits(rate=10.0, burst=3, calls=0, unconfirmed=0))
    options = [request("OPTIONS", branch=f"z9hG4bKo{n}", call_id=f"o{n}",
                       via_host=f"{FLOODER[0]}:{FLOODER[1]}") for n in range(6)]
    assert [present(final(ua.receive(options[n], FLOODER, 0.0))).status
            for n in range(4)] == [200, 200, 200, 503]
    refused = present(final(ua.receive(options[4], FLOODER, 0.0)))
    assert refused.headers.get("Retry-After") == "1" and refused.to.tag
    # A retransmission of an admitted request is answered from its transaction, for free.
    assert present(final(ua.receive(options[0], FLOODER, 0.01))).status == 200
    assert present(final(ua.receive(options[5], FLOODER, 0.11))).status == 200  # one token back after 0.1 s
    # Another source has its own bucket.
    assert present(final(ua.receive(options[4], OTHER, 0.11))).status == 200


def test_without_limits_the_user_agent_behaves_as_before() -> None:
    ua = UserAgent("127.0.0.1", 5060, max_calls=300)
    for number in range(50):
        assert of_type(invite_from(ua, FLOODER, number, 0.0), IncomingCall)


# --- trusted proxies -------------------------------------------------------------------------

def test_behind_a_trusted_proxy_each_caller_is_its_own_source_and_gets_486() -> None:
    ua = UserAgent("127.0.0.1", 5060, max_calls=300,
                   limits=SourceLimits(unconfirmed=2, rate=1000.0, burst=1000, trusted=("10.0.0.0/24",)))
    caller, other = ("203.0.113.5", 40000), ("203.0.113.6", 40000)
    for number in range(2):
        answer_all(ua, invite_from(ua, PROXY, number, 0.0, proxied_from=caller), 0.0)
    refused = present(final(invite_from(ua, PROXY, 2, 0.1, proxied_from=caller)))
    # 486, not 503: a 5xx would make the proxy take this gateway out of rotation.
    assert refused.status == 486 and refused.headers.get("Retry-After")
    assert of_type(invite_from(ua, PROXY, 3, 0.1, proxied_from=other), IncomingCall)
    assert {call.origin for call in ua.calls.values()} == {caller[0], other[0]}


def test_the_trusted_proxys_own_requests_are_not_limited_and_strangers_vias_are_not_believed() -> None:
    ua = UserAgent("127.0.0.1", 5060,
                   limits=SourceLimits(rate=1.0, burst=1, trusted=("10.0.0.2",)))
    pings = [request("OPTIONS", branch=f"z9hG4bKping{n}", call_id=f"ping{n}",
                     via_host=f"{PROXY[0]}:{PROXY[1]}") for n in range(5)]
    assert [present(final(ua.receive(p, PROXY, 0.0))).status for p in pings] == [200] * 5
    # An untrusted sender writing a proxy-like Via chain is still counted by its address.
    first = invite_from(ua, FLOODER, 0, 0.0, proxied_from=("203.0.113.9", 5060))
    second = invite_from(ua, FLOODER, 1, 0.0, proxied_from=("203.0.113.10", 5060))
    assert of_type(first, IncomingCall) and present(final(second)).status == 503


def test_origin_walks_down_past_every_trusted_hop() -> None:
    guard = SourceGuard(SourceLimits(trusted=("10.0.0.0/8",)))
    data = (b"INVITE sip:12345@127.0.0.1 SIP/2.0\r\n"
            b"Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK1\r\n"
            b"Via: SIP/2.0/UDP 10.1.1.1;branch=z9hG4bK2;received=10.9.9.9\r\n"
            b"Via: SIP/2.0/UDP 192.168.1.5:5060;branch=z9hG4bK3;received=203.0.113.8;rport=4000\r\n"
            b"From: <sip:a@b>;tag=1\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: x\r\n"
            b"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
    message = narrow(parse_message(data), Request)
    assert guard.origin(message, ("10.0.0.2", 5060)) == "203.0.113.8"
    assert guard.origin(message, ("192.0.2.1", 5060)) == "192.0.2.1"


def test_the_bucket_table_is_bounded_and_pruned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TRACKED_SOURCES", 100)
    guard = SourceGuard(SourceLimits(rate=10.0, burst=5))
    for number in range(500):  # spoofed sources: each one new
        assert guard.admit(f"192.0.2.{number % 250}.{number}", 0.0) is None
    assert len(guard) == 100
    guard.prune(0.4)
    assert len(guard) == 100  # not yet refilled: still remembered
    guard.prune(0.6)
    assert len(guard) == 0


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert parse_trusted([" 10.0.0.1", "10.1.0.0/16", ""]) == ("10.0.0.1", "10.1.0.0/16")
    with pytest.raises(ValueError, match=r"kamailio\.local"):
        parse_trusted(["kamailio.local"])
    with pytest.raises(ValueError):
        SourceGuard(SourceLimits(trusted=("not an address",)))


# --- finding 6: an extension is locked after failures from any addresses ---------------------

@pytest.fixture
def registrar() -> Registrar:
    return Registrar(lookup, secret=b"test-secret", user_max_failures=20, user_lock_seconds=600.0)


@pytest.fixture
def ua(registrar: Registrar) -> UserAgent:
    return UserAgent("127.0.0.1", 5060, registrar=registrar)


def addresses(count: int, first: int = 1) -> list[Address]:
    return [(f"192.0.2.{n}", 5072) for n in range(first, first + count)]


def guess_from_many(ua: UserAgent, user: str, count: int, now: float = 0.0) -> None:
    """One wrong password from each of `count` addresses (no address is blocked by itself)."""
    for address in addresses(count):
        phone = Phone(user=user, address=address, call_id=f"guess-{address[0]}")
        assert only_response(register(ua, phone, now, password="guess", source=address)).status == 403


def test_failures_from_many_addresses_lock_the_extension_even_for_the_right_password(
    ua: UserAgent, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="hotline.voice.sip.registrar")
    guess_from_many(ua, "8001", 20, now=10.0)
    assert "extension '8001' locked for 600 s" in caplog.text and "20 address(es)" in caplog.text
    agent = Phone(address=("198.51.100.20", 5072), call_id="agent")
    events = register(ua, agent, 20.0, source=agent.address)  # the right password
    locked = only_response(events)
    wrong = only_response(register(ua, Phone(user="8002", address=agent.address, call_id="w"), 20.0,
                                   password="guess", source=agent.address))
    assert (locked.status, locked.reason) == (wrong.status, wrong.reason) == (403, "Forbidden")
    assert locked.headers.get("WWW-Authenticate") is None
    assert [e.reason for e in of_type(events, RegistrationRejected)] == ["extension locked"]
    # Another extension is not locked; the locked one is let in again after the lock time.
    other = Phone(user="8002", address=("198.51.100.21", 5072), call_id="other")
    assert only_response(register(ua, other, 21.0, source=other.address)).status == 200
    assert only_response(register(ua, agent, 10.0 + 600.0, source=agent.address)).status == 200


def test_a_locked_extension_answers_exactly_like_a_locked_unknown_one(ua: UserAgent) -> None:
    guess_from_many(ua, "8001", 20)
    guess_from_many(ua, "7777", 20)  # does not exist
    known = register(ua, Phone(user="8001", address=OTHER, call_id="k"), 1.0, source=OTHER)
    unknown = register(ua, Phone(user="7777", address=OTHER, call_id="u"), 1.0,
                       password=PASSWORDS["8001"], source=OTHER)
    first, second = only_response(known), only_response(unknown)
    assert (first.status, first.reason, first.headers.get("WWW-Authenticate")) == (
        second.status, second.reason, second.headers.get("WWW-Authenticate")) == (403, "Forbidden", None)
    assert [e.reason for e in of_type(known + unknown, RegistrationRejected)] == [
        "extension locked", "extension locked"]


def test_extension_failures_spread_beyond_the_lock_time_do_not_lock(ua: UserAgent) -> None:
    for number, address in enumerate(addresses(25)):
        phone = Phone(address=address, call_id=f"slow-{number}")
        register(ua, phone, number * 40.0, password="guess", source=address)  # 15 per 600 s
    agent = Phone(address=OTHER, call_id="agent")
    assert only_response(register(ua, agent, 1000.0, source=OTHER)).status == 200


def test_guesses_during_the_lock_still_count_against_their_source(ua: UserAgent,
                                                                  registrar: Registrar) -> None:
    guess_from_many(ua, "8001", 20)
    phone = Phone(address=OTHER, call_id="persistent")
    for attempt in range(10):
        register(ua, phone, 1.0 + attempt, password="guess", source=OTHER)
    events = ua.receive(Phone(user="8002", address=OTHER, call_id="x").register(), OTHER, 12.0)
    assert [e.reason for e in of_type(events, RegistrationRejected)] == ["too many failures"]
