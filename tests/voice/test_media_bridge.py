"""The mixing bridge, sans-I/O: each leg's session gets real RTP with its own tone, the
bridge ticks, and what each session sends (real RTP again) is measured per frequency."""

import io
import math
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytest_django.fixtures import Settings

from hotline.voice.media import g711
from hotline.voice.media.bridge import Bridge, LegMode, mix
from hotline.voice.media.g711 import Codec
from hotline.voice.media.music import MusicSource
from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.rtp import RtpPacket, parse_rtp
from hotline.voice.media.session import INBOUND_FRAMES, OUTBOUND_FRAMES, MediaSession
from hotline.voice.sdp import AudioAnswer, Direction

CALLER, AGENT, THIRD, SUPERVISOR = 300.0, 500.0, 700.0, 900.0
MUSIC = 1100.0  # a stand-in hold music that a Goertzel measure can find
AMPLITUDE = 6000
FRAMES = 25  # frames measured per phase: 500 ms, every test tone a whole number of cycles


def goertzel(pcm: bytes, frequency: float) -> float:
    """Amplitude of the `frequency` component of 8 kHz PCM (a full-scale-free measure)."""
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    n = len(samples)
    coefficient = 2 * math.cos(2 * math.pi * frequency / 8000)
    s1 = s2 = 0.0
    for sample in samples:
        s1, s2 = sample + coefficient * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    return 2 * math.sqrt(max(power, 0.0)) / n


def tone_frames(frequency: float, count: int, start: int = 0, amplitude: float = AMPLITUDE) -> list[bytes]:
    n = np.arange(start * 160, (start + count) * 160)
    wave_ = np.round(amplitude * np.sin(2 * np.pi * frequency * n / 8000)).astype("<i2")
    return [wave_[i * 160 : (i + 1) * 160].tobytes() for i in range(count)]


class Phone:
    """One leg: a MediaSession as the gateway has it, fed by a 'phone' sending a tone."""

    def __init__(self, frequency: float, codec: Codec = Codec.PCMU, start: float = 0.0) -> None:
        self.frequency = frequency
        self.codec = codec
        self.session = MediaSession(
            AudioAnswer("127.0.0.1", 40000, int(codec), codec, 101, Direction.SENDRECV, b""),
            start=start,
        )
        self.sequence = 1000
        self.sent_frames = 0
        self.heard = bytearray()
        self.speaking = True

    def speak(self, now: float) -> None:
        frame = (tone_frames(self.frequency, 1, self.sent_frames)[0] if self.speaking
                 else bytes(320))
        self.sent_frames += 1
        payload = g711.encode(self.codec, frame)
        packet = RtpPacket(int(self.codec), self.sequence & 0xFFFF, 160 * self.sequence, 77,
                           payload)
        self.sequence += 1
        self.session.receive(packet.to_bytes(), ("127.0.0.1", 40000), now)

    def listen(self, now: float) -> None:
        for data in self.session.due_packets(now):
            packet = parse_rtp(data)
            assert packet.payload_type == int(self.codec)
            self.heard += g711.decode(self.codec, packet.payload)


def music_tone() -> MusicSource:
    return MusicSource(b"".join(tone_frames(MUSIC, 50)))  # 1 s: a whole number of cycles


class Call:
    def __init__(self, bridge: Bridge | None = None) -> None:
        self.bridge = bridge or Bridge(music=music_tone())
        self.phones: dict[str, Phone] = {}
        self.now = 0.0
        self.slot = 0

    def join(self, leg_id: str, frequency: float, mode: LegMode = LegMode.PARTY, codec: Codec = Codec.PCMU,
             **kwargs: Any) -> Phone:
        phone = Phone(frequency, codec, start=self.now)  # its RTP starts when it joins
        self.phones[leg_id] = phone
        self.bridge.add(leg_id, phone.session, mode, **kwargs)
        return phone

    def run(self, frames: int = FRAMES) -> dict[str, bytes]:
        """Run `frames` ticks; return what each phone heard in them (after a settle tick)."""
        marks = {}
        for index in range(frames + 2):
            if index == 2:  # the first ticks carry what was queued before: skip them
                marks = {leg: len(phone.heard) for leg, phone in self.phones.items()}
            for phone in self.phones.values():
                phone.speak(self.now)
            self.bridge.tick()
            for phone in self.phones.values():
                phone.listen(self.now)
            self.now += 0.02
        return {leg: bytes(phone.heard[marks.get(leg, 0):]) for leg, phone in
                self.phones.items()}


