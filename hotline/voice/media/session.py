"""One call's media, sans-I/O: RTP in (DTMF digits, recorded audio), paced RTP out.

`receive(data, source, now)` returns the digits the caller pressed; `due_packets(now)`
returns the packets to send now (queued DTMF, queued prompt audio, bridge audio, else
silence, so the peer's jitter buffer and any NAT pinhole stay alive). The asyncio adapter
only calls these two at the right moments.

For a mixing bridge (`bridge.py`) the session also exchanges 20 ms PCM frames: with
`capture` on, received audio is decoded into a short `FrameQueue` that the bridge empties
with `take_frame()`, and `send_frame()` queues the bridge's mix for this leg. Both queues
are a few frames long and trim themselves, so neither a stalled bridge nor a burst of
packets after a stall leaves the conversation with a growing delay.
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass

import numpy as np

from hotline.voice.media import g711
from hotline.voice.media.dtmf import DtmfDigit, DtmfReceiver
from hotline.voice.media.pacer import Pacer
from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.rtp import RtpError, RtpPacket, SequenceExtender, parse_rtp
from hotline.voice.media.stream import RtpSender
from hotline.voice.sdp import AudioAnswer

SAMPLES_PER_PACKET = 160
FRAME_BYTES = 2 * SAMPLES_PER_PACKET  # one 20 ms frame of 8 kHz 16-bit PCM
INBOUND_FRAMES = 6  # 120 ms: more than any jitter worth waiting for in a live conversation
OUTBOUND_FRAMES = 3  # the bridge and the pacer run on the same clock: 3 absorbs a catch-up
TRIM_WINDOW = 50  # takes (1 s) over which a queue that never ran low is trimmed by a frame
RESTART_DISTANCE = 100  # packets: a jump this far is a restarted sender, not reordering
Address = tuple[str, int]

# Bridge frames are encoded once per leg every 20 ms: a numpy look-up in g711's own
# encoding (tabulated over every 16-bit sample at import, ~5 ms) is ~6x faster than
# g711.encode's per-sample map, which matters with hundreds of bridged legs.
_EVERY_PATTERN = np.arange(65536, dtype="<u2").tobytes()  # indexed by the unsigned pattern
_ENCODE_TABLES = {
    codec: np.frombuffer(g711.encode(codec, _EVERY_PATTERN), np.uint8) for codec in g711.Codec
}


def encode_frame(codec: g711.Codec, pcm: bytes) -> bytes:
    """PCM -> G.711 code words, bit-exact with `g711.encode`."""
    return bytes(_ENCODE_TABLES[codec][np.frombuffer(pcm, "<u2")].tobytes())


@dataclass
class MediaCounters:
    received: int = 0
    sent: int = 0
    malformed: int = 0
    foreign: int = 0  # packets from an address other than the latched peer
    digits: int = 0
    frames_dropped: int = 0  # captured frames the bridge never took (queue full, or trimmed)
    frames_late: int = 0  # audio packets older than one already captured (reordered, duplicate)
    out_frames_dropped: int = 0  # bridge frames dropped before sending (queue full, or trimmed)
    out_frames_replaced: int = 0  # bridge frames whose slot a prompt, DTMF or hold took


class FrameQueue:
    """A short FIFO of PCM frames between a session and a bridge (or a fax terminal).

    Bounded: beyond `limit` the oldest frame goes (`dropped`), so a stalled consumer
    never builds up latency. Self-trimming: a burst (packets queued by the kernel during
    a stall, or the bridge catching up) would otherwise leave frames standing in the
    queue for good, since producer and consumer then run at the same rate. If the queue
    held at least two frames at every take for `TRIM_WINDOW` takes, one frame was waiting
    all along: the oldest is dropped (`trimmed`). An underrun (no frame when one was
    wanted) conversely leaves a frame of cushion until it proves unneeded: a minimal
    adaptive jitter buffer.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.trims = True  # off for data (fax): a dropped frame is a phase jump to a modem
        self._frames: deque[bytes] = deque()
        self.dropped = 0
        self.trimmed = 0
        self._takes = 0
        self._lowest = limit

    def __len__(self) -> int:
        return len(self._frames)

    def put(self, frame: bytes) -> None:
        if len(self._frames) >= self.limit:
            self._frames.popleft()
            self.dropped += 1
        self._frames.append(frame)

    def take(self) -> bytes | None:
        depth = len(self._frames)
        if depth < self._lowest:
            self._lowest = depth
        self._takes += 1
        if self._takes >= TRIM_WINDOW:
            if self._lowest >= 2 and self.trims:
                self._frames.popleft()
                self.trimmed += 1
            self._takes = 0
            self._lowest = self.limit
        return self._frames.popleft() if self._frames else None

    def clear(self) -> None:
        self._frames.clear()
        self._takes = 0
        self._lowest = self.limit


