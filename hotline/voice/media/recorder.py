"""A jitter-tolerant recorder: RTP audio in, 8 kHz 16-bit mono WAV out, written as it goes.

Packets are reordered by (extended) sequence number within a small window; missing
packets become silence once the window has moved past them, and timestamp gaps (the
sender paused, or sent DTMF instead of audio) are filled with silence up to a limit.
Audio is kept in memory and written in chunks of about a second (`flush_seconds`), each
followed by patching the WAV header's sizes: one write and one header patch a second per
call rather than 50 of each. The writes run in one writer thread shared by every recorder
of the process (`background`, the default), in the order they were asked, so a disk that
stalls never stalls the event loop's 20 ms ticks. A recording cut short by a crash is
still a playable file holding everything but the last `flush_seconds` and the last window
of packets; `close()` writes the rest and the header and returns once they are written.
"""

from __future__ import annotations

import logging
import struct
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from hotline.voice.media import g711
from hotline.voice.media.g711 import Codec
from hotline.voice.media.rtp import RtpPacket, SequenceExtender

SAMPLE_RATE = 8000
MAX_GAP_SAMPLES = SAMPLE_RATE * 2  # a timestamp jump beyond 2 s is a new timeline, not silence
RESTART_DISTANCE = 100  # packets (2 s): further than any reordering we wait for
FLUSH_SECONDS = 1.0  # audio held in memory before it is written and the header patched
_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")  # RIFF, fmt (PCM) and data chunk headers
HEADER_BYTES = _HEADER.size  # 44


logger = logging.getLogger(__name__)
_writer: ThreadPoolExecutor | None = None
_writer_lock = threading.Lock()


def _writer_thread() -> ThreadPoolExecutor:
    """The process's one writer thread: every recorder's chunks, in the order asked."""
    global _writer
    with _writer_lock:
        if _writer is None:
            _writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wav-writer")
        return _writer


def _log_failure(future: Future[None]) -> None:
    if not future.cancelled() and (exc := future.exception()) is not None:
        logger.error("recording write failed: %s", exc)


def wav_header(data_bytes: int) -> bytes:
    """The 44-byte header of an 8 kHz mono 16-bit PCM WAV holding `data_bytes` of audio."""
    return _HEADER.pack(b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 1, 1, SAMPLE_RATE,
                        2 * SAMPLE_RATE, 2, 16, b"data", data_bytes)


@dataclass(frozen=True)
class _Pending:
    packet: RtpPacket
    codec: Codec


class WavRecorder:
    def __init__(self, target: str | BinaryIO, *, window: int = 5,
                 flush_seconds: float = FLUSH_SECONDS, background: bool = True) -> None:
        self._file: BinaryIO = open(target, "wb") if isinstance(target, str) else target  # noqa: SIM115
        self._owns_file = isinstance(target, str)
        self._base = self._file.tell()  # a caller's stream may hold something before us
        self._file.write(wav_header(0))  # on disk now: an empty call is still a WAV
        self._file.flush()
        self._buffer = bytearray()
        self._flush_bytes = max(2, int(2 * SAMPLE_RATE * flush_seconds))
        self._data_bytes = 0  # audio bytes handed to the file (after the header)
        self._background = background
        self._written: Future[None] | None = None  # the last chunk handed to the writer
        self.window = window
        self._extender = SequenceExtender()
        self._pending: dict[int, _Pending] = {}
        self._next_seq: int | None = None
        self._next_timestamp: int | None = None
        self._ssrc: int | None = None
        self.samples_written = 0
        self.packets_lost = 0
        self.packets_late = 0
        self.closed = False

    def add_packet(self, packet: RtpPacket, codec: Codec) -> None:
        """Add one received audio packet (telephone-event packets must not be passed)."""
        if self.closed:
            return
        if packet.ssrc != self._ssrc:
            # A new source (re-INVITE, SSRC change): drain the old one, start a timeline.
            self._restart(packet.ssrc)
        extended = self._extender.extend(packet.sequence)
        if self._next_seq is not None and abs(extended - self._next_seq) > RESTART_DISTANCE:
            # Far outside any jitter window: the sender restarted its sequence (or replays
            # a capture, as sipp does) without a new SSRC. Treat it as a new timeline.
            self._restart(packet.ssrc)
            extended = self._extender.extend(packet.sequence)
        if self._next_seq is None:
            self._next_seq = extended
        if extended < self._next_seq or extended in self._pending:
            self.packets_late += 1  # already written past it, or a duplicate
            return
        self._pending[extended] = _Pending(packet, codec)
        while self._pending and max(self._pending) - self._next_seq >= self.window:
            self._write_next()

    def add_pcm(self, pcm: bytes) -> None:
        """Append linear PCM we produced ourselves (no reordering needed)."""
        if not self.closed and len(pcm) > 1:
            self._write(pcm[: len(pcm) & ~1])  # whole samples only

    def flush(self) -> None:
        """Hand the audio held in memory to the file, then patch the header (in the writer
        thread unless `background` is off): the file is complete so far."""
        if not self._buffer:
            return
        chunk = bytes(self._buffer)
        self._buffer.clear()
        self._data_bytes += len(chunk)
        if not self._background:
            self._write_chunk(chunk, self._data_bytes)
            return
        self._written = _writer_thread().submit(self._write_chunk, chunk, self._data_bytes)
        self._written.add_done_callback(_log_failure)

    def wait_written(self) -> None:
        """Return once every chunk handed over so far is in the file (raises its error)."""
        written, self._written = self._written, None
        if written is not None:
            written.result()

    def _write_chunk(self, chunk: bytes, data_bytes: int) -> None:
        self._file.write(chunk)
        end = self._file.tell()
        self._file.seek(self._base)
        self._file.write(wav_header(data_bytes))
        self._file.seek(end)
        self._file.flush()

    def close(self) -> None:
        """Write what is left and the final header; the file is complete on return."""
        if self.closed:
            return
        self.closed = True
        self._drain()
        self.flush()
        try:
            self.wait_written()
        finally:
            self._file.flush()
            if self._owns_file:
                self._file.close()

    def __enter__(self) -> WavRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def seconds(self) -> float:
        return self.samples_written / SAMPLE_RATE

    def _restart(self, ssrc: int) -> None:
        self._drain()
        self._ssrc = ssrc
        self._extender = SequenceExtender()
        self._next_seq = None
        self._next_timestamp = None

    def _drain(self) -> None:
        while self._pending:
            self._write_next()

    def _write_next(self) -> None:
        assert self._next_seq is not None
        if self._next_seq not in self._pending:
            # The window has moved past a hole: count it and jump to the next packet we
            # have; its timestamp gap becomes the silence that keeps the timing right.
            lowest = min(self._pending)
            self.packets_lost += lowest - self._next_seq
            self._next_seq = lowest
        item = self._pending.pop(self._next_seq)
        self._next_seq += 1
        packet = item.packet
        pcm = g711.decode(item.codec, packet.payload)
        if self._next_timestamp is not None:
            gap = (packet.timestamp - self._next_timestamp) & 0xFFFFFFFF
            if 0 < gap <= MAX_GAP_SAMPLES:
                self._write(b"\x00\x00" * gap)
        self._next_timestamp = (packet.timestamp + len(packet.payload)) & 0xFFFFFFFF
        self._write(pcm)

    def _write(self, pcm: bytes) -> None:
        self._buffer += pcm
        self.samples_written += len(pcm) // 2
        if len(self._buffer) >= self._flush_bytes:
            self.flush()


