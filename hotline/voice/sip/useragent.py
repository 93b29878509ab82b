"""The user agent core: dialogs over the transaction layer, sans-I/O.

It answers what a hotline gateway must answer by itself (100, 180, OPTIONS, CANCEL, BYE,
re-INVITE for hold, 481/486/488/415/420/405/501) and reports calls to the application
as events: `IncomingCall`, `CallEstablished`, `MediaChanged`, `CallEnded`. The
application decides when to `answer`, `reject` or `hangup`.

With a `Registrar`, agents' phones REGISTER here (registrar.py). `invite` places a call
(the client side until the 2xx lives in uac.py); once confirmed, an outgoing dialog is a
`Call` like any other, so the callee's BYE and re-INVITE take the same paths as a caller's.

2xx retransmission until ACK lives here, not in the transaction (RFC 3261 13.3.1.4 and
RFC 6026): the ACK of a 2xx is its own transaction, matched by dialog and CSeq.
"""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from hotline.voice.sdp import (
    AudioAnswer,
    Direction,
    LocalSession,
    NoAcceptableCodec,
    SdpError,
    SessionDescription,
    answer_offer,
    make_offer,
    parse_sdp,
)
from hotline.voice.sip.deadlines import Deadlines
from hotline.voice.sip.limits import SourceGuard, SourceLimits
from hotline.voice.sip.message import (
    Headers,
    ParseError,
    Request,
    Via,
    make_response,
    parse_name_addr,
    parse_uri,
)
from hotline.voice.sip.registrar import (
    PhoneRegistered,
    PhoneUnregistered,
    Registrar,
    RegistrationRejected,
)
from hotline.voice.sip.registration import (
    Registered,
    Registration,
    RegistrationFailed,
    TrunkAccount,
)
from hotline.voice.sip.transaction import (
    T1,
    T2,
    Address,
    Event,
    MessageDropped,
    RequestReceived,
    ResponseReceived,
    Send,
    State,
    TransactionKey,
    TransactionLayer,
    TransactionTimeout,
)
from hotline.voice.sip.uac import (
    Dialer,
    DialogConfirmed,
    OutgoingAnswered,
    OutgoingFailed,
    OutgoingProgress,
    next_hop,
)

logger = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS"
SUPPORTED: frozenset[str] = frozenset()
KNOWN_UNSUPPORTED_METHODS = frozenset(
    {"REGISTER", "SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE", "REFER", "UPDATE", "PRACK", "INFO"}
)


class CallState(enum.StrEnum):
    RINGING = "ringing"  # INVITE received, no final response yet
    ANSWERED = "answered"  # 200 sent, waiting for the ACK
    CONFIRMED = "confirmed"
    ENDED = "ended"


class EndReason(enum.StrEnum):
    REMOTE_BYE = "remote_bye"
    LOCAL_BYE = "local_bye"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    NO_ACK = "no_ack"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class IncomingCall:
    call_id: str
    caller: str  # the From URI
    caller_user: str | None
    called_user: str | None
    display_name: str | None
    source: Address


@dataclass(frozen=True)
class CallEstablished:
    call_id: str
    media: AudioAnswer | None


@dataclass(frozen=True)
class MediaChanged:
    call_id: str
    media: AudioAnswer

    @property
    def on_hold(self) -> bool:
        return not self.media.direction.we_send


@dataclass(frozen=True)
class CallEnded:
    call_id: str
    reason: EndReason


UaEvent = (
    Event
    | IncomingCall
    | CallEstablished
    | MediaChanged
    | CallEnded
    | Registered
    | RegistrationFailed
    | PhoneRegistered
    | PhoneUnregistered
    | RegistrationRejected
    | OutgoingProgress
    | OutgoingAnswered
    | OutgoingFailed
)


