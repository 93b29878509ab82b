"""Hold music: the built-in loop, its level, and HOTLINE_HOLD_MUSIC read or converted."""

import subprocess
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from pytest_django.fixtures import Settings

from hotline.voice.media import music
from hotline.voice.media.music import HoldMusicError, MusicSource, builtin_music_pcm, default_music
from tests.voice.test_media_bridge import goertzel, tone_frames

CEILING = 10 ** (-12 / 20) * 32768


def write_wav(path: Path, samples: np.ndarray, rate: int = 8000, channels: int = 1, width: int = 2) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())


def samples_of(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, "<i2").astype(np.int64)


def test_builtin_music_is_long_soft_and_not_silent() -> None:
    pcm = builtin_music_pcm()
    samples = samples_of(pcm)
    assert len(samples) / 8000 >= 20
    assert np.max(np.abs(samples)) <= CEILING  # never louder than -12 dBFS
    rms_dbfs = 20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2)) / 32768)
    assert -35 < rms_dbfs < -18  # soft, but clearly audible on a phone
    # In the telephone band: almost no energy below 200 Hz or above 3.4 kHz.
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    frequencies = np.fft.rfftfreq(len(samples), 1 / 8000)
    in_band = spectrum[(frequencies >= 200) & (frequencies <= 3400)].sum()
    assert in_band / spectrum.sum() > 0.99


