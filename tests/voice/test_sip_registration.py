import pytest

from hotline.voice.sip.auth import digest_response, parse_challenge
from hotline.voice.sip.message import Request, make_response, parse_message, split_list
from hotline.voice.sip.registration import (
    RETRY_AFTER_FAILURE,
    Registered,
    RegistrationFailed,
    TrunkAccount,
)
from hotline.voice.sip.transaction import T1, Send
from hotline.voice.sip.useragent import UaEvent, UserAgent

REGISTRAR = ("198.51.100.50", 5060)
ACCOUNT = TrunkAccount(registrar=REGISTRAR, domain="trunk.example", username="1001",
                       password="s3cret", expires=300)
CHALLENGE = 'Digest realm="trunk.example", nonce="abc123", qop="auth", algorithm=MD5'


@pytest.fixture
def ua() -> UserAgent:
    return UserAgent("192.0.2.1", 5060)


def only_request(events: list[UaEvent]) -> Request:
    (event,) = [e for e in events if isinstance(e, Send)]
    assert event.address == REGISTRAR
    message = parse_message(event.data)
    assert isinstance(message, Request)
    return message


def reply(ua: UserAgent, request: Request, status: int, now: float,
          *headers: tuple[str, str]) -> list[UaEvent]:
    response = make_response(request, status, to_tag="reg", extra_headers=list(headers))
    return ua.receive(response.to_bytes(), REGISTRAR, now)


def auth_fields(value: str | None) -> dict[str, str]:
    assert value is not None
    fields: dict[str, str] = {}
    for item in split_list(value.removeprefix("Digest ")):
        name, _, raw = item.partition("=")
        fields[name.strip()] = raw.strip().strip('"')
    return fields


def test_register_answers_the_challenge_and_refreshes(ua: UserAgent) -> None:
    first = only_request(ua.register(ACCOUNT, 0.0))
    assert first.method == "REGISTER" and first.uri == "sip:trunk.example"
    assert first.from_.uri == first.to.uri == "sip:1001@trunk.example"
    assert first.headers.get("Expires") == "300"
    assert first.headers.get("Contact") == "<sip:1001@192.0.2.1:5060>"
    second = only_request(reply(ua, first, 401, 0.1, ("WWW-Authenticate", CHALLENGE)))
    assert second.call_id == first.call_id and second.cseq.number == first.cseq.number + 1
    assert second.top_via.branch != first.top_via.branch
    fields = auth_fields(second.headers.get("Authorization"))
    expected = digest_response(parse_challenge(CHALLENGE), username="1001", password="s3cret",
                               method="REGISTER", uri="sip:trunk.example",
                               cnonce=fields["cnonce"], nc=1, qop="auth")
    assert fields["response"] == expected and fields["username"] == "1001"
    events = reply(ua, second, 200, 0.2, ("Contact", "<sip:1001@192.0.2.1:5060>;expires=120"))
    assert events == [Registered(ACCOUNT, 120)]
    assert ua.registrations[0].registered
    assert ua.tick(10.0) == []  # the REGISTER transactions end (timer K)
    assert ua.next_deadline() == pytest.approx(0.2 + 96)
    assert [e for e in ua.tick(90.0) if isinstance(e, Send)] == []
    refresh = only_request(ua.tick(96.3))
    assert refresh.cseq.number == second.cseq.number + 1 and refresh.call_id == first.call_id
    assert "Authorization" not in refresh.headers  # a new challenge will come if needed


def test_wrong_password_is_not_retried_in_a_loop(ua: UserAgent) -> None:
    first = only_request(ua.register(ACCOUNT, 0.0))
    second = only_request(reply(ua, first, 401, 0.1, ("WWW-Authenticate", CHALLENGE)))
    events = reply(ua, second, 401, 0.2, ("WWW-Authenticate", CHALLENGE))
    assert events == [RegistrationFailed(ACCOUNT, 401, "credentials rejected")]
    assert [e for e in ua.tick(0.2 + RETRY_AFTER_FAILURE - 1) if isinstance(e, Send)] == []
    retry = only_request(ua.tick(0.2 + RETRY_AFTER_FAILURE))
    assert "Authorization" not in retry.headers


def test_stale_nonce_is_answered_again(ua: UserAgent) -> None:
    first = only_request(ua.register(ACCOUNT, 0.0))
    second = only_request(reply(ua, first, 401, 0.1, ("WWW-Authenticate", CHALLENGE)))
    third = only_request(reply(ua, second, 401, 0.2,
                               ("WWW-Authenticate", CHALLENGE + ", stale=true")))
    assert "Authorization" in third.headers


def test_proxy_challenge_and_rejection(ua: UserAgent) -> None:
    first = only_request(ua.register(ACCOUNT, 0.0))
    challenge = 'Digest realm="proxy", nonce="n1"'
    second = only_request(reply(ua, first, 407, 0.1, ("Proxy-Authenticate", challenge)))
    assert auth_fields(second.headers.get("Proxy-Authorization"))["realm"] == "proxy"
    events = reply(ua, second, 403, 0.2)
    assert events == [RegistrationFailed(ACCOUNT, 403, "Forbidden")]
    assert not ua.registrations[0].registered


def test_silent_registrar_times_out_and_is_retried(ua: UserAgent) -> None:
    only_request(ua.register(ACCOUNT, 0.0))
    events = []
    for step in range(1, 70):
        events += ua.tick(step * 0.5)
    failures = [e for e in events if isinstance(e, RegistrationFailed)]
    assert failures == [RegistrationFailed(ACCOUNT, 0, "registrar did not answer")]
    assert ua.next_deadline() == pytest.approx(64 * T1 + RETRY_AFTER_FAILURE)


def test_granted_expiry_from_expires_header_or_requested(ua: UserAgent) -> None:
    first = only_request(ua.register(ACCOUNT, 0.0))
    assert reply(ua, first, 200, 0.1, ("Expires", "60")) == [Registered(ACCOUNT, 60)]
    refresh = only_request(ua.tick(0.1 + 48))
    assert reply(ua, refresh, 200, 49.0) == [Registered(ACCOUNT, 300)]
