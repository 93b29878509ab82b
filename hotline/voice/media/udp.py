"""The asyncio adapter for one call's RTP socket around a sans-I/O `MediaSession`.

Sending is driven by the loop's `MediaClock` (one 20 ms tick for every call), not by a
timer per call: `attach` puts the session's pacer on the clock's grid and registers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, cast

from hotline.voice.media.clock import MediaClock, media_clock
from hotline.voice.media.dtmf import DtmfDigit
from hotline.voice.media.session import MediaSession

logger = logging.getLogger(__name__)


class RtpEndpoint(asyncio.DatagramProtocol):
    """Receives into the session at once; sends its due packets on the media clock's ticks.

    `send_times` keeps the monotonic time (`time.monotonic`, the clock asyncio's loop uses)
    at which every packet was handed to the socket when `measure` is set, for the pacing
    benchmark and tests.
    """

    def __init__(self, on_digit: Callable[[DtmfDigit], None], *, measure: bool = False) -> None:
        self.on_digit = on_digit
        self.session: MediaSession | None = None
        self.transport: asyncio.DatagramTransport | None = None
        self._clock: MediaClock | None = None
        self.measure = measure
        self.send_times: list[float] = []

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def attach(self, session: MediaSession) -> None:
        """Start sending: from now on the clock's ticks send the session's due packets."""
        self.session = session
        if self.transport is None:
            return  # closed already (the call ended while it was being set up)
        clock = self._clock = media_clock()
        pacer = session.pacer
        if pacer.next_index == 0:
            pacer.start = clock.align(pacer.start)  # its slots fall on the clock's ticks
        clock.add_stream(self)

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
        if self._clock is not None:
            self._clock.remove(self)
            self._clock = None
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def on_tick(self, tick_time: float) -> None:
        """One tick of the media clock: send what the session has due at `tick_time`."""
        session, transport = self.session, self.transport
        if session is None or transport is None:
            return
        packets = session.due_packets(tick_time)
        if not packets:
            return
        remote = session.remote
        for packet in packets:
            transport.sendto(packet, remote)
        if self.measure:
            sent = time.monotonic()
            self.send_times.extend([sent] * len(packets))


async def open_rtp_endpoint(
    host: str, on_digit: Callable[[DtmfDigit], None], *, port: int = 0, measure: bool = False
) -> RtpEndpoint:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(
        lambda: RtpEndpoint(on_digit, measure=measure), local_addr=(host, port)
    )
    assert isinstance(protocol, RtpEndpoint)
    return protocol