def hears(pcm: bytes, frequency: float) -> bool:
    return goertzel(pcm, frequency) > 0.8 * AMPLITUDE


def silent_at(pcm: bytes, frequency: float) -> bool:
    return goertzel(pcm, frequency) < 0.02 * AMPLITUDE


def spectrum(pcm: bytes) -> dict[float, int]:
    return {f: round(goertzel(pcm, f)) for f in (CALLER, AGENT, THIRD, SUPERVISOR, MUSIC)}


def assert_hears(pcm: bytes, *present: float) -> None:
    levels = spectrum(pcm)
    for frequency, level in levels.items():
        if frequency in present:
            assert level > 0.8 * AMPLITUDE, (frequency, levels)
        else:
            assert level < 0.02 * AMPLITUDE, (frequency, levels)


def test_goertzel_measures_a_tone_and_ignores_the_others() -> None:
    pcm = b"".join(tone_frames(CALLER, FRAMES))
    assert goertzel(pcm, CALLER) == pytest.approx(AMPLITUDE, rel=0.01)
    assert goertzel(pcm, AGENT) < 1


def test_two_parties_hear_each_other_and_not_themselves() -> None:
    call = Call()
    call.join("caller", CALLER, codec=Codec.PCMU)
    call.join("agent", AGENT, codec=Codec.PCMA)
    heard = call.run()
    assert_hears(heard["caller"], AGENT)
    assert_hears(heard["agent"], CALLER)
    assert len(heard["caller"]) == 320 * FRAMES  # one frame per slot: no gap, no pile-up
    assert call.bridge.leg_ids == ["caller", "agent"]
    assert all(phone.session.capture for phone in call.phones.values())


def test_hold_gives_music_to_the_held_leg_and_silence_to_the_other_then_resume() -> None:
    call = Call()
    call.join("caller", CALLER)
    call.join("agent", AGENT)
    call.bridge.hold("caller")
    assert call.bridge.is_held("caller") and not call.bridge.is_held("agent")
    heard = call.run()
    assert_hears(heard["caller"], MUSIC)
    assert heard["agent"] == bytes(len(heard["agent"]))  # alone with a held leg: silence
    call.bridge.resume("caller")
    heard = call.run()
    assert_hears(heard["caller"], AGENT)
    assert_hears(heard["agent"], CALLER)


def test_two_held_legs_both_hear_the_music_and_not_each_other() -> None:
    call = Call()
    call.join("caller", CALLER)
    call.join("agent", AGENT)
    call.join("department", THIRD)
    call.bridge.hold("caller")
    call.bridge.hold("department")
    heard = call.run()
    assert_hears(heard["caller"], MUSIC)
    assert_hears(heard["department"], MUSIC)
    assert heard["agent"] == bytes(len(heard["agent"]))


def test_three_way_call_each_hears_the_two_others() -> None:
    call = Call()
    call.join("caller", CALLER)
    call.join("agent", AGENT, codec=Codec.PCMA)
    call.join("department", THIRD)
    heard = call.run()
    assert_hears(heard["caller"], AGENT, THIRD)
    assert_hears(heard["agent"], CALLER, THIRD)
    assert_hears(heard["department"], CALLER, AGENT)
    # The agent consults the department while the caller holds.
    call.bridge.hold("caller")
    heard = call.run()
    assert_hears(heard["caller"], MUSIC)
    assert_hears(heard["agent"], THIRD)
    assert_hears(heard["department"], AGENT)


def test_listen_hears_both_and_is_heard_by_none() -> None:
    call = Call()
    call.join("caller", CALLER)
    call.join("agent", AGENT)
    call.join("supervisor", SUPERVISOR, LegMode.LISTEN)
    heard = call.run()
    assert_hears(heard["supervisor"], CALLER, AGENT)
    assert_hears(heard["caller"], AGENT)
    assert_hears(heard["agent"], CALLER)


def test_whisper_is_heard_by_the_agent_only_and_not_recorded() -> None:
    buffer = io.BytesIO()
    recorder = WavRecorder(buffer)
    call = Call(Bridge(recorder=recorder, music=music_tone()))
    call.join("caller", CALLER)
    call.join("agent", AGENT)
    call.join("supervisor", SUPERVISOR, LegMode.WHISPER, whisper_to="agent")
    heard = call.run()
    assert_hears(heard["agent"], CALLER, SUPERVISOR)
    assert_hears(heard["caller"], AGENT)
    assert_hears(heard["supervisor"], CALLER, AGENT)
    recorder.close()
    recording = wav_frames(buffer)
    assert_hears(recording[-320 * FRAMES:], CALLER, AGENT)


