"""Hold music: a looping source of 20 ms PCM frames for held legs and waiting callers.

The built-in music is synthesised (no audio file ships with the project): a slow melody
on the C major pentatonic scale over a quiet I-vi-IV-V pad, 8 bars of 3 s, each bar with
its own rhythm, so the 24 s loop does not sound like a short jingle going round. Notes are
rendered into a circular buffer (a tail that rings past the end lands at the start), which
makes the loop point seamless. It sits in the telephone band (247-1047 Hz) and peaks at
-14 dBFS, under the -12 dBFS ceiling that every hold music here keeps, so a held caller is
never startled. It is generated once per process, on first use (about 20 ms with numpy).

`HOTLINE_HOLD_MUSIC` names a WAV file to use instead: 8 kHz mono 16-bit is read as it is;
anything else is converted with sox (which reads most audio formats); without sox, or if
sox cannot read it, `HoldMusicError` names the file and what it is.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from hotline.voice.media import g711

RATE = 8000
FRAME_BYTES = 320  # 20 ms of 16-bit samples
FULL_SCALE = 32768  # 0 dBFS
LEVEL_CEILING = 10 ** (-12 / 20) * FULL_SCALE  # -12 dBFS: no hold music is louder
BUILTIN_PEAK = 10 ** (-14 / 20) * FULL_SCALE
BAR_SECONDS = 3.0
BEAT_SECONDS = 0.5  # 6 beats a bar: slow, unhurried

# MIDI note numbers. The pad's chords (I vi IV V iii vi IV V: the last bar leads back
# to the first, so the loop resolves as it restarts) and the melody's scale.
CHORDS = (
    (60, 64, 67), (60, 64, 69), (60, 65, 69), (62, 67, 71),
    (59, 64, 67), (60, 64, 69), (60, 65, 69), (62, 67, 71),
)
PENTATONIC = tuple(n for n in range(72, 85) if n % 12 in (0, 2, 4, 7, 9))  # C5..C6
RHYTHMS = (  # beats per note; 0 marks a rest of one beat
    (2, 1, 1, 2), (1, 1, 2, 2), (3, 1, 2), (2, 2, 1, 0), (1, 1, 1, 1, 2), (2, 1, 3),
    (1, 2, 1, 2), (4, 0, 1),
)


class HoldMusicError(ValueError):
    """The configured hold music file cannot be used (the message names it and why)."""


def _frequency(note: int) -> float:
    return float(440.0 * 2 ** ((note - 69) / 12))


def _add_wrapped(buffer: np.ndarray, start: int, signal: np.ndarray) -> None:
    """Add `signal` into the circular `buffer` from `start` (wrapping past the end)."""
    length = len(buffer)
    start %= length
    first = min(len(signal), length - start)
    buffer[start : start + first] += signal[:first]
    rest = signal[first:]
    while len(rest):
        part = rest[:length]
        buffer[: len(part)] += part
        rest = rest[length:]


def _note(frequency: float, seconds: float) -> np.ndarray:
    """A soft struck tone (like a felt piano): quick attack, long decay, brighter start."""
    ring = seconds + 0.6  # the note rings on under the next one
    t = np.arange(int(ring * RATE), dtype=np.float32) / RATE  # float32: half the work
    attack = np.minimum(1.0, t / 0.02)
    release = np.clip((ring - t) / 0.15, 0.0, 1.0)
    tone = (
        np.sin(2 * np.pi * frequency * t) * np.exp(-t / 0.9)
        + 0.22 * np.sin(4 * np.pi * frequency * t) * np.exp(-t / 0.35)
        + 0.06 * np.sin(6 * np.pi * frequency * t) * np.exp(-t / 0.15)
    )
    return np.asarray(tone * attack * release)


def _pad(chord: tuple[int, ...], seconds: float) -> np.ndarray:
    """A quiet sustained chord; two slightly detuned voices per note beat gently."""
    fade = 0.5
    length = seconds + fade  # overlaps the next bar's fade-in: no gap, no click
    t = np.arange(int(length * RATE), dtype=np.float32) / RATE
    envelope = np.minimum(1.0, np.minimum(t / fade, (length - t) / fade))
    envelope = 0.5 - 0.5 * np.cos(np.pi * np.clip(envelope, 0.0, 1.0))  # raised cosine
    # sin(f-d) + sin(f+d) = 2 sin(f) cos(d): one slow beat shared by every note.
    beat = np.cos(2 * np.pi * 0.6 * t)
    voices = sum(np.sin(2 * np.pi * _frequency(note) * t) for note in chord)
    return np.asarray(voices * beat * envelope / len(chord))


def _melody_notes(rng: random.Random) -> list[tuple[float, int, float]]:
    """(start s, MIDI note, duration s): a random walk on the scale, pulled back towards
    the middle of the range, that lands on a tone of the bar's chord on each downbeat."""
    notes: list[tuple[float, int, float]] = []
    index = middle = PENTATONIC.index(76)  # E5
    for bar, (chord, rhythm) in enumerate(zip(CHORDS, RHYTHMS, strict=True)):
        beat = 0.0
        for position, beats in enumerate(rhythm):
            if beats == 0:
                beat += 1
                continue
            if position == 0:
                chord_tones = [i for i, n in enumerate(PENTATONIC) if n % 12 in
                               {c % 12 for c in chord}]
                index = min(chord_tones, key=lambda i: (abs(i - index), i))
            else:
                steps: tuple[int, ...] = (-2, -1, -1, 1, 1, 2)
                if index != middle:  # lean towards the middle: no long climb or fall
                    towards = 1 if index < middle else -1
                    steps += (towards, towards)
                step = rng.choice(steps)
                index = min(max(index + step, 0), len(PENTATONIC) - 1)
            start = bar * BAR_SECONDS + beat * BEAT_SECONDS
            notes.append((start, PENTATONIC[index], beats * BEAT_SECONDS))
            beat += beats
    return notes


