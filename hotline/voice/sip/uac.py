"""Outgoing calls, the INVITE client side until the dialog is confirmed (RFC 3261 13.2), sans-I/O.

The `Dialer` sends our INVITE (with our SDP offer), reports 180/183 as `OutgoingProgress`,
answers a 401/407 once when it was given credentials, CANCELs when asked (RFC 3261 9.1),
and on a 2xx builds the dialog and sends the ACK (the UA's job for a 2xx, RFC 3261 13.2.2.4).
The confirmed dialog is then handed to the user agent (`DialogConfirmed`), which treats it
like an incoming call: the callee's BYE and re-INVITE (hold) take the same paths.

Every ACK we sent is remembered for 64*T1, the time a callee retransmits its 2xx, so a
retransmitted 2xx is ACKed again even after the call ended, and a 2xx from a second fork
(or one that crossed our CANCEL) is ACKed and then ended with a BYE.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from hotline.voice.sdp import (
    AudioAnswer,
    LocalSession,
    SdpError,
    accept_answer,
    make_offer,
    parse_sdp,
)
from hotline.voice.sip.auth import DigestChallenge, authorization, parse_challenge
from hotline.voice.sip.deadlines import Deadlines
from hotline.voice.sip.message import (
    Headers,
    ParseError,
    Request,
    Response,
    parse_name_addr,
    parse_uri,
)
from hotline.voice.sip.transaction import (
    T1,
    Address,
    Event,
    Send,
    TransactionKey,
    TransactionLayer,
)

logger = logging.getLogger(__name__)

CANCEL_GRACE = 64 * T1  # RFC 3261 9.1: no final response this long after CANCEL: give up
RESERVED_HEADERS = frozenset(
    {"via", "from", "to", "call-id", "cseq", "contact", "content-type", "content-length",
     "max-forwards", "authorization", "proxy-authorization", "route"}
)


@dataclass(frozen=True)
class OutgoingProgress:
    call_id: str
    status: int  # 180 Ringing, 183 Session Progress, ...


@dataclass(frozen=True)
class OutgoingAnswered:
    call_id: str
    media: AudioAnswer | None  # None when the callee's 2xx carried no SDP answer


@dataclass(frozen=True)
class OutgoingFailed:
    call_id: str
    status: int  # the final response (>= 300), 408 when nobody answered, 487 after our CANCEL
    reason: str


@dataclass(frozen=True)
class Dialog:
    """What RFC 3261 12.1.2 takes from the 2xx, plus where its requests go."""

    call_id: str
    local_tag: str
    remote_tag: str | None
    route_set: tuple[str, ...]  # Record-Route reversed
    remote_target: str  # the 2xx's Contact
    local_party: str  # our From (with our tag)
    remote_party: str  # their To (with their tag)
    next_hop: Address


@dataclass(frozen=True)
class DialogConfirmed:
    """Internal: the user agent turns this into a confirmed `Call` and `OutgoingAnswered`."""

    call: OutgoingCall
    dialog: Dialog
    media: AudioAnswer | None


@dataclass
class OutgoingCall:
    call_id: str
    local_tag: str
    invite: Request  # the last INVITE sent (a second one after a challenge)
    key: TransactionKey
    destination: Address
    local_session: LocalSession
    rtp_port: int
    offer: bytes
    cseq: int = 1
    auth: tuple[str, str] | None = None
    answered_nonces: set[str] = field(default_factory=set)
    provisional: bool = False  # a 1xx arrived: a CANCEL may now be sent (RFC 3261 9.1)
    hangup_requested: bool = False
    cancel_key: TransactionKey | None = None
    give_up_at: float | None = None
    ring_deadline: float = float("inf")  # then we CANCEL by ourselves (a safety net)
    timed_out: bool = False  # that CANCEL was ours, not the application's
    early_answer: bytes = b""  # SDP in an unreliable 1xx, used when the 2xx has none

    @property
    def through_outbound_address(self) -> bool:
        """The INVITE did not go to its Request-URI's own address (a NAT binding or a proxy).

        In-dialog requests then go back there too, unless the dialog has a route set.
        """
        try:
            uri = parse_uri(self.invite.uri)
        except ParseError:
            return True
        return (uri.host, uri.port or 5060) != self.destination


@dataclass
class _SentAck:
    remote_tag: str | None
    data: bytes
    address: Address
    forget_at: float


class Dialer:
    """The user agent's outgoing calls before (and just after) their final response."""

    def __init__(self, layer: TransactionLayer, contact: str, allow: str, ring_timeout: float) -> None:
        self.layer = layer
        self.contact = contact  # our Contact header value
        self.allow = allow
        self.ring_timeout = ring_timeout
        self.pending: dict[str, OutgoingCall] = {}
        self._by_key: dict[TransactionKey, str] = {}  # INVITE and CANCEL keys -> Call-ID
        self._acks: dict[str, list[_SentAck]] = {}
        # (kind, Call-ID) by deadline: a call's ring deadline or CANCEL grace ("call"), an
        # ACK to forget ("ack"). Entries made stale by what happened since are skipped when
        # they come up (``_live``): tick and next_deadline touch only what is due, not every
        # pending call after every datagram.
        self._deadlines: Deadlines[tuple[str, str]] = Deadlines(self._live)

    def _arm(self, when: float, kind: str, call_id: str) -> None:
        self._deadlines.push(when, (kind, call_id))

    def _live(self, when: float, deadline: tuple[str, str]) -> bool:
        kind, call_id = deadline
        if kind == "ack":
            return any(ack.forget_at == when for ack in self._acks.get(call_id, ()))
        call = self.pending.get(call_id)
        return call is not None and (call.give_up_at == when or (
            call.ring_deadline == when and not call.hangup_requested))

    # --- commands ------------------------------------------------------------------

    def invite(
        self,
        target: str,
        destination: Address,
        rtp_port: int,
        now: float,
        *,
        local_session: LocalSession,
        caller: str,
        display_name: str | None,
        call_id: str | None,
        extra_headers: Sequence[tuple[str, str]],
        auth: tuple[str, str] | None,
    ) -> tuple[str, list[Event]]:
        parse_uri(target)  # ParseError (a ValueError) for the caller's mistake
        for name, _ in extra_headers:
            if name.lower() in RESERVED_HEADERS:
                raise ValueError(f"{name} is set by the user agent")
        call_id = call_id or f"{secrets.token_hex(12)}@{self.layer.local_host}"
        local_tag = secrets.token_hex(6)
        name = f'"{_quoted(display_name)}" ' if display_name else ""
        offer = make_offer(local_session, rtp_port)
        headers = Headers()
        headers.add("Max-Forwards", "70")
        headers.add("From", f"{name}<sip:{caller}@{self.layer.local_host}>;tag={local_tag}")
        headers.add("To", f"<{target}>")
        headers.add("Call-ID", call_id)
        headers.add("CSeq", "1 INVITE")
        headers.add("Contact", self.contact)
        headers.add("Allow", self.allow)
        for header, value in extra_headers:
            headers.add(header, value)
        headers.add("Content-Type", "application/sdp")
        invite = Request(headers=headers, body=offer, method="INVITE", uri=target)
        key, events = self.layer.send_request(invite, destination, now)
        self.pending[call_id] = OutgoingCall(
            call_id=call_id,
            local_tag=local_tag,
            invite=invite,
            key=key,
            destination=destination,
            local_session=local_session,
            rtp_port=rtp_port,
            offer=offer,
            auth=auth,
            ring_deadline=now + self.ring_timeout,
        )
        self._arm(now + self.ring_timeout, "call", call_id)
        self._by_key[key] = call_id
        return call_id, list(events)

    def hangup(self, call_id: str, now: float) -> list[Event]:
        """CANCEL once a provisional response has come; until then, just remember it."""
        call = self.pending.get(call_id)
        if call is None or call.hangup_requested:
            return []
        call.hangup_requested = True
        return self._send_cancel(call, now) if call.provisional else []

    # --- responses and time -----------------------------------------------------------

    def on_response(
        self, response: Response, key: TransactionKey | None, now: float
    ) -> list[Event | OutgoingProgress | OutgoingFailed | DialogConfirmed] | None:
        """What a response to our INVITE or CANCEL means; None when it is not ours."""
        call_id = self._by_key.get(key) if key is not None else None
        call = self.pending.get(call_id) if call_id is not None else None
        if call is None or key != call.key:
            # A retransmitted 2xx (its dialog already confirmed), or a 2xx of another fork,
            # our CANCEL's answer, or an answer to an INVITE we sent again with credentials.
            if 200 <= response.status < 300 and response.cseq.method == "INVITE":
                return self._late_2xx(response, now)
            return [] if call_id is not None else None
        if response.status < 200:
            return self._provisional(call, response, now)
        self._forget_keys(call)
        if response.status < 300:
            return self._answered(call, response, now)
        return self._final_failure(call, response, now)

    def on_timeout(self, key: TransactionKey, now: float) -> list[Event | OutgoingFailed] | None:
        call_id = self._by_key.pop(key, None)
        if call_id is None:
            return None
        call = self.pending.get(call_id)
        if call is None or key != call.key:
            return []  # our CANCEL timed out: the INVITE's own outcome still decides
        self._forget_keys(call)
        del self.pending[call_id]
        if call.hangup_requested and not call.timed_out:
            return [OutgoingFailed(call_id, 487, "cancelled before any answer")]
        return [OutgoingFailed(call_id, 408, "no answer from the callee")]

    def tick(self, now: float) -> list[Event | OutgoingFailed]:
        out: list[Event | OutgoingFailed] = []
        for _, (kind, call_id) in self._deadlines.due(now):
            if kind == "ack":
                kept = [ack for ack in self._acks[call_id] if ack.forget_at > now]
                if kept:
                    self._acks[call_id] = kept
                else:
                    del self._acks[call_id]
                continue
            call = self.pending[call_id]
            if call.give_up_at is not None and now >= call.give_up_at:
                # The callee ignored our CANCEL and never answered: stop waiting.
                self._forget_keys(call)
                del self.pending[call.call_id]
                out.append(self._cancelled(call, 487, "no final response after CANCEL"))
            elif now >= call.ring_deadline and not call.hangup_requested:
                # It rang for ring_timeout and the application did not hang up: we do.
                call.timed_out = True
                out.extend(self.hangup(call.call_id, now))
        return out

    def next_deadline(self) -> float | None:
        return self._deadlines.next_deadline()

    # --- internals -----------------------------------------------------------------

    def _provisional(
        self, call: OutgoingCall, response: Response, now: float
    ) -> list[Event | OutgoingProgress | OutgoingFailed | DialogConfirmed]:
        out: list[Event | OutgoingProgress | OutgoingFailed | DialogConfirmed] = []
        first = not call.provisional
        call.provisional = True
        if response.body and _is_sdp(response):
            call.early_answer = response.body
        if call.hangup_requested:
            if first:
                out.extend(self._send_cancel(call, now))
            return out
        if response.status > 100:
            out.append(OutgoingProgress(call.call_id, response.status))
        return out

    def _answered(
        self, call: OutgoingCall, response: Response, now: float
    ) -> list[Event | OutgoingProgress | OutgoingFailed | DialogConfirmed]:
        del self.pending[call.call_id]
        try:
            dialog = dialog_from_2xx(call, response)
        except ParseError as exc:
            logger.info("unusable 2xx for %s: %s", call.call_id, exc)
            return [OutgoingFailed(call.call_id, 502, "malformed answer")]
        out: list[Event | OutgoingProgress | OutgoingFailed | DialogConfirmed] = []
        out.extend(self._send_ack(dialog, call.cseq, now))
        if call.hangup_requested:  # the 2xx crossed our CANCEL: ACK it, then end it
            out.extend(self._send_bye(dialog, call.cseq + 1, now))
            out.append(self._cancelled(call, 487, "cancelled"))
            return out
        body = response.body if response.body and _is_sdp(response) else call.early_answer
        media = None
        if body:
            try:
                media = accept_answer(call.offer, parse_sdp(body))
            except SdpError as exc:  # RFC 3264 gives no way to reject an answer: end the call
                logger.info("unusable SDP answer for %s: %s", call.call_id, exc)
                out.extend(self._send_bye(dialog, call.cseq + 1, now))
                out.append(OutgoingFailed(call.call_id, 488, "unusable SDP answer"))
                return out
        out.append(DialogConfirmed(call, dialog, media))
        return out

    def _final_failure(
        self, call: OutgoingCall, response: Response, now: float
    ) -> list[Event | OutgoingProgress | OutgoingFailed | DialogConfirmed]:
        # The transaction has ACKed it already (RFC 3261 17.1.1.3).
        if response.status in (401, 407) and call.auth is not None and not call.hangup_requested:
            retry = self._authenticated_retry(call, response, now)
            if retry is not None:
                return list(retry)
        del self.pending[call.call_id]
        if call.hangup_requested and response.status == 487:
            return [self._cancelled(call, 487, response.reason or "Request Terminated")]
        return [OutgoingFailed(call.call_id, response.status, response.reason)]

    def _authenticated_retry(self, call: OutgoingCall, response: Response, now: float) -> list[Event] | None:
        """Send the INVITE again with credentials, once per nonce (a loop means a bad password)."""
        assert call.auth is not None
        proxy = response.status == 407
        challenge = _usable_challenge(response, "Proxy-Authenticate" if proxy else "WWW-Authenticate")
        if challenge is None or (challenge.nonce in call.answered_nonces and not challenge.stale):
            return None
        call.answered_nonces.add(challenge.nonce)
        username, password = call.auth
        value = authorization(challenge, username=username, password=password, method="INVITE",
                              uri=call.invite.uri)
        call.cseq += 1
        headers = Headers()
        for name, header in call.invite.headers:
            if name == "Via" or (name == "Proxy-Authorization" if proxy else name == "Authorization"):
                continue
            headers.add(name, header)
        headers.set("CSeq", f"{call.cseq} INVITE")
        headers.add("Proxy-Authorization" if proxy else "Authorization", value)
        call.invite = Request(headers=headers, body=call.offer, method="INVITE", uri=call.invite.uri)
        call.provisional = False
        call.key, events = self.layer.send_request(call.invite, call.destination, now)
        self._by_key[call.key] = call.call_id
        return list(events)

    def _send_cancel(self, call: OutgoingCall, now: float) -> list[Event]:
        invite = call.invite
        headers = Headers()
        for name in ("Route",):
            for value in invite.headers.get_all(name):
                headers.add(name, value)
        headers.add("Max-Forwards", "70")
        headers.add("From", invite.headers.get("From") or "")
        headers.add("To", invite.headers.get("To") or "")
        headers.add("Call-ID", call.call_id)
        headers.add("CSeq", f"{call.cseq} CANCEL")
        cancel = Request(headers=headers, body=b"", method="CANCEL", uri=invite.uri)
        branch = invite.top_via.branch
        call.cancel_key, events = self.layer.send_request(cancel, call.destination, now, branch=branch)
        self._by_key[call.cancel_key] = call.call_id
        call.give_up_at = now + CANCEL_GRACE
        self._arm(call.give_up_at, "call", call.call_id)
        return list(events)

    def _send_ack(self, dialog: Dialog, cseq: int, now: float) -> list[Event]:
        ack = _in_dialog_request("ACK", dialog, cseq)
        _, events = self.layer.send_request(ack, dialog.next_hop, now)
        data = ack.to_bytes()
        self._acks.setdefault(dialog.call_id, []).append(
            _SentAck(dialog.remote_tag, data, dialog.next_hop, now + 64 * T1)
        )
        self._arm(now + 64 * T1, "ack", dialog.call_id)
        return list(events)

    def _send_bye(self, dialog: Dialog, cseq: int, now: float) -> list[Event]:
        _, events = self.layer.send_request(_in_dialog_request("BYE", dialog, cseq), dialog.next_hop, now)
        return list(events)

    def _late_2xx(
        self, response: Response, now: float
    ) -> list[Event | OutgoingProgress | OutgoingFailed | DialogConfirmed] | None:
        """A retransmitted 2xx gets the same ACK again; one from another fork gets ACK + BYE."""
        try:
            call_id, tag, cseq = response.call_id, response.to.tag, response.cseq.number
        except ParseError:
            return []
        acks = self._acks.get(call_id)
        if acks is None:
            return None  # not one of ours (or long over)
        for ack in acks:
            if ack.remote_tag == tag:
                return [Send(ack.data, ack.address)]
        template = next(iter(acks))
        stray = _stray_dialog(call_id, response, template.address)
        if stray is None:
            return []
        return [*self._send_ack(stray, cseq, now), *self._send_bye(stray, cseq + 1, now)]

    @staticmethod
    def _cancelled(call: OutgoingCall, status: int, reason: str) -> OutgoingFailed:
        """How a cancelled call ended: 408 when we cancelled it on our ring timeout."""
        if call.timed_out:
            return OutgoingFailed(call.call_id, 408, "no answer before the ring timeout")
        return OutgoingFailed(call.call_id, status, reason)

    def _forget_keys(self, call: OutgoingCall) -> None:
        for key in [k for k, cid in self._by_key.items() if cid == call.call_id]:
            del self._by_key[key]


