"""Prompts: text to 8 kHz 16-bit PCM through a pluggable TTS, cached on disk by content.

`EspeakTts` runs `espeak-ng -v cmn` and `sox` once per distinct text; the WAV lands in
the cache directory under a hash of the voice and the text, so a restart or a second
gateway process reuses it. Without espeak-ng the hotline still works: `ToneTts` stands
in with short tones (one per phrase), so menus stay usable by their rhythm and the
caller always hears that something is being said.

Numbers are read digit by digit with 幺 for 1, as is usual for codes and phone numbers.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
import struct
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Protocol

from hotline.voice.ivr.flow import PlayRecording, Say, SayDigits, Segment, Tone

logger = logging.getLogger(__name__)

RATE = 8000
DIGIT_WORDS = dict(zip("0123456789*#", "零幺二三四五六七八九星井", strict=True))
GAP = b"\x00\x00" * (RATE // 10)  # 100 ms between read-out digits


class Tts(Protocol):
    name: str

    def synthesize(self, text: str) -> bytes:
        """8 kHz 16-bit mono PCM for `text`."""
        ...


def tone_pcm(frequency: float, seconds: float, amplitude: int = 8000) -> bytes:
    count = int(RATE * seconds)
    return struct.pack(
        f"<{count}h",
        *(int(amplitude * math.sin(2 * math.pi * frequency * n / RATE)) for n in range(count)),
    )


BEEP = tone_pcm(1000.0, 0.3)


class ToneTts:
    """No speech engine: a short tone per phrase (the product works without TTS)."""

    name = "tone"

    def __init__(self, seconds: float = 0.3, frequency: float = 600.0) -> None:
        self.seconds = seconds
        self.frequency = frequency
        self.name = f"tone-{frequency:g}-{seconds:g}"

    def synthesize(self, text: str) -> bytes:
        return tone_pcm(self.frequency, self.seconds, amplitude=6000) if text.strip() else b""


class EspeakTts:
    def __init__(self, voice: str = "cmn", speed: int = 170) -> None:
        self.voice = voice
        self.speed = speed
        self.name = f"espeak-ng-{voice}-{speed}"

    @staticmethod
    def available() -> bool:
        return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None

    def synthesize(self, text: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            raw, out = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "out.wav")
            espeak, sox = shutil.which("espeak-ng") or "espeak-ng", shutil.which("sox") or "sox"
            subprocess.run(  # noqa: S603 - fixed programs, the text is one argument
                [espeak, "-v", self.voice, "-s", str(self.speed), "-w", raw, "--", text],
                check=True, capture_output=True, timeout=60,
            )
            subprocess.run(  # noqa: S603
                [sox, "-V1", raw, "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
                 out, "gain", "-n", "-3"],
                check=True, capture_output=True, timeout=60,
            )
            return read_wav_pcm(out)


def default_tts() -> Tts:
    if EspeakTts.available():
        return EspeakTts()
    logger.warning("espeak-ng or sox is missing: prompts are tones instead of speech")
    return ToneTts()


def read_wav_pcm(path: str | Path) -> bytes:
    """8 kHz 16-bit mono frames of a WAV file (what our recorder and sox write)."""
    with wave.open(str(path), "rb") as wav:
        if (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) != (RATE, 2, 1):
            raise ValueError(f"{path}: not 8 kHz 16-bit mono")
        return wav.readframes(wav.getnframes())


def write_wav_pcm(path: str | Path, pcm: bytes) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm)


class PromptLibrary:
    """Renders resolved prompt segments to PCM; synthesised phrases are cached on disk."""

    def __init__(self, tts: Tts, cache_dir: str | Path) -> None:
        self.tts = tts
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.synthesized = 0  # phrases made (not found in the cache), for tests and logs

    def path_for(self, text: str) -> Path:
        key = hashlib.sha256(f"{self.tts.name}\n{text}".encode()).hexdigest()[:32]
        return self.cache_dir / f"{key}.wav"

    def phrase(self, text: str) -> bytes:
        text = text.strip()
        if not text:
            return b""
        path = self.path_for(text)
        try:
            return read_wav_pcm(path)
        except (FileNotFoundError, EOFError, wave.Error, ValueError):
            pass
        pcm = self.tts.synthesize(text)
        self.synthesized += 1
        # Write then rename: a crash or a second gateway never leaves half a file behind.
        fd, temporary = tempfile.mkstemp(dir=self.cache_dir, suffix=".part")
        os.close(fd)
        try:
            write_wav_pcm(temporary, pcm)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return pcm

    def digits(self, digits: str) -> bytes:
        parts = [self.phrase(DIGIT_WORDS[d]) for d in digits if d in DIGIT_WORDS]
        return GAP.join(parts)

    def render(self, segments: tuple[Segment, ...]) -> bytes:
        pcm = bytearray()
        for segment in segments:
            if isinstance(segment, Say):
                pcm += self.phrase(segment.text)
            elif isinstance(segment, SayDigits):
                pcm += self.digits(segment.variable)
            elif isinstance(segment, Tone):
                pcm += BEEP
            elif isinstance(segment, PlayRecording):
                try:
                    pcm += read_wav_pcm(segment.variable)
                except (OSError, EOFError, wave.Error, ValueError):
                    logger.warning("cannot replay recording %r", segment.variable)
        return bytes(pcm)

    def warm(self, texts: set[str]) -> None:
        """Synthesise the flow's fixed phrases and the digits before the first call."""
        for text in sorted(texts | set(DIGIT_WORDS.values())):
            self.phrase(text)