@functools.cache
def builtin_music_pcm() -> bytes:
    """The built-in loop as 8 kHz 16-bit PCM (24 s), synthesised once per process."""
    bars = len(CHORDS)
    buffer = np.zeros(int(bars * BAR_SECONDS * RATE), dtype=np.float32)
    for bar, chord in enumerate(CHORDS):
        _add_wrapped(buffer, int(bar * BAR_SECONDS * RATE), 0.35 * _pad(chord, BAR_SECONDS))
    for start, note, seconds in _melody_notes(random.Random(12345)):
        _add_wrapped(buffer, int(start * RATE), _note(_frequency(note), seconds))
    buffer *= BUILTIN_PEAK / np.max(np.abs(buffer))
    return bytes(np.round(buffer).astype("<i2").tobytes())


class MusicSource:
    """An endless stream of music from a PCM loop; each source keeps its own position."""

    def __init__(self, pcm: bytes | None = None) -> None:
        pcm = builtin_music_pcm() if pcm is None else bytes(pcm[: len(pcm) & ~1])
        if not pcm:
            raise ValueError("hold music needs at least one sample")
        self.pcm = pcm
        self.position = 0  # byte offset of the next sample
        self._encoded: dict[g711.Codec, bytes] = {}  # the loop in each codec, made once

    @property
    def seconds(self) -> float:
        """Length of one pass of the loop."""
        return len(self.pcm) / 2 / RATE

    def frame(self) -> bytes:
        """The next 20 ms (320 bytes), looping for ever."""
        return self._next(FRAME_BYTES)

    def chunk(self, seconds: float) -> bytes:
        """The next `seconds` of music (for callers waiting in a queue, via session.play)."""
        return self._next(2 * max(0, round(seconds * RATE)))

    def encoded_chunk(self, codec: g711.Codec, seconds: float) -> bytes:
        """`chunk(seconds)` as G.711 code words of `codec` (for `MediaSession.play_encoded`).

        The whole loop is encoded once per codec, on first use, and every waiting caller's
        chunk is a slice of it: the same music as `chunk` (the position is shared), with no
        encoding per caller and per chunk."""
        codec = g711.Codec(codec)
        loop = self._encoded.get(codec)
        if loop is None:
            loop = self._encoded[codec] = g711.encode(codec, self.pcm)
        samples = max(0, round(seconds * RATE))
        start = self.position // 2
        self.position = (self.position + 2 * samples) % len(self.pcm)
        return _cycle(loop, start, samples)

    def _next(self, size: int) -> bytes:
        out = _cycle(self.pcm, self.position, size)
        self.position = (self.position + size) % len(self.pcm)
        return out


