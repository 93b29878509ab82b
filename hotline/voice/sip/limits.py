"""Per-source limits on calls and transactions, sans-I/O (no clock, no socket, no Django).

Why: without them one address could take the whole line. Three hundred INVITEs from one
socket that never ACK held every slot of the gateway's global call limit until their 2xx
gave up (64*T1, 32 s), and every other caller got 486. With them a source holds at most
`calls` calls, at most `unconfirmed` of them not yet ACKed, and starts at most `rate` new
transactions a second (bursts of `burst`); the global limit is reached only by many sources.

A source is the real address a request came from: the packet's source address, except
when the packet comes from a trusted proxy (Kamailio in front of the gateways, or a
carrier's SBC): then it is the first hop below the trusted ones in the Via chain, taken
from that Via's `received` (which the proxy wrote, RFC 3261 18.2.1) or its host. A
request a trusted proxy sent on its own (its OPTIONS pings: no Via below its own) has no
source to limit: only the global limit applies to it. Vias are believed only below a
trusted proxy: anyone else could write any Via.

The answer over a limit (RFC 3261 21.5.4 and 21.4.24):
- straight from the source: 503 Service Unavailable with Retry-After: the server is
  overloaded by this client, and a conforming client does not retry before that time;
- through a trusted proxy: 486 Busy Here with Retry-After. A 5xx tells a proxy that this
  *server* is unavailable: it fails over to the next one and marks this one down (RFC 3263;
  our kamailio.cfg does ds_mark_dst on 5xx), so one abusive caller behind the proxy would
  take every gateway out of rotation. A 4xx is about this request from this caller, and
  486 may carry Retry-After.

Spoofed source addresses are not stopped by a per-source limit (each spoofed address has
its own budget); the tables are bounded so that such a flood costs bounded memory, and the
global limit still holds.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from dataclasses import dataclass

from hotline.voice.sip.message import ParseError, Request
from hotline.voice.sip.transaction import Address

MAX_TRACKED_SOURCES = 10_000  # token buckets kept; beyond this the least recently used go
CALL_RETRY_AFTER = 30  # seconds: a source over its call limits (an unACKed 2xx lives 32 s)
DIRECT_STATUS = 503
PROXIED_STATUS = 486


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an IP address or network") from exc


@dataclass(frozen=True)
class SourceLimits:
    """What one source may hold and start. 0 (or less) switches a limit off."""

    calls: int = 10  # concurrent incoming calls, confirmed or not
    unconfirmed: int = 5  # incoming INVITE dialogs not yet confirmed by the ACK of our 2xx
    rate: float = 20.0  # new server transactions per second, sustained ...
    burst: int = 40  # ... after a burst of this many
    trusted: tuple[str, ...] = ()  # proxies' addresses or networks (CIDR)

    @classmethod
    def unlimited(cls) -> SourceLimits:
        return cls(calls=0, unconfirmed=0, rate=0.0, burst=0)


@dataclass(frozen=True)
class Refusal:
    """The answer to a request over a limit: a status and the seconds to wait."""

    status: int
    retry_after: int
    reason: str  # for the log: which limit

    def headers(self) -> list[tuple[str, str]]:
        return [("Retry-After", str(self.retry_after))]


class SourceGuard:
    """The limits of one endpoint: who a request is from, and whether it may start."""

    def __init__(self, limits: SourceLimits) -> None:
        self.limits = limits
        self._trusted = [_network(text) for text in limits.trusted]
        # source -> (tokens, at); dict order is recency of use (re-inserted on every use)
        self._buckets: dict[str, tuple[float, float]] = {}

    # --- who ---------------------------------------------------------------------------

    def is_trusted(self, host: str) -> bool:
        if not self._trusted:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._trusted)

    def origin(self, request: Request, source: Address) -> str | None:
        """The real source of a request, or None for a trusted proxy's own request."""
        host = source[0]
        if not self.is_trusted(host):
            return host
        try:
            vias = request.vias
        except ParseError:
            return None  # a trusted proxy's malformed Via: nothing better to go on
        # vias[0] is the trusted proxy's own; each Via below says where its writer was,
        # as seen by the hop above (received), so walk down past the trusted hops.
        for via in vias[1:]:
            hop = via.params.get("received") or via.host
            if not self.is_trusted(hop):
                return hop
        return None

    def refusal_status(self, origin: str, source: Address) -> int:
        return DIRECT_STATUS if origin == source[0] else PROXIED_STATUS

    # --- how fast ------------------------------------------------------------------------

    def admit(self, origin: str | None, now: float) -> int | None:
        """Take one token for a new transaction: None when admitted, else the seconds to
        wait for the next token (a Retry-After)."""
        rate, burst = self.limits.rate, self.limits.burst
        if origin is None or rate <= 0 or burst <= 0:
            return None
        tokens, at = self._buckets.pop(origin, (float(burst), now))
        tokens = min(float(burst), tokens + max(0.0, now - at) * rate)
        admitted = tokens >= 1.0
        if admitted:
            tokens -= 1.0
        self._buckets[origin] = (tokens, now)
        while len(self._buckets) > MAX_TRACKED_SOURCES:
            del self._buckets[next(iter(self._buckets))]  # least recently used
        if admitted:
            return None
        return max(1, math.ceil((1.0 - tokens) / rate))

    def prune(self, now: float) -> None:
        """Forget the buckets that have filled up again: they hold nothing to remember."""
        rate, burst = self.limits.rate, self.limits.burst
        if rate <= 0:
            self._buckets.clear()
            return
        refill = burst / rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < refill}

    def __len__(self) -> int:
        return len(self._buckets)

    # --- how many ------------------------------------------------------------------------

    def call_refusal(self, origin: str | None, source: Address, states: Iterable[bool]) -> Refusal | None:
        """Whether a new INVITE from `origin` may become a call, given that source's live
        calls (True for each confirmed one, False for each not yet ACKed)."""
        if origin is None:
            return None
        calls = unconfirmed = 0
        for confirmed in states:
            calls += 1
            unconfirmed += not confirmed
        status = self.refusal_status(origin, source)
        if 0 < self.limits.calls <= calls:
            return Refusal(status, CALL_RETRY_AFTER, f"{calls} calls from {origin}")
        if 0 < self.limits.unconfirmed <= unconfirmed:
            return Refusal(status, CALL_RETRY_AFTER, f"{unconfirmed} unconfirmed calls from {origin}")
        return None


def parse_trusted(values: Iterable[str]) -> tuple[str, ...]:
    """Validate addresses and networks for `SourceLimits.trusted` (ValueError names the bad one)."""
    items = tuple(value.strip() for value in values if value.strip())
    for item in items:
        _network(item)
    return items