def test_barge_is_heard_by_all_and_modes_change_during_the_call() -> None:
    call = Call()
    call.join("caller", CALLER)
    call.join("agent", AGENT)
    call.join("supervisor", SUPERVISOR, LegMode.LISTEN)
    call.run(4)
    call.bridge.set_mode("supervisor", LegMode.WHISPER, whisper_to="agent")
    assert call.bridge.mode("supervisor") is LegMode.WHISPER
    heard = call.run()
    assert_hears(heard["agent"], CALLER, SUPERVISOR)
    assert_hears(heard["caller"], AGENT)
    call.bridge.set_mode("supervisor", LegMode.BARGE)
    heard = call.run()
    assert_hears(heard["caller"], AGENT, SUPERVISOR)
    assert_hears(heard["agent"], CALLER, SUPERVISOR)
    assert_hears(heard["supervisor"], CALLER, AGENT)


def test_remove_takes_a_leg_out_and_turns_capture_off() -> None:
    call = Call()
    call.join("caller", CALLER)
    call.join("agent", AGENT)
    call.join("department", THIRD)
    call.run(3)
    department = call.phones.pop("department")
    assert call.bridge.remove("department") is department.session
    assert not department.session.capture and department.session.frames_waiting == 0
    department.speak(call.now)
    assert department.session.frames_waiting == 0  # capture off: nothing is kept
    assert call.bridge.remove("department") is None
    heard = call.run()
    assert_hears(heard["caller"], AGENT)
    assert_hears(heard["agent"], CALLER)
    assert call.bridge.leg_ids == ["caller", "agent"]


