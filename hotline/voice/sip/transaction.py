"""SIP transactions over UDP (RFC 3261 section 17, with RFC 6026 and RFC 3581), sans-I/O.

`TransactionLayer.receive(data, source, now)` and `.tick(now)` return a list of events:
`Send` (bytes to an address) for the I/O adapter, and `RequestReceived`,
`ResponseReceived`, `TransactionTimeout`, `MessageDropped` for the transaction user.
Nothing here reads a clock or a socket; `now` is a monotonic time in seconds.

Responses are routed by the top Via of the request, annotated on receipt with `received`
and `rport` (RFC 3581), so every caller, proxy or NAT gets its answers where it really
is, never at a configured peer address.
"""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hotline.voice.sip.deadlines import Deadlines
from hotline.voice.sip.message import (
    Headers,
    ParseError,
    Request,
    Response,
    make_response,
    parse_message,
)

if TYPE_CHECKING:
    from hotline.voice.sip.limits import SourceGuard

logger = logging.getLogger(__name__)

T1 = 0.5  # RTT estimate
T2 = 4.0  # maximum retransmit interval for non-INVITE requests and INVITE responses
T4 = 5.0  # maximum duration a message remains in the network
MAGIC_COOKIE = "z9hG4bK"

Address = tuple[str, int]


@dataclass(frozen=True)
class Send:
    data: bytes
    address: Address


@dataclass(frozen=True)
class RequestReceived:
    request: Request
    source: Address
    transaction: TransactionKey | None  # None for ACKs of 2xx (no transaction of their own)


@dataclass(frozen=True)
class ResponseReceived:
    response: Response
    transaction: TransactionKey | None  # None for a 2xx retransmission after the transaction


@dataclass(frozen=True)
class TransactionTimeout:
    transaction: TransactionKey
    method: str
    server: bool


@dataclass(frozen=True)
class MessageDropped:
    reason: str
    source: Address


Event = Send | RequestReceived | ResponseReceived | TransactionTimeout | MessageDropped


@dataclass(frozen=True)
class TransactionKey:
    branch: str
    sent_by: str
    method: str  # INVITE for the ACK of a non-2xx final response
    server: bool


class State(enum.StrEnum):
    TRYING = "trying"
    CALLING = "calling"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    ACCEPTED = "accepted"
    TERMINATED = "terminated"


@dataclass
class _Transaction:
    key: TransactionKey
    request: Request
    address: Address  # where we send: the response address or the request's destination
    state: State
    timers: dict[str, float] = field(default_factory=dict)
    interval: float = T1
    last_response: Response | None = None
    last_response_bytes: bytes = b""
    request_bytes: bytes = b""
    ack_bytes: bytes = b""

    def next_deadline(self) -> float | None:
        return min(self.timers.values(), default=None)


def server_key(request: Request) -> TransactionKey:
    """RFC 3261 17.2.3 matching (the RFC 2543 fallback keys on Call-ID and CSeq)."""
    via = request.top_via
    method = "INVITE" if request.method == "ACK" else request.method
    sent_by = f"{via.host}:{via.port or 5060}"
    branch = via.branch or ""
    if not branch.startswith(MAGIC_COOKIE):
        cseq = request.cseq
        branch = f"2543:{request.call_id}:{cseq.number}:{request.from_.tag}"
    return TransactionKey(branch=branch, sent_by=sent_by, method=method, server=True)


def new_branch() -> str:
    return MAGIC_COOKIE + secrets.token_hex(8)