class MediaSession:
    def __init__(
        self,
        media: AudioAnswer,
        *,
        start: float,
        recorder: WavRecorder | None = None,
        latch: bool = True,
        capture: bool = False,
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
        self._inbound = FrameQueue(INBOUND_FRAMES)  # decoded received audio, for a bridge
        self._outbound = FrameQueue(OUTBOUND_FRAMES)  # a bridge's mix for this leg, as PCM
        self._partial = bytearray()  # received PCM short of a whole frame (ptime != 20)
        self._capture_ssrc: int | None = None
        self._capture_extender = SequenceExtender()
        self._capture_last: int | None = None  # extended sequence of the last captured packet
        self._capture = False
        self.capture = capture

    # --- bridge frames -----------------------------------------------------------------

    @property
    def capture(self) -> bool:
        return self._capture

    @capture.setter
    def capture(self, on: bool) -> None:
        """True: received audio is also kept as PCM frames for a bridge. Turning it off
        (the leg left its bridge) drops both queues: their audio belongs to that bridge."""
        self._capture = on
        if not on:
            self._inbound.clear()
            self._outbound.clear()
            self._partial.clear()
            self._capture_ssrc = None

    def carry_data(self) -> None:
        """This leg carries a modem (T.30 fax), not speech: keep every frame. Trimming a
        standing frame costs speech 20 ms of delay nobody hears; to a modem it is a phase
        jump that breaks the training and the page."""
        self._inbound.trims = False
        self._outbound.trims = False

    def take_frame(self) -> bytes | None:
        """The oldest received 20 ms frame (320 bytes of PCM), or None if none is waiting."""
        frame = self._inbound.take()
        self.counters.frames_dropped = self._inbound.dropped + self._inbound.trimmed
        return frame

    def send_frame(self, pcm: bytes) -> None:
        """Queue one 20 ms frame (320 bytes of PCM) of bridge audio to send.

        Kept as PCM and encoded when its slot comes, in the codec of that moment (a
        re-INVITE may change it in between)."""
        if len(pcm) != FRAME_BYTES:
            raise ValueError(f"a bridge frame is {FRAME_BYTES} bytes, not {len(pcm)}")
        self._outbound.put(pcm)
        self.counters.out_frames_dropped = self._outbound.dropped + self._outbound.trimmed

    @property
    def frames_waiting(self) -> int:
        """Received frames not yet taken (for tests and the bridge's statistics)."""
        return len(self._inbound)

    def _capture_audio(self, packet: RtpPacket) -> None:
        if packet.ssrc != self._capture_ssrc:
            self._capture_ssrc = packet.ssrc  # a new source starts a new sequence space
            self._capture_extender = SequenceExtender()
            self._capture_last = None
        extended = self._capture_extender.extend(packet.sequence)
        if self._capture_last is not None:
            if abs(extended - self._capture_last) > RESTART_DISTANCE:
                # The sender restarted its numbering (sipp replaying a capture does).
                self._capture_extender = SequenceExtender()
                extended = self._capture_extender.extend(packet.sequence)
            elif extended <= self._capture_last:
                # Too late to be useful (its successor is already queued) or a duplicate:
                # playing it now would put the audio out of order and add 20 ms of delay.
                self.counters.frames_late += 1
                return
        self._capture_last = extended
        pcm = g711.decode(self.media.codec, packet.payload)
        if not self._partial and len(pcm) == FRAME_BYTES:
            self._inbound.put(pcm)  # the usual 20 ms packet
        else:
            self._partial += pcm
            while len(self._partial) >= FRAME_BYTES:
                self._inbound.put(bytes(self._partial[:FRAME_BYTES]))
                del self._partial[:FRAME_BYTES]
        self.counters.frames_dropped = self._inbound.dropped + self._inbound.trimmed

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
        if packet.payload_type == self.media.payload_type:
            if self.recorder is not None:
                self.recorder.add_packet(packet, self.media.codec)
            if self._capture:
                self._capture_audio(packet)
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
        self.play_encoded(g711.encode(self.media.codec, pcm))

    def play_encoded(self, payload: bytes) -> None:
        """Queue G.711 code words already in this session's codec (`media.codec`), such as
        hold music encoded once for every caller; the last packet is padded with silence."""
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
            # One bridge frame per slot is consumed whatever the slot carries, so bridge
            # audio never waits behind a prompt and comes out late. A prompt (or DTMF)
            # replaces the bridge audio rather than being mixed into it: prompts to a
            # bridged leg are announcements meant for that leg alone (recording notice,
            # queue position, transfer), which must be intelligible, and the other
            # parties hear that this leg is being spoken to through their own mix.
            bridge_frame = self._outbound.take()
            if not self.media.direction.we_send:
                self.sender.skip(SAMPLES_PER_PACKET)  # on hold: keep time, send nothing
                if bridge_frame is not None:
                    self.counters.out_frames_replaced += 1
                continue
            if self._events:
                packets.append(self._events.popleft())
            elif self._audio:
                packets.append(self.sender.audio(self._audio.popleft()))
            elif bridge_frame is not None:
                packets.append(self.sender.audio(encode_frame(self.media.codec, bridge_frame)))
                bridge_frame = None
            else:
                packets.append(self.sender.audio(g711.silence(self.media.codec)))
            if bridge_frame is not None:
                self.counters.out_frames_replaced += 1
        if self.pacer.skipped:
            # The loop stalled: the skipped slots still advance the RTP clock.
            self.sender.skip(SAMPLES_PER_PACKET * self.pacer.skipped)
            self.pacer.skipped = 0
        self.counters.sent += len(packets)
        self.counters.out_frames_dropped = self._outbound.dropped + self._outbound.trimmed
        return packets

    def next_due(self) -> float:
        return self.pacer.next_due()
