"""Prompts: espeak-ng speech at 8 kHz, cached by text; tones when there is no TTS."""

import shutil
from pathlib import Path

import pytest

from hotline.voice.ivr.flow import PlayRecording, Say, SayDigits, Tone
from hotline.voice.prompts import (
    BEEP,
    GAP,
    EspeakTts,
    PromptLibrary,
    ToneTts,
    read_wav_pcm,
    write_wav_pcm,
)


def test_espeak_speaks_mandarin_once_and_the_cache_serves_it_again(tmp_path: Path) -> None:
    if not EspeakTts.available():
        pytest.fail("espeak-ng and sox are needed: apt-get install -y espeak-ng sox")
    library = PromptLibrary(EspeakTts(), tmp_path)
    pcm = library.phrase("示范市政府热线")
    assert 0.5 < len(pcm) / 2 / 8000 < 5  # a second or two of 8 kHz 16-bit audio
    assert max(abs(int.from_bytes(pcm[i:i + 2], "little", signed=True))
               for i in range(0, len(pcm), 2)) > 1000  # not silence
    (cached,) = tmp_path.glob("*.wav")
    assert read_wav_pcm(cached) == pcm
    again = PromptLibrary(EspeakTts(), tmp_path)
    assert again.phrase("示范市政府热线") == pcm and again.synthesized == 0


def test_digits_are_read_one_by_one_with_gaps(tmp_path: Path) -> None:
    library = PromptLibrary(ToneTts(seconds=0.1), tmp_path)
    one = library.phrase("幺")
    assert library.digits("101") == one + GAP + library.phrase("零") + GAP + one
    assert library.synthesized == 2  # 幺 and 零, each made once


def test_segments_render_in_order_including_beep_and_replay(tmp_path: Path) -> None:
    library = PromptLibrary(ToneTts(seconds=0.1), tmp_path / "cache")
    recorded = tmp_path / "rec.wav"
    write_wav_pcm(recorded, b"\x05\x00" * 800)
    pcm = library.render((Say("请说"), Tone("beep"), PlayRecording(str(recorded)),
                          SayDigits("9"), PlayRecording(str(tmp_path / "missing.wav"))))
    said = library.phrase("请说")
    assert pcm == said + BEEP + b"\x05\x00" * 800 + library.phrase("九")


def test_without_espeak_the_default_is_tones(monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.voice import prompts

    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert isinstance(prompts.default_tts(), ToneTts)