@dataclass
class Call:
    call_id: str
    local_tag: str
    remote_tag: str | None
    invite: Request
    invite_key: TransactionKey
    source: Address  # where the INVITE came from
    response_address: Address  # where its top Via says responses go (RFC 3261 18.2.2)
    behind_nat: bool  # the caller's Via did not match where its packets came from
    local_session: LocalSession
    offer: SessionDescription | None
    state: CallState = CallState.RINGING
    rtp_port: int = 0
    media: AudioAnswer | None = None
    remote_cseq: int = 0
    local_cseq: int = 0
    route_set: list[str] = field(default_factory=list)
    remote_target: str = ""
    hangup_after_ack: bool = False
    ring_deadline: float = 0.0
    # 2xx retransmission (RFC 3261 13.3.1.4)
    ok_bytes: bytes = b""
    ok_cseq: int = 0
    ok_interval: float = T1
    ok_next: float = 0.0
    ok_give_up: float = 0.0
    ok_address: Address | None = None  # where that 2xx goes: its request's Via
    waiting_ack: bool = False
    outgoing: bool = False  # we sent the INVITE: From is ours, To is theirs
    local_party: str = ""  # outgoing: our From (with our tag)
    remote_party: str = ""  # outgoing: their To (with their tag)
    origin: str | None = None  # incoming: the real source its per-source limits count on


