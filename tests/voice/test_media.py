import glob
import hashlib
import io
import math
import struct
import subprocess
import wave
from pathlib import Path

import pytest

from hotline.voice.media import g711
from hotline.voice.media.dtmf import DtmfReceiver, event_packets, parse_event
from hotline.voice.media.g711 import Codec
from hotline.voice.media.pacer import Pacer, due_time
from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.rtp import (
    RtpError,
    RtpPacket,
    SequenceExtender,
    parse_rtp,
    seq_distance,
)
from hotline.voice.media.stream import RtpSender
from tests.voice.pcap import read_udp

SIPP_DIR = Path("/usr/share/sip-tester")
DTMF_PCAPS = {
    **{f"dtmf_2833_{d}.pcap": d for d in "0123456789"},
    "dtmf_2833_star.pcap": "*",
    "dtmf_2833_pound.pcap": "#",
}


# --- G.711 -------------------------------------------------------------------------


def tone(frequency: float = 440.0, amplitude: int = 12000, samples: int = 800) -> bytes:
    return struct.pack(
        f"<{samples}h",
        *(int(amplitude * math.sin(2 * math.pi * frequency * n / 8000)) for n in range(samples)),
    )


@pytest.mark.parametrize("codec", [Codec.PCMU, Codec.PCMA])
def test_g711_round_trip_error_is_within_the_quantisation_step(codec: Codec) -> None:
    every_sample = struct.pack("<65536h", *range(-32768, 32768))
    decoded = struct.unpack("<65536h", g711.decode(codec, g711.encode(codec, every_sample)))
    for original, back in zip(range(-32768, 32768), decoded, strict=True):
        magnitude = abs(original)
        allowed: float
        # Logarithmic: a small absolute error near zero, a few per cent above;
        # beyond the largest code word (32124 in µ-law, 32256 in A-law) the value clips.
        if magnitude <= 256:
            allowed = 11 if codec == Codec.PCMU else 8
        else:
            allowed = magnitude * (0.051 if codec == Codec.PCMU else 0.032)
        allowed = max(allowed, magnitude - (32124 if codec == Codec.PCMU else 32256))
        assert abs(original - back) <= allowed, (original, back)


@pytest.mark.parametrize("codec", [Codec.PCMU, Codec.PCMA])
def test_g711_code_words_survive_decode_encode(codec: Codec) -> None:
    codes = bytes(range(256))
    again = g711.encode(codec, g711.decode(codec, codes))
    if codec == Codec.PCMU:
        # 0x7F and 0xFF both decode to 0 (the two zeros of µ-law); everything else is exact.
        assert [a for a, b in zip(codes, again, strict=True) if a != b] == [0x7F]
    else:
        assert again == codes


def test_g711_known_values_and_signal_to_noise() -> None:
    assert g711.decode(Codec.PCMU, b"\xff\x00\x80") == struct.pack("<3h", 0, -32124, 32124)
    assert g711.decode(Codec.PCMA, b"\xd5\x2a\xaa") == struct.pack("<3h", 8, -32256, 32256)
    assert g711.silence(Codec.PCMU, 2) == b"\xff\xff"
    pcm = tone()
    original = struct.unpack("<800h", pcm)
    for codec in Codec:
        back = struct.unpack("<800h", g711.decode(codec, g711.encode(codec, pcm)))
        signal = sum(s * s for s in original)
        noise = sum((s - b) ** 2 for s, b in zip(original, back, strict=True))
        assert 10 * math.log10(signal / noise) > 33  # G.711 gives ~38 dB on a loud tone


# SHA-256 of CPython's audioop output (the C reference implementation, removed in 3.13)
# over every 16-bit sample and every code word, recorded once with Python 3.11.
AUDIOOP_DIGESTS = {
    "lin2ulaw": "81d633c9e6972a18c74a58720b96cb8ca0bdd096d4060b646dd708c3b846019a",
    "lin2alaw": "38488f6fd710f4686360edc4d38639f96c491595ef93f8eb8d62d5e07ca6ce7b",
    "ulaw2lin": "3dab54339e520bb2c924826e3b72a917a2b612e9fd12fc867500f1d983a75827",
    "alaw2lin": "e04788d110e58ff8c70c93b8480190d973e3b67876b6119abbaec766cc75c174",
}