class TransactionLayer:
    """All transactions of one UDP endpoint."""

    def __init__(
        self,
        local_host: str,
        local_port: int,
        *,
        branch_factory: Callable[[], str] = new_branch,
    ) -> None:
        self.local_host = local_host
        self.local_port = local_port
        self._branch_factory = branch_factory
        self._transactions: dict[TransactionKey, _Transaction] = {}
        # Every timer set, as (transaction, name) by deadline: a heap, so the next
        # deadline and the due timers are found without a scan of every transaction. An
        # entry is stale once its transaction ended or set that timer again (or cleared it):
        # stale entries are dropped when they come to the top.
        self._timers: Deadlines[tuple[_Transaction, str]] = Deadlines(self._live)
        # Per-source rate of new server transactions (limits.py); set by the user agent.
        self.guard: SourceGuard | None = None
        self._next_prune = 0.0
        self._refused_logged: set[str] = set()  # log a flooding source once per prune period

    # --- input ---------------------------------------------------------------------

    def receive(self, data: bytes, source: Address, now: float) -> list[Event]:
        if not data.strip(b"\r\n"):
            return []  # RFC 5626 CRLF keep-alive: nothing to answer over UDP, nothing to log
        try:
            message = parse_message(data)
        except ParseError as exc:
            logger.info("dropped unparsable datagram from %s: %s", source, exc)
            return [MessageDropped(str(exc), source)]
        if isinstance(message, Response):
            return self._receive_response(message, source, now)
        return self._receive_request(message, source, now)

    def _receive_request(self, request: Request, source: Address, now: float) -> list[Event]:
        try:
            _annotate_via(request, source)
            request.check()
            key = server_key(request)
        except ParseError as exc:
            return self._reject_malformed(request, source, str(exc))
        transaction = self._transactions.get(key)
        if request.method == "ACK":
            if transaction is not None and transaction.state == State.COMPLETED:
                transaction.state = State.CONFIRMED
                transaction.timers = {"I": now + T4}  # absorb ACK retransmissions
                self._arm(transaction)
                return []
            if transaction is not None and transaction.state == State.CONFIRMED:
                return []
            return [RequestReceived(request, source, None)]  # ACK for a 2xx: the TU's
        if transaction is not None:
            return self._retransmitted_request(transaction)
        if self.guard is not None:
            refused = self._over_rate(self.guard, request, source, now)
            if refused:
                return refused
        address = request.top_via.response_address(source)
        state = State.PROCEEDING if request.method == "INVITE" else State.TRYING
        transaction = _Transaction(key=key, request=request, address=address, state=state)
        if state == State.TRYING:
            # Not in RFC 3261: should the TU never answer (a bug), the transaction still
            # ends once the client has given up (its timer F), instead of living forever.
            transaction.timers["J"] = now + 64 * T1
        self._transactions[key] = transaction
        self._arm(transaction)
        events: list[Event] = []
        if request.method == "INVITE":
            # We answer at once rather than after 200 ms: cheap, and stops retransmissions.
            events.extend(self._send_response(transaction, make_response(request, 100), now))
        events.append(RequestReceived(request, source, key))
        return events

    def _retransmitted_request(self, transaction: _Transaction) -> list[Event]:
        if transaction.state in (State.PROCEEDING, State.COMPLETED) and transaction.last_response_bytes:
            return [Send(transaction.last_response_bytes, transaction.address)]
        return []  # TRYING, CONFIRMED, ACCEPTED: absorbed

    def _over_rate(self, guard: SourceGuard, request: Request, source: Address, now: float) -> list[Event]:
        """A new transaction from a source over its rate: a stateless refusal, no state kept.

        Stateless on purpose: a flood must not fill the transaction table. The caller's
        retransmissions and its ACK of the refusal meet no transaction and cost nothing."""
        origin = guard.origin(request, source)
        wait = guard.admit(origin, now)
        if now >= self._next_prune:
            self._next_prune = now + 10.0
            guard.prune(now)
            self._refused_logged.clear()
        if wait is None or origin is None:
            return []
        status = guard.refusal_status(origin, source)
        if origin not in self._refused_logged and len(self._refused_logged) < 1000:
            self._refused_logged.add(origin)
            logger.warning("SIP: %s from %s refused with %d: over its rate of new transactions "
                           "(further refusals in the next 10 s are not logged)",
                           request.method, origin, status)
        response = make_response(request, status, to_tag=secrets.token_hex(6),
                                 extra_headers=[("Retry-After", str(wait))])
        return [Send(response.to_bytes(), request.top_via.response_address(source)),
                MessageDropped(f"rate limit of {origin}", source)]

    def _reject_malformed(self, request: Request, source: Address, reason: str) -> list[Event]:
        logger.info("malformed %s from %s: %s", request.method, source, reason)
        events: list[Event] = [MessageDropped(reason, source)]
        if request.method == "ACK":
            return events
        try:
            address = request.top_via.response_address(source)
        except ParseError:
            return events  # nowhere to send a 400 to
        if not all(request.headers.get(name) for name in ("From", "To", "Call-ID", "CSeq")):
            return events
        response = make_response(
            request, 400, extra_headers=[("Warning", f'399 hotline "{_warning_text(reason)}"')]
        )
        events.insert(0, Send(response.to_bytes(), address))
        return events

    def _receive_response(self, response: Response, source: Address, now: float) -> list[Event]:
        try:
            via = response.top_via
            method = response.cseq.method
        except ParseError as exc:
            return [MessageDropped(str(exc), source)]
        if via.host != self.local_host or (via.port or 5060) != self.local_port:
            return [MessageDropped("response Via is not ours", source)]
        key = TransactionKey(
            branch=via.branch or "",
            sent_by=f"{via.host}:{via.port or 5060}",
            method=method,
            server=False,
        )
        transaction = self._transactions.get(key)
        if transaction is None:
            if method == "INVITE" and 200 <= response.status < 300:
                return [ResponseReceived(response, None)]  # TU re-sends its ACK
            return [MessageDropped("response matches no transaction", source)]
        if method == "INVITE":
            return self._client_invite_response(transaction, response, now)
        return self._client_non_invite_response(transaction, response, now)

    def _client_invite_response(
        self, transaction: _Transaction, response: Response, now: float
    ) -> list[Event]:
        state = transaction.state
        if response.status < 200:
            if state in (State.CALLING, State.PROCEEDING):
                transaction.state = State.PROCEEDING
                transaction.timers.pop("A", None)
                transaction.timers.pop("B", None)
                return [ResponseReceived(response, transaction.key)]
            return []
        if response.status < 300:
            if state in (State.CALLING, State.PROCEEDING, State.ACCEPTED):
                if state != State.ACCEPTED:
                    transaction.state = State.ACCEPTED
                    transaction.timers = {"M": now + 64 * T1}
                    self._arm(transaction)
                return [ResponseReceived(response, transaction.key)]
            return []
        if state in (State.CALLING, State.PROCEEDING):
            transaction.state = State.COMPLETED
            transaction.ack_bytes = _ack_for(transaction.request, response).to_bytes()
            transaction.timers = {"D": now + 32.0}
            self._arm(transaction)
            return [
                Send(transaction.ack_bytes, transaction.address),
                ResponseReceived(response, transaction.key),
            ]
        if state == State.COMPLETED:
            return [Send(transaction.ack_bytes, transaction.address)]
        return []

    def _client_non_invite_response(
        self, transaction: _Transaction, response: Response, now: float
    ) -> list[Event]:
        if transaction.state not in (State.TRYING, State.PROCEEDING):
            return []  # COMPLETED: retransmitted final responses are absorbed
        if response.status < 200:
            if transaction.state == State.TRYING:
                transaction.state = State.PROCEEDING
            return [ResponseReceived(response, transaction.key)]
        transaction.state = State.COMPLETED
        transaction.timers = {"K": now + T4}
        self._arm(transaction)
        return [ResponseReceived(response, transaction.key)]

    # --- output from the transaction user -----------------------------------------

    def respond(self, key: TransactionKey, response: Response, now: float) -> list[Event]:
        """Send a response within a server transaction (no-op if it has already ended)."""
        transaction = self._transactions.get(key)
        if transaction is None or transaction.state not in (
            State.TRYING,
            State.PROCEEDING,
        ):
            return []
        return self._send_response(transaction, response, now)

    def _send_response(
        self, transaction: _Transaction, response: Response, now: float
    ) -> list[Event]:
        data = response.to_bytes()
        transaction.last_response = response
        transaction.last_response_bytes = data
        invite = transaction.key.method == "INVITE"
        if response.status < 200:
            transaction.state = State.PROCEEDING
        elif invite and response.status < 300:
            transaction.state = State.ACCEPTED  # RFC 6026; the TU retransmits the 2xx
            transaction.timers = {"L": now + 64 * T1}
        elif invite:
            transaction.state = State.COMPLETED
            transaction.interval = T1
            transaction.timers = {"G": now + T1, "H": now + 64 * T1}
        else:
            transaction.state = State.COMPLETED
            transaction.timers = {"J": now + 64 * T1}
        self._arm(transaction)
        return [Send(data, transaction.address)]

    def send_request(
        self, request: Request, destination: Address, now: float, *, branch: str | None = None
    ) -> tuple[TransactionKey, list[Event]]:
        """Start a client transaction; our Via (with a new branch and rport) goes on top.

        `branch` is for a CANCEL, which must carry its INVITE's branch (RFC 3261 9.1).
        """
        branch = branch or self._branch_factory()
        via = f"SIP/2.0/UDP {self.local_host}:{self.local_port};branch={branch};rport"
        headers = Headers([("Via", via)])
        for name, value in request.headers:
            if name != "Via":
                headers.add(name, value)
        request.headers = headers
        method = request.method
        key = TransactionKey(
            branch=branch,
            sent_by=f"{self.local_host}:{self.local_port}",
            method=method,
            server=False,
        )
        data = request.to_bytes()
        if method == "ACK":  # an ACK for a 2xx is sent once per 2xx, no transaction
            return key, [Send(data, destination)]
        timers = {"A", "B"} if method == "INVITE" else {"E", "F"}
        transaction = _Transaction(
            key=key,
            request=request,
            address=destination,
            state=State.CALLING if method == "INVITE" else State.TRYING,
            timers={name: now + (T1 if name in ("A", "E") else 64 * T1) for name in timers},
            request_bytes=data,
        )
        self._transactions[key] = transaction
        self._arm(transaction)
        return key, [Send(data, destination)]

    def server_request(self, key: TransactionKey) -> Request | None:
        transaction = self._transactions.get(key)
        return transaction.request if transaction else None

    def server_state(self, key: TransactionKey) -> State | None:
        transaction = self._transactions.get(key)
        return transaction.state if transaction else None

    def find_invite(self, cancel: Request) -> TransactionKey | None:
        """The INVITE server transaction a CANCEL refers to (RFC 3261 9.2)."""
        try:
            key = server_key(cancel)
        except ParseError:
            return None
        invite_key = TransactionKey(key.branch, key.sent_by, "INVITE", True)
        return invite_key if invite_key in self._transactions else None

    # --- time ----------------------------------------------------------------------

    def _arm(self, transaction: _Transaction) -> None:
        """Put the transaction's timers on the heap (call after setting any of them)."""
        for name, deadline in transaction.timers.items():
            self._timers.push(deadline, (transaction, name))

    def _live(self, deadline: float, timer: tuple[_Transaction, str]) -> bool:
        transaction, name = timer
        return (self._transactions.get(transaction.key) is transaction
                and transaction.timers.get(name) == deadline)

    def next_deadline(self) -> float | None:
        return self._timers.next_deadline()

    def tick(self, now: float) -> list[Event]:
        """Fire every timer due by `now`, earliest first (a timer set again while firing
        goes back on the heap: fired again in this tick only if it is due by `now`)."""
        events: list[Event] = []
        for _, (transaction, name) in self._timers.due(now):
            del transaction.timers[name]
            events.extend(self._fire(transaction, name, now))
            if transaction.state == State.TERMINATED:
                del self._transactions[transaction.key]
            elif (again := transaction.timers.get(name)) is not None:  # A, E, G run again
                self._timers.push(again, (transaction, name))
        return events

    def _fire(self, transaction: _Transaction, timer: str, now: float) -> list[Event]:
        key = transaction.key
        if timer in ("A", "E"):
            if timer == "A":
                transaction.interval *= 2
            else:
                transaction.interval = min(
                    transaction.interval * 2 if transaction.state == State.TRYING else T2, T2
                )
            transaction.timers[timer] = now + transaction.interval
            return [Send(transaction.request_bytes, transaction.address)]
        if timer == "G":
            transaction.interval = min(transaction.interval * 2, T2)
            transaction.timers["G"] = now + transaction.interval
            return [Send(transaction.last_response_bytes, transaction.address)]
        transaction.state = State.TERMINATED
        transaction.timers = {}
        if timer in ("B", "F", "H"):
            return [TransactionTimeout(key, key.method, key.server)]
        return []  # D, I, J, K, L, M: the transaction just ends

    def __len__(self) -> int:
        return len(self._transactions)


