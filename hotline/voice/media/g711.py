"""G.711 µ-law and A-law (ITU-T G.711) between 16-bit linear PCM and 8-bit code words.

Tables are computed once at import from the reference algorithm (Sun's public g711.c);
conversion is table look-up: decoding uses two `bytes.translate` passes (low and high
byte) and a slice interleave, encoding one numpy look-up in a 65536-entry table (a prompt
of seconds costs tens of microseconds, not a Python call per sample).
PCM is signed 16-bit little-endian, 8000 Hz mono, as WAV stores it.
"""

from __future__ import annotations

import enum

import numpy as np


class Codec(enum.IntEnum):
    """RTP static payload types (RFC 3551) of the two G.711 laws."""

    PCMU = 0
    PCMA = 8


_SEG_U_END = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_SEG_A_END = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159


def _segment(value: int, ends: tuple[int, ...]) -> int:
    for index, end in enumerate(ends):
        if value <= end:
            return index
    return len(ends)


def linear_to_ulaw(sample: int) -> int:
    value = sample >> 2
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    seg = _segment(value, _SEG_U_END)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((value >> (seg + 1)) & 0xF)) ^ mask


def ulaw_to_linear(code: int) -> int:
    code = ~code & 0xFF
    magnitude = (((code & 0x0F) << 3) + _ULAW_BIAS) << ((code & 0x70) >> 4)
    return (_ULAW_BIAS - magnitude) if code & 0x80 else (magnitude - _ULAW_BIAS)


def linear_to_alaw(sample: int) -> int:
    value = sample >> 3
    if value >= 0:
        mask = 0xD5
    else:
        mask, value = 0x55, -value - 1
    seg = _segment(value, _SEG_A_END)
    if seg >= 8:
        return 0x7F ^ mask
    code = seg << 4
    code |= ((value >> 1) if seg < 2 else (value >> seg)) & 0xF
    return code ^ mask


def alaw_to_linear(code: int) -> int:
    code ^= 0x55
    magnitude = (code & 0x0F) << 4
    seg = (code & 0x70) >> 4
    if seg == 0:
        magnitude += 8
    else:
        magnitude = (magnitude + 0x108) << (seg - 1)
    return magnitude if code & 0x80 else -magnitude


def _tables(decode_one, encode_one) -> tuple[bytes, bytes, bytes]:  # type: ignore[no-untyped-def]
    decoded = [decode_one(code) & 0xFFFF for code in range(256)]
    low = bytes(value & 0xFF for value in decoded)
    high = bytes(value >> 8 for value in decoded)
    # Index by the unsigned 16-bit pattern of the sample.
    encode = bytes(encode_one(u if u < 0x8000 else u - 0x10000) for u in range(0x10000))
    return low, high, encode


_ULAW_LOW, _ULAW_HIGH, _ULAW_ENCODE = _tables(ulaw_to_linear, linear_to_ulaw)
_ALAW_LOW, _ALAW_HIGH, _ALAW_ENCODE = _tables(alaw_to_linear, linear_to_alaw)
_ENCODE_ARRAYS = {
    Codec.PCMU: np.frombuffer(_ULAW_ENCODE, np.uint8),
    Codec.PCMA: np.frombuffer(_ALAW_ENCODE, np.uint8),
}


def decode(codec: Codec, payload: bytes) -> bytes:
    """8-bit G.711 code words -> 16-bit little-endian PCM."""
    low_table, high_table = (
        (_ULAW_LOW, _ULAW_HIGH) if codec == Codec.PCMU else (_ALAW_LOW, _ALAW_HIGH)
    )
    out = bytearray(2 * len(payload))
    out[0::2] = payload.translate(low_table)
    out[1::2] = payload.translate(high_table)
    return bytes(out)


def encode(codec: Codec, pcm: bytes) -> bytes:
    """16-bit little-endian PCM -> 8-bit G.711 code words (an odd trailing byte is dropped)."""
    table = _ENCODE_ARRAYS[Codec.PCMU if codec == Codec.PCMU else Codec.PCMA]
    samples = np.frombuffer(pcm, "<u2", count=len(pcm) // 2)  # unsigned: the table's index
    return table[samples].tobytes()


_SILENCE = {Codec.PCMU: b"\xff" * 160, Codec.PCMA: b"\xd5" * 160}  # one packet's worth


def silence(codec: Codec, samples: int = 160) -> bytes:
    """Code words for digital silence (0xFF in µ-law, 0xD5 in A-law)."""
    if samples == 160 and (packet := _SILENCE.get(codec)) is not None:
        return packet
    return (b"\xff" if codec == Codec.PCMU else b"\xd5") * samples