def test_g711_is_bit_exact_with_the_audioop_reference() -> None:
    pcm = struct.pack("<65536h", *range(-32768, 32768))
    codes = bytes(range(256))
    ours = {
        "lin2ulaw": g711.encode(Codec.PCMU, pcm),
        "lin2alaw": g711.encode(Codec.PCMA, pcm),
        "ulaw2lin": g711.decode(Codec.PCMU, codes),
        "alaw2lin": g711.decode(Codec.PCMA, codes),
    }
    assert {name: hashlib.sha256(data).hexdigest() for name, data in ours.items()} == (
        AUDIOOP_DIGESTS
    )


# --- RTP ---------------------------------------------------------------------------


def test_rtp_round_trip_and_header_fields() -> None:
    packet = RtpPacket(0, 65535, 4294967295, 0xDEADBEEF, b"\xff" * 160, marker=True, csrcs=(7,))
    data = packet.to_bytes()
    assert len(data) == 12 + 4 + 160
    assert data[0] == 0x81 and data[1] == 0x80
    assert parse_rtp(data) == packet


def test_rtp_extension_and_padding_are_stripped() -> None:
    header = bytes([0x80 | 0x20 | 0x10, 8]) + struct.pack("!HII", 1, 2, 3)
    extension = struct.pack("!HH", 0xBEDE, 1) + b"\x01\x02\x03\x04"
    data = header + extension + b"abc" + b"\x00\x00\x03"
    packet = parse_rtp(data)
    assert packet.payload == b"abc" and packet.payload_type == 8


@pytest.mark.parametrize(
    "data",
    [b"", b"\x80\x00", b"\x40" + b"\x00" * 11, b"\x8f" + b"\x00" * 11,
     b"\x90" + b"\x00" * 11 + b"\x00\x00\x00\x09", b"\xa0" + b"\x00" * 11 + b"\x00\x00\xff"],
)
def test_rtp_rejects_malformed_packets(data: bytes) -> None:
    with pytest.raises(RtpError):
        parse_rtp(data)


def test_sequence_numbers_wrap() -> None:
    assert seq_distance(2, 65534) == 4 and seq_distance(65534, 2) == -4
    extender = SequenceExtender()
    assert [extender.extend(s) for s in (65534, 65535, 0, 65533, 1)] == [
        65534, 65535, 65536, 65533, 65537]


# --- DTMF --------------------------------------------------------------------------


def digits_of(receiver: DtmfReceiver, packets: list[RtpPacket]) -> list[str]:
    found = (receiver.receive(packet) for packet in packets)
    return [digit.digit for digit in found if digit is not None]


def rtp_payloads(path: Path) -> list[RtpPacket]:
    return [parse_rtp(d.payload) for d in read_udp(str(path))]


def test_every_sipp_pcap_is_covered() -> None:
    shipped = {Path(p).name for p in glob.glob(str(SIPP_DIR / "dtmf_2833_*.pcap"))}
    assert shipped == set(DTMF_PCAPS)


@pytest.mark.parametrize(("name", "digit"), sorted(DTMF_PCAPS.items()))
def test_sipp_dtmf_pcaps_yield_their_digit_exactly_once(name: str, digit: str) -> None:
    packets = rtp_payloads(SIPP_DIR / name)
    assert len(packets) >= 4  # start, updates, three end packets
    assert sum(parse_event(p.payload).end for p in packets) == 3
    receiver = DtmfReceiver(payload_type=101)
    digits = digits_of(receiver, packets)
    assert digits == [digit]
    # Duplicated and reordered delivery still gives the digit once.
    receiver = DtmfReceiver(payload_type=101)
    shuffled = packets[::-1] + packets + packets[1::2]
    assert digits_of(receiver, shuffled) == [digit]