def dialog_from_2xx(call: OutgoingCall, response: Response) -> Dialog:
    """RFC 3261 12.1.2: the UAC's view of the dialog a 2xx creates (ParseError if broken)."""
    remote = response.to  # raises on a broken To
    contacts = response.headers.get_all("Contact")
    remote_target = parse_name_addr(contacts[0]).uri if contacts else call.invite.uri
    parse_uri(remote_target)
    route_set = tuple(reversed(response.headers.get_all("Record-Route")))
    fallback = call.destination
    return Dialog(
        call_id=call.call_id,
        local_tag=call.local_tag,
        remote_tag=remote.tag,
        route_set=route_set,
        remote_target=remote_target,
        local_party=call.invite.headers.get("From") or "",
        remote_party=response.headers.get("To") or "",
        next_hop=next_hop(list(route_set), remote_target, call.through_outbound_address, fallback),
    )


def _stray_dialog(call_id: str, response: Response, address: Address) -> Dialog | None:
    """Enough of a dialog to ACK and BYE a 2xx we do not want (another fork's)."""
    try:
        contacts = response.headers.get_all("Contact")
        target = parse_name_addr(contacts[0]).uri if contacts else ""
        parse_uri(target)
        local = response.from_
        return Dialog(
            call_id=call_id,
            local_tag=local.tag or "",
            remote_tag=response.to.tag,
            route_set=tuple(reversed(response.headers.get_all("Record-Route"))),
            remote_target=target,
            local_party=response.headers.get("From") or "",
            remote_party=response.headers.get("To") or "",
            next_hop=address,
        )
    except ParseError:
        return None