def test_builtin_music_does_not_repeat_within_the_loop_and_loops_without_a_click() -> None:
    samples = samples_of(builtin_music_pcm()).astype(np.float64)
    bar = 3 * 8000
    bars = [samples[i * bar:(i + 1) * bar] for i in range(len(samples) // bar)]
    assert len(bars) >= 7
    for i, first in enumerate(bars):
        for second in bars[i + 1:]:
            similarity = np.dot(first, second) / np.sqrt(np.dot(first, first) * np.dot(second, second))
            assert similarity < 0.8  # no bar is a copy of another
    # The seam: the step from the last sample to the first is an ordinary step.
    steps = np.abs(np.diff(samples))
    assert abs(samples[0] - samples[-1]) <= np.percentile(steps, 99.9)


def test_builtin_music_is_made_once_and_quickly() -> None:
    builtin_music_pcm.cache_clear()
    started = time.perf_counter()
    first = builtin_music_pcm()
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5  # ~10 ms on this machine (bench/bridge.py reports it); generous
    assert builtin_music_pcm() is first  # cached: every source shares one buffer
    assert MusicSource().pcm is first


def test_frames_loop_for_ever_and_chunks_continue_where_frames_stopped() -> None:
    loop = np.arange(1000, dtype="<i2").tobytes()  # 1000 samples: not a multiple of 160
    source = MusicSource(loop)
    assert source.seconds == 1000 / 8000
    frames = b"".join(source.frame() for _ in range(25))  # 4000 samples: four passes
    assert all(len(source.frame()) == 320 for _ in range(3))
    assert frames == loop * 4
    source = MusicSource(loop)
    source.frame()
    chunk = source.chunk(0.25)  # 2000 samples
    assert len(chunk) == 4000 and chunk == (loop * 3)[320:4320]
    assert source.chunk(0) == b""
    tiny = MusicSource(b"\x01\x00\x02\x00\x03")  # shorter than a frame; odd byte dropped
    assert tiny.frame() == b"\x01\x00\x02\x00" * 80
    with pytest.raises(ValueError):
        MusicSource(b"")


def test_encoded_chunks_are_the_music_encoded_once_and_share_the_position(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.voice.media import g711
    from hotline.voice.media.session import MediaSession
    from hotline.voice.sdp import AudioAnswer, Direction

    loop = np.arange(-500, 500, dtype="<i2").tobytes()  # 1000 samples
    source, reference = MusicSource(loop), MusicSource(loop)
    encodings: list[int] = []
    real_encode = g711.encode

    def counting_encode(codec: g711.Codec, pcm: bytes) -> bytes:
        encodings.append(len(pcm))
        return real_encode(codec, pcm)

    monkeypatch.setattr(g711, "encode", counting_encode)
    for codec in (g711.Codec.PCMA, g711.Codec.PCMU, g711.Codec.PCMA, g711.Codec.PCMA):
        chunk = source.encoded_chunk(codec, 0.3)  # 2400 samples: wraps the loop
        assert chunk == real_encode(codec, reference.chunk(0.3))
    assert encodings == [2000, 2000]  # the whole loop once per codec, never per chunk
    source.frame()
    reference.frame()
    assert source.chunk(0.01) == reference.chunk(0.01)  # one position for both kinds

    answer = AudioAnswer("127.0.0.1", 4000, 8, g711.Codec.PCMA, 101, Direction.SENDRECV, b"")
    session = MediaSession(answer, start=0.0)
    session.play_encoded(source.encoded_chunk(g711.Codec.PCMA, 0.05))  # 400 samples
    assert session.queued_seconds == pytest.approx(0.06)  # padded to whole packets


def test_default_music_is_the_builtin_loop_without_configuration(settings: Settings) -> None:
    settings.HOTLINE_HOLD_MUSIC = ""
    source = default_music()
    assert source.pcm == builtin_music_pcm()
    assert default_music() is not source  # each held leg gets its own position


def test_hold_music_file_in_the_native_format_is_read_directly(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               settings: Settings) -> None:
    pcm = b"".join(tone_frames(440, 100, amplitude=4000))
    path = tmp_path / "native.wav"
    write_wav(path, np.frombuffer(pcm, "<i2"))
    settings.HOTLINE_HOLD_MUSIC = str(path)
    monkeypatch.setenv("PATH", str(tmp_path))  # no sox needed for the native format
    source = default_music()
    assert source.pcm == pcm
    assert source.frame() == pcm[:320]


def test_a_loud_file_is_brought_down_to_the_ceiling(tmp_path: Path, settings: Settings) -> None:
    loud = np.frombuffer(b"".join(tone_frames(440, 50, amplitude=30000)), "<i2")
    path = tmp_path / "loud.wav"
    write_wav(path, loud)
    settings.HOTLINE_HOLD_MUSIC = str(path)
    samples = samples_of(default_music().pcm)
    assert CEILING * 0.99 < np.max(np.abs(samples)) <= CEILING
    assert goertzel(default_music().pcm, 440) > 0.95 * CEILING


def test_other_wav_formats_are_converted_with_sox(tmp_path: Path, settings: Settings) -> None:
    rate = 44100
    t = np.arange(rate * 2) / rate
    left = np.round(5000 * np.sin(2 * np.pi * 600 * t))
    right = np.round(5000 * np.sin(2 * np.pi * 600 * t + 0.1))
    stereo = np.column_stack([left, right]).astype("<i2")
    path = tmp_path / "cd.wav"
    write_wav(path, stereo, rate=rate, channels=2)
    settings.HOTLINE_HOLD_MUSIC = str(path)
    pcm = default_music().pcm
    assert abs(len(pcm) / 2 - 16000) <= 8  # 2 s at 8 kHz
    middle = pcm[8000:24000]
    assert goertzel(middle, 600) > 3500  # the tone survived resampling and the downmix
    assert goertzel(middle, 1200) < 100
    # A µ-law WAV (what `sox -e u-law` writes, and what the stdlib wave cannot read).
    ulaw = tmp_path / "ulaw.wav"
    subprocess.run(["sox", str(path), "-r", "8000", "-c", "1", "-e", "u-law", str(ulaw)],
                   check=True, capture_output=True)
    settings.HOTLINE_HOLD_MUSIC = str(ulaw)
    assert goertzel(default_music().pcm[8000:24000], 600) > 3500


def test_without_sox_a_foreign_format_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       settings: Settings) -> None:
    path = tmp_path / "cd.wav"
    write_wav(path, np.zeros(44100, "<i2"), rate=44100, channels=2)
    settings.HOTLINE_HOLD_MUSIC = str(path)
    monkeypatch.setenv("PATH", str(tmp_path))  # sox is nowhere on this PATH
    with pytest.raises(HoldMusicError) as error:
        default_music()
    message = str(error.value)
    assert str(path) in message and "44100 Hz 2 channels 16-bit" in message
    assert "sox is not installed" in message


def test_a_file_that_is_not_audio_is_a_clear_error(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("this is not a recording")
    settings.HOTLINE_HOLD_MUSIC = str(path)
    with pytest.raises(HoldMusicError) as error:
        default_music()
    assert str(path) in str(error.value) and "not a PCM WAV file" in str(error.value)
    assert "sox cannot convert it" in str(error.value)


def test_missing_and_empty_files_are_clear_errors(tmp_path: Path, settings: Settings) -> None:
    settings.HOTLINE_HOLD_MUSIC = str(tmp_path / "gone.wav")
    with pytest.raises(HoldMusicError, match=r"gone\.wav: cannot read it"):
        default_music()
    empty = tmp_path / "empty.wav"
    write_wav(empty, np.zeros(0, "<i2"))
    settings.HOTLINE_HOLD_MUSIC = str(empty)
    with pytest.raises(HoldMusicError, match=r"empty\.wav: the file holds no audio"):
        default_music()


def test_a_changed_file_is_read_again(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "music.wav"
    write_wav(path, np.full(800, 100, "<i2"))
    settings.HOTLINE_HOLD_MUSIC = str(path)
    assert default_music().pcm == np.full(800, 100, "<i2").tobytes()
    write_wav(path, np.full(1600, 200, "<i2"))
    assert default_music().pcm == np.full(1600, 200, "<i2").tobytes()
    music._load_music_file.cache_clear()