class UserAgent:
    def __init__(
        self,
        local_host: str,
        local_port: int,
        *,
        media_address: str | None = None,
        max_calls: int = 300,
        auto_ring: bool = True,
        ring_timeout: float = 120.0,
        layer: TransactionLayer | None = None,
        registrar: Registrar | None = None,
        limits: SourceLimits | None = None,
    ) -> None:
        # `is None`, not `or`: an empty layer has len() 0 and would be replaced.
        self.layer = layer if layer is not None else TransactionLayer(local_host, local_port)
        self.local_host = local_host
        self.local_port = local_port
        self.media_address = media_address or local_host
        self.max_calls = max_calls
        # Per-source limits (limits.py); None: only the global max_calls.
        self.guard = SourceGuard(limits) if limits is not None else None
        self.layer.guard = self.guard
        self.auto_ring = auto_ring
        self.ring_timeout = ring_timeout
        self.calls: dict[str, Call] = {}
        # The calls' own deadlines (ringing unanswered, a 2xx to retransmit) as a heap of
        # (call, "ring" | "ok" | "give_up") by deadline: the next one is found without scanning
        # every call after each datagram. Stale entries (the call ended, was answered or ACKed,
        # or set the deadline again) are dropped when they come to the top.
        self._call_deadlines: Deadlines[tuple[Call, str]] = Deadlines(self._call_deadline_live)
        self._bye_keys: dict[TransactionKey, str] = {}
        self.registrations: list[Registration] = []
        self.registrar = registrar  # with one, agents' phones REGISTER here; without: 405
        self.allow = ALLOW + (", REGISTER" if registrar is not None else "")
        self.dialer = Dialer(self.layer, self._contact()[0][1], self.allow, ring_timeout)

    # --- input ---------------------------------------------------------------------

    def receive(self, data: bytes, source: Address, now: float) -> list[UaEvent]:
        out: list[UaEvent] = []
        for event in self.layer.receive(data, source, now):
            out.extend(self._handle(event, now))
        return out

    def tick(self, now: float) -> list[UaEvent]:
        out: list[UaEvent] = []
        for event in self.layer.tick(now):
            out.extend(self._handle(event, now))
        for registration in self.registrations:
            out.extend(registration.tick(now))
        if self.registrar is not None:
            out.extend(self.registrar.tick(now))
        out.extend(self.dialer.tick(now))
        for _, (call, kind) in self._call_deadlines.due(now):
            if kind == "ring":
                # The application never answered: do not leak the call.
                response = make_response(call.invite, 480, to_tag=call.local_tag)
                out.extend(self.layer.respond(call.invite_key, response, now))
                out.extend(self._end(call, EndReason.TIMEOUT))
            elif now >= call.ok_give_up:
                call.waiting_ack = False
                out.extend(self._send_bye(call, now))
                out.extend(self._end(call, EndReason.NO_ACK))
            else:
                call.ok_interval = min(call.ok_interval * 2, T2)
                call.ok_next = now + call.ok_interval
                self._arm_call(call, "ok")
                out.append(Send(call.ok_bytes, call.ok_address or call.response_address))
        return out

    def _arm_call(self, call: Call, kind: str) -> None:
        when = {"ring": call.ring_deadline, "ok": call.ok_next, "give_up": call.ok_give_up}[kind]
        self._call_deadlines.push(when, (call, kind))

    def _call_deadline_live(self, when: float, deadline: tuple[Call, str]) -> bool:
        call, kind = deadline
        if self.calls.get(call.call_id) is not call:
            return False
        if kind == "ring":
            return call.state == CallState.RINGING and call.ring_deadline == when
        if kind == "give_up":
            return call.waiting_ack and call.ok_give_up == when
        return call.waiting_ack and call.ok_next == when

    def next_deadline(self) -> float | None:
        first = self._call_deadlines.next_deadline()
        deadlines = [first] if first is not None else []
        deadlines += [
            d for r in self.registrations if (d := r.next_deadline()) is not None
        ]
        if self.registrar is not None and (d := self.registrar.next_deadline()) is not None:
            deadlines.append(d)
        if (d := self.dialer.next_deadline()) is not None:
            deadlines.append(d)
        layer_deadline = self.layer.next_deadline()
        if layer_deadline is not None:
            deadlines.append(layer_deadline)
        return min(deadlines, default=None)

    def _handle(self, event: Event, now: float) -> list[UaEvent]:
        if isinstance(event, RequestReceived):
            try:
                return self._request(event, now)
            except (ParseError, SdpError) as exc:  # headers check() did not cover
                logger.info("cannot handle %s: %s", event.request.method, exc)
                return self._reply(event, 400, now)
        if isinstance(event, ResponseReceived):
            return self._response(event, now)
        if isinstance(event, TransactionTimeout):
            return self._timeout(event, now)
        return [event]  # Send, MessageDropped

    def _request(self, event: RequestReceived, now: float) -> list[UaEvent]:
        request = event.request
        method = request.method
        if method == "ACK":
            return self._ack(request, now)
        if method == "CANCEL":
            return self._cancel(event, now)
        if method == "OPTIONS":
            return self._reply(
                event, 200, now, [("Allow", self.allow), ("Accept", "application/sdp")]
            )
        if method == "REGISTER" and self.registrar is not None and event.transaction is not None:
            response, registered = self.registrar.handle(request, event.source, now)
            return [*self.layer.respond(event.transaction, response, now), *registered]
        to_tag = request.to.tag
        if to_tag is not None:
            return self._in_dialog(event, to_tag, now)
        if method == "INVITE":
            return self._invite(event, now)
        if method == "BYE":
            return self._reply(event, 481, now)
        if method in KNOWN_UNSUPPORTED_METHODS:
            return self._reply(event, 405, now, [("Allow", self.allow)])
        return self._reply(event, 501, now, [("Allow", self.allow)])

    def _invite(self, event: RequestReceived, now: float) -> list[UaEvent]:
        request = event.request
        assert event.transaction is not None
        unsupported = [
            option
            for value in request.headers.get_all("Require")
            for option in value.split(",")
            if option.strip() and option.strip() not in SUPPORTED
        ]
        if unsupported:
            return self._reply(event, 420, now, [("Unsupported", ", ".join(unsupported))])
        if request.call_id in self.calls:  # a new INVITE reusing a live Call-ID
            return self._reply(event, 482, now, reason="Loop Detected")
        origin = self.guard.origin(request, event.source) if self.guard is not None else None
        if self.guard is not None:
            refusal = self.guard.call_refusal(origin, event.source, (
                call.state == CallState.CONFIRMED for call in self.calls.values()
                if call.origin == origin))
            if refusal is not None:
                logger.info("INVITE %s refused with %d: %s", request.call_id, refusal.status,
                            refusal.reason)
                return self._reply(event, refusal.status, now, refusal.headers())
        active = sum(1 for call in self.calls.values() if call.state != CallState.ENDED)
        if active >= self.max_calls:
            return self._reply(event, 486, now)
        offer = None
        if request.body:
            content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type.lower() != "application/sdp":
                return self._reply(event, 415, now, [("Accept", "application/sdp")])
            try:
                offer = parse_sdp(request.body)
                answer_offer(offer, LocalSession(self.media_address, 0), 0)  # acceptable?
            except NoAcceptableCodec:
                return self._reply(event, 488, now)
            except SdpError:
                return self._reply(event, 400, now, reason="Bad Session Description")
        top_via = request.top_via
        call = Call(
            call_id=request.call_id,
            local_tag=secrets.token_hex(6),
            remote_tag=request.from_.tag,
            invite=request,
            invite_key=event.transaction,
            source=event.source,
            response_address=top_via.response_address(event.source),
            behind_nat=_behind_nat(top_via),
            local_session=LocalSession(self.media_address, secrets.randbelow(2**31)),
            offer=offer,
            remote_cseq=request.cseq.number,
            route_set=request.headers.get_all("Record-Route"),
            remote_target=_contact_uri(request) or request.from_.uri,
            ring_deadline=now + self.ring_timeout,
            origin=origin,
        )
        self.calls[call.call_id] = call
        self._arm_call(call, "ring")
        out: list[UaEvent] = []
        if self.auto_ring:
            response = make_response(request, 180, to_tag=call.local_tag, extra_headers=self._contact())
            out.extend(self.layer.respond(call.invite_key, response, now))
        caller = request.from_
        out.append(
            IncomingCall(
                call_id=call.call_id,
                caller=caller.uri,
                caller_user=_user_of(caller.uri),
                called_user=_user_of(request.uri),
                display_name=caller.display_name,
                source=event.source,
            )
        )
        return out

    def _in_dialog(self, event: RequestReceived, to_tag: str, now: float) -> list[UaEvent]:
        request = event.request
        call = self.calls.get(request.call_id)
        if call is None or call.local_tag != to_tag or call.remote_tag != request.from_.tag:
            return self._reply(event, 481, now)
        cseq = request.cseq.number
        if cseq <= call.remote_cseq:
            return self._reply(event, 500, now, reason="Out Of Order CSeq")
        call.remote_cseq = cseq
        if request.method == "BYE":
            out = self._reply(event, 200, now)
            if call.state == CallState.RINGING:
                # A BYE in the early dialog: the pending INVITE gets 487 (RFC 3261 15.1.2).
                terminated = make_response(call.invite, 487, to_tag=call.local_tag)
                out.extend(self.layer.respond(call.invite_key, terminated, now))
            call.waiting_ack = False
            return out + self._end(call, EndReason.REMOTE_BYE)
        if request.method == "INVITE":
            return self._reinvite(call, event, now)
        return self._reply(event, 405, now, [("Allow", self.allow)])

    def _reinvite(self, call: Call, event: RequestReceived, now: float) -> list[UaEvent]:
        if call.waiting_ack or call.state != CallState.CONFIRMED:
            return self._reply(event, 491, now)  # RFC 3261 14.2: an INVITE is still open
        request = event.request
        out: list[UaEvent] = []
        if request.body:
            try:
                offer = parse_sdp(request.body)
                media = answer_offer(offer, call.local_session, call.rtp_port)
            except NoAcceptableCodec:
                return self._reply(event, 488, now)
            except SdpError:
                return self._reply(event, 400, now, reason="Bad Session Description")
            call.media = media
            body = media.sdp
            out.append(MediaChanged(call.call_id, media))
        else:  # offer-less re-INVITE: we offer what we have; the ACK carries the answer
            direction = call.media.direction if call.media else Direction.SENDRECV
            body = make_offer(call.local_session, call.rtp_port, direction)
        address = request.top_via.response_address(event.source)
        return self._send_ok(call, event.transaction, request, body, now, address) + out

    def _ack(self, request: Request, now: float) -> list[UaEvent]:
        call = self.calls.get(request.call_id)
        if call is None or not call.waiting_ack or request.cseq.number != call.ok_cseq:
            return []  # stray or retransmitted ACK: nothing to do
        call.waiting_ack = False
        out: list[UaEvent] = []
        if request.body and call.offer is None and call.media is None:
            out.extend(self._apply_ack_answer(call, request))
        first = call.state == CallState.ANSWERED
        call.state = CallState.CONFIRMED
        if first:
            out.append(CallEstablished(call.call_id, call.media))
        if call.hangup_after_ack:
            out.extend(self._send_bye(call, now))
            out.extend(self._end(call, EndReason.LOCAL_BYE))
        return out

    def _apply_ack_answer(self, call: Call, request: Request) -> list[UaEvent]:
        """Delayed offer: our offer went in the 200, the caller's answer is in the ACK."""
        try:
            media = answer_offer(parse_sdp(request.body), call.local_session, call.rtp_port)
        except SdpError as exc:
            logger.info("unusable SDP answer in ACK for %s: %s", call.call_id, exc)
            return []
        call.media = media
        return []

    def _cancel(self, event: RequestReceived, now: float) -> list[UaEvent]:
        invite_key = self.layer.find_invite(event.request)
        if invite_key is None:
            return self._reply(event, 481, now)
        out = self._reply(event, 200, now)
        if self.layer.server_state(invite_key) != State.PROCEEDING:
            return out  # already answered: the CANCEL has no effect (RFC 3261 9.2)
        call = self.calls.get(event.request.call_id)
        invite = self.layer.server_request(invite_key)
        assert invite is not None
        tag = call.local_tag if call else secrets.token_hex(6)
        out.extend(self.layer.respond(invite_key, make_response(invite, 487, to_tag=tag), now))
        if call is not None:
            out.extend(self._end(call, EndReason.CANCELLED))
        return out

    def _response(self, event: ResponseReceived, now: float) -> list[UaEvent]:
        key = event.transaction
        for registration in self.registrations:
            if key is not None and registration.pending == key:
                return list(registration.on_response(event.response, now))
        try:
            outgoing = self.dialer.on_response(event.response, key, now)
        except ParseError as exc:  # a hostile answer must not take the UA down
            logger.info("unusable response to our request: %s", exc)
            return []
        if outgoing is not None:
            return [self._confirmed(e) if isinstance(e, DialogConfirmed) else e for e in outgoing]
        if key is not None and key in self._bye_keys and event.response.status >= 200:
            del self._bye_keys[key]
        return []

    def _timeout(self, event: TransactionTimeout, now: float) -> list[UaEvent]:
        for registration in self.registrations:
            if registration.pending == event.transaction:
                return list(registration.on_timeout(now))
        outgoing = self.dialer.on_timeout(event.transaction, now)
        if outgoing is not None:
            return list(outgoing)
        if event.server and event.method == "INVITE":
            # Timer H: our non-2xx final response was never acknowledged; nothing to undo.
            return []
        self._bye_keys.pop(event.transaction, None)
        return []

    # --- commands from the application -------------------------------------------

    def register(self, account: TrunkAccount, now: float) -> list[UaEvent]:
        """Register to a trunk and keep the registration fresh (see registration.py)."""
        registration = Registration(self.layer, account)
        self.registrations.append(registration)
        return list(registration.start(now))

    def invite(
        self,
        target: str,
        destination: Address,
        rtp_port: int,
        now: float,
        *,
        caller: str = "12345",
        display_name: str | None = None,
        call_id: str | None = None,
        extra_headers: Sequence[tuple[str, str]] = (),
        auth: tuple[str, str] | None = None,
    ) -> tuple[str, list[UaEvent]]:
        """Call `target` (the Request-URI) by sending our INVITE to `destination`.

        `destination` is where the phone or trunk really is (a binding's address behind NAT).
        `OutgoingProgress`, then `OutgoingAnswered` or `OutgoingFailed` follow; `auth`
        (user, password) answers one 401/407 challenge, as trunks ask.
        """
        if call_id is not None and (call_id in self.calls or call_id in self.dialer.pending):
            raise ValueError(f"Call-ID {call_id!r} is in use")
        session = LocalSession(self.media_address, secrets.randbelow(2**31))
        call_id, events = self.dialer.invite(
            target, destination, rtp_port, now, local_session=session, caller=caller,
            display_name=display_name, call_id=call_id, extra_headers=extra_headers, auth=auth,
        )
        return call_id, list(events)

    def ring(self, call_id: str, now: float) -> list[UaEvent]:
        call = self._call(call_id)
        response = make_response(call.invite, 180, to_tag=call.local_tag, extra_headers=self._contact())
        return list(self.layer.respond(call.invite_key, response, now))

    def answer(self, call_id: str, rtp_port: int, now: float) -> list[UaEvent]:
        """Send 200 OK with our SDP; `CallEstablished` follows when the ACK arrives."""
        call = self._call(call_id)
        if call.state != CallState.RINGING:
            return []
        call.rtp_port = rtp_port
        if call.offer is not None:
            call.media = answer_offer(call.offer, call.local_session, rtp_port)
            body = call.media.sdp
        else:
            body = make_offer(call.local_session, rtp_port)
        call.state = CallState.ANSWERED
        return self._send_ok(call, call.invite_key, call.invite, body, now)

    def reject(self, call_id: str, status: int, now: float) -> list[UaEvent]:
        call = self._call(call_id)
        if call.state != CallState.RINGING:
            return []
        response = make_response(call.invite, status, to_tag=call.local_tag)
        out = list(self.layer.respond(call.invite_key, response, now))
        return out + self._end(call, EndReason.REJECTED)

    def hangup(self, call_id: str, now: float) -> list[UaEvent]:
        if call_id in self.dialer.pending:  # our INVITE has no final response yet: CANCEL
            return list(self.dialer.hangup(call_id, now))
        call = self.calls.get(call_id)
        if call is None or call.state == CallState.ENDED:
            return []
        if call.state == CallState.RINGING:
            return self.reject(call_id, 480, now)
        if call.state == CallState.ANSWERED or call.waiting_ack:
            call.hangup_after_ack = True  # RFC 3261 15: no BYE before the ACK
            return []
        return self._send_bye(call, now) + self._end(call, EndReason.LOCAL_BYE)

    # --- helpers -------------------------------------------------------------------

    def _call(self, call_id: str) -> Call:
        call = self.calls.get(call_id)
        if call is None:
            raise KeyError(f"no call {call_id!r}")
        return call

    def _contact(self) -> list[tuple[str, str]]:
        return [("Contact", f"<sip:hotline@{self.local_host}:{self.local_port}>")]

    def _reply(
        self,
        event: RequestReceived,
        status: int,
        now: float,
        extra: list[tuple[str, str]] | None = None,
        reason: str | None = None,
    ) -> list[UaEvent]:
        if event.transaction is None:
            return []
        call = self.calls.get(event.request.headers.get("Call-ID") or "")
        to_tag = call.local_tag if call else secrets.token_hex(6)
        response = make_response(
            event.request, status, reason, to_tag=to_tag, extra_headers=extra or []
        )
        return list(self.layer.respond(event.transaction, response, now))

    def _send_ok(
        self,
        call: Call,
        key: TransactionKey | None,
        request: Request,
        body: bytes,
        now: float,
        address: Address | None = None,
    ) -> list[UaEvent]:
        assert key is not None
        response = make_response(
            request,
            200,
            to_tag=call.local_tag,
            extra_headers=[*self._contact(), ("Allow", self.allow), ("Content-Type", "application/sdp")],
            body=body,
        )
        out: list[UaEvent] = list(self.layer.respond(key, response, now))
        call.ok_bytes = response.to_bytes()
        call.ok_cseq = request.cseq.number
        call.ok_interval = T1
        call.ok_next = now + T1
        call.ok_give_up = now + 64 * T1
        call.ok_address = address
        call.waiting_ack = True
        self._arm_call(call, "ok")
        self._arm_call(call, "give_up")
        return out

    def _send_bye(self, call: Call, now: float) -> list[UaEvent]:
        call.local_cseq += 1
        invite = call.invite
        headers = Headers()
        for route in call.route_set:  # already in the order to use (reversed by a UAC)
            headers.add("Route", route)
        if call.outgoing:
            headers.add("From", call.local_party)
            headers.add("To", call.remote_party)
        else:
            local = parse_name_addr(invite.headers.get("To") or "")
            local.params["tag"] = call.local_tag
            headers.add("From", str(local))
            headers.add("To", invite.headers.get("From") or "")
        headers.add("Call-ID", call.call_id)
        headers.add("CSeq", f"{call.local_cseq} BYE")
        headers.add("Max-Forwards", "70")
        bye = Request(headers=headers, body=b"", method="BYE", uri=call.remote_target)
        key, events = self.layer.send_request(bye, self._destination(call), now)
        self._bye_keys[key] = call.call_id
        return list(events)

    def _destination(self, call: Call) -> Address:
        """Where our in-dialog requests go (RFC 3261 12.2.1.1, without DNS).

        The first Record-Route hop if there is one; else the peer's Contact, unless the
        peer is behind NAT (its Contact is then a private address) or names a host we
        would have to resolve: then back where its packets came from (or went to).
        """
        return next_hop(call.route_set, call.remote_target, call.behind_nat, call.source)

    def _confirmed(self, confirmed: DialogConfirmed) -> OutgoingAnswered:
        """Our INVITE's 2xx is ACKed: from now on the call is a dialog like the others."""
        outgoing, dialog = confirmed.call, confirmed.dialog
        self.calls[outgoing.call_id] = Call(
            call_id=outgoing.call_id,
            local_tag=outgoing.local_tag,
            remote_tag=dialog.remote_tag,
            invite=outgoing.invite,
            invite_key=outgoing.key,
            source=outgoing.destination,
            response_address=outgoing.destination,
            behind_nat=outgoing.through_outbound_address,
            local_session=outgoing.local_session,
            offer=None,
            state=CallState.CONFIRMED,
            rtp_port=outgoing.rtp_port,
            media=confirmed.media,
            remote_cseq=-1,  # RFC 3261 12.1.2: empty until the callee sends a request
            local_cseq=outgoing.cseq,
            route_set=list(dialog.route_set),
            remote_target=dialog.remote_target,
            outgoing=True,
            local_party=dialog.local_party,
            remote_party=dialog.remote_party,
        )
        return OutgoingAnswered(outgoing.call_id, confirmed.media)

    def _end(self, call: Call, reason: EndReason) -> list[UaEvent]:
        if call.state == CallState.ENDED:
            return []
        call.state = CallState.ENDED
        call.waiting_ack = False
        del self.calls[call.call_id]
        return [CallEnded(call.call_id, reason)]


def _behind_nat(via: Via) -> bool:
    """True when the receiving side had to annotate the Via (RFC 3581 semantics)."""
    if "received" in via.params:
        return True
    rport = via.params.get("rport")
    return rport is not None and rport != str(via.port or 5060)


def _contact_uri(request: Request) -> str | None:
    values = request.headers.get_all("Contact")
    if not values:
        return None
    try:
        return parse_name_addr(values[0]).uri
    except ParseError:
        return None


def _user_of(uri: str) -> str | None:
    try:
        return parse_uri(uri).user
    except ParseError:
        return None


__all__ = [
    "CallEnded",
    "CallEstablished",
    "CallState",
    "EndReason",
    "IncomingCall",
    "MediaChanged",
    "MessageDropped",
    "OutgoingAnswered",
    "OutgoingFailed",
    "OutgoingProgress",
    "PhoneRegistered",
    "PhoneUnregistered",
    "RegistrationRejected",
    "Send",
    "UaEvent",
    "UserAgent",
]
