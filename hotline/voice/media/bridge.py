"""The gateway's mixing bridge: joins call legs (caller, agent, a department, a supervisor).

Pure: `tick()` is one 20 ms step over `MediaSession` frame queues; only `BridgeRunner`
touches asyncio, to call it on the loop's media clock (`clock.py`: one drift-free 20 ms
tick for every bridge and stream of the process, bridges first, so a mix goes out in the
tick that made it). Who hears whom:

    PARTY, BARGE   every other PARTY/BARGE leg that is not held, and the WHISPER legs
                   whose `whisper_to` is this leg
    LISTEN, WHISPER every PARTY/BARGE leg that is not held (nobody hears a LISTEN leg)
    a held leg     the hold music; it contributes nothing (a party left alone with held
                   legs hears silence: the agent while the caller is on hold)
    the recorder   the sum of the PARTY/BARGE legs not held: the conversation as the
                   citizen had it (whispers are not in it, the citizen never heard them)

BARGE hears and is heard exactly as a PARTY: the mode says who joined how (a supervisor
barging in), for the desk and the call's history, not a different mix.

Mixing is a 16-bit sum with clipping (numpy on 160-sample frames). A listener with a single
source gets that source's frame as it is, so the common two-party call needs one numpy sum
per tick (for the recording) and none when nothing is recorded.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hotline.voice.media.clock import MediaClock, media_clock
from hotline.voice.media.music import MusicSource, default_music
from hotline.voice.media.pacer import Pacer
from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.session import FRAME_BYTES

logger = logging.getLogger(__name__)

SILENCE = bytes(FRAME_BYTES)
_LOWEST, _HIGHEST = np.int32(-32768), np.int32(32767)


class LegMode(enum.StrEnum):
    PARTY = "party"
    LISTEN = "listen"  # hears the parties, is heard by nobody
    WHISPER = "whisper"  # hears the parties, is heard by one leg (the agent) only
    BARGE = "barge"  # a supervisor who joined the conversation: a party like the others


SPEAKING_MODES = frozenset({LegMode.PARTY, LegMode.BARGE})


class LegMedia(Protocol):
    """What the bridge needs of a leg: a SIP leg's ``MediaSession``, or a desk softphone's
    ``webrtc.frames.PeerFrames``. ``capture`` is on while the leg is in a bridge."""

    capture: bool

    def take_frame(self) -> bytes | None: ...

    def send_frame(self, pcm: bytes) -> None: ...


@dataclass(slots=True)
class _Leg:
    leg_id: str
    session: LegMedia
    mode: LegMode
    whisper_to: str | None = None
    held: bool = False


def _check_mode(leg_id: str, mode: LegMode, whisper_to: str | None) -> None:
    if mode is LegMode.WHISPER and not whisper_to:
        raise ValueError(f"leg {leg_id}: a whisper needs whisper_to (the leg who hears it)")
    if mode is not LegMode.WHISPER and whisper_to is not None:
        raise ValueError(f"leg {leg_id}: whisper_to is only for the whisper mode")
    if whisper_to == leg_id:
        raise ValueError(f"leg {leg_id}: cannot whisper to itself")


def mix(frames: list[bytes]) -> bytes:
    """The clipped 16-bit sum of 20 ms PCM frames (silence for none)."""
    if not frames:
        return SILENCE
    if len(frames) == 1:
        return frames[0]
    stacked = np.frombuffer(b"".join(frames), "<i2").reshape(len(frames), -1)
    total = stacked.sum(axis=0, dtype=np.int32)
    # minimum/maximum in place: np.clip costs twice as much on frames this short.
    np.minimum(total, _HIGHEST, out=total)
    np.maximum(total, _LOWEST, out=total)
    return bytes(total.astype("<i2").tobytes())


class Bridge:
    def __init__(
        self, *, recorder: WavRecorder | None = None, music: MusicSource | None = None
    ) -> None:
        self.recorder = recorder  # may be replaced or set to None by the owner at any time
        self._music = music
        self._legs: dict[str, _Leg] = {}
        self.ticks = 0

    # --- membership --------------------------------------------------------------------

    @property
    def leg_ids(self) -> list[str]:
        return list(self._legs)

    def add(
        self,
        leg_id: str,
        session: LegMedia,
        mode: LegMode = LegMode.PARTY,
        *,
        whisper_to: str | None = None,
    ) -> None:
        if leg_id in self._legs:
            raise ValueError(f"leg {leg_id} is already in the bridge")
        mode = LegMode(mode)
        _check_mode(leg_id, mode, whisper_to)
        session.capture = True
        self._legs[leg_id] = _Leg(leg_id, session, mode, whisper_to)

    def remove(self, leg_id: str) -> LegMedia | None:
        leg = self._legs.pop(leg_id, None)
        if leg is None:
            return None
        leg.session.capture = False
        return leg.session

    def replace_media(self, leg_id: str, session: LegMedia) -> None:
        """The leg goes on with other media, keeping its mode, hold and whisper target (a
        desk's softphone reloaded mid-call: the new peer takes the old one's place)."""
        leg = self._legs[leg_id]
        leg.session.capture = False
        session.capture = True
        leg.session = session

    def mode(self, leg_id: str) -> LegMode:
        return self._legs[leg_id].mode

    def set_mode(self, leg_id: str, mode: LegMode, *, whisper_to: str | None = None) -> None:
        leg = self._legs[leg_id]
        mode = LegMode(mode)
        _check_mode(leg_id, mode, whisper_to)
        leg.mode, leg.whisper_to = mode, whisper_to

    def hold(self, leg_id: str) -> None:
        """The leg hears hold music and nobody hears it."""
        self._legs[leg_id].held = True

    def resume(self, leg_id: str) -> None:
        self._legs[leg_id].held = False

    def is_held(self, leg_id: str) -> bool:
        leg = self._legs.get(leg_id)
        return leg is not None and leg.held

    @property
    def music(self) -> MusicSource:
        if self._music is None:
            try:
                self._music = default_music()
            except ValueError:
                # A broken HOTLINE_HOLD_MUSIC must not silence a held caller mid-call;
                # the gateway checks it at start-up, this is the last resort.
                logger.exception("hold music unavailable, using the built-in music")
                self._music = MusicSource()
        return self._music

    # --- the 20 ms step ----------------------------------------------------------------

    def tick(self) -> None:
        """Take one frame from every leg (silence if none came), send each leg its mix."""
        self.ticks += 1
        heard: dict[str, bytes] = {}  # frames others hear: speaking and whispering legs
        speakers: list[_Leg] = []
        whispers: dict[str, list[bytes]] = {}
        for leg in self._legs.values():
            frame = leg.session.take_frame()  # taken even if unused: the queue stays short
            if leg.held or frame is None:
                continue
            if leg.mode in SPEAKING_MODES:
                heard[leg.leg_id] = frame
                speakers.append(leg)
            elif leg.mode is LegMode.WHISPER and leg.whisper_to is not None:
                whispers.setdefault(leg.whisper_to, []).append(frame)

        conversation: bytes | None = None  # all speakers, computed at most once a tick
        music: bytes | None = None
        for leg in self._legs.values():
            if leg.held:
                if music is None:
                    music = self.music.frame()
                leg.session.send_frame(music)
            elif leg.mode in SPEAKING_MODES:
                sources = [frame for other, frame in heard.items() if other != leg.leg_id]
                sources += whispers.get(leg.leg_id, ())
                leg.session.send_frame(mix(sources))
            else:
                if conversation is None:
                    conversation = mix(list(heard.values()))
                leg.session.send_frame(conversation)

        if self.recorder is not None:
            if conversation is None:
                conversation = mix(list(heard.values()))
            self.recorder.add_pcm(conversation)  # silence too: the recording keeps time


class BridgeRunner:
    """Calls `bridge.tick()` on every tick of the loop's `MediaClock` (every 20 ms).

    Its own `Pacer` starts on the clock's grid, so tick times are `start + n * 20 ms` and
    timer jitter never accumulates; after a stall at most `max_catch_up` ticks run back to
    back (they drain what piled up in the legs' queues) and the rest are skipped: never a
    burst of audio. With `measure`, `lateness` keeps how late (s) each wake-up came after
    its tick was due, for the benchmark.
    """

    def __init__(self, bridge: Bridge, *, max_catch_up: int = 3, measure: bool = False) -> None:
        self.bridge = bridge
        self.max_catch_up = max_catch_up
        self.measure = measure
        self.lateness: list[float] = []
        self._pacer: Pacer | None = None
        self._clock: MediaClock | None = None
        self._running = False
        self.ticks_skipped = 0
        self.errors = 0

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        clock = self._clock = media_clock()
        self._pacer = Pacer(start=clock.align(clock.loop.time()), max_burst=self.max_catch_up)
        clock.add_bridge(self)

    def stop(self) -> None:
        """Stop ticking; safe from inside a tick (a leg hanging up during the mix)."""
        self._running = False
        if self._clock is not None:
            self._clock.remove(self)
            self._clock = None

    def on_tick(self, tick_time: float) -> None:
        """One tick of the media clock (`tick_time` is its grid point)."""
        pacer, clock = self._pacer, self._clock
        if not self._running or pacer is None or clock is None:
            return
        if self.measure:
            self.lateness.append(max(0.0, clock.loop.time() - pacer.next_due()))
        for _ in range(pacer.due(tick_time)):
            try:
                self.bridge.tick()
            except Exception:
                # One bad tick must not end every leg's audio; log the first and then
                # every 500th (10 s) so a persistent fault does not flood the log.
                self.errors += 1
                if self.errors % 500 == 1:
                    logger.exception("bridge tick failed (%d failures)", self.errors)
            if not self._running or self._pacer is not pacer:
                return  # the tick itself stopped (or restarted) the runner
        self.ticks_skipped += pacer.skipped
        pacer.skipped = 0