def wav_frames(buffer: io.BytesIO) -> bytes:
    buffer.seek(0)
    with wave.open(buffer, "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        return wav.readframes(wav.getnframes())


def test_the_recording_holds_caller_and_agent_and_no_held_leg_or_music() -> None:
    buffer = io.BytesIO()
    recorder = WavRecorder(buffer)
    call = Call(Bridge(recorder=recorder, music=music_tone()))
    caller = call.join("caller", CALLER)
    call.join("agent", AGENT, codec=Codec.PCMA)
    call.run()
    call.bridge.hold("caller")
    call.run()
    call.phones["agent"].speaking = False  # a silent agent while the caller holds
    call.run()
    call.phones["agent"].speaking = True
    call.bridge.resume("caller")
    call.run()
    recorder.close()
    recording = wav_frames(buffer)
    ticks = call.bridge.ticks
    assert len(recording) == 320 * ticks  # one frame every tick: the recording keeps time
    segment = 320 * (FRAMES + 2)
    talk, held, silent, resumed = (recording[i * segment + 640:(i + 1) * segment]
                                   for i in range(4))
    assert_hears(talk, CALLER, AGENT)
    assert_hears(held, AGENT)  # the agent, not the held caller nor the music
    assert np.max(np.abs(np.frombuffer(silent, "<i2"))) <= 8  # A-law has no zero: ±8
    assert_hears(resumed, CALLER, AGENT)
    assert caller.session.counters.frames_dropped == 0


def test_the_recorder_can_be_replaced_or_dropped_during_the_call() -> None:
    first, second = io.BytesIO(), io.BytesIO()
    recorder = WavRecorder(first)
    call = Call(Bridge(recorder=recorder))
    call.join("caller", CALLER)
    call.join("agent", AGENT)
    call.run(8)
    recorder.close()
    recorder = call.bridge.recorder = WavRecorder(second)
    call.run(8)
    call.bridge.recorder = None
    call.run(3)
    recorder.close()
    assert len(wav_frames(first)) == 320 * 10 and len(wav_frames(second)) == 320 * 10


def test_mixing_clips_instead_of_wrapping() -> None:
    loud = np.full(160, 30000, "<i2").tobytes()
    low = np.full(160, -30000, "<i2").tobytes()
    assert set(np.frombuffer(mix([loud, loud]), "<i2")) == {32767}
    assert set(np.frombuffer(mix([low, low, low]), "<i2")) == {-32768}
    assert mix([loud, low]) == bytes(320)
    assert mix([]) == bytes(320) and mix([loud]) == loud


def test_a_missing_frame_is_silence_and_nobody_is_late_after_it() -> None:
    call = Call()
    caller = call.join("caller", CALLER)
    agent = call.join("agent", AGENT)
    call.run(3)
    before = len(agent.heard)
    # The caller's packet is lost this tick: the agent hears one frame of silence.
    agent.speak(call.now)
    call.bridge.tick()
    agent.listen(call.now)
    caller.listen(call.now)
    call.now += 0.02
    assert agent.heard[before:] == bytes(320)
    heard = call.run()
    assert_hears(heard["agent"], CALLER)
    assert caller.session.frames_waiting == 0


def test_mode_arguments_are_checked() -> None:
    bridge = Bridge()
    phone = Phone(CALLER)
    with pytest.raises(ValueError):
        bridge.add("supervisor", phone.session, LegMode.WHISPER)
    with pytest.raises(ValueError):
        bridge.add("supervisor", phone.session, LegMode.LISTEN, whisper_to="agent")
    with pytest.raises(ValueError):
        bridge.add("supervisor", phone.session, LegMode.WHISPER, whisper_to="supervisor")
    bridge.add("caller", phone.session)
    with pytest.raises(ValueError):
        bridge.add("caller", Phone(AGENT).session)
    with pytest.raises(KeyError):
        bridge.hold("nobody")
    assert not bridge.is_held("nobody")


# --- bounded queues ------------------------------------------------------------------


def packet(sequence: int, pcm: bytes, codec: Codec = Codec.PCMU, ssrc: int = 5) -> bytes:
    return RtpPacket(int(codec), sequence & 0xFFFF, 160 * sequence, ssrc,
                     g711.encode(codec, pcm)).to_bytes()


def numbered(index: int) -> bytes:
    """A frame whose constant level tells which packet it came from (exact in µ-law)."""
    return np.full(160, g711.ulaw_to_linear(0x80 + index % 100), "<i2").tobytes()


def test_a_stalled_bridge_drops_the_oldest_frames_and_keeps_the_newest() -> None:
    phone = Phone(CALLER)
    session = phone.session
    session.capture = True
    for index in range(100):
        session.receive(packet(index, numbered(index)), ("127.0.0.1", 40000), 0.02 * index)
    assert session.frames_waiting == INBOUND_FRAMES
    assert session.counters.frames_dropped == 100 - INBOUND_FRAMES
    taken = [session.take_frame() for _ in range(INBOUND_FRAMES)]
    assert taken == [numbered(i) for i in range(100 - INBOUND_FRAMES, 100)]
    assert session.take_frame() is None


def test_a_stalled_sender_keeps_only_the_last_bridge_frames() -> None:
    session = Phone(CALLER).session
    for index in range(10):
        session.send_frame(numbered(index))
    assert session.counters.out_frames_dropped == 10 - OUTBOUND_FRAMES
    sent = [g711.decode(Codec.PCMU, parse_rtp(p).payload)
            for p in session.due_packets(0.04)]  # three slots due
    assert sent == [numbered(i) for i in range(10 - OUTBOUND_FRAMES, 10)]
    (after,) = session.due_packets(0.06)
    assert parse_rtp(after).payload == g711.silence(Codec.PCMU)
    with pytest.raises(ValueError):
        session.send_frame(b"\x00" * 100)


def test_a_burst_after_a_stall_does_not_leave_latency_behind() -> None:
    session = Phone(CALLER).session
    session.capture = True
    sequence = 0
    for _ in range(INBOUND_FRAMES):  # the loop stalled: packets queued up in the kernel
        session.receive(packet(sequence, numbered(sequence)), ("127.0.0.1", 40000), 0.0)
        sequence += 1
    depths = []
    for _ in range(400):  # then steady: one packet in, one frame out per 20 ms
        session.receive(packet(sequence, numbered(sequence)), ("127.0.0.1", 40000), 0.0)
        sequence += 1
        assert session.take_frame() is not None
        depths.append(session.frames_waiting)
    assert depths[0] == INBOUND_FRAMES - 1  # 100 ms of delay at first...
    assert depths[-1] == 0  # ...trimmed away, a frame a second
    assert depths.index(0) <= 5 * 50
    assert session.counters.frames_dropped == 1 + 5  # the overflow, then five trims


def test_jittery_arrivals_are_not_trimmed() -> None:
    session = Phone(CALLER).session
    session.capture = True
    sequence, missing = 0, 0
    for step in range(400):
        for _ in range(2 if step % 2 == 0 else 0):  # pairs of packets, 40 ms apart
            session.receive(packet(sequence, numbered(sequence)), ("127.0.0.1", 40000), 0.0)
            sequence += 1
        missing += session.take_frame() is None
    assert missing == 0 and session.counters.frames_dropped == 0


def test_a_prompt_replaces_bridge_audio_which_does_not_pile_up_behind_it() -> None:
    session = Phone(CALLER).session
    prompt = b"".join(tone_frames(CALLER, 5))
    session.play(prompt)
    sent = []
    for slot in range(8):
        session.send_frame(numbered(slot))
        sent += [g711.decode(Codec.PCMU, parse_rtp(p).payload)
                 for p in session.due_packets(0.02 * slot)]
    assert len(sent) == 8
    assert sent[:5] == [g711.decode(Codec.PCMU, g711.encode(Codec.PCMU, f))
                        for f in tone_frames(CALLER, 5)]
    assert sent[5:] == [numbered(5), numbered(6), numbered(7)]  # current, not 5 slots old
    assert session.counters.out_frames_replaced == 5


def test_bridge_frames_are_consumed_while_the_peer_holds_us() -> None:
    session = Phone(CALLER).session
    session.update(AudioAnswer("127.0.0.1", 40000, 0, Codec.PCMU, 101, Direction.INACTIVE, b""))
    for slot in range(5):
        session.send_frame(numbered(slot))
        assert session.due_packets(0.02 * slot) == []
    session.update(AudioAnswer("127.0.0.1", 40000, 0, Codec.PCMU, 101, Direction.SENDRECV, b""))
    session.send_frame(numbered(5))
    (packet_,) = session.due_packets(0.1)
    assert g711.decode(Codec.PCMU, parse_rtp(packet_).payload) == numbered(5)


@pytest.mark.parametrize("samples", [80, 240, 400])
def test_packets_of_other_lengths_are_rechunked_into_20ms_frames(samples: int) -> None:
    session = Phone(CALLER).session
    session.capture = True
    pcm = b"".join(tone_frames(CALLER, 10))
    payload = g711.encode(Codec.PCMU, pcm)
    frames = []
    for index, offset in enumerate(range(0, len(payload), samples)):
        data = RtpPacket(0, index, offset, 9, payload[offset:offset + samples]).to_bytes()
        session.receive(data, ("127.0.0.1", 40000), 0.0)
        while (frame := session.take_frame()) is not None:
            frames.append(frame)
    assert all(len(f) == 320 for f in frames)
    assert b"".join(frames) == g711.decode(Codec.PCMU, payload)
    assert len(frames) == 10


def test_late_and_duplicate_packets_are_not_captured_but_a_restart_is() -> None:
    session = Phone(CALLER).session
    session.capture = True
    source = ("127.0.0.1", 40000)
    for sequence in (10, 11, 13, 12, 13, 14):  # 12 comes after 13; 13 twice
        session.receive(packet(sequence, numbered(sequence)), source, 0.0)
    assert session.counters.frames_late == 2
    assert [session.take_frame() for _ in range(4)] == [numbered(i) for i in (10, 11, 13, 14)]
    session.receive(packet(40000, numbered(1)), source, 0.0)  # the sender restarted
    session.receive(packet(1, numbered(2), ssrc=6), source, 0.0)  # a new source
    assert [session.take_frame() for _ in range(2)] == [numbered(1), numbered(2)]


def test_capture_is_off_by_default_and_the_ivr_path_is_unchanged() -> None:
    session = Phone(CALLER).session
    assert not session.capture
    session.receive(packet(1, numbered(1)), ("127.0.0.1", 40000), 0.0)
    assert session.take_frame() is None and session.frames_waiting == 0


def test_without_music_given_a_held_leg_hears_the_configured_default(settings: Settings) -> None:
    settings.HOTLINE_HOLD_MUSIC = ""
    call = Call(Bridge())
    caller = call.join("caller", CALLER)
    call.join("agent", AGENT)
    call.bridge.hold("caller")
    call.run(3)
    expected = MusicSource()
    frames = [g711.decode(Codec.PCMU, g711.encode(Codec.PCMU, expected.frame()))
              for _ in range(5)]
    assert bytes(caller.heard) == b"".join(frames)


def test_a_broken_music_setting_falls_back_to_the_builtin_music(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture,
                                                                settings: Settings) -> None:
    settings.HOTLINE_HOLD_MUSIC = str(tmp_path / "missing.wav")
    bridge = Bridge()
    assert bridge.music.pcm == MusicSource().pcm
    assert "hold music unavailable" in caplog.text and "missing.wav" in caplog.text
