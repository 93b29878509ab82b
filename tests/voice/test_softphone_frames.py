"""The softphone's leg adapter without a browser: resampling the browser's audio to the bridge's
8 kHz frames, the queues between a peer and the bridge, and the paced track back to the peer."""

from __future__ import annotations

import asyncio
import fractions
from pathlib import Path

import av
import numpy as np
import pytest

from hotline.voice.media.bridge import Bridge
from hotline.voice.media.session import FRAME_BYTES
from hotline.voice.webrtc.frames import SILENCE, BridgeTrack, PeerFrames, To8k, pcm_frame
from tests.voice.agentphone import levels
from tests.voice.test_media import tone


def stereo_48k(frequency: float, seconds: float) -> list[av.AudioFrame]:
    """What aiortc's Opus decoder hands over: 20 ms frames of 48 kHz interleaved stereo."""
    n = int(48000 * seconds)
    t = np.arange(n) / 48000
    mono = (8000 * np.sin(2 * np.pi * frequency * t)).astype("<i2")
    stereo = np.repeat(mono, 2)
    frames = []
    for index, start in enumerate(range(0, n, 960)):
        chunk = stereo[2 * start:2 * (start + 960)]
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = 48000
        frame.pts = index * 960
        frame.time_base = fractions.Fraction(1, 48000)
        frames.append(frame)
    return frames


def test_48_khz_stereo_becomes_whole_8_khz_frames_with_the_same_tone() -> None:
    to8k = To8k()
    out: list[bytes] = []
    for frame in stereo_48k(1000.0, 1.0):
        out += to8k.feed(frame)
    assert all(len(chunk) == FRAME_BYTES for chunk in out)
    assert 48 <= len(out) <= 50  # one second, less what the resampler still holds
    samples = np.frombuffer(b"".join(out[5:]), "<i2")
    wanted, other = levels(samples, 8000, 1000.0, 1700.0)
    assert wanted > 1e6 and other < wanted / 1000, (wanted, other)
    assert 7000 < np.abs(samples).max() < 9000  # level kept: no gain, no clipping


def test_8_khz_mono_g711_frames_pass_through_and_a_codec_switch_restarts_the_resampler() -> None:
    to8k = To8k()
    pcm = tone(frequency=500.0, amplitude=8000, samples=160 * 10)
    out: list[bytes] = []
    for index in range(10):
        out += to8k.feed(pcm_frame(pcm[index * 320:(index + 1) * 320], index * 160))
    for frame in stereo_48k(500.0, 0.2):  # a renegotiation to Opus mid-call
        out += to8k.feed(frame)
    assert len(out) >= 18
    samples = np.frombuffer(b"".join(out), "<i2")
    assert levels(samples, 8000, 500.0)[0] > 1e6


def test_the_adapter_keeps_audio_only_while_in_a_bridge() -> None:
    frames = PeerFrames()
    frames.heard(b"\x01" * FRAME_BYTES)  # before the call: nobody listens
    assert frames.take_frame() is None
    bridge = Bridge()
    bridge.add("agent", frames)
    assert frames.capture
    frames.heard(b"\x02" * FRAME_BYTES)
    frames.send_frame(b"\x03" * FRAME_BYTES)
    assert frames.take_frame() == b"\x02" * FRAME_BYTES
    assert frames.next_to_send() == b"\x03" * FRAME_BYTES
    assert frames.next_to_send() == SILENCE  # nothing queued: silence, never a stall
    with pytest.raises(ValueError):
        frames.send_frame(b"\x00" * 10)
    frames.heard(b"\x04" * FRAME_BYTES)
    frames.send_frame(b"\x05" * FRAME_BYTES)
    bridge.remove("agent")  # the call ended: its audio is dropped
    assert not frames.capture
    assert frames.take_frame() is None and frames.next_to_send() == SILENCE


def test_two_softphones_in_a_bridge_hear_each_other_and_the_recording_has_both(tmp_path: Path) -> None:
    from hotline.voice.media.recorder import WavRecorder
    from tests.voice.test_baresip import read_mono

    recorder = WavRecorder(str(tmp_path / "call.wav"))
    bridge = Bridge(recorder=recorder)
    one, two = PeerFrames(), PeerFrames()
    bridge.add("one", one)
    bridge.add("two", two)
    a = tone(frequency=700.0, amplitude=8000, samples=160 * 50)
    b = tone(frequency=1400.0, amplitude=8000, samples=160 * 50)
    heard_by_one, heard_by_two = b"", b""
    for index in range(50):
        one.heard(a[index * 320:(index + 1) * 320])
        two.heard(b[index * 320:(index + 1) * 320])
        bridge.tick()
        heard_by_one += one.next_to_send()
        heard_by_two += two.next_to_send()
    recorder.close()
    assert levels(np.frombuffer(heard_by_one, "<i2"), 8000, 1400.0, 700.0)[1] < 1e3
    assert levels(np.frombuffer(heard_by_two, "<i2"), 8000, 700.0)[0] > 1e6
    samples, rate = read_mono(tmp_path / "call.wav")
    both = levels(samples, rate, 700.0, 1400.0)
    assert min(both) > 1e6, both


def test_the_track_paces_8_khz_frames_every_20_ms() -> None:
    frames = PeerFrames()
    frames.capture = True
    frames.send_frame(b"\x07" * FRAME_BYTES)
    track = BridgeTrack(frames)

    async def pull() -> tuple[list[av.AudioFrame], float]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        got = [await track.recv() for _ in range(11)]
        return got, loop.time() - started

    got, seconds = asyncio.run(pull())
    assert 0.19 <= seconds < 0.6, seconds  # 10 intervals of 20 ms (a busy machine: slower)
    assert [frame.pts for frame in got] == [160 * i for i in range(11)]
    assert all(frame.sample_rate == 8000 and frame.samples == 160 for frame in got)
    assert got[0].to_ndarray().tobytes() == b"\x07" * FRAME_BYTES
    assert got[1].to_ndarray().tobytes() == SILENCE
    track.stop()


def test_a_leg_goes_on_with_new_media_keeping_its_hold() -> None:
    old, new, caller = PeerFrames(), PeerFrames(), PeerFrames()
    bridge = Bridge()
    bridge.add("caller", caller)
    bridge.add("agent", old)
    bridge.hold("caller")
    bridge.replace_media("agent", new)
    assert not old.capture and new.capture and bridge.is_held("caller")
    new.heard(b"\x09" * FRAME_BYTES)
    bridge.resume("caller")
    bridge.tick()
    assert caller.next_to_send() == b"\x09" * FRAME_BYTES  # the caller hears the new page


def test_an_announcement_to_the_desk_takes_the_slots_of_the_mix_and_then_the_mix_goes_on() -> None:
    frames = PeerFrames()
    frames.capture = True
    frames.play(b"\x01" * (FRAME_BYTES + 10))  # padded to two whole frames
    assert frames.playing and frames.queued_seconds == pytest.approx(0.04)
    frames.send_frame(b"\x02" * FRAME_BYTES)
    assert frames.next_to_send() == b"\x01" * FRAME_BYTES  # the mix's frame is used up
    assert frames.next_to_send() == b"\x01" * 10 + bytes(FRAME_BYTES - 10)
    frames.send_frame(b"\x03" * FRAME_BYTES)
    assert frames.next_to_send() == b"\x03" * FRAME_BYTES and not frames.playing
    frames.play(b"\x04" * FRAME_BYTES)
    frames.stop_playing()
    assert frames.next_to_send() == SILENCE
