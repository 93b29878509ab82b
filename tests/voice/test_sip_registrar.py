"""The registrar for agents' phones, driven through the user agent with REGISTER datagrams.

The phone's side of the digest is computed by hotline.voice.sip.auth's client code, which
is itself held to the RFC 2617 / RFC 7616 example vectors (test_sip_auth.py).
"""

import itertools
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest

from hotline.core.digest import ha1
from hotline.voice.sip.auth import authorization, check_response, parse_challenge
from hotline.voice.sip.message import Request, Response, parse_message, parse_name_addr
from hotline.voice.sip.registrar import (
    Binding,
    PhoneCredentials,
    PhoneRegistered,
    PhoneUnregistered,
    Registrar,
    RegistrationRejected,
)
from hotline.voice.sip.transaction import Send
from hotline.voice.sip.useragent import UaEvent, UserAgent

PHONE = ("192.0.2.20", 5072)
PASSWORDS = {"8001": "s3cret-8001", "8002": "s3cret-8002"}
REQUEST_URI = "sip:127.0.0.1:5060"
BRANCHES = itertools.count()


def lookup(user: str) -> PhoneCredentials | None:
    if user not in PASSWORDS:
        return None
    password = PASSWORDS[user]
    return PhoneCredentials(user, "hotline", ha1(user, "hotline", password),
                            ha1(user, "hotline", password, "SHA-256"))


class Phone:
    """A phone's REGISTERs: one Call-ID, rising CSeq, a new branch each time."""

    def __init__(self, user: str = "8001", address: tuple[str, int] = PHONE, contact: str | None = None,
                 call_id: str = "reg-1") -> None:
        self.user, self.address, self.call_id = user, address, call_id
        self.contact = contact or f"<sip:{user}@{address[0]}:{address[1]}>"
        self.cseq = 0

    def register(self, *, authorization_value: str | None = None, expires: int | str | None = None,
                 contact: str | None = None, extra: Iterable[str] = (), uri: str = REQUEST_URI,
                 proxy: str | None = None) -> bytes:
        self.cseq += 1
        lines = [
            f"REGISTER {uri} SIP/2.0",
            *([f"Via: SIP/2.0/UDP {proxy};branch=z9hG4bKp{next(BRANCHES)}"] if proxy else []),
            f"Via: SIP/2.0/UDP {self.address[0]}:{self.address[1]};branch=z9hG4bKr{next(BRANCHES)}"
            ";rport",
            f"From: <sip:{self.user}@127.0.0.1>;tag=phone{self.user}",
            f"To: <sip:{self.user}@127.0.0.1>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: {contact if contact is not None else self.contact}",
            "Max-Forwards: 70",
        ]
        if expires is not None:
            lines.append(f"Expires: {expires}")
        if authorization_value:
            lines.append(f"Authorization: {authorization_value}")
        lines += list(extra)
        return ("\r\n".join(line for line in lines if not line.endswith("Contact: ")) +
                "\r\n\r\n").encode()


def responses(events: list[UaEvent]) -> list[Request | Response]:
    return [parse_message(e.data) for e in events if isinstance(e, Send)]


def only_response(events: list[UaEvent]) -> Response:
    (response,) = responses(events)
    assert isinstance(response, Response)
    return response


def header(message: Request | Response, name: str) -> str:
    value = message.headers.get(name)
    assert value is not None, f"no {name} header"
    return value


