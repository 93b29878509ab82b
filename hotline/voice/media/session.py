"""One call's media, sans-I/O: RTP in (DTMF digits, recorded audio), paced RTP out.

`receive(data, source, now)` returns the digits the caller pressed; `due_packets(now)`
returns the packets to send now (queued prompt audio, queued DTMF, else silence, so the
peer's jitter buffer and any NAT pinhole stay alive). The asyncio adapter only calls
these two at the right moments.
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass

from hotline.voice.media import g711
from hotline.voice.media.dtmf import DtmfDigit, DtmfReceiver
from hotline.voice.media.pacer import Pacer
from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.rtp import RtpError, parse_rtp
from hotline.voice.media.stream import RtpSender
from hotline.voice.sdp import AudioAnswer

SAMPLES_PER_PACKET = 160
Address = tuple[str, int]


@dataclass
class MediaCounters:
    received: int = 0
    sent: int = 0
    malformed: int = 0
    foreign: int = 0  # packets from an address other than the latched peer
    digits: int = 0


class MediaSession:
    def __init__(
        self,
        media: AudioAnswer,
        *,
        start: float,
        recorder: WavRecorder | None = None,
        latch: bool = True,
    ) -> None:
        self.media = media
        self.remote: Address = (media.remote_address, media.remote_port)
        self.recorder = recorder
        self.latch = latch
        self._latched = False
        self.counters = MediaCounters()
        self.dtmf = DtmfReceiver(payload_type=media.telephone_event)
        self.sender = RtpSender(
            media.payload_type,
            ssrc=secrets.randbits(32),
            first_sequence=secrets.randbits(16),
            first_timestamp=secrets.randbits(32),
            telephone_event=media.telephone_event,
        )
        self.pacer = Pacer(start=start)
        self._audio: deque[bytes] = deque()  # G.711 payloads of 160 bytes
        self._events: deque[bytes] = deque()  # ready RTP packets (DTMF)
        self.last_received: float = start

    # --- incoming ----------------------------------------------------------------------

    def receive(self, data: bytes, source: Address, now: float) -> list[DtmfDigit]:
        try:
            packet = parse_rtp(data)
        except RtpError:
            self.counters.malformed += 1
            return []
        if self.latch and not self._latched:
            # Symmetric RTP: send to where the caller's packets really come from (NAT).
            self.remote = source
            self._latched = True
        elif self.latch and source != self.remote:
            self.counters.foreign += 1  # injected or stray packets are not the caller's
            return []
        self.counters.received += 1
        self.last_received = now
        if packet.payload_type == self.media.telephone_event:
            try:
                digit = self.dtmf.receive(packet, now)
            except RtpError:
                self.counters.malformed += 1
                return []
            if digit is None:
                return []
            self.counters.digits += 1
            return [digit]
        if packet.payload_type == self.media.payload_type and self.recorder is not None:
            self.recorder.add_packet(packet, self.media.codec)
        return []

    # --- outgoing ----------------------------------------------------------------------

    def update(self, media: AudioAnswer) -> None:
        """A re-INVITE changed the media (hold, resume, another address or codec)."""
        self.media = media
        self.sender.payload_type = media.payload_type
        self.sender.telephone_event = media.telephone_event
        self.dtmf.payload_type = media.telephone_event
        if not self._latched or (media.remote_address, media.remote_port) != self.remote:
            self.remote = (media.remote_address, media.remote_port)
            self._latched = False

    def play(self, pcm: bytes) -> None:
        """Queue 8 kHz 16-bit PCM; the last packet is padded with silence."""
        payload = g711.encode(self.media.codec, pcm)
        remainder = len(payload) % SAMPLES_PER_PACKET
        if remainder:
            payload += g711.silence(self.media.codec, SAMPLES_PER_PACKET - remainder)
        for offset in range(0, len(payload), SAMPLES_PER_PACKET):
            self._audio.append(payload[offset : offset + SAMPLES_PER_PACKET])

    def stop_playing(self) -> None:
        """Barge-in: the caller pressed a key, the rest of the prompt is dropped."""
        self._audio.clear()

    @property
    def playing(self) -> bool:
        return bool(self._audio or self._events)

    @property
    def queued_seconds(self) -> float:
        return len(self._audio) * SAMPLES_PER_PACKET / 8000

    def send_dtmf(self, digit: str, duration_ms: int = 100) -> None:
        self._events.extend(self.sender.dtmf(digit, duration_ms))

    def due_packets(self, now: float) -> list[bytes]:
        packets: list[bytes] = []
        for _ in range(self.pacer.due(now)):
            if not self.media.direction.we_send:
                self.sender.skip(SAMPLES_PER_PACKET)  # on hold: keep time, send nothing
                continue
            if self._events:
                packets.append(self._events.popleft())
            elif self._audio:
                packets.append(self.sender.audio(self._audio.popleft()))
            else:
                packets.append(self.sender.audio(g711.silence(self.media.codec)))
        if self.pacer.skipped:
            # The loop stalled: the skipped slots still advance the RTP clock.
            self.sender.skip(SAMPLES_PER_PACKET * self.pacer.skipped)
            self.pacer.skipped = 0
        self.counters.sent += len(packets)
        return packets

    def next_due(self) -> float:
        return self.pacer.next_due()