def test_same_digit_pressed_twice_is_reported_twice() -> None:
    first = rtp_payloads(SIPP_DIR / "dtmf_2833_5.pcap")
    second = [
        RtpPacket(p.payload_type, p.sequence + 20, p.timestamp + 4000, p.ssrc, p.payload)
        for p in first
    ]
    receiver = DtmfReceiver()
    digits = digits_of(receiver, first + second + first[-3:])
    assert digits == ["5", "5"]


def test_replayed_capture_counts_again_after_a_pause_but_not_when_duplicated() -> None:
    packets = rtp_payloads(SIPP_DIR / "dtmf_2833_1.pcap")
    receiver = DtmfReceiver()

    def press(start: float) -> list[str]:
        found = (receiver.receive(p, start + 0.02 * i) for i, p in enumerate(packets))
        return [d.digit for d in found if d is not None]

    assert press(10.0) == ["1"]
    assert press(10.5) == []  # a duplicate burst within a second: the same press
    assert press(13.0) == ["1"]  # sipp replays the same pcap for a second "1"
    assert press(16.0) == ["1"]


def test_receiver_ignores_audio_and_non_dtmf_events() -> None:
    receiver = DtmfReceiver(payload_type=101)
    assert receiver.receive(RtpPacket(0, 1, 160, 1, b"\xff" * 160)) is None
    assert receiver.receive(RtpPacket(101, 2, 320, 1, bytes([66, 0x80, 0, 160]))) is None


def test_sender_packets_decode_to_one_digit_with_redundant_end() -> None:
    packets = event_packets("#", payload_type=101, ssrc=42, first_sequence=65534,
                            timestamp=8000, duration_ms=100)
    events = [parse_event(p.payload) for p in packets]
    assert [p.marker for p in packets] == [True] + [False] * 6
    assert [p.sequence for p in packets] == [65534, 65535, 0, 1, 2, 3, 4]
    assert {p.timestamp for p in packets} == {8000}
    assert [e.duration for e in events] == [160, 320, 480, 640, 800, 800, 800]
    assert [e.end for e in events] == [False] * 4 + [True] * 3
    assert {e.digit for e in events} == {"#"}
    receiver = DtmfReceiver(payload_type=101)
    wire = [parse_rtp(p.to_bytes()) for p in packets]
    assert digits_of(receiver, wire) == ["#"]
    with pytest.raises(ValueError):
        event_packets("x", payload_type=101, ssrc=1, first_sequence=0, timestamp=0)


# --- pacing ------------------------------------------------------------------------


def test_due_time_is_drift_free() -> None:
    assert due_time(100.0, 0) == 100.0
    assert due_time(100.0, 50) == pytest.approx(101.0)
    assert due_time(100.0, 3_000_000) == pytest.approx(100.0 + 60_000.0)


def test_pacer_sends_on_schedule_catches_up_and_skips_long_stalls() -> None:
    pacer = Pacer(start=10.0)
    assert pacer.due(9.99) == 0
    assert pacer.due(10.0) == 1
    assert pacer.due(10.005) == 0
    assert pacer.delay_until_next(10.005) == pytest.approx(0.015)
    assert pacer.due(10.045) == 2  # woke up late: packets 1 and 2
    assert pacer.due(10.06) == 1
    assert pacer.due(11.0) == 3 and pacer.skipped == 44  # a 1 s stall: no burst
    assert pacer.next_due() == pytest.approx(11.02)


# --- recorder ----------------------------------------------------------------------


def audio_packets(count: int, codec: Codec = Codec.PCMU, ssrc: int = 9,
                  first_seq: int = 65530) -> list[RtpPacket]:
    pcm = tone(samples=160 * count)
    payload = g711.encode(codec, pcm)
    return [
        RtpPacket(int(codec), (first_seq + i) & 0xFFFF, 1000 + 160 * i, ssrc,
                  payload[160 * i: 160 * (i + 1)])
        for i in range(count)
    ]


