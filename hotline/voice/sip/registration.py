"""Registering to a SIP trunk (RFC 3261 10) with digest authentication, sans-I/O.

A `Registration` sends REGISTER through the transaction layer, answers 401/407
challenges once per nonce, refreshes before the binding expires and retries after a
failure. The user agent routes responses and ticks to it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from hotline.voice.sip.auth import authorization, parse_challenge
from hotline.voice.sip.message import Headers, ParseError, Request, Response, parse_name_addr
from hotline.voice.sip.transaction import Address, Event, TransactionKey, TransactionLayer

RETRY_AFTER_FAILURE = 60.0
REFRESH_FRACTION = 0.8


@dataclass(frozen=True)
class TrunkAccount:
    registrar: Address  # where REGISTER is sent
    domain: str  # the registrar's domain (Request-URI, From and To)
    username: str
    password: str
    expires: int = 300
    auth_username: str | None = None  # when the trunk's auth name differs from the user part


@dataclass(frozen=True)
class Registered:
    account: TrunkAccount
    expires: int


@dataclass(frozen=True)
class RegistrationFailed:
    account: TrunkAccount
    status: int  # 0 when the registrar never answered
    reason: str


class Registration:
    def __init__(self, layer: TransactionLayer, account: TrunkAccount) -> None:
        self.layer = layer
        self.account = account
        self.call_id = secrets.token_hex(12)
        self.from_tag = secrets.token_hex(6)
        self.cseq = 0
        self.pending: TransactionKey | None = None
        self.registered_until: float | None = None
        self.next_attempt: float | None = None
        self._answered_nonces: set[str] = set()

    @property
    def registered(self) -> bool:
        return self.registered_until is not None

    def start(self, now: float, auth: tuple[str, str] | None = None) -> list[Event]:
        """Send a REGISTER (with an Authorization header when answering a challenge)."""
        account = self.account
        self.cseq += 1
        aor = f"sip:{account.username}@{account.domain}"
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", f"<{aor}>;tag={self.from_tag}")
        headers.add("To", f"<{aor}>")
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{self.cseq} REGISTER")
        headers.add(
            "Contact", f"<sip:{account.username}@{self.layer.local_host}:{self.layer.local_port}>"
        )
        headers.add("Expires", str(account.expires))
        headers.add("User-Agent", "hotline")
        if auth is not None:
            headers.add(*auth)
        request = Request(headers=headers, body=b"", method="REGISTER", uri=f"sip:{account.domain}")
        self.pending, events = self.layer.send_request(request, account.registrar, now)
        self.next_attempt = None
        return events

    def on_response(self, response: Response, now: float) -> list[Event | Registered | RegistrationFailed]:
        if response.status < 200:
            return []
        self.pending = None
        if response.status in (401, 407):
            return self._challenged(response, now)
        if 200 <= response.status < 300:
            expires = self._granted_expiry(response)
            self.registered_until = now + expires
            self.next_attempt = now + max(expires * REFRESH_FRACTION, 1.0)
            self._answered_nonces.clear()
            return [Registered(self.account, expires)]
        return self._failed(response.status, response.reason, now)

    def on_timeout(self, now: float) -> list[Event | Registered | RegistrationFailed]:
        self.pending = None
        return self._failed(0, "registrar did not answer", now)

    def tick(self, now: float) -> list[Event]:
        if self.pending is None and self.next_attempt is not None and now >= self.next_attempt:
            return self.start(now)
        return []

    def next_deadline(self) -> float | None:
        return self.next_attempt if self.pending is None else None

    def _challenged(self, response: Response, now: float) -> list[Event | Registered | RegistrationFailed]:
        header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        answer_header = "Authorization" if response.status == 401 else "Proxy-Authorization"
        try:
            challenge = parse_challenge(response.headers.get(header) or "")
        except ParseError as exc:
            return self._failed(response.status, f"unusable challenge: {exc}", now)
        if challenge.nonce in self._answered_nonces and not challenge.stale:
            # We already answered this nonce: the credentials are wrong. Do not loop.
            return self._failed(response.status, "credentials rejected", now)
        self._answered_nonces.add(challenge.nonce)
        account = self.account
        value = authorization(
            challenge,
            username=account.auth_username or account.username,
            password=account.password,
            method="REGISTER",
            uri=f"sip:{account.domain}",
        )
        return list(self.start(now, (answer_header, value)))

    def _granted_expiry(self, response: Response) -> int:
        """The registrar may shorten our binding: read it from our Contact or Expires."""
        ours = f"{self.layer.local_host}:{self.layer.local_port}"
        try:
            for value in response.headers.get_all("Contact"):
                contact = parse_name_addr(value)
                granted = contact.params.get("expires")
                if ours in contact.uri and granted and granted.isdigit():
                    return int(granted)
        except ParseError:
            pass
        expires = response.headers.get("Expires") or ""
        return int(expires) if expires.isdigit() else self.account.expires

    def _failed(self, status: int, reason: str, now: float) -> list[Event | Registered | RegistrationFailed]:
        self.registered_until = None
        self.next_attempt = now + RETRY_AFTER_FAILURE
        self._answered_nonces.clear()
        return [RegistrationFailed(self.account, status, reason)]