def _annotate_via(request: Request, source: Address) -> None:
    """RFC 3261 18.2.1 `received` and RFC 3581 `rport` on the top Via."""
    values = request.headers.get_all("Via")
    if not values:
        raise ParseError("missing Via")
    top = request.top_via
    changed = False
    if top.host != source[0]:
        top.params["received"] = source[0]
        changed = True
    if "rport" in top.params and top.params["rport"] is None:
        top.params["rport"] = str(source[1])
        changed = True
    if not changed:
        return
    rest = values[1:]
    headers = Headers()
    first = True
    for name, value in request.headers:
        if name == "Via":
            if first:
                headers.add("Via", str(top))
                for other in rest:
                    headers.add("Via", other)
                first = False
            continue
        headers.add(name, value)
    request.headers = headers


def _ack_for(request: Request, response: Response) -> Request:
    """ACK for a non-2xx final response (RFC 3261 17.1.1.3): same branch, response's To."""
    headers = Headers()
    headers.add("Via", request.headers.get("Via") or "")
    for name in ("Route",):
        for value in request.headers.get_all(name):
            headers.add(name, value)
    headers.add("From", request.headers.get("From") or "")
    headers.add("To", response.headers.get("To") or "")
    headers.add("Call-ID", request.headers.get("Call-ID") or "")
    headers.add("CSeq", f"{request.cseq.number} ACK")
    headers.add("Max-Forwards", "70")
    return Request(headers=headers, body=b"", method="ACK", uri=request.uri)


def _warning_text(reason: str) -> str:
    return "".join(c for c in reason if c.isprintable() and c not in '"\\')[:100]
