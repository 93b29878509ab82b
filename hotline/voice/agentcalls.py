"""The gateway's side of the ACD: callers wait in queues, agents' phones ring, calls are bridged.

When the IVR hands a caller to a person (``transfer``), the call joins a queue in the database
and hears its position, the expected wait and hold music. The router (one task per gateway)
asks the desk services for offers to this gateway's waiting calls: each offer has already
claimed its agent atomically, so the gateway only rings the agent's registered phone (an
outgoing SIP call, a "leg"). When the phone answers, the caller's media and the agent's are
joined in a ``Bridge`` that also records the whole conversation into one WAV. The desk's
commands (hold, transfers, consultation, three-way calls, listen / whisper / barge) work on the
same legs and bridge (``hotline.voice.call_commands``).

Everything that touches the database runs in worker threads (``acd_services``), each call's
jobs one at a time and in the order the loop asked (``AgentCalls.db``, ``DbLanes``): an answer
is always written before the hang-up that follows it, even when the caller leaves a moment
after the agent picked up. Different calls' jobs do not wait for each other (150 calls hanging
up at once are 150 lanes, not one queue); the gateway's own jobs (recovery, routing) have a
lane of their own, and so do the polls for the desk's commands: a job enters the threads'
queue only once the job before it in its lane is done, so routing must not follow a poll.
The event loop only moves media and SIP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from hotline.contactcentre import acd_services as acd
from hotline.contactcentre.acd.routing import OverflowAction
from hotline.contactcentre.callcontrol import (
    QUEUED,
    CallEvent,
    CallState,
    Effect,
    LegEvent,
    LegRole,
    LegState,
    TransitionError,
    call_step,
    leg_step,
)
from hotline.voice.db_threads import closing_connections
from hotline.voice.gateway import Call, PortsExhausted, VoiceGateway
from hotline.voice.media.bridge import Bridge, BridgeRunner, LegMedia, LegMode
from hotline.voice.media.music import MusicSource, default_music
from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.session import MediaSession
from hotline.voice.media.udp import RtpEndpoint
from hotline.voice.phone_book import phone_book
from hotline.voice.sip.registrar import (
    USER_LOCK_SECONDS,
    USER_MAX_FAILURES,
    PhoneCredentials,
    PhoneRegistered,
    PhoneUnregistered,
    Registrar,
    RegistrationRejected,
)
from hotline.voice.sip.transaction import Address
from hotline.voice.sip.useragent import (
    CallEnded,
    MediaChanged,
    OutgoingAnswered,
    OutgoingFailed,
    OutgoingProgress,
)

if TYPE_CHECKING:
    from hotline.voice.webrtc.peers import Softphone

logger = logging.getLogger(__name__)
T = TypeVar("T")

CALLER = "caller"  # the caller's leg id in a bridge
ANNOUNCE_EVERY_S = 45.0
PHONE_BOOK_REFRESH_S = 10.0
ROUTE_POLL_S = 0.5  # agents become ready in the web process: look again this often


@dataclass
class Leg:
    """One outgoing call of the gateway, to a phone or a number, for one caller: a SIP call
    (``rtp``), or a ring of a desk's softphone (``softphone``; ``sip_call_id`` is then the
    gateway's own id of the ring)."""

    sip_call_id: str
    role: LegRole
    owner: AcdCall
    rtp: RtpEndpoint | None
    label: str
    queued_id: int | None = None  # the queue entry that claims the agent on this leg
    agent_id: int | None = None
    mode: LegMode = LegMode.PARTY
    session: LegMedia | None = None
    softphone: Softphone | None = None
    answered: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop()
                                           .create_future())
    ring_timer: asyncio.TimerHandle | None = None
    state: LegState = LegState.RINGING

    @property
    def ended(self) -> bool:
        return self.state is LegState.ENDED

    @property
    def connected(self) -> bool:
        return self.state is LegState.CONNECTED

    def change(self, event: LegEvent) -> tuple[Effect, ...]:
        """Move the leg by ``event`` (callcontrol's table); the effects are the caller's to do."""
        step = leg_step(self.state, event)
        self.state = step.state
        return step.effects


