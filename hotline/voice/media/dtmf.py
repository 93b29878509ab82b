"""RFC 4733 telephone-events: a receiver that reports each digit once, and a sender.

An event is identified by its RTP timestamp (the event's start); every packet of one key
press carries the same timestamp, including the three redundant end packets and any
duplicates the network adds. A new press of the same key has a new timestamp.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass

from hotline.voice.media.rtp import RtpError, RtpPacket

EVENT_CODES = "0123456789*#ABCD"
_PAYLOAD = struct.Struct("!BBH")
SAMPLES_PER_PACKET = 160  # 20 ms at 8 kHz


class DtmfError(RtpError):
    """A telephone-event payload that cannot be decoded."""


@dataclass(frozen=True)
class TelephoneEvent:
    event: int
    end: bool
    volume: int
    duration: int

    @property
    def digit(self) -> str | None:
        return EVENT_CODES[self.event] if self.event < len(EVENT_CODES) else None

    def to_bytes(self) -> bytes:
        return _PAYLOAD.pack(self.event, (0x80 if self.end else 0) | (self.volume & 0x3F), self.duration)


def parse_event(payload: bytes) -> TelephoneEvent:
    if len(payload) < _PAYLOAD.size:
        raise DtmfError("telephone-event payload shorter than 4 bytes")
    event, flags, duration = _PAYLOAD.unpack_from(payload)
    return TelephoneEvent(event=event, end=bool(flags & 0x80), volume=flags & 0x3F, duration=duration)


@dataclass(frozen=True)
class DtmfDigit:
    digit: str
    timestamp: int  # RTP timestamp of the event's start
    ssrc: int


class DtmfReceiver:
    """Feed it the telephone-event packets of one call; it returns each new digit once.

    The digit is reported on the first packet of an event (lowest latency for menus);
    later packets of the same event, in any order and any number, are absorbed.

    With `now` (a monotonic time) given, an event whose packets stopped more than
    `forget_after` seconds ago is forgotten: a sender replaying a captured key press
    (sipp's play_pcap_audio sends the same timestamps every time) then counts as a new
    press, while duplicates and the redundant end packets, which follow within tens of
    milliseconds, are still absorbed.
    """

    def __init__(
        self, payload_type: int | None = 101, memory: int = 32, forget_after: float = 1.0
    ) -> None:
        self.payload_type = payload_type
        self.memory = memory
        self.forget_after = forget_after
        self._last_seen: OrderedDict[tuple[int, int], float | None] = OrderedDict()

    def receive(self, packet: RtpPacket, now: float | None = None) -> DtmfDigit | None:
        if self.payload_type is not None and packet.payload_type != self.payload_type:
            return None
        event = parse_event(packet.payload)
        digit = event.digit
        if digit is None:  # tones and line events beyond DTMF are not digits
            return None
        key = (packet.ssrc, packet.timestamp)
        seen = key in self._last_seen
        last = self._last_seen.get(key)
        if seen and (now is None or last is None or now - last <= self.forget_after):
            self._last_seen[key] = now
            return None
        self._last_seen[key] = now
        self._last_seen.move_to_end(key)
        while len(self._last_seen) > self.memory:
            self._last_seen.popitem(last=False)
        return DtmfDigit(digit=digit, timestamp=packet.timestamp, ssrc=packet.ssrc)


def event_packets(
    digit: str,
    *,
    payload_type: int,
    ssrc: int,
    first_sequence: int,
    timestamp: int,
    duration_ms: int = 100,
    volume: int = 10,
    end_repeats: int = 3,
) -> list[RtpPacket]:
    """The packets of one key press, to be sent one per 20 ms (RFC 4733 2.5.1).

    The first carries the marker bit; durations grow by 160 samples per packet; the end
    packet is sent `end_repeats` times (new sequence numbers, same duration).
    """
    if len(digit) != 1 or digit.upper() not in EVENT_CODES:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    code = EVENT_CODES.index(digit.upper())
    steps = max(1, duration_ms // 20)
    packets: list[RtpPacket] = []
    for index in range(steps + end_repeats - 1):
        end = index >= steps - 1
        duration = SAMPLES_PER_PACKET * min(index + 1, steps)
        packets.append(
            RtpPacket(
                payload_type=payload_type,
                sequence=(first_sequence + index) & 0xFFFF,
                timestamp=timestamp & 0xFFFFFFFF,
                ssrc=ssrc,
                payload=TelephoneEvent(code, end, volume, duration).to_bytes(),
                marker=index == 0,
            )
        )
    return packets
