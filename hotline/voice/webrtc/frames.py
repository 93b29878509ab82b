"""A WebRTC peer as a bridge leg: the browser's audio in 20 ms 8 kHz frames, the mix back.

The bridge (``hotline.voice.media.bridge``) exchanges 320-byte frames of 8 kHz 16-bit PCM
with each leg through ``take_frame`` / ``send_frame``; a SIP leg's ``MediaSession`` decodes
G.711 into them. ``PeerFrames`` does the same for a browser: the peer's decoded audio (Opus
arrives as 48 kHz stereo, G.711 as 8 kHz mono) is resampled by libswresample (PyAV, which
aiortc is built on) to 8 kHz mono and cut into frames (``To8k``); the bridge's mix leaves
through ``BridgeTrack``, an aiortc track that hands aiortc one 8 kHz frame every 20 ms (its
Opus encoder resamples to 48 kHz itself, its G.711 encoder takes 8 kHz as it is).

Both directions go through the session module's ``FrameQueue``: short, self-trimming, so
neither a stalled bridge nor a burst from the browser's jitter buffer adds delay for good.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
from collections import deque

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from hotline.voice.media.session import (
    FRAME_BYTES,
    INBOUND_FRAMES,
    OUTBOUND_FRAMES,
    SAMPLES_PER_PACKET,
    FrameQueue,
)

logger = logging.getLogger(__name__)

RATE = 8000
FRAME_S = SAMPLES_PER_PACKET / RATE  # 20 ms
SILENCE = bytes(FRAME_BYTES)
RESYNC_S = 0.2  # the track fell this far behind its clock (a stall): start a new timeline


class To8k:
    """Any decoded audio frame -> whole 20 ms frames of 8 kHz mono 16-bit PCM."""

    def __init__(self) -> None:
        self._resampler: av.AudioResampler | None = None
        self._input: tuple[int, str, str] | None = None
        self._partial = bytearray()

    def feed(self, frame: av.AudioFrame) -> list[bytes]:
        shape = (frame.sample_rate, frame.layout.name, frame.format.name)
        if shape != self._input:
            # The browser switched codec (a renegotiation): a resampler is for one input.
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            self._input = shape
        assert self._resampler is not None
        for out in self._resampler.resample(frame):
            self._partial += out.to_ndarray().tobytes()
        frames = []
        while len(self._partial) >= FRAME_BYTES:
            frames.append(bytes(self._partial[:FRAME_BYTES]))
            del self._partial[:FRAME_BYTES]
        return frames


class PeerFrames:
    """The bridge's side of a softphone: what ``Bridge`` needs of a leg's media."""

    def __init__(self) -> None:
        self._inbound = FrameQueue(INBOUND_FRAMES)
        self._outbound = FrameQueue(OUTBOUND_FRAMES)
        self._prompt: deque[bytes] = deque()  # an announcement for this desk alone
        self._capture = False
        self.frames_in = 0  # frames taken from the peer while in a bridge
        self.frames_out = 0  # bridge frames sent to the peer

    @property
    def capture(self) -> bool:
        return self._capture

    @capture.setter
    def capture(self, on: bool) -> None:
        """On while the softphone is in a call's bridge; off drops both queues (their
        audio belongs to the call that ended)."""
        self._capture = on
        if not on:
            self._inbound.clear()
            self._outbound.clear()

    def take_frame(self) -> bytes | None:
        return self._inbound.take()

    def send_frame(self, pcm: bytes) -> None:
        if len(pcm) != FRAME_BYTES:
            raise ValueError(f"a bridge frame is {FRAME_BYTES} bytes, not {len(pcm)}")
        if self._capture:
            self._outbound.put(pcm)

    def heard(self, pcm: bytes) -> None:
        """One 20 ms frame from the browser (kept only while in a bridge)."""
        if self._capture:
            self._inbound.put(pcm)
            self.frames_in += 1

    def next_to_send(self) -> bytes:
        """The frame for the browser's next 20 ms: a prompt, else the bridge's mix, else
        silence. A bridge frame is taken even when a prompt has the slot (as a SIP leg's
        session does), so the mix never comes out late behind an announcement."""
        frame = self._outbound.take()
        if self._prompt:
            return self._prompt.popleft()
        if frame is None:
            return SILENCE
        self.frames_out += 1
        return frame

    # --- announcements to the desk (what a SIP leg's MediaSession.play does) ------------

    def play(self, pcm: bytes) -> None:
        """Queue 8 kHz 16-bit PCM for this desk; the last frame is padded with silence."""
        if len(pcm) % FRAME_BYTES:
            pcm += bytes(FRAME_BYTES - len(pcm) % FRAME_BYTES)
        self._prompt.extend(pcm[i:i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES))

    def stop_playing(self) -> None:
        self._prompt.clear()

    @property
    def playing(self) -> bool:
        return bool(self._prompt)

    @property
    def queued_seconds(self) -> float:
        return len(self._prompt) * FRAME_S


def pcm_frame(pcm: bytes, pts: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
    frame.planes[0].update(pcm)
    frame.sample_rate = RATE
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, RATE)
    return frame


class BridgeTrack(MediaStreamTrack):
    """The audio the browser hears: one frame of ``frames`` every 20 ms on the loop's clock
    (aiortc's sender awaits ``recv`` back to back; the pacing is the track's)."""

    kind = "audio"

    def __init__(self, frames: PeerFrames) -> None:
        super().__init__()
        self.frames = frames
        self._start: float | None = None
        self._sent = 0  # frames since _start
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        else:
            due = self._start + self._sent * FRAME_S
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -RESYNC_S:
                self._start, self._sent = loop.time(), 0
        self._sent += 1
        frame = pcm_frame(self.frames.next_to_send(), self._pts)
        self._pts += SAMPLES_PER_PACKET
        return frame


async def pull_audio(track: MediaStreamTrack, frames: PeerFrames) -> None:
    """Read the browser's track until it ends, into ``frames`` as 8 kHz frames."""
    to8k = To8k()
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        if not isinstance(frame, av.AudioFrame):
            continue
        try:
            chunks = to8k.feed(frame)
        except (ValueError, av.FFmpegError):
            # A frame libswresample refuses is one lost frame, never the end of the call.
            logger.warning("softphone: an audio frame could not be resampled", exc_info=True)
            continue
        for pcm in chunks:
            frames.heard(pcm)