@dataclass
class AcdCall:
    """A caller the IVR handed to a person, from the queue to the end of the call."""

    call: Call
    queued_id: int
    ring_timeout_s: float
    state: CallState = CallState.WAITING
    agent_leg: Leg | None = None
    ringing_leg: Leg | None = None
    consult_leg: Leg | None = None
    legs: list[Leg] = field(default_factory=list)  # every leg, live or not
    bridge: Bridge | None = None
    runner: BridgeRunner | None = None
    recorder: WavRecorder | None = None
    recording_path: str = ""
    waiting_task: asyncio.Task[None] | None = None
    queued_at: float = field(default_factory=time.monotonic)

    @property
    def lane(self) -> str:
        """Its database jobs' lane (``DbLanes``): the caller's Call-ID, which stays while
        the queue entry changes (transfers, a return to the queue)."""
        return self.call.call_id

    def live_legs(self, *roles: LegRole) -> list[Leg]:
        return [leg for leg in self.legs if leg.connected and (not roles or leg.role in roles)]

    def change(self, event: CallEvent) -> tuple[Effect, ...]:
        """Move the call by ``event`` (callcontrol's table); the effects are the caller's to do."""
        step = call_step(self.state, event)
        self.state = step.state
        return step.effects


GATEWAY_LANE = "gateway"  # the lane of jobs that belong to no one call
# Database jobs in threads at once, over all lanes, on PostgreSQL (on SQLite one: see
# db_jobs_at_once). Each thread holds the GIL while Django builds and reads its queries, and
# the event loop that paces every call's RTP waits for it: with 150 calls' jobs free to take
# the executor's six threads, bench/agent_calls.py measured RTP spacing p99 129 ms (one run,
# load 10; 47-67 ms with one or two at once at load 5-8, bench/README.md).
DB_JOBS_AT_ONCE = 2


def db_jobs_at_once() -> int:
    """``DB_JOBS_AT_ONCE``, or one on SQLite: its writers take turns for one lock anyway, and
    a writer that finds it taken sleeps in steps (up to 100 ms) rather than waiting its turn
    (bench/agent_calls.py: the wait from the queue to the agent grew with two at once)."""
    from django.db import connection

    return 1 if connection.vendor == "sqlite" else DB_JOBS_AT_ONCE


@dataclass
class _Lane:
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # jobs holding or waiting for the turn


class DbLanes:
    """Database jobs in worker threads, in order within a lane, lanes side by side.

    A lane is a call (the caller's Call-ID): its jobs run one at a time in the order they were
    asked (asyncio's lock wakes its waiters in order), so the states of a call and of its
    agents are written in the order things happened on the loop. Jobs of different lanes run
    at the same time, up to ``at_once`` of them (the rest wait in the order asked); a slow
    job of one call holds up only its own call's next jobs. A lane is forgotten when its
    last job is done."""

    def __init__(self, at_once: int = DB_JOBS_AT_ONCE) -> None:
        if at_once < 1:
            raise ValueError("at least one database job must be able to run")
        self._lanes: dict[Hashable, _Lane] = {}
        self._threads = asyncio.Semaphore(at_once)
        self.peak_running = 0  # most jobs in threads at once (for tests and benches)
        self._running = 0

    def __len__(self) -> int:
        return len(self._lanes)

    async def run(self, lane: Hashable, function: Callable[..., T], *args: Any,
                  **kwargs: Any) -> T:
        entry = self._lanes.get(lane)
        if entry is None:
            entry = self._lanes[lane] = _Lane()
        entry.users += 1
        try:
            async with entry.turn, self._threads:
                self._running += 1
                self.peak_running = max(self.peak_running, self._running)
                try:
                    return await asyncio.to_thread(closing_connections, function, *args,
                                                   **kwargs)
                finally:
                    self._running -= 1
        finally:
            entry.users -= 1
            if not entry.users and self._lanes.get(lane) is entry:
                del self._lanes[lane]


