"""The asyncio adapter: a UDP DatagramProtocol around the sans-I/O `UserAgent`.

It only moves bytes and time: datagrams in, `Send` events out, one timer handle set to
the user agent's next deadline. Everything else goes to the application's callback.
An exception in the application's callback is logged and never kills the endpoint.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, cast

from hotline.voice.sip.registration import TrunkAccount
from hotline.voice.sip.transaction import Address, MessageDropped, Send
from hotline.voice.sip.useragent import UaEvent, UserAgent

logger = logging.getLogger(__name__)

EventHandler = Callable[["SipEndpoint", UaEvent], None]


class SipEndpoint(asyncio.DatagramProtocol):
    def __init__(self, agent: UserAgent, on_event: EventHandler) -> None:
        self.agent = agent
        self.on_event = on_event
        self.transport: asyncio.DatagramTransport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self.dropped = 0

    # --- asyncio callbacks -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        source = (str(addr[0]), int(addr[1]))
        try:
            events = self.agent.receive(data, source, self._now())
        except Exception:  # a bug in the core must not take every other call down
            logger.exception("SIP core failed on a datagram from %s", source)
            return
        self._dispatch(events)

    def error_received(self, exc: Exception) -> None:
        logger.warning("SIP socket error: %s", exc)  # e.g. ICMP port unreachable

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.transport = None

    # --- commands from the application ------------------------------------------------

    def answer(self, call_id: str, rtp_port: int) -> None:
        self._dispatch(self.agent.answer(call_id, rtp_port, self._now()))

    def reject(self, call_id: str, status: int) -> None:
        self._dispatch(self.agent.reject(call_id, status, self._now()))

    def hangup(self, call_id: str) -> None:
        """End a call either way: BYE once established, CANCEL while our INVITE rings."""
        self._dispatch(self.agent.hangup(call_id, self._now()))

    def invite(self, target: str, destination: Address, rtp_port: int, **options: Any) -> str:
        """Place a call (see `UserAgent.invite` for the options); returns its Call-ID."""
        call_id, events = self.agent.invite(target, destination, rtp_port, self._now(), **options)
        self._dispatch(events)
        return call_id

    def register(self, account: TrunkAccount) -> None:
        self._dispatch(self.agent.register(account, self._now()))

    def ring(self, call_id: str) -> None:
        self._dispatch(self.agent.ring(call_id, self._now()))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # --- internals -----------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _dispatch(self, events: list[UaEvent]) -> None:
        for event in events:
            if isinstance(event, Send):
                if self.transport is not None:
                    self.transport.sendto(event.data, event.address)
            elif isinstance(event, MessageDropped):
                self.dropped += 1
            else:
                try:
                    self.on_event(self, event)
                except Exception:
                    logger.exception("SIP event handler failed on %r", event)
        self._schedule()

    def _schedule(self) -> None:
        deadline = self.agent.next_deadline()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is not None:
            self._timer = asyncio.get_running_loop().call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        try:
            events = self.agent.tick(self._now())
        except Exception:
            logger.exception("SIP core failed in tick")
            events = []
        self._dispatch(events)


async def open_sip_endpoint(
    host: str,
    port: int,
    on_event: EventHandler,
    *,
    advertised_host: str | None = None,
    **agent_options: Any,
) -> SipEndpoint:
    """Bind a UDP socket and serve SIP on it; `advertised_host` goes into Via and Contact."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: SipEndpoint(UserAgent("0.0.0.0", 0), on_event),  # noqa: S104 (replaced below)
        local_addr=(host, port),
    )
    endpoint = transport.get_protocol()
    assert isinstance(endpoint, SipEndpoint)
    bound_port = transport.get_extra_info("sockname")[1]
    endpoint.agent = UserAgent(advertised_host or host, bound_port, **agent_options)
    return endpoint
