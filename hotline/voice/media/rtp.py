"""RTP packets (RFC 3550 section 5.1), sans-I/O."""

from __future__ import annotations

import struct
from dataclasses import dataclass

RTP_VERSION = 2
_HEADER = struct.Struct("!BBHII")
pack_header = _HEADER.pack  # (first byte, second byte, sequence, timestamp, ssrc)


class RtpError(ValueError):
    """The bytes are not a valid RTP packet."""


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    csrcs: tuple[int, ...] = ()

    def to_bytes(self) -> bytes:
        if not 0 <= self.payload_type < 128 or len(self.csrcs) > 15:
            raise RtpError("payload type or CSRC count out of range")
        first = (RTP_VERSION << 6) | len(self.csrcs)
        second = (0x80 if self.marker else 0) | self.payload_type
        header = _HEADER.pack(
            first,
            second,
            self.sequence & 0xFFFF,
            self.timestamp & 0xFFFFFFFF,
            self.ssrc & 0xFFFFFFFF,
        )
        csrcs = b"".join(struct.pack("!I", csrc) for csrc in self.csrcs)
        return header + csrcs + self.payload


def parse_rtp(data: bytes) -> RtpPacket:
    """Decode one RTP packet; header extensions are skipped and padding removed."""
    if len(data) < _HEADER.size:
        raise RtpError("packet shorter than the RTP header")
    first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != RTP_VERSION:
        raise RtpError("not RTP version 2")
    csrc_count = first & 0x0F
    offset = _HEADER.size + 4 * csrc_count
    if len(data) < offset:
        raise RtpError("truncated CSRC list")
    csrcs = struct.unpack_from(f"!{csrc_count}I", data, _HEADER.size)
    if first & 0x10:  # header extension: 16-bit profile, 16-bit length in words
        if len(data) < offset + 4:
            raise RtpError("truncated header extension")
        (words,) = struct.unpack_from("!H", data, offset + 2)
        offset += 4 + 4 * words
        if len(data) < offset:
            raise RtpError("truncated header extension")
    end = len(data)
    if first & 0x20:  # padding: the last byte says how many bytes to drop
        padding = data[-1]
        if padding == 0 or end - padding < offset:
            raise RtpError("invalid padding")
        end -= padding
    return RtpPacket(
        payload_type=second & 0x7F,
        sequence=sequence,
        timestamp=timestamp,
        ssrc=ssrc,
        payload=bytes(data[offset:end]),
        marker=bool(second & 0x80),
        csrcs=tuple(csrcs),
    )


def seq_distance(newer: int, older: int) -> int:
    """Signed distance between two 16-bit sequence numbers, wrap-around aware."""
    diff = (newer - older) & 0xFFFF
    return diff - 0x10000 if diff >= 0x8000 else diff


class SequenceExtender:
    """Turns 16-bit sequence numbers into a monotonic 64-bit count (RFC 3550 A.1 idea)."""

    def __init__(self) -> None:
        self._highest: int | None = None

    def extend(self, sequence: int) -> int:
        if self._highest is None:
            self._highest = sequence
            return sequence
        extended = self._highest + seq_distance(sequence, self._highest & 0xFFFF)
        self._highest = max(self._highest, extended)
        return extended