def of_type(events: list[UaEvent], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def answer(challenge_response: Response, user: str, password: str, *, algorithm: str = "MD5",
           uri: str = REQUEST_URI, cnonce: str = "c1") -> str:
    challenges = [parse_challenge(v) for v in challenge_response.headers.get_all("WWW-Authenticate")]
    challenge = next(c for c in challenges if c.algorithm == algorithm)
    return authorization(challenge, username=user, password=password, method="REGISTER", uri=uri,
                         cnonce=cnonce)


def register(ua: UserAgent, phone: Phone, now: float, password: str | None = None, *, algorithm: str = "MD5",
             source: tuple[str, int] | None = None, cnonce: str = "c1",
             **kwargs: Any) -> list[UaEvent]:
    """The two-step dance: REGISTER, 401, REGISTER with credentials. Returns the last events."""
    source = source or phone.address
    challenge = only_response(ua.receive(phone.register(**kwargs), source, now))
    assert challenge.status == 401
    value = answer(challenge, phone.user, password or PASSWORDS[phone.user], algorithm=algorithm,
                   cnonce=cnonce)
    return ua.receive(phone.register(authorization_value=value, **kwargs), source, now)


@pytest.fixture
def registrar() -> Registrar:
    return Registrar(lookup, secret=b"test-secret")


@pytest.fixture
def ua(registrar: Registrar) -> UserAgent:
    return UserAgent("127.0.0.1", 5060, registrar=registrar)


def test_challenge_offers_sha256_then_md5_with_qop_auth_and_a_stateless_nonce(ua: UserAgent) -> None:
    challenge = only_response(ua.receive(Phone().register(), PHONE, 10.0))
    assert challenge.status == 401 and challenge.to.tag
    values = challenge.headers.get_all("WWW-Authenticate")
    parsed = [parse_challenge(v) for v in values]
    assert [c.algorithm for c in parsed] == ["SHA-256", "MD5"]
    assert all(c.qop == ("auth",) and c.realm == "hotline" and c.opaque for c in parsed)
    assert all('qop="auth"' in v for v in values)
    assert parsed[0].nonce == parsed[1].nonce and not parsed[0].stale
    # Stateless: another registrar with the same secret (another gateway, or this one after
    # a restart) accepts the nonce, one with another secret does not.
    value = answer(challenge, "8001", PASSWORDS["8001"])
    twin = UserAgent("127.0.0.1", 5060, registrar=Registrar(lookup, secret=b"test-secret"))
    phone = Phone()
    phone.cseq = 1
    assert only_response(twin.receive(phone.register(authorization_value=value), PHONE, 11.0)).status == 200
    stranger = UserAgent("127.0.0.1", 5060, registrar=Registrar(lookup, secret=b"other"))
    phone.cseq = 5
    refused = only_response(stranger.receive(phone.register(authorization_value=value), PHONE, 11.0))
    assert refused.status == 401 and "stale" not in header(refused, "WWW-Authenticate")


def test_random_secret_nonces_differ_between_registrars() -> None:
    first = UserAgent("127.0.0.1", 5060, registrar=Registrar(lookup))
    second = UserAgent("127.0.0.1", 5060, registrar=Registrar(lookup))
    one = only_response(first.receive(Phone().register(), PHONE, 1.0))
    two = only_response(second.receive(Phone().register(), PHONE, 1.0))
    assert header(one, "WWW-Authenticate") != header(two, "WWW-Authenticate")


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_a_correct_answer_registers_the_phone(ua: UserAgent, registrar: Registrar, algorithm: str) -> None:
    events = register(ua, Phone(), 100.0, algorithm=algorithm, expires=600)
    ok = only_response(events)
    assert ok.status == 200
    (contact,) = ok.headers.get_all("Contact")
    parsed = parse_name_addr(contact)
    assert parsed.uri == "sip:8001@192.0.2.20:5072" and parsed.params["expires"] == "600"
    binding = Binding("8001", "sip:8001@192.0.2.20:5072", PHONE, 700.0)
    assert of_type(events, PhoneRegistered) == [PhoneRegistered(binding)]
    assert registrar.binding("8001", 200.0) == binding
    assert registrar.bindings(200.0) == [binding]
    assert registrar.binding("8002", 200.0) is None


@pytest.mark.parametrize(
    ("contact_params", "expires_header", "granted"),
    [("", None, 3600), (";expires=7200", None, 3600), ("", "120", 120), (";expires=90", "7200", 90),
     ("", "60", 60)],
)
def test_expiry_is_clamped_to_the_allowed_range(ua: UserAgent, contact_params: str,
                                                expires_header: str | None, granted: int) -> None:
    phone = Phone()
    events = register(ua, phone, 0.0, contact=phone.contact + contact_params, expires=expires_header)
    ok = only_response(events)
    assert ok.status == 200
    assert parse_name_addr(header(ok, "Contact")).params["expires"] == str(granted)
    assert of_type(events, PhoneRegistered)[0].binding.expires_at == granted


def test_too_brief_an_interval_gets_423_with_min_expires(ua: UserAgent, registrar: Registrar) -> None:
    events = register(ua, Phone(), 0.0, expires=30)
    refused = only_response(events)
    assert (refused.status, refused.headers.get("Min-Expires")) == (423, "60")
    assert registrar.bindings(1.0) == [] and of_type(events, PhoneRegistered) == []


def test_wrong_password_and_unknown_user_look_the_same(ua: UserAgent, registrar: Registrar) -> None:
    wrong = register(ua, Phone(), 0.0, password="guess")
    unknown = register(ua, Phone(user="9999"), 0.0, password="guess")
    for events in (wrong, unknown):
        refused = only_response(events)
        assert (refused.status, refused.reason) == (403, "Forbidden")
        assert refused.headers.get("WWW-Authenticate") is None
    assert [e.reason for e in of_type(wrong + unknown, RegistrationRejected)] == [
        "wrong password", "unknown user"]
    assert of_type(wrong, RegistrationRejected)[0].source == PHONE
    assert registrar.bindings(1.0) == []


def test_without_credentials_an_unknown_user_is_challenged_like_a_known_one(ua: UserAgent) -> None:
    known = only_response(ua.receive(Phone().register(), PHONE, 0.0))
    unknown = only_response(ua.receive(Phone(user="9999").register(), PHONE, 0.0))
    assert known.status == unknown.status == 401
    assert len(unknown.headers.get_all("WWW-Authenticate")) == 2


def test_an_expired_nonce_with_the_right_password_gets_401_stale(ua: UserAgent, registrar: Registrar) -> None:
    phone = Phone()
    challenge = only_response(ua.receive(phone.register(), PHONE, 0.0))
    value = answer(challenge, "8001", PASSWORDS["8001"])
    stale = only_response(ua.receive(phone.register(authorization_value=value), PHONE, 301.0))
    assert stale.status == 401
    assert all(parse_challenge(v).stale for v in stale.headers.get_all("WWW-Authenticate"))
    # The phone answers the fresh nonce and is in.
    fresh = answer(stale, "8001", PASSWORDS["8001"], cnonce="c2")
    assert only_response(ua.receive(phone.register(authorization_value=fresh), PHONE, 301.5)).status == 200
    # A wrong password with an expired nonce is a failure, not a retry.
    old = answer(challenge, "8001", "guess", cnonce="c3")
    assert only_response(ua.receive(phone.register(authorization_value=old), PHONE, 302.0)).status == 403


def test_a_replayed_answer_is_challenged_again(ua: UserAgent, registrar: Registrar) -> None:
    phone = Phone()
    challenge = only_response(ua.receive(phone.register(), PHONE, 0.0))
    value = answer(challenge, "8001", PASSWORDS["8001"])
    assert only_response(ua.receive(phone.register(authorization_value=value), PHONE, 1.0)).status == 200
    # Someone who saw that datagram sends the same credentials with another Contact.
    replay = phone.register(authorization_value=value, contact="<sip:8001@198.51.100.66:5060>")
    refused = only_response(ua.receive(replay, ("198.51.100.66", 5060), 2.0))
    assert refused.status == 401 and parse_challenge(header(refused, "WWW-Authenticate")).stale
    assert [b.contact for b in registrar.bindings(3.0)] == ["sip:8001@192.0.2.20:5072"]


@pytest.mark.parametrize("tamper", ["username", "uri", "opaque", "qop", "algorithm"])
def test_credentials_must_match_the_request(ua: UserAgent, registrar: Registrar, tamper: str) -> None:
    phone = Phone()
    challenge = only_response(ua.receive(phone.register(), PHONE, 0.0))
    if tamper == "username":  # 8002's own correct answer, used to register as 8001
        value = answer(challenge, "8002", PASSWORDS["8002"])
    elif tamper == "uri":
        value = answer(challenge, "8001", PASSWORDS["8001"], uri="sip:other.example")
    else:
        value = answer(challenge, "8001", PASSWORDS["8001"])
        value = {
            "opaque": lambda v: v.replace('opaque="', 'opaque="x'),
            "qop": lambda v: v.replace("qop=auth", "qop=auth-int"),
            "algorithm": lambda v: v.replace("algorithm=MD5", "algorithm=MD5-sess"),
        }[tamper](value)
    events = ua.receive(phone.register(authorization_value=value), PHONE, 1.0)
    assert only_response(events).status == 403
    assert of_type(events, RegistrationRejected)
    assert registrar.bindings(2.0) == []


def test_credentials_for_another_realm_are_ignored(ua: UserAgent) -> None:
    challenge = only_response(ua.receive(Phone().register(), PHONE, 0.0))
    value = answer(challenge, "8001", PASSWORDS["8001"]).replace('realm="hotline"', 'realm="other"')
    phone = Phone()
    phone.cseq = 1
    assert only_response(ua.receive(phone.register(authorization_value=value), PHONE, 1.0)).status == 401


def test_a_phone_offered_only_md5_cannot_answer_sha256() -> None:
    registrar = Registrar(lookup, secret=b"s", algorithms=("MD5",))
    ua = UserAgent("127.0.0.1", 5060, registrar=registrar)
    challenge = only_response(ua.receive(Phone().register(), PHONE, 0.0))
    assert [parse_challenge(v).algorithm for v in challenge.headers.get_all("WWW-Authenticate")] == ["MD5"]
    offered = parse_challenge(header(challenge, "WWW-Authenticate"))
    sha = authorization(replace(offered, algorithm="SHA-256"), username="8001",
                        password=PASSWORDS["8001"], method="REGISTER", uri=REQUEST_URI)
    phone = Phone()
    phone.cseq = 1
    assert only_response(ua.receive(phone.register(authorization_value=sha), PHONE, 1.0)).status == 403
    with pytest.raises(ValueError):
        Registrar(lookup, algorithms=("SHA-1",))


def test_expires_zero_removes_the_binding(ua: UserAgent, registrar: Registrar) -> None:
    phone = Phone()
    register(ua, phone, 0.0)
    events = register(ua, phone, 10.0, expires=0)
    ok = only_response(events)
    assert ok.status == 200 and ok.headers.get("Contact") is None
    assert of_type(events, PhoneUnregistered) == [PhoneUnregistered("8001", "removed")]
    assert registrar.binding("8001", 11.0) is None
    # The same through the Contact's own expires parameter.
    register(ua, phone, 20.0)
    events = register(ua, phone, 30.0, contact=phone.contact + ";expires=0")
    assert of_type(events, PhoneUnregistered) == [PhoneUnregistered("8001", "removed")]


def test_contact_star_removes_every_binding_and_needs_expires_zero(ua: UserAgent,
                                                                   registrar: Registrar) -> None:
    desk, soft = Phone(call_id="desk"), Phone(address=("192.0.2.21", 5080), call_id="soft")
    register(ua, desk, 0.0)
    register(ua, soft, 1.0, source=soft.address)
    latest = registrar.binding("8001", 2.0)
    assert latest is not None
    assert latest.address == ("192.0.2.21", 5080)  # the latest
    assert len(registrar.bindings(2.0)) == 2
    bad = register(ua, desk, 3.0, contact="*")
    assert only_response(bad).status == 400
    events = register(ua, desk, 4.0, contact="*", expires=0)
    assert only_response(events).status == 200
    assert of_type(events, PhoneUnregistered) == [PhoneUnregistered("8001", "removed")]
    assert registrar.bindings(5.0) == []


def test_a_register_without_contact_lists_the_bindings(ua: UserAgent, registrar: Registrar) -> None:
    phone = Phone()
    register(ua, phone, 0.0, expires=300)
    events = register(ua, phone, 100.0, contact="")
    ok = only_response(events)
    assert parse_name_addr(header(ok, "Contact")).params["expires"] == "200"
    assert of_type(events, PhoneRegistered) == []


def test_out_of_order_cseq_is_refused(ua: UserAgent, registrar: Registrar) -> None:
    phone = Phone()
    register(ua, phone, 0.0)
    phone.cseq = 0  # an old, delayed REGISTER of the same Call-ID
    events = register(ua, phone, 5.0, expires=0)
    assert only_response(events).status == 500
    assert registrar.binding("8001", 6.0) is not None


def test_a_binding_expires_by_itself(ua: UserAgent, registrar: Registrar) -> None:
    register(ua, Phone(), 1000.0, expires=120)
    assert registrar.next_deadline() == pytest.approx(1120.0)
    assert of_type(ua.tick(1119.0), PhoneUnregistered) == []  # the transactions end too
    assert ua.next_deadline() == pytest.approx(1120.0)
    assert registrar.binding("8001", 1119.9) is not None
    assert registrar.binding("8001", 1120.0) is None  # even before the tick
    assert of_type(ua.tick(1120.0), PhoneUnregistered) == [PhoneUnregistered("8001", "expired")]
    assert ua.next_deadline() is None
    assert ua.tick(1200.0) == []


def test_a_refresh_extends_the_binding_without_unregistering(ua: UserAgent, registrar: Registrar) -> None:
    phone = Phone()
    register(ua, phone, 0.0, expires=120)
    register(ua, phone, 100.0, expires=120)
    assert of_type(ua.tick(150.0), PhoneUnregistered) == []
    latest = registrar.binding("8001", 150.0)
    assert latest is not None
    assert latest.expires_at == 220.0


def test_ten_failures_block_the_source_for_a_minute(ua: UserAgent, registrar: Registrar) -> None:
    phone = Phone()
    for attempt in range(10):
        assert only_response(register(ua, phone, attempt * 2.0, password="guess")).status == 403
    # Blocked: even the right REGISTER is refused at once, without a challenge.
    events = ua.receive(phone.register(), PHONE, 25.0)
    assert only_response(events).status == 403
    assert of_type(events, RegistrationRejected) == [
        RegistrationRejected("8001", PHONE, "too many failures")]
    # Another address is not affected; the blocked one is let in again after 60 s.
    other = Phone(address=("192.0.2.99", 5060), call_id="other")
    assert only_response(register(ua, other, 26.0, source=other.address)).status == 200
    assert only_response(register(ua, phone, 18.0 + 60.0)).status == 200


def test_failures_spread_over_more_than_a_minute_do_not_block(ua: UserAgent) -> None:
    phone = Phone()
    for attempt in range(12):
        register(ua, phone, attempt * 7.0, password="guess")
    assert only_response(register(ua, phone, 90.0)).status == 200


def test_behind_nat_requests_go_to_the_source_address(ua: UserAgent, registrar: Registrar) -> None:
    phone = Phone(contact="<sip:8001@10.0.0.5:5060>")
    nat = ("203.0.113.7", 40000)
    register(ua, phone, 0.0, source=nat)
    binding = registrar.binding("8001", 1.0)
    assert binding is not None
    assert binding.contact == "sip:8001@10.0.0.5:5060" and binding.address == nat


def test_through_a_proxy_requests_go_to_the_contact(ua: UserAgent, registrar: Registrar) -> None:
    phone = Phone(address=("192.0.2.20", 5072))
    proxy = ("192.0.2.1", 5060)
    register(ua, phone, 0.0, source=proxy, proxy="192.0.2.1:5060")
    latest = registrar.binding("8001", 1.0)
    assert latest is not None
    assert latest.address == PHONE


def test_the_lookup_failing_gets_500_not_a_crash() -> None:
    def broken(user: str) -> None:
        raise RuntimeError("database down")

    ua = UserAgent("127.0.0.1", 5060, registrar=Registrar(broken, secret=b"s"))
    phone = Phone()
    challenge = only_response(ua.receive(phone.register(), PHONE, 0.0))
    value = answer(challenge, "8001", PASSWORDS["8001"])
    assert only_response(ua.receive(phone.register(authorization_value=value), PHONE, 1.0)).status == 500


def test_malformed_register_gets_400(ua: UserAgent) -> None:
    phone = Phone()
    challenge = only_response(ua.receive(phone.register(), PHONE, 0.0))
    for attempt, bad in enumerate([dict(expires="soon"), dict(contact="<sip:8001@192.0.2.20>;expires=x")]):
        value = answer(challenge, "8001", PASSWORDS["8001"], cnonce=f"c{attempt}")
        events = ua.receive(phone.register(authorization_value=value, **bad), PHONE, 1.0)
        assert only_response(events).status == 400


def test_register_is_405_without_a_registrar_and_allowed_with_one(ua: UserAgent) -> None:
    plain = UserAgent("127.0.0.1", 5060)
    assert only_response(plain.receive(Phone().register(), PHONE, 0.0)).status == 405
    options = Phone().register().replace(b"REGISTER", b"OPTIONS")
    assert "REGISTER" in header(only_response(ua.receive(options, PHONE, 0.0)), "Allow")
    assert "REGISTER" not in header(only_response(plain.receive(options, PHONE, 0.0)), "Allow")


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
     ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")],
)
def test_server_side_check_on_the_rfc7616_vectors(algorithm: str, expected: str) -> None:
    stored = ha1("Mufasa", "http-auth@example.org", "Circle of Life", algorithm)
    common = dict(algorithm=algorithm, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                  method="GET", uri="/dir/index.html", qop="auth", nc="00000001",
                  cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
    assert check_response(stored, response=expected, **common)
    assert not check_response(stored, response=expected[:-1] + "0", **common)
    assert not check_response(stored, response="\u4e2d" * 32, **common)  # never raises
    assert not check_response(stored, response=expected, **{**common, "algorithm": "SHA-1"})


def test_many_bindings_expire_in_order_and_refreshes_leave_no_early_expiry() -> None:
    """200 extensions, half of them refreshed ten times: each binding expires at its own
    time and only then (the refreshed ones' old deadlines pass silently), next_deadline is
    always the earliest live expiry, and the deadline heap does not grow with refreshes."""
    numbers = [str(9000 + n) for n in range(200)]
    password = "s3cret-many"

    def many(user: str) -> PhoneCredentials | None:
        if user not in numbers:
            return None
        return PhoneCredentials(user, "hotline", ha1(user, "hotline", password),
                                ha1(user, "hotline", password, "SHA-256"))

    registrar = Registrar(many, secret=b"test-secret")
    ua = UserAgent("127.0.0.1", 5060, registrar=registrar)
    phones = {n: Phone(n, ("192.0.2.30", 6000 + i), call_id=f"reg-{n}")
              for i, n in enumerate(numbers)}
    for i, number in enumerate(numbers):
        register(ua, phones[number], float(i), password, expires=600,
                 cnonce=f"c-{number}")  # expires at 600 + i
    for round_ in range(10):
        for number in numbers[::2]:
            registered = register(ua, phones[number], 300.0 + round_, password, expires=600,
                                  cnonce=f"c-{number}-{round_}")
            assert only_response(registered).status == 200
    assert len(registrar._expiries) <= 2 * 5 * 200 + 64
    # The refreshed ones now expire at 909; the others at 600 + their index.
    assert registrar.next_deadline() == pytest.approx(601.0)  # 9001, the first not refreshed
    expired = of_type(ua.tick(700.0), PhoneUnregistered)
    assert [e.user for e in expired] == [n for i, n in enumerate(numbers) if i % 2 and i <= 100]
    assert registrar.binding("9000", 700.0) is not None  # refreshed: its 600 passed silently
    assert registrar.next_deadline() == pytest.approx(701.0)
    expired = of_type(ua.tick(909.0), PhoneUnregistered)
    assert sorted(e.user for e in expired) == sorted(n for i, n in enumerate(numbers)
                                                     if i > 100 or i % 2 == 0)
    assert registrar.bindings(909.0) == [] and registrar.next_deadline() is None


def test_next_deadline_does_not_look_at_every_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    """After every datagram the UA asks for its next deadline: with many phones registered
    that is the top of a heap, not a pass over all bindings."""
    numbers = [str(9000 + n) for n in range(300)]

    def many(user: str) -> PhoneCredentials | None:
        return PhoneCredentials(user, "hotline", ha1(user, "hotline", "pw-many-1"),
                                ha1(user, "hotline", "pw-many-1", "SHA-256"))

    registrar = Registrar(many, secret=b"test-secret")
    ua = UserAgent("127.0.0.1", 5060, registrar=registrar)
    for i, number in enumerate(numbers):
        register(ua, Phone(number, ("192.0.2.31", 7000 + i), call_id=f"r-{number}"), 0.0,
                 "pw-many-1", expires=600 + i, cnonce=f"c-{number}")
    looked = 0
    live = registrar._expiry_live

    def counting(when: float, binding: Any) -> bool:
        nonlocal looked
        looked += 1
        return live(when, binding)

    monkeypatch.setattr(registrar._expiries, "_live", counting)
    for _ in range(100):
        assert registrar.next_deadline() == pytest.approx(600.0)
    assert looked == 100  # one look at the top each time (a scan: 30,000)