def _cycle(loop: bytes, start: int, size: int) -> bytes:
    """`size` bytes of `loop` repeated for ever, from offset `start`."""
    end = start + size
    if end <= len(loop):
        return loop[start:end]
    parts = bytearray(loop[start:])
    while len(parts) < size:
        parts += loop[: size - len(parts)]
    return bytes(parts)


def default_music() -> MusicSource:
    """The configured hold music: HOTLINE_HOLD_MUSIC (a WAV file) if set, else built in."""
    from django.conf import settings

    path = settings.HOTLINE_HOLD_MUSIC
    if not path:
        return MusicSource()
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise HoldMusicError(f"HOTLINE_HOLD_MUSIC={path}: cannot read it ({exc.strerror})") from exc
    return MusicSource(_load_music_file(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=4)
def _load_music_file(path: str, mtime_ns: int, size: int) -> bytes:
    """PCM of a music file, cached per version of the file (a new file is read again)."""
    pcm = _read_or_convert(path)
    if not pcm:
        raise HoldMusicError(f"HOTLINE_HOLD_MUSIC={path}: the file holds no audio")
    return _within_ceiling(pcm)


def _read_or_convert(path: str) -> bytes:
    described = _describe(path)
    if described == "8000 Hz mono 16-bit PCM WAV":
        with wave.open(path, "rb") as wav:
            return wav.readframes(wav.getnframes())
    sox = shutil.which("sox")
    if sox is None:
        raise HoldMusicError(
            f"HOTLINE_HOLD_MUSIC={path}: hold music must be an 8 kHz mono 16-bit WAV, this "
            f"file is {described}, and sox is not installed to convert it"
        )
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "music.wav")
        result = subprocess.run(  # noqa: S603 - a fixed program; the path is one argument
            [sox, "-V1", path, "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
             out],
            capture_output=True, timeout=120, check=False,
        )
        if result.returncode != 0:
            reason = result.stderr.decode(errors="replace").strip() or f"exit {result.returncode}"
            raise HoldMusicError(
                f"HOTLINE_HOLD_MUSIC={path}: {described}, and sox cannot convert it: {reason}"
            )
        with wave.open(out, "rb") as wav:
            return wav.readframes(wav.getnframes())


def _describe(path: str) -> str:
    """What the file is, in words for an error message."""
    try:
        with wave.open(path, "rb") as wav:
            channels = "mono" if wav.getnchannels() == 1 else f"{wav.getnchannels()} channels"
            return f"{wav.getframerate()} Hz {channels} {8 * wav.getsampwidth()}-bit PCM WAV"
    except (wave.Error, EOFError) as exc:
        return f"not a PCM WAV file ({exc or 'truncated'})"


def _within_ceiling(pcm: bytes) -> bytes:
    """Scale a file that peaks above -12 dBFS down to it: hold music must not blare."""
    samples = np.frombuffer(pcm, "<i2")
    peak = int(np.max(np.abs(samples.astype(np.int32))))
    if peak <= LEVEL_CEILING:
        return pcm
    scaled = np.trunc(samples.astype(np.float64) * (LEVEL_CEILING / peak))  # never above
    return bytes(scaled.astype("<i2").tobytes())