def next_hop(route_set: list[str], remote_target: str, outbound: bool, fallback: Address) -> Address:
    """Where in-dialog requests go (RFC 3261 12.2.1.1, without DNS).

    The first route hop if there is one; else the remote target, when it is an IP address
    and nothing (NAT, proxy) stands between us; else `fallback`, the address that works.
    """
    if route_set:
        try:
            uri = parse_uri(parse_name_addr(route_set[0]).uri)
            return uri.host, uri.port or 5060
        except ParseError:
            pass
    if not outbound:
        try:
            target = parse_uri(remote_target)
            ipaddress.ip_address(target.host)
            return target.host, target.port or 5060
        except (ParseError, ValueError):
            pass
    return fallback


def _in_dialog_request(method: str, dialog: Dialog, cseq: int) -> Request:
    headers = Headers()
    for route in dialog.route_set:
        headers.add("Route", route)
    headers.add("Max-Forwards", "70")
    headers.add("From", dialog.local_party)
    headers.add("To", dialog.remote_party)
    headers.add("Call-ID", dialog.call_id)
    headers.add("CSeq", f"{cseq} {method}")
    return Request(headers=headers, body=b"", method=method, uri=dialog.remote_target)


def _usable_challenge(response: Response, header: str) -> DigestChallenge | None:
    """The first challenge we can answer (RFC 8760: skip algorithms we do not know)."""
    for value in response.headers.get_all(header):
        try:
            return parse_challenge(value)
        except ParseError:
            continue
    return None


def _is_sdp(message: Response) -> bool:
    content_type = (message.headers.get("Content-Type") or "").split(";")[0].strip()
    return content_type.lower() == "application/sdp"


def _quoted(text: str) -> str:
    return "".join(c for c in text if c.isprintable()).replace("\\", "\\\\").replace('"', '\\"')

