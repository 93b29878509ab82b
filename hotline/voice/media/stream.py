"""The sending side of one RTP stream (audio and RFC 4733 events on one timeline)."""

from __future__ import annotations

from hotline.voice.media.dtmf import SAMPLES_PER_PACKET, event_packets
from hotline.voice.media.rtp import RTP_VERSION, RtpError, pack_header


class RtpSender:
    """One outgoing RTP stream: keeps sequence numbers and timestamps consistent across
    audio and DTMF packets (RFC 3550 5.1 and RFC 4733 2.3). Each returned packet goes out
    in its own 20 ms slot, as a `Pacer` schedules them."""

    def __init__(
        self,
        payload_type: int,
        *,
        ssrc: int,
        first_sequence: int,
        first_timestamp: int,
        telephone_event: int | None = None,
    ) -> None:
        self.payload_type = payload_type
        self.telephone_event = telephone_event
        self.ssrc = ssrc
        self.sequence = first_sequence & 0xFFFF
        self.timestamp = first_timestamp & 0xFFFFFFFF
        self._talkspurt = True  # the first packet of a stream carries the marker bit

    def audio(self, payload: bytes) -> bytes:
        """One audio packet (bytes as `RtpPacket.to_bytes` makes them, without building one:
        this runs for every packet of every call)."""
        payload_type = self.payload_type
        if not 0 <= payload_type < 128:
            raise RtpError("payload type out of range")
        header = pack_header(RTP_VERSION << 6, (0x80 if self._talkspurt else 0) | payload_type,
                             self.sequence, self.timestamp, self.ssrc)
        self._talkspurt = False
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + len(payload)) & 0xFFFFFFFF
        return header + payload

    def skip(self, samples: int) -> None:
        """We sent nothing for `samples` (silence suppression, a stall): a new talkspurt."""
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
        self._talkspurt = True

    def dtmf(self, digit: str, duration_ms: int = 100) -> list[bytes]:
        if self.telephone_event is None:
            raise ValueError("the peer did not negotiate telephone-event")
        packets = event_packets(
            digit,
            payload_type=self.telephone_event,
            ssrc=self.ssrc,
            first_sequence=self.sequence,
            timestamp=self.timestamp,
            duration_ms=duration_ms,
        )
        self.sequence = (self.sequence + len(packets)) & 0xFFFF
        self.timestamp = (self.timestamp + SAMPLES_PER_PACKET * len(packets)) & 0xFFFFFFFF
        self._talkspurt = True
        return [packet.to_bytes() for packet in packets]