class PhoneBook:
    """The extensions' digest credentials in memory: the registrar looks them up on the event
    loop, so they are read from the database in a thread every few seconds."""

    def __init__(self) -> None:
        self.entries: dict[str, PhoneCredentials] = {}

    def get(self, user: str) -> PhoneCredentials | None:
        return self.entries.get(user)

    async def refresh(self) -> None:
        try:
            self.entries = await asyncio.to_thread(closing_connections, phone_book)
        except Exception:
            logger.exception("could not read the SIP extensions")


class AgentCalls:
    def __init__(self, gateway: VoiceGateway, *, gateway_id: str, trunk: Address | None = None,
                 realm: str = "hotline", digest: tuple[str, ...] = ("MD5",),
                 music: MusicSource | None = None, max_wait_s: float = 600.0,
                 lock: tuple[int, float] = (USER_MAX_FAILURES, USER_LOCK_SECONDS),
                 db_jobs: int | None = None) -> None:
        self.gateway = gateway
        self.gateway_id = gateway_id
        self.trunk = trunk
        self.phones = PhoneBook()
        from hotline.voice.webrtc.peers import SoftphonePeers

        self.softphones = SoftphonePeers(self)
        # lock: failed REGISTERs for one extension (any addresses) that lock it, for how long
        self.registrar = Registrar(self.phones.get, realm=realm, algorithms=digest,
                                   user_max_failures=lock[0], user_lock_seconds=lock[1])
        self.music = music or default_music()
        self.max_wait_s = max_wait_s
        self.calls: dict[int, AcdCall] = {}  # by the current queue entry
        self.by_caller: dict[str, AcdCall] = {}  # by the caller's Call-ID
        self.legs: dict[str, Leg] = {}  # by the leg's Call-ID
        self._kick = asyncio.Event()
        # database work: in order per call, calls side by side
        self.lanes = DbLanes(db_jobs_at_once() if db_jobs is None else db_jobs)
        self._tasks: list[asyncio.Task[None]] = []
        self.stopped = False
        from hotline.voice.call_commands import CommandRunner

        self.commands = CommandRunner(self)

    async def db(self, function: Callable[..., T], *args: Any, lane: Hashable = GATEWAY_LANE,
                 **kwargs: Any) -> T:
        """Run one ``acd_services`` (or desk) function in a worker thread, after the ones asked
        before it in its ``lane`` (a call's ``AcdCall.lane``, else the gateway's own): the
        states of a call and of its agents are written in the order things happened on the
        loop, and a call never waits behind another call's writes."""
        return await self.lanes.run(lane, function, *args, **kwargs)

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if not self.gateway_id:
            self.gateway_id = f"{os.uname().nodename}:{self.gateway.sip_port}"
        await self.phones.refresh()
        await self.softphones.refresh()
        recovered = await self.db(acd.recover, self.gateway_id)
        if recovered:
            logger.warning("gateway %s: %d calls of a previous run closed", self.gateway_id,
                           recovered)
        # A run that was killed mid-call left its recordings half-written (but playable: the
        # recorder writes as it goes): they are stored with their calls' contacts now.
        kept = await self.db(acd.recover_recordings, self.gateway.config.recordings_dir,
                             self.gateway_id)
        if kept:
            logger.warning("gateway %s: %d recordings of a previous run stored",
                           self.gateway_id, kept)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._refresh_phones()),
                       loop.create_task(self._router()),
                       loop.create_task(self.commands.run()),
                       loop.create_task(self.softphones.run())]

    async def stop(self) -> None:
        self.stopped = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.softphones.close_all()
        # The legs stay up: the gateway hangs up the callers next, and each caller's end
        # hangs up its legs and closes its queue entries (agents to wrap-up, waits abandoned).
        for leg in list(self.legs.values()):
            if leg.owner.call.ended:
                self.hang_up_leg(leg)

    def kick(self) -> None:
        self._kick.set()

    async def _refresh_phones(self) -> None:
        while True:
            await asyncio.sleep(PHONE_BOOK_REFRESH_S)
            await self.phones.refresh()
            await self.softphones.refresh()

    # --- a caller joins a queue (the gateway's transfer handler) ---------------------------

    async def transfer(self, call: Call, target: str) -> None:
        try:
            entry = await self.db(
                acd.enqueue, call_ref=call.call_id, caller=call.context.caller, target=target,
                gateway=self.gateway_id, contact_id=call.context.contact_id,
                line_queue=getattr(call.context, "line_queue", ""), lane=call.call_id)
        except Exception:
            logger.exception("call %s could not join a queue", call.call_id)
            await self.gateway.default_transfer(call, target)
            return
        if call.ended:  # gone while we wrote the queue entry
            await self.db(acd.abandoned, entry.queued_id, lane=call.call_id)
            return
        acd_call = AcdCall(call, entry.queued_id, entry.ring_timeout_s)
        self.calls[entry.queued_id] = acd_call
        self.by_caller[call.call_id] = acd_call
        self.gateway.log(call.call_id, "queue", entry.queue)
        self._start_waiting(acd_call, first=True)
        self.kick()

    def _start_waiting(self, acd_call: AcdCall, *, first: bool = False) -> None:
        if acd_call.waiting_task is None or acd_call.waiting_task.done():
            acd_call.waiting_task = asyncio.get_running_loop().create_task(
                self._waiting(acd_call, first))

    def _stop_waiting(self, acd_call: AcdCall) -> None:
        task, acd_call.waiting_task = acd_call.waiting_task, None
        if task is not None:
            task.cancel()
        session = acd_call.call.session
        if session is not None:
            session.stop_playing()

    async def _waiting(self, acd_call: AcdCall, first: bool) -> None:
        """The caller's time in the queue: the holding prompt, the position and expected wait
        (again every ``ANNOUNCE_EVERY_S``), hold music in between."""
        call, session = acd_call.call, acd_call.call.session
        if session is None:
            return
        loop = asyncio.get_running_loop()
        hold = self.gateway.flow_of(acd_call.call).texts.get("hold", "") if first else ""
        next_announcement = loop.time()
        started = loop.time()
        while not call.ended and acd_call.state in QUEUED:
            if loop.time() >= next_announcement:
                next_announcement = loop.time() + ANNOUNCE_EVERY_S
                text = hold + await self.db(acd.announcement_text, acd_call.queued_id,
                                                   lane=acd_call.lane)
                hold = ""
                if text and acd_call.state in QUEUED and not call.ended:
                    pcm = await asyncio.to_thread(self.gateway.prompts.phrase, text)
                    session.stop_playing()
                    session.play(pcm)
                    self.gateway.log(call.call_id, "announce", text)
            if session.queued_seconds < 1.0:
                session.play_encoded(self.music.encoded_chunk(session.media.codec, 2.0))
            if loop.time() - started > self.max_wait_s and acd_call.state is CallState.WAITING:
                # Not awaited here: the overflow stops this very task (_stop_waiting).
                self._spawn(self._give_up(acd_call))
                return
            await asyncio.sleep(0.5)

    # --- routing -----------------------------------------------------------------------------

    async def _router(self) -> None:
        while True:
            self._kick.clear()
            if any(c.state is CallState.WAITING for c in self.calls.values()):
                try:
                    routed = await self.db(acd.route, self.gateway_id)
                except Exception:
                    logger.exception("routing failed")
                else:
                    for offer in routed.offers:
                        self._spawn(self._ring_offer(offer))
                    for overflow in routed.overflows:
                        overflowed = self.calls.get(overflow.queued_id)
                        if overflowed is not None:
                            self._spawn(self._overflow(overflowed, overflow.action))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), ROUTE_POLL_S)

    def _spawn(self, coroutine: Any) -> None:
        self.gateway.spawn(coroutine)

    async def _ring_offer(self, offer: acd.Offered) -> None:
        acd_call = self.calls.get(offer.queued_id)
        if acd_call is None or acd_call.state is not CallState.WAITING or acd_call.call.ended:
            await self.db(acd.abandoned, offer.queued_id,
                          lane=acd_call.lane if acd_call is not None else GATEWAY_LANE)
            return
        acd_call.change(CallEvent.OFFER)
        leg = await self.dial_extension(acd_call, LegRole.AGENT, offer.extension,
                                        timeout=acd_call.ring_timeout_s,
                                        queued_id=offer.queued_id, agent_id=offer.agent_id)
        if acd_call.state is CallState.ENDED:
            if leg is not None:
                self.hang_up_leg(leg)
            return
        if leg is None:
            await self.db(acd.ring_failed, offer.queued_id, lane=acd_call.lane)
            if acd_call.state is CallState.RINGING:
                acd_call.change(CallEvent.RING_FAILED)
            self.kick()
            return
        await self.connect_agent(acd_call, leg)

    async def connect_agent(self, acd_call: AcdCall, leg: Leg) -> None:
        """The agent's phone answered: the wait ends, the bridge joins caller and agent."""
        effects = acd_call.change(CallEvent.AGENT_ANSWERED)
        if Effect.STOP_WAITING in effects:
            self._stop_waiting(acd_call)
        if Effect.BRIDGE_AGENT in effects:
            acd_call.agent_leg = leg
            if leg.queued_id is not None:
                self._reindex(acd_call, leg.queued_id)
            self.bridge_in(acd_call, leg)
            if acd_call.bridge is not None:
                acd_call.bridge.resume(CALLER)
        self.gateway.log(acd_call.call.call_id, "agent", leg.label)
        if leg.queued_id is not None:
            await self.db(acd.answered, leg.queued_id, lane=acd_call.lane)

    def _reindex(self, acd_call: AcdCall, queued_id: int) -> None:
        self.calls.pop(acd_call.queued_id, None)
        acd_call.queued_id = queued_id
        self.calls[queued_id] = acd_call

    # --- legs --------------------------------------------------------------------------------

    async def dial_extension(self, acd_call: AcdCall, role: LegRole, extension: str, *,
                             timeout: float, queued_id: int | None = None,
                             agent_id: int | None = None,
                             mode: LegMode = LegMode.PARTY) -> Leg | None:
        if extension in self.softphones.extensions:
            # The extension's phone is the agent's desk: ring its softphone, never a SIP
            # binding (the setting, not whichever phone happens to be registered, decides).
            return await self.softphones.dial(acd_call, role, extension, timeout=timeout,
                                              queued_id=queued_id, agent_id=agent_id, mode=mode)
        binding = self.registrar.binding(extension, time_now()) if extension else None
        if binding is None:
            logger.warning("call %s: extension %r has no registered phone",
                           acd_call.call.call_id, extension)
            return None
        return await self.dial(acd_call, role, binding.contact, binding.address,
                               label=extension, timeout=timeout, queued_id=queued_id,
                               agent_id=agent_id, mode=mode)

    async def dial_number(self, acd_call: AcdCall, role: LegRole, number: str, *,
                          timeout: float) -> Leg | None:
        if self.trunk is None:
            logger.warning("call %s: no SIP trunk configured to dial %s", acd_call.call.call_id,
                           number)
            return None
        host, port = self.trunk
        return await self.dial(acd_call, role, f"sip:{number}@{host}:{port}", self.trunk,
                               label=number, timeout=timeout)

    async def dial(self, acd_call: AcdCall, role: LegRole, uri: str, address: Address, *,
                   label: str, timeout: float, queued_id: int | None = None,
                   agent_id: int | None = None, mode: LegMode = LegMode.PARTY) -> Leg | None:
        """Place one outgoing call and wait until it is answered (the leg) or not (None)."""
        gateway = self.gateway
        assert gateway.sip is not None
        try:
            rtp = await gateway.ports.open(gateway.config.rtp_host, lambda digit: None,
                                           gateway.config.measure_rtp)
        except PortsExhausted:
            logger.error("call %s: no free RTP port to dial %s", acd_call.call.call_id, label)
            return None
        caller = acd_call.call.context.caller or "12345"
        call_id = gateway.sip.invite(uri, address, rtp.port, caller=caller)
        leg = Leg(call_id, role, acd_call, rtp, label, queued_id=queued_id, agent_id=agent_id,
                  mode=mode)
        return await self.ring(leg, timeout)

    async def ring(self, leg: Leg, timeout: float) -> Leg | None:
        """Wait until a leg that started ringing is answered (the leg) or not (None)."""
        acd_call = leg.owner
        self.legs[leg.sip_call_id] = leg
        acd_call.legs.append(leg)
        if leg.role == LegRole.AGENT:
            acd_call.ringing_leg = leg
        leg.ring_timer = asyncio.get_running_loop().call_later(timeout, self._ring_timeout, leg)
        self.gateway.log(acd_call.call.call_id, "dial", f"{leg.role}:{leg.label}")
        answered = await leg.answered
        if acd_call.ringing_leg is leg:
            acd_call.ringing_leg = None
        return leg if answered else None

    def _ring_timeout(self, leg: Leg) -> None:
        if not leg.answered.done():
            self.hang_up_leg(leg)  # CANCEL; the leg is closed, its answer is "no"

    def hang_up_leg(self, leg: Leg) -> None:
        """End a leg from our side (BYE, or CANCEL while it rings). Whoever hangs up a leg
        also settles its queue entry; the UA's CallEnded that comes back at once is not a
        party leaving (``_leg_gone``): the leg is marked ended before the UA hears of it."""
        if leg.ended:
            return
        effects = leg.change(LegEvent.HANG_UP)
        if Effect.SEND_HANGUP in effects and leg.softphone is None and self.gateway.sip is not None:
            self.gateway.sip.hangup(leg.sip_call_id)  # a softphone hears of it in _leg_closed
        if Effect.CLOSE_LEG in effects:
            self._leg_closed(leg)

    def _leg_closed(self, leg: Leg) -> None:
        """Carry out a leg's CLOSE_LEG (the leg has ended)."""
        if leg.ring_timer is not None:
            leg.ring_timer.cancel()
        if not leg.answered.done():
            leg.answered.set_result(False)
        owner = leg.owner
        if owner.bridge is not None:
            owner.bridge.remove(leg.sip_call_id)
        if leg.rtp is not None:
            leg.rtp.close()
        if leg.softphone is not None:
            leg.softphone.leg_closed(leg)
        self.legs.pop(leg.sip_call_id, None)

    def bridge_in(self, acd_call: AcdCall, leg: Leg) -> None:
        """Join a leg to the call's bridge (created, with the recording, for the first leg)."""
        assert leg.session is not None and acd_call.call.session is not None
        if acd_call.bridge is None:
            directory = self.gateway.config.recordings_dir / time.strftime("%Y-%m-%d")
            directory.mkdir(parents=True, exist_ok=True)
            acd_call.recording_path = str(directory / acd.recording_name(
                self.gateway_id, acd_call.call.context.contact_id, acd_call.queued_id))
            acd_call.recorder = WavRecorder(acd_call.recording_path)
            acd_call.bridge = Bridge(recorder=acd_call.recorder, music=self.music)
            acd_call.bridge.add(CALLER, acd_call.call.session)
            acd_call.runner = BridgeRunner(acd_call.bridge)
            acd_call.runner.start()
        whisper_to = None
        if leg.mode == LegMode.WHISPER and acd_call.agent_leg is not None:
            whisper_to = acd_call.agent_leg.sip_call_id
        acd_call.bridge.add(leg.sip_call_id, leg.session, leg.mode, whisper_to=whisper_to)

    # --- SIP events of the legs (from the gateway) ---------------------------------------------

    def on_leg_event(self, event: object) -> bool:
        """Handle an event of one of our outgoing legs; False if it is not one of ours."""
        call_id = getattr(event, "call_id", None)
        leg = self.legs.get(call_id) if call_id else None
        if leg is None:
            return False
        if isinstance(event, OutgoingProgress):
            self.gateway.log(leg.owner.call.call_id, "leg_progress", f"{leg.label}:{event.status}")
        elif isinstance(event, OutgoingAnswered):
            if leg.ring_timer is not None:
                leg.ring_timer.cancel()
            if event.media is None or leg.answered.done():
                self.hang_up_leg(leg)
                return True
            if Effect.ATTACH_MEDIA in leg.change(LegEvent.ANSWERED) and leg.rtp is not None:
                session = MediaSession(event.media, start=asyncio.get_running_loop().time())
                leg.session = session
                leg.rtp.attach(session)
            leg.answered.set_result(True)
        elif isinstance(event, OutgoingFailed):
            self.gateway.log(leg.owner.call.call_id, "leg_failed", f"{leg.label}:{event.status}")
            if Effect.CLOSE_LEG in leg.change(LegEvent.FAILED):
                self._leg_closed(leg)
        elif isinstance(event, MediaChanged):
            if isinstance(leg.session, MediaSession):
                leg.session.update(event.media)
            self._phone_hold(leg, event.on_hold)
        elif isinstance(event, CallEnded):
            was_connected = leg.connected  # False for a leg we hung up ourselves
            if Effect.CLOSE_LEG in leg.change(LegEvent.GONE):
                self._leg_closed(leg)
            if was_connected:
                self._spawn(self._leg_gone(leg))
        return True

    def on_registrar_event(self, event: object) -> None:
        if isinstance(event, PhoneRegistered):
            logger.info("phone %s registered at %s", event.binding.user, event.binding.address)
        elif isinstance(event, PhoneUnregistered):
            logger.info("phone %s unregistered (%s)", event.user, event.reason)
        elif isinstance(event, RegistrationRejected):
            logger.warning("REGISTER of %r from %s refused: %s", event.user, event.source,
                           event.reason)

    def _phone_hold(self, leg: Leg, on_hold: bool) -> None:
        """The agent pressed hold on the phone itself: the caller hears the music."""
        owner = leg.owner
        if leg is owner.agent_leg and owner.bridge is not None:
            if on_hold:
                owner.bridge.hold(CALLER)
            else:
                owner.bridge.resume(CALLER)
            self._spawn(self.commands.report(owner, on_hold=on_hold))

    async def _leg_gone(self, leg: Leg) -> None:
        """A connected leg hung up."""
        owner = leg.owner
        if leg.queued_id is not None:
            await self.db(acd.ended, leg.queued_id, lane=owner.lane)
        if owner.state is CallState.ENDED:
            return
        if leg is owner.consult_leg:
            owner.consult_leg = None
            if owner.bridge is not None:
                owner.bridge.resume(CALLER)
            await self.commands.report(owner)
            return
        if leg is owner.agent_leg:
            owner.agent_leg = None
            if owner.consult_leg is not None and owner.consult_leg.connected:
                # Hanging up during a consultation completes the transfer, as on a PBX.
                await self.commands.complete_transfer(owner)
                return
        if not owner.live_legs(LegRole.AGENT, LegRole.PARTY, LegRole.CONSULT):
            owner.call.ending = owner.call.ending or "agent_hangup"
            owner.call.hangup()
            return
        await self.commands.report(owner)

    # --- the caller's side ends ------------------------------------------------------------------

    def caller_ended(self, call: Call) -> None:
        acd_call = self.by_caller.pop(call.call_id, None)
        if acd_call is None:
            return
        before = acd_call.state
        effects = acd_call.change(CallEvent.CALLER_GONE)
        if Effect.STOP_WAITING in effects:
            self._stop_waiting(acd_call)
        self.calls.pop(acd_call.queued_id, None)
        # The queue entries still open: agents on the call go to wrap-up, a colleague still
        # ringing for a transfer or consultation is released. Legs that ended before settled
        # their own entries; the caller's current entry, still waiting or ringing, is the
        # abandoned call itself.
        open_legs = [(leg, leg.connected) for leg in acd_call.legs
                     if not leg.ended and leg.queued_id is not None
                     and not (leg.queued_id == acd_call.queued_id
                              and before in QUEUED)]
        if Effect.HANG_UP_LEGS in effects:
            for leg in list(acd_call.legs):
                self.hang_up_leg(leg)
        if acd_call.runner is not None:
            acd_call.runner.stop()
        seconds = 0.0
        if acd_call.recorder is not None:
            acd_call.recorder.close()
            seconds = acd_call.recorder.seconds
        self._spawn(self._caller_gone(acd_call, before, seconds, open_legs))

    async def _caller_gone(self, acd_call: AcdCall, before: CallState, seconds: float,
                           open_legs: list[tuple[Leg, bool]]) -> None:
        if before in QUEUED:
            await self.db(acd.abandoned, acd_call.queued_id, lane=acd_call.lane)
        for leg, connected in open_legs:
            assert leg.queued_id is not None
            await self.db(acd.ended if connected else acd.withdraw_offer, leg.queued_id,
                          lane=acd_call.lane)
        if acd_call.recording_path:
            await self._store_recording(acd_call, seconds)

    async def _store_recording(self, acd_call: AcdCall, seconds: float) -> None:
        path = acd_call.recording_path
        try:
            stored = await self.db(acd.store_recording, acd_call.queued_id,
                                   acd_call.call.context.contact_id, path, seconds,
                                   lane=acd_call.lane)
        except Exception:
            logger.exception("call %s: recording %s kept (could not be stored)",
                             acd_call.call.call_id, path)
            return
        if stored is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            self.gateway.log(acd_call.call.call_id, "recording", f"stored:{seconds:.1f}s")
        else:
            logger.warning("call %s: recording %s kept (no contact)", acd_call.call.call_id, path)

    # --- overflow --------------------------------------------------------------------------------

    async def _give_up(self, acd_call: AcdCall) -> None:
        """The gateway's own limit on waiting (``max_wait_s``) ran out: a call-back request,
        as a queue's overflow rule would take, unless an agent was offered the call first."""
        if await self.db(acd.give_up, acd_call.queued_id, lane=acd_call.lane):
            await self._overflow(acd_call, OverflowAction.CALLBACK)
        elif acd_call.state in QUEUED and not acd_call.call.ended:
            # The music goes on while that phone rings (the state stays as it is).
            acd_call.waiting_task = asyncio.get_running_loop().create_task(
                self._waiting(acd_call, False))

    async def _overflow(self, acd_call: AcdCall, action: str) -> None:
        """No agent in time: the mayor's mailbox (voicemail) or a call-back request."""
        call = acd_call.call
        try:
            effects = acd_call.change(CallEvent.OVERFLOW)
        except TransitionError:
            # Answered (or gone) since the ACD decided the overflow: nothing to do.
            logger.info("call %s: overflow %s ignored, the call is %s", call.call_id, action,
                        acd_call.state)
            return
        if Effect.STOP_WAITING in effects:
            self._stop_waiting(acd_call)
        self.calls.pop(acd_call.queued_id, None)
        self.by_caller.pop(call.call_id, None)
        self.gateway.log(call.call_id, "overflow", action)
        if (action == OverflowAction.VOICEMAIL and call.run is not None
                and "mailbox" in self.gateway.flow_of(call).nodes):
            await call.resume_flow("mailbox")
            return
        sorry = self.gateway.flow_of(call).texts.get("no_agent", "")
        result = await asyncio.to_thread(self.gateway.run_service, "callback", call.context,
                                         {"reason": "queue overflow"})
        self.gateway.log(call.call_id, "service_result", f"callback:{result.get('outcome')}")
        if sorry:
            await call.play_and_wait(await asyncio.to_thread(self.gateway.prompts.phrase, sorry))
        call.hangup()


def time_now() -> float:
    return asyncio.get_running_loop().time()
