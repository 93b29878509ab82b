import io

from hotline.voice.media import g711
from hotline.voice.media.dtmf import parse_event
from hotline.voice.media.g711 import Codec
from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.rtp import RtpPacket, parse_rtp
from hotline.voice.media.session import MediaSession
from hotline.voice.sdp import AudioAnswer, Direction
from tests.voice.pcap import read_udp
from tests.voice.test_media import SIPP_DIR, tone

PEER = ("198.51.100.20", 40000)
NAT = ("203.0.113.7", 61000)


def media(direction: Direction = Direction.SENDRECV, codec: Codec = Codec.PCMU) -> AudioAnswer:
    return AudioAnswer(PEER[0], PEER[1], int(codec), codec, 101, direction, b"")


def test_latches_to_the_real_source_and_drops_foreign_packets() -> None:
    session = MediaSession(media(), start=0.0)
    assert session.remote == PEER
    audio = RtpPacket(0, 1, 160, 7, b"\xff" * 160).to_bytes()
    session.receive(audio, NAT, 0.01)
    assert session.remote == NAT  # behind NAT: answer where packets come from
    session.receive(audio, ("192.0.2.66", 1234), 0.02)
    assert session.counters.foreign == 1 and session.counters.received == 1
    session.receive(b"\x00garbage", NAT, 0.03)
    assert session.counters.malformed == 1


def test_digits_from_a_sipp_capture_and_recording_of_audio_only() -> None:
    buffer = io.BytesIO()
    session = MediaSession(media(), start=0.0, recorder=WavRecorder(buffer))
    digits = []
    for index, datagram in enumerate(read_udp(str(SIPP_DIR / "dtmf_2833_9.pcap"))):
        digits += session.receive(datagram.payload, NAT, 0.02 * index)
    for index in range(10):
        packet = RtpPacket(0, 100 + index, 160 * index, 9, g711.encode(Codec.PCMU, tone(samples=160)))
        session.receive(packet.to_bytes(), NAT, 1 + 0.02 * index)
    assert [d.digit for d in digits] == ["9"]
    assert session.recorder is not None
    session.recorder.close()
    assert session.recorder.samples_written == 10 * 160  # DTMF packets are not audio


def test_paced_output_prompt_then_silence_and_dtmf_first() -> None:
    session = MediaSession(media(), start=100.0)
    session.play(tone(samples=400))  # 2.5 packets: padded to 3
    assert session.playing and session.queued_seconds == 0.06
    assert session.due_packets(99.99) == []
    first = [parse_rtp(p) for p in session.due_packets(100.0)]
    assert len(first) == 1 and first[0].marker and len(first[0].payload) == 160
    session.send_dtmf("5", duration_ms=40)
    burst = [parse_rtp(p) for p in session.due_packets(100.06)]  # 3 slots due
    assert [p.payload_type for p in burst] == [101, 101, 101]
    assert parse_event(burst[0].payload).digit == "5"
    rest = [parse_rtp(p) for p in session.due_packets(100.2)]
    # The last DTMF end packet, then the rest of the prompt, then silence.
    assert rest[0].payload_type == 101 and parse_event(rest[0].payload).end
    assert [p.payload_type for p in rest[1:]] == [0, 0]
    assert rest[1].marker  # audio after an event starts a talkspurt
    sequences = [p.sequence for p in first + burst + rest]
    assert sequences == [(sequences[0] + i) & 0xFFFF for i in range(len(sequences))]
    assert not session.playing
    silence = [parse_rtp(p) for p in session.due_packets(100.24)]
    assert silence[0].payload == g711.silence(Codec.PCMU)


def test_barge_in_and_hold() -> None:
    session = MediaSession(media(), start=0.0)
    start = session.sender.timestamp
    session.play(tone(samples=1600))
    session.stop_playing()
    assert not session.playing
    session.update(media(direction=Direction.INACTIVE))
    assert session.due_packets(1.0) == []  # on hold: nothing is sent
    session.update(media(codec=Codec.PCMA))
    (packet,) = [parse_rtp(p) for p in session.due_packets(1.02)]
    assert packet.payload_type == 8
    assert (packet.timestamp - start) & 0xFFFFFFFF == 51 * 160  # the clock kept running
    assert session.remote == PEER


def test_a_stalled_loop_does_not_burst_but_keeps_the_rtp_clock() -> None:
    session = MediaSession(media(), start=0.0)
    first = parse_rtp(session.due_packets(0.0)[0])
    burst = [parse_rtp(p) for p in session.due_packets(1.0)]
    assert len(burst) == session.pacer.max_burst
    following = parse_rtp(session.due_packets(1.02)[0])
    assert following.timestamp - first.timestamp == 160 * 51


def test_a_queue_that_never_runs_low_is_trimmed_for_speech_but_never_for_a_modem() -> None:
    from hotline.voice.media.session import TRIM_WINDOW, FrameQueue

    def run(queue: FrameQueue) -> list[bytes]:
        queue.put(b"a")
        taken = []
        for n in range(2 * TRIM_WINDOW):  # one in, one out: one frame stands all along
            queue.put(n.to_bytes(2, "big"))
            taken.append(queue.take() or b"")
        return taken

    speech = FrameQueue(8)
    run(speech)
    assert speech.trimmed == 1  # the standing frame went once: now it runs low
    modem = FrameQueue(8)
    modem.trims = False
    frames = run(modem)
    assert modem.trimmed == 0 and frames[0] == b"a"
    assert frames[1:] == [n.to_bytes(2, "big") for n in range(2 * TRIM_WINDOW - 1)]
