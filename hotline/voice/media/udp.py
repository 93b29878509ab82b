"""The asyncio adapter for one call's RTP socket around a sans-I/O `MediaSession`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, cast

from hotline.voice.media.dtmf import DtmfDigit
from hotline.voice.media.session import MediaSession

logger = logging.getLogger(__name__)


class RtpEndpoint(asyncio.DatagramProtocol):
    """Receives into the session at once; sends its due packets on a drift-free schedule.

    `send_times` keeps the monotonic send time of every packet when `measure` is set,
    for the pacing benchmark and tests.
    """

    def __init__(self, on_digit: Callable[[DtmfDigit], None], *, measure: bool = False) -> None:
        self.on_digit = on_digit
        self.session: MediaSession | None = None
        self.transport: asyncio.DatagramTransport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.measure = measure
        self.send_times: list[float] = []

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def attach(self, session: MediaSession) -> None:
        """Start sending: from now on the session's pacer drives the timer."""
        self.session = session
        self._schedule()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.session is None:
            return  # media before the ACK: nothing to do with it yet
        loop = asyncio.get_running_loop()
        for digit in self.session.receive(data, (str(addr[0]), int(addr[1])), loop.time()):
            try:
                self.on_digit(digit)
            except Exception:
                logger.exception("DTMF handler failed")

    def error_received(self, exc: Exception) -> None:
        logger.debug("RTP socket error: %s", exc)  # ICMP unreachable while the peer starts

    def connection_lost(self, exc: Exception | None) -> None:
        self.close()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def _schedule(self) -> None:
        if self.session is None or self.transport is None:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(self.session.next_due(), self._send_due)

    def _send_due(self) -> None:
        self._timer = None
        if self.session is None or self.transport is None:
            return
        now = asyncio.get_running_loop().time()
        for packet in self.session.due_packets(now):
            self.transport.sendto(packet, self.session.remote)
            if self.measure:
                self.send_times.append(now)
        self._schedule()


async def open_rtp_endpoint(
    host: str, on_digit: Callable[[DtmfDigit], None], *, port: int = 0, measure: bool = False
) -> RtpEndpoint:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(
        lambda: RtpEndpoint(on_digit, measure=measure), local_addr=(host, port)
    )
    assert isinstance(protocol, RtpEndpoint)
    return protocol
