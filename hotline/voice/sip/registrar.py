"""The registrar for agents' SIP phones (RFC 3261 10.3) with digest authentication, sans-I/O.

`Registrar.handle(request, source, now)` turns one REGISTER into its final response and
the events the application cares about (`PhoneRegistered`, `PhoneUnregistered`,
`RegistrationRejected`); `tick` expires bindings. No sockets, no clock, no Django: the
application gives a `lookup` from extension to stored HA1 (see hotline.voice.phone_book).

Why it is built this way:
- The nonce is stateless (an HMAC over its own timestamp), so a flood of unauthenticated
  REGISTERs costs no memory, and every gateway sharing the secret accepts the others' nonces.
- An unknown extension and a wrong password get the same 403 with the same text, so the
  registrar does not tell a scanner which extensions exist.
- Both challenges go out, SHA-256 first (RFC 8760 order of preference), MD5 second for the
  phones that know nothing better. Measured: baresip 1.0 (Debian's) gives up with ENOSYS on
  ANY SHA-256 challenge, even one after MD5, instead of skipping it as RFC 8760 2.4 asks;
  for such fleets construct the registrar with `algorithms=("MD5",)`.
- The binding remembers where the REGISTER really came from: behind NAT the Contact holds a
  private address, and only the source address reaches the phone.
- Two lockouts against guessing. A source address with MAX_FAILURES wrong answers within
  FAILURE_WINDOW is blocked for BLOCK_SECONDS (one scanner). An extension with
  `user_max_failures` wrong answers from any addresses within `user_lock_seconds` is locked
  for `user_lock_seconds` (a guesser spreading its tries over many addresses): while locked,
  even the right password gets the same 403 as a wrong one. Failures are counted for any
  user name, existing or not, so a locked extension answers exactly like an unknown one.
  The price is that a guesser can keep an agent's phone from registering: the lock is
  logged as a warning for the security administrator, and live bindings are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hotline.voice.sip.auth import (
    DigestCredentials,
    challenge_header,
    check_response,
    parse_credentials,
)
from hotline.voice.sip.deadlines import Deadlines
from hotline.voice.sip.message import (
    ParseError,
    Request,
    Response,
    make_response,
    parse_name_addr,
    parse_uri,
)
from hotline.voice.sip.transaction import Address

logger = logging.getLogger(__name__)

DEFAULT_EXPIRES = 3600  # RFC 3261 10.2.1.1, when neither the Contact nor Expires says
MAX_FAILURES = 10  # wrong answers from one source address ...
FAILURE_WINDOW = 60.0  # ... within this many seconds ...
BLOCK_SECONDS = 60.0  # ... and it gets 403 at once for this long
MAX_CONTACTS_PER_USER = 5  # a desk phone and a softphone on one extension, not a botnet
MAX_TRACKED_SOURCES = 10_000  # bound the failure table against spoofed source addresses
MAX_TRACKED_USERS = 10_000  # bound the per-extension failure table against sprayed user names
USER_MAX_FAILURES = 20  # wrong answers for one extension from any addresses (twice a source's) ...
USER_LOCK_SECONDS = 600.0  # ... within this many seconds lock it for this long
MAX_REMEMBERED_ANSWERS = 50_000
FORBIDDEN = "Forbidden"  # one text for every credentials failure
ALGORITHMS = ("SHA-256", "MD5")  # what we can check, in our order of preference (RFC 8760 2.4)


@dataclass(frozen=True)
class PhoneCredentials:
    username: str  # the extension number, e.g. "8001"
    realm: str
    ha1_md5: str  # H(username:realm:password), MD5
    ha1_sha256: str = ""  # the same with SHA-256 ("" when unknown)


@dataclass(frozen=True)
class Binding:
    user: str  # the AOR's user part (the extension)
    contact: str  # the Contact URI the phone registered
    address: Address  # where requests to the phone go (the source address behind NAT)
    expires_at: float


@dataclass(frozen=True)
class PhoneRegistered:
    binding: Binding


@dataclass(frozen=True)
class PhoneUnregistered:
    user: str
    reason: str  # "removed" (Expires: 0 / expires=0) or "expired"


@dataclass(frozen=True)
class RegistrationRejected:
    user: str
    source: Address
    reason: str  # "unknown user", "wrong password", "too many failures", ...


RegistrarEvent = PhoneRegistered | PhoneUnregistered | RegistrationRejected


@dataclass
class _Contact:
    binding: Binding
    call_id: str
    cseq: int


class _Refused(Exception):
    """Ends the handling of one REGISTER with this response status (internal)."""

    def __init__(self, status: int, reason: str | None = None, headers: list[tuple[str, str]] | None = None):
        super().__init__(status)
        self.status = status
        self.reason = reason
        self.headers = headers or []


class Registrar:
    def __init__(
        self,
        lookup: Callable[[str], PhoneCredentials | None],
        *,
        realm: str = "hotline",
        secret: bytes | None = None,
        min_expires: int = 60,
        max_expires: int = 3600,
        nonce_ttl: float = 300.0,
        algorithms: Sequence[str] = ALGORITHMS,
        user_max_failures: int = USER_MAX_FAILURES,
        user_lock_seconds: float = USER_LOCK_SECONDS,
    ) -> None:
        if not 0 < min_expires <= max_expires:
            raise ValueError("need 0 < min_expires <= max_expires")
        if not algorithms or any(a not in ALGORITHMS for a in algorithms):
            raise ValueError(f"algorithms must be among {ALGORITHMS}")
        self.algorithms = tuple(algorithms)  # the challenges we send, in this order
        self.lookup = lookup
        self.realm = realm
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.nonce_ttl = nonce_ttl
        self.user_max_failures = user_max_failures  # 0: no per-extension lock
        self.user_lock_seconds = user_lock_seconds
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self.opaque = self._mac("opaque")[:16]
        self._contacts: dict[str, dict[str, _Contact]] = {}  # user -> contact URI -> binding
        # (user, contact URI) of every binding by its expiry; a refreshed or removed
        # binding's old entry is skipped when it comes up (``_expiry_live``), so tick and
        # next_deadline (after every datagram) touch what is due, not every binding.
        self._expiries: Deadlines[tuple[str, str]] = Deadlines(self._expiry_live)
        self._failures: dict[str, deque[float]] = {}  # source host -> times of failures
        self._blocked: dict[str, float] = {}  # source host -> blocked until
        self._user_failures: dict[str, deque[float]] = {}  # extension -> times of failures
        self._user_failure_sources: dict[str, set[str]] = {}  # extension -> hosts (for the log)
        self._locked: dict[str, float] = {}  # extension -> locked until
        self._answers: dict[tuple[str, str, str], float] = {}  # (nonce, cnonce, nc) -> forget at
        self._next_prune = 0.0

    # --- queries -------------------------------------------------------------------

    def binding(self, user: str, now: float) -> Binding | None:
        """The phone that registered last for this extension (None when none is live)."""
        live = [c.binding for c in self._contacts.get(user, {}).values() if c.binding.expires_at > now]
        return live[-1] if live else None

    def bindings(self, now: float) -> list[Binding]:
        return [
            contact.binding
            for contacts in self._contacts.values()
            for contact in contacts.values()
            if contact.binding.expires_at > now
        ]

    def is_locked(self, user: str, now: float) -> bool:
        return self._locked.get(user, -math.inf) > now

    # --- input ---------------------------------------------------------------------

    def handle(self, request: Request, source: Address, now: float) -> tuple[Response, list[RegistrarEvent]]:
        """The final response to one REGISTER, and what it changed."""
        events: list[RegistrarEvent] = []
        try:
            response = self._handle(request, source, now, events)
        except _Refused as refused:
            response = make_response(
                request,
                refused.status,
                refused.reason,
                to_tag=secrets.token_hex(6),
                extra_headers=refused.headers,
            )
        return response, events

    def _handle(
        self, request: Request, source: Address, now: float, events: list[RegistrarEvent]
    ) -> Response:
        host = source[0]
        user = _aor_user(request)
        if self._blocked.get(host, -math.inf) > now:
            events.append(RegistrationRejected(user or "", source, "too many failures"))
            raise _Refused(403, FORBIDDEN)
        if user is None:
            raise _Refused(400, "Bad Request (no user in To)")
        credentials = self._our_credentials(request)
        if credentials is None:
            raise self._challenge(now, stale=False)
        issued = self._nonce_issued(credentials.nonce)
        if issued is None:  # not our nonce (forged, or from before a restart): start over
            raise self._challenge(now, stale=False)
        failure = self._check(credentials, request, user)  # checked even when locked: same work
        if self.is_locked(user, now):
            events.append(RegistrationRejected(user, source, "extension locked"))
            if failure is not None:
                self._count_failure(host, now)  # the source still pays for its guesses
            raise _Refused(403, FORBIDDEN)
        if failure is not None:
            events.append(RegistrationRejected(user, source, failure))
            self._count_failure(host, now)
            self._count_user_failure(user, host, now)
            raise _Refused(403, FORBIDDEN)
        if not -1.0 <= now - issued <= self.nonce_ttl:
            raise self._challenge(now, stale=True)  # right password, old nonce: the phone retries
        if not self._first_use(credentials, issued):
            raise self._challenge(now, stale=True)  # a replayed answer
        return self._update(request, source, now, user, events)

    def _our_credentials(self, request: Request) -> DigestCredentials | None:
        for value in request.headers.get_all("Authorization"):
            try:
                credentials = parse_credentials(value)
            except ParseError:
                continue
            if credentials.realm == self.realm:
                return credentials
        return None

    def _check(self, credentials: DigestCredentials, request: Request, user: str) -> str | None:
        """Why these credentials fail, or None when they are right."""
        if credentials.username != user:
            return "username does not match the To user"
        if not _same_uri(credentials.uri, request.uri):
            return "digest uri does not match the Request-URI"
        if credentials.algorithm not in self.algorithms:
            return "algorithm not offered"
        if credentials.qop != "auth":
            return "qop=auth required"
        if credentials.opaque is not None and credentials.opaque != self.opaque:
            return "wrong opaque"
        try:
            phone = self.lookup(user)
        except Exception:
            logger.exception("registrar lookup failed for %r", user)
            raise _Refused(500, "Server Internal Error") from None
        if phone is None or phone.realm != self.realm:
            stored, reason = "0" * 64, "unknown user"  # still compute: same work either way
        else:
            stored = phone.ha1_sha256 if credentials.algorithm == "SHA-256" else phone.ha1_md5
            reason = "wrong password"
        valid = check_response(
            stored,
            algorithm=credentials.algorithm,
            nonce=credentials.nonce,
            method=request.method,
            uri=credentials.uri,
            response=credentials.response,
            qop=credentials.qop,
            nc=credentials.nc,
            cnonce=credentials.cnonce,
        )
        return None if valid and phone is not None and phone.realm == self.realm else reason

    def _update(
        self, request: Request, source: Address, now: float, user: str, events: list[RegistrarEvent]
    ) -> Response:
        """RFC 3261 10.3 steps 6 to 8, all or nothing."""
        try:
            contacts = [parse_name_addr(value) for value in request.headers.get_all("Contact")]
            call_id, cseq = request.call_id, request.cseq.number
            via_count = len(request.vias)
        except ParseError as exc:
            raise _Refused(400, f"Bad Request ({_printable(str(exc))})") from None
        header = request.headers.get("Expires")
        if header is not None and not (header.isascii() and header.isdigit()):
            raise _Refused(400, "Bad Request (Expires)")
        default = int(header) if header is not None else DEFAULT_EXPIRES
        existing = self._contacts.get(user, {})
        had_bindings = any(c.binding.expires_at > now for c in existing.values())
        if any(contact.uri == "*" for contact in contacts):
            if len(contacts) != 1 or header is None or int(header) != 0:
                raise _Refused(400, "Bad Request (Contact: * needs Expires: 0 alone)")
            self._contacts.pop(user, None)
            if had_bindings:
                events.append(PhoneUnregistered(user, "removed"))
            return self._ok(request, user, now)
        changes: list[tuple[str, int, Address]] = []
        for contact in contacts:
            raw = contact.params.get("expires")
            if raw is not None and not (raw.isascii() and raw.isdigit()):
                raise _Refused(400, "Bad Request (expires)")
            requested = int(raw) if raw is not None else default
            if 0 < requested < self.min_expires:
                raise _Refused(423, "Interval Too Brief", [("Min-Expires", str(self.min_expires))])
            known = existing.get(contact.uri)
            if known is not None and known.call_id == call_id and known.cseq >= cseq:
                raise _Refused(500, "Out Of Order CSeq")
            address = _phone_address(contact.uri, source, via_count)
            changes.append((contact.uri, min(requested, self.max_expires), address))
        entries = self._contacts.setdefault(user, {})
        for uri, expires, address in changes:
            entries.pop(uri, None)  # re-inserted last: the most recent registration
            if expires == 0:
                continue
            binding = Binding(user=user, contact=uri, address=address, expires_at=now + expires)
            entries[uri] = _Contact(binding, call_id, cseq)
            self._arm(binding)
            events.append(PhoneRegistered(binding))
        while len(entries) > MAX_CONTACTS_PER_USER:
            del entries[next(iter(entries))]
        if not entries:
            del self._contacts[user]
        if had_bindings and self.binding(user, now) is None:
            events.append(PhoneUnregistered(user, "removed"))
        return self._ok(request, user, now)

    def _ok(self, request: Request, user: str, now: float) -> Response:
        headers = [
            ("Contact", f"<{c.binding.contact}>;expires={max(1, math.ceil(c.binding.expires_at - now))}")
            for c in self._contacts.get(user, {}).values()
            if c.binding.expires_at > now
        ]
        return make_response(request, 200, to_tag=secrets.token_hex(6), extra_headers=headers)

    # --- digest nonces and failures -------------------------------------------------

    def _challenge(self, now: float, *, stale: bool) -> _Refused:
        nonce = self._nonce(now)
        headers = [
            ("WWW-Authenticate", challenge_header(self.realm, nonce, algorithm=algorithm,
                                                  opaque=self.opaque, stale=stale))
            for algorithm in self.algorithms
        ]
        return _Refused(401, "Unauthorized", headers)

    def _mac(self, text: str) -> str:
        return hmac.new(self._secret, f"{self.realm}:{text}".encode(), hashlib.sha256).hexdigest()

    def _nonce(self, now: float) -> str:
        stamp = f"{max(0, int(now * 1000)):x}"
        return f"{stamp}.{self._mac(stamp)[:32]}"

    def _nonce_issued(self, nonce: str) -> float | None:
        stamp, dot, mac = nonce.partition(".")
        if not dot or not 0 < len(stamp) <= 16 or any(c not in "0123456789abcdef" for c in stamp):
            return None
        if not hmac.compare_digest(mac.encode("utf-8", "replace"), self._mac(stamp)[:32].encode()):
            return None
        return int(stamp, 16) / 1000

    def _first_use(self, credentials: DigestCredentials, issued: float) -> bool:
        key = (credentials.nonce, credentials.cnonce, credentials.nc)
        if key in self._answers:
            return False
        if len(self._answers) >= MAX_REMEMBERED_ANSWERS:
            del self._answers[next(iter(self._answers))]
        self._answers[key] = issued + self.nonce_ttl
        return True

    def _count_failure(self, host: str, now: float) -> None:
        times = self._failures.pop(host, None) or deque()
        self._failures[host] = times  # re-inserted last: the oldest go first below
        while times and times[0] <= now - FAILURE_WINDOW:
            times.popleft()
        times.append(now)
        if len(times) >= MAX_FAILURES:
            del self._failures[host]
            self._blocked[host] = now + BLOCK_SECONDS
            logger.warning("registrar: %s blocked for %.0f s after %d failures", host,
                           BLOCK_SECONDS, MAX_FAILURES)
        while len(self._failures) > MAX_TRACKED_SOURCES:
            del self._failures[next(iter(self._failures))]
        while len(self._blocked) > MAX_TRACKED_SOURCES:
            del self._blocked[next(iter(self._blocked))]

    def _count_user_failure(self, user: str, host: str, now: float) -> None:
        if self.user_max_failures <= 0:
            return
        times = self._user_failures.pop(user, None) or deque()
        self._user_failures[user] = times  # re-inserted last: the oldest go first below
        hosts = self._user_failure_sources.pop(user, None) or set()
        self._user_failure_sources[user] = hosts
        while times and times[0] <= now - self.user_lock_seconds:
            times.popleft()
        times.append(now)
        if len(hosts) < 100:
            hosts.add(host)
        if len(times) >= self.user_max_failures:
            del self._user_failures[user]
            del self._user_failure_sources[user]
            self._locked[user] = now + self.user_lock_seconds
            logger.warning(
                "registrar: extension %r locked for %.0f s after %d failed REGISTERs within "
                "%.0f s from %d address(es), the last from %s", user, self.user_lock_seconds,
                len(times), self.user_lock_seconds, len(hosts), host)
        while len(self._user_failures) > MAX_TRACKED_USERS:
            oldest = next(iter(self._user_failures))
            del self._user_failures[oldest]
            self._user_failure_sources.pop(oldest, None)
        while len(self._locked) > MAX_TRACKED_USERS:
            del self._locked[next(iter(self._locked))]

    # --- time ----------------------------------------------------------------------

    def _arm(self, binding: Binding) -> None:
        self._expiries.push(binding.expires_at, (binding.user, binding.contact))
        if len(self._expiries) > 2 * MAX_CONTACTS_PER_USER * len(self._contacts) + 64:
            self._expiries.compact()  # refreshes left many stale entries (O(n), seldom)

    def _expiry_live(self, when: float, binding: tuple[str, str]) -> bool:
        user, uri = binding
        contact = self._contacts.get(user, {}).get(uri)
        return contact is not None and contact.binding.expires_at == when

    def tick(self, now: float) -> list[RegistrarEvent]:
        events: list[RegistrarEvent] = []
        for _, (user, uri) in self._expiries.due(now):
            entries = self._contacts[user]
            del entries[uri]
            if not entries:
                del self._contacts[user]
                events.append(PhoneUnregistered(user, "expired"))
        if now >= self._next_prune:
            self._next_prune = now + 10.0
            self._answers = {k: t for k, t in self._answers.items() if t > now}
            self._blocked = {h: t for h, t in self._blocked.items() if t > now}
            for user in [u for u, t in self._locked.items() if t <= now]:
                del self._locked[user]
                logger.info("registrar: extension %r unlocked", user)
            window = now - self.user_lock_seconds
            for user in [u for u, times in self._user_failures.items() if not times or times[-1] <= window]:
                del self._user_failures[user]
                self._user_failure_sources.pop(user, None)
            self._failures = {
                h: times for h, times in self._failures.items() if times and times[-1] > now - FAILURE_WINDOW
            }
        return events

    def next_deadline(self) -> float | None:
        return self._expiries.next_deadline()


def _aor_user(request: Request) -> str | None:
    try:
        return parse_uri(request.to.uri).user
    except ParseError:
        return None


def _same_uri(digest_uri: str, request_uri: str) -> bool:
    """The digest `uri` names this request (RFC 7616 3.4.6), allowing harmless respelling."""
    if digest_uri == request_uri:
        return True
    try:
        return str(parse_uri(digest_uri)).lower() == str(parse_uri(request_uri)).lower()
    except ParseError:
        return False


def _phone_address(contact_uri: str, source: Address, via_count: int) -> Address:
    """Where requests to this phone go.

    Straight from the phone (one Via), the source address is the one that works, whether
    or not a NAT rewrote it: it is the Contact's host:port when there is no NAT. Through a
    proxy (more Vias), the source is the proxy, so the Contact's IP address is used.
    """
    if via_count > 1:
        try:
            uri = parse_uri(contact_uri)
            ipaddress.ip_address(uri.host)
            return uri.host, uri.port or 5060
        except (ParseError, ValueError):
            pass
    return source


def _printable(text: str) -> str:
    return "".join(c for c in text if c.isprintable())[:60]