def read_wav(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        return wav.readframes(wav.getnframes())


def test_recorder_reorders_within_the_window(tmp_path: Path) -> None:
    packets = audio_packets(20)
    order = packets[:]
    order[3], order[5] = order[5], order[3]
    order[10], order[11] = order[11], order[10]
    order.insert(15, packets[2])  # a late duplicate
    path = tmp_path / "in.wav"
    with WavRecorder(str(path)) as recorder:
        for packet in order:
            recorder.add_packet(packet, Codec.PCMU)
    expected = b"".join(g711.decode(Codec.PCMU, p.payload) for p in packets)
    assert read_wav(path) == expected
    assert recorder.packets_late == 1 and recorder.packets_lost == 0


def test_recorder_fills_lost_packets_with_silence(tmp_path: Path) -> None:
    packets = audio_packets(10)
    path = tmp_path / "lossy.wav"
    with WavRecorder(str(path)) as recorder:
        for packet in packets[:4] + packets[5:]:
            recorder.add_packet(packet, Codec.PCMU)
    frames = read_wav(path)
    assert len(frames) == 2 * 160 * 10  # timing kept
    assert frames[2 * 160 * 4: 2 * 160 * 5] == b"\x00" * 320
    assert recorder.packets_lost == 1


def test_recorder_output_is_playable_while_the_call_is_still_running(tmp_path: Path) -> None:
    path = tmp_path / "partial.wav"
    recorder = WavRecorder(str(path), window=3)  # written and patched every second
    for packet in audio_packets(120):
        recorder.add_packet(packet, Codec.PCMU)
    # No close(): the process could die now. What is on disk is a valid WAV already, holding
    # every whole second that left the jitter window (117 packets did: 2 s of 2.34), once
    # the writer thread has written what it was handed.
    recorder.wait_written()
    frames = read_wav(path)
    assert len(frames) == 2 * 8000 * 2
    info = subprocess.run(["sox", "--i", "-s", str(path)], capture_output=True, text=True,
                          check=True)
    assert info.stdout.strip() == str(2 * 8000)
    expected = b"".join(g711.decode(Codec.PCMU, p.payload) for p in audio_packets(120))
    assert frames == expected[: len(frames)]
    recorder.close()
    assert read_wav(path) == expected
    info = subprocess.run(["sox", "--i", str(path)], capture_output=True, text=True, check=True)
    assert "Sample Rate    : 8000" in info.stdout and "Channels       : 1" in info.stdout


def test_recorder_writes_in_chunks_not_every_packet(tmp_path: Path) -> None:
    path = tmp_path / "chunks.wav"
    recorder = WavRecorder(str(path), window=3, flush_seconds=0.5, background=False)
    sizes = []
    for packet in audio_packets(60):
        recorder.add_packet(packet, Codec.PCMU)
        sizes.append(path.stat().st_size)
    # The file grows by half a second at a time (8000 bytes), never by one packet.
    assert sorted(set(sizes)) == [44, 44 + 8000, 44 + 16000]
    assert recorder.seconds == pytest.approx(57 * 0.02)  # counted as it comes
    recorder.close()
    assert path.stat().st_size == 44 + 2 * 160 * 60


def test_recorder_writes_in_one_writer_thread_and_close_waits_for_it(tmp_path: Path) -> None:
    import threading

    threads: set[str] = set()

    class Spy(io.BytesIO):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            threads.add(threading.current_thread().name)
            return super().write(data)

    first, second = Spy(), Spy()
    recorders = [WavRecorder(first, flush_seconds=0.1), WavRecorder(second, flush_seconds=0.1)]
    threads.clear()  # the header at creation is written at once, by the caller
    packets = audio_packets(40)
    for packet in packets:
        for recorder in recorders:
            recorder.add_packet(packet, Codec.PCMU)
    for recorder in recorders:
        recorder.close()
    assert len(threads) == 1 and threads.pop().startswith("wav-writer")
    expected = b"".join(g711.decode(Codec.PCMU, p.payload) for p in packets)
    for buffer in (first, second):
        buffer.seek(0)
        with wave.open(buffer, "rb") as wav:
            assert wav.readframes(wav.getnframes()) == expected


def test_a_failed_write_is_raised_at_close(tmp_path: Path) -> None:
    class Full(io.BytesIO):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            if len(data) > 44:
                raise OSError(28, "No space left on device")
            return super().write(data)

    recorder = WavRecorder(Full(), flush_seconds=0.02)
    recorder.add_pcm(bytes(640))
    with pytest.raises(OSError, match="No space"):
        recorder.close()
    assert recorder.closed


def test_recorder_empty_call_and_own_pcm(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    WavRecorder(str(path)).close()
    assert read_wav(path) == b""
    buffer = io.BytesIO()
    recorder = WavRecorder(buffer)
    recorder.add_pcm(tone(samples=80))
    recorder.close()
    buffer.seek(0)
    with wave.open(buffer, "rb") as wav:
        assert wav.getnframes() == 80


def test_recorder_new_ssrc_and_alaw(tmp_path: Path) -> None:
    path = tmp_path / "two.wav"
    with WavRecorder(str(path)) as recorder:
        for packet in audio_packets(5, Codec.PCMA, ssrc=1):
            recorder.add_packet(packet, Codec.PCMA)
        for packet in audio_packets(5, Codec.PCMA, ssrc=2, first_seq=7):
            recorder.add_packet(packet, Codec.PCMA)
    assert len(read_wav(path)) == 2 * 160 * 10


def test_rtp_sender_keeps_audio_and_dtmf_on_one_timeline() -> None:
    sender = RtpSender(0, ssrc=5, first_sequence=65535, first_timestamp=2**32 - 160,
                       telephone_event=101)
    first = parse_rtp(sender.audio(b"\xff" * 160))
    second = parse_rtp(sender.audio(b"\xff" * 160))
    assert (first.sequence, first.timestamp, first.marker) == (65535, 2**32 - 160, True)
    assert (second.sequence, second.timestamp, second.marker) == (0, 0, False)
    digits = [parse_rtp(data) for data in sender.dtmf("7", duration_ms=60)]
    assert [p.sequence for p in digits] == [1, 2, 3, 4, 5]
    assert {p.timestamp for p in digits} == {160} and {p.payload_type for p in digits} == {101}
    assert digits_of(DtmfReceiver(), digits) == ["7"]
    after = parse_rtp(sender.audio(b"\xff" * 160))
    assert (after.sequence, after.timestamp, after.marker) == (6, 160 + 5 * 160, True)
    sender.skip(800)
    assert parse_rtp(sender.audio(b"\xff" * 160)).timestamp == 160 + 6 * 160 + 800
    with pytest.raises(ValueError):
        RtpSender(0, ssrc=1, first_sequence=0, first_timestamp=0).dtmf("1")


def test_recorder_keeps_a_replayed_capture_and_a_sequence_restart(tmp_path: Path) -> None:
    capture = [parse_rtp(d.payload) for d in read_udp(str(SIPP_DIR / "g711a.pcap"))]
    path = tmp_path / "replayed.wav"
    with WavRecorder(str(path)) as recorder:
        for packet in capture + capture:  # sipp replays headers unchanged
            recorder.add_packet(packet, Codec.PCMA)
    one_pass = b"".join(g711.decode(Codec.PCMA, p.payload) for p in capture)
    assert read_wav(path) == one_pass + one_pass
    assert recorder.packets_lost == 0 and recorder.packets_late == 0


def test_pacer_on_a_clock_grid_sends_one_packet_per_grid_point_despite_rounding() -> None:
    from hotline.voice.media.pacer import Pacer

    for origin in (5201.048, 5147.836, 100.0, 12345.678, 0.1):
        start = origin + 1 * 0.02  # where a clock puts a stream that joined after its origin
        pacer = Pacer(start=start)
        counts = [pacer.due(origin + n * 0.02) for n in range(1, 2000)]
        assert counts == [1] * len(counts), origin
