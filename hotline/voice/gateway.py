"""The voice gateway: SIP user agent, RTP media and IVR flows in one asyncio loop.

`VoiceGateway` answers every call, gives it an RTP port from its range, runs a `FlowRun`
over the call's `MediaSession` and carries out what the flow asks. Everything that
touches the database (orders, contacts, knowledge) and every prompt synthesis runs in a
worker thread (`asyncio.to_thread`), so a slow query or espeak-ng never delays another
call's 20 ms packets.

A transfer is handed to `transfer_handler(call, target)`: with `agents` set (the ACD side,
`hotline.voice.agentcalls`, wired by `hotline.voice.server`) the caller joins a queue, an
agent's registered phone rings and the two are bridged. Without it (or when no queue exists)
`default_transfer` plays the holding prompt, records a call-back request and hangs up.

    python manage.py voice_gateway --sip 127.0.0.1:5060 --rtp-ports 20000-20999
    python -m hotline.voice.server      (the same, used by the launcher)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.voice.db_threads import closing_connections
from hotline.voice.ivr.engine import (
    Action,
    CallerHungUp,
    CallService,
    Digit,
    Event,
    FlowRun,
    HangUp,
    NodeVisit,
    Play,
    RecordingDone,
    ServiceDone,
    StartRecording,
    StopPlaying,
    StopRecording,
    Timeout,
    Transfer,
    Wait,
)
from hotline.voice.ivr.flow import Flow
from hotline.voice.lines import REFRESH_S as LINES_REFRESH_S
from hotline.voice.lines import LineDirectory, LineRow
from hotline.voice.media.dtmf import DtmfDigit
from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.session import MediaSession
from hotline.voice.media.udp import RtpEndpoint, open_rtp_endpoint
from hotline.voice.prompts import PromptLibrary
from hotline.voice.sip.limits import SourceLimits
from hotline.voice.sip.registrar import (
    USER_LOCK_SECONDS,
    USER_MAX_FAILURES,
    PhoneRegistered,
    PhoneUnregistered,
    RegistrationRejected,
)
from hotline.voice.sip.udp import SipEndpoint, open_sip_endpoint
from hotline.voice.sip.useragent import (
    CallEnded,
    CallEstablished,
    IncomingCall,
    MediaChanged,
    UaEvent,
)

logger = logging.getLogger(__name__)

ServiceRunner = Callable[[str, Any, Mapping[str, str]], dict[str, Any]]
TransferHandler = Callable[["Call", str], Awaitable[None]]
LOG_SIZE = 10_000


class PortsExhausted(RuntimeError):
    pass


@dataclass
class GatewayLogEntry:
    at: float
    call_id: str
    kind: str  # call, visit, transfer, service, recording, end
    detail: str = ""


@dataclass
class GatewayConfig:
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    rtp_host: str = "127.0.0.1"
    rtp_ports: tuple[int, int] = (20000, 20999)
    advertised_host: str | None = None
    recordings_dir: Path = Path("var/recordings")
    direct_to_agent: bool = False
    max_call_seconds: float = 3600.0
    measure_rtp: bool = False
    acd: bool = True  # callers asking for a person join the ACD's queues
    trunk: tuple[str, int] | None = None  # where calls to numbers go (departments, 110...)
    gateway_id: str = ""  # this process's name on the calls it holds (default host:port)
    sip_realm: str = "hotline"  # the digest realm agents' phones register in
    # Digest algorithms offered to agents' phones. MD5 only by default: several softphones
    # (baresip 1.0, pjsip 2.10 and older, so older MicroSIP) give up on any SHA-256 challenge,
    # even one offered beside MD5. HOTLINE_SIP_DIGEST=SHA-256,MD5 offers both.
    sip_digest: tuple[str, ...] = ("MD5",)
    max_calls: int = 300  # incoming calls this process holds at once, from all sources
    # What one source may hold and start (hotline.voice.sip.limits); the trusted proxies'
    # callers are counted by the Via below the proxy.
    source_limits: SourceLimits = field(default_factory=SourceLimits)
    # Failed REGISTERs for one extension, from any addresses, that lock it, and for how long.
    extension_max_failures: int = USER_MAX_FAILURES
    extension_lock_seconds: float = USER_LOCK_SECONDS
    fax_numbers: frozenset[str] = frozenset()  # called numbers answered by T.30
    send_faxes: bool = True  # with a trunk: send queued faxes (contactcentre.faxes)
    outbound: bool = True  # claim and dial outbound calls (hotline.voice.outbound)
    outbound_ring_s: float = 45.0  # a citizen's phone rings this long, then CANCEL


class RtpPortPool:
    """Hands out ports of the configured range round-robin; a port in use is skipped."""

    def __init__(self, first: int, last: int) -> None:
        if not 0 < first <= last < 65536:
            raise ValueError(f"bad RTP port range {first}-{last}")
        self.first, self.last = first, last
        self._next = first

    async def open(self, host: str, on_digit: Callable[[DtmfDigit], None],
                   measure: bool) -> RtpEndpoint:
        size = self.last - self.first + 1
        for _ in range(size):
            port = self._next
            self._next = self.first if port >= self.last else port + 1
            try:
                return await open_rtp_endpoint(host, on_digit, port=port, measure=measure)
            except OSError:
                continue
        raise PortsExhausted(f"no free RTP port in {self.first}-{self.last}")


@dataclass
class Call:
    gateway: VoiceGateway
    call_id: str
    context: Any  # the service layer's CallContext
    flow: Flow | None = None  # the called number's flow (``lines``); None: the gateway's
    rtp: RtpEndpoint | None = None
    session: MediaSession | None = None
    run: FlowRun | None = None
    events: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    ended: bool = False
    ending: str = ""
    _deferred: list[Action] = field(default_factory=list)
    _drain_timer: asyncio.TimerHandle | None = None
    _recorder: WavRecorder | None = None
    _recording_token: int = 0
    _recording_path: str = ""
    recordings: list[str] = field(default_factory=list)  # this call's working files
    stored_recordings: set[str] = field(default_factory=set)  # copied into an order's files
    _timers: list[asyncio.TimerHandle] = field(default_factory=list)
    contact_task: asyncio.Task[None] | None = None  # writing the call's contact (once confirmed)

    # --- from the media and SIP layers -----------------------------------------------

    def on_digit(self, digit: DtmfDigit) -> None:
        self.gateway.log(self.call_id, "digit", digit.digit)
        self.events.put_nowait(Digit(digit.digit))

    def start(self, session: MediaSession) -> None:
        assert self.rtp is not None
        self.session = session
        self.rtp.attach(session)
        self.task = asyncio.get_running_loop().create_task(self._main())

    def end(self, reason: str) -> None:
        if self.ended:
            return
        self.ended = True
        self.ending = self.ending or reason
        self.events.put_nowait(CallerHungUp())
        self.events.put_nowait(None)
        for timer in self._timers:
            timer.cancel()
        if self._drain_timer is not None:
            self._drain_timer.cancel()
        self._close_recorder()
        if self.gateway.agents is not None:
            self.gateway.agents.caller_ended(self)
        if self.rtp is not None:
            self.rtp.close()
        if self.task is None:  # ended before the flow started
            self.gateway.spawn(self.gateway.finish(self))

    # --- the flow --------------------------------------------------------------------

    async def _main(self) -> None:
        assert self.run is not None
        try:
            await self._execute(self.run.start())
            while True:
                event = await self.events.get()
                if event is None:
                    break
                await self._execute(self.run.handle(event))
        except Exception:
            logger.exception("IVR failed on call %s", self.call_id)
            self.ending = "error"
            self.hangup()
        finally:
            await self.gateway.finish(self)

    def _visits_logged(self) -> None:
        """Count and log what the flow did since the last look (visits and retries)."""
        assert self.run is not None
        cursor = self.gateway.visit_cursor.get(self.call_id, 0)
        for kind, detail in self.run.trail[cursor:]:
            if kind == "visit":
                self.gateway.node_visits[detail] += 1
            self.gateway.log(self.call_id, kind, detail)
        self.gateway.visit_cursor[self.call_id] = len(self.run.trail)

    async def _execute(self, actions: list[Action]) -> None:
        self._visits_logged()
        for action in actions:
            if self.ended and not isinstance(action, StopRecording):
                return
            if isinstance(action, Play):
                pcm = await asyncio.to_thread(self.gateway.prompts.render, action.segments)
                if self.session is not None and not self.ended:
                    self.session.play(pcm)
            elif isinstance(action, StopPlaying):
                if self.session is not None:
                    self.session.stop_playing()
            elif isinstance(action, StopRecording):
                self._stop_recording(action.token)
            elif isinstance(action, CallService):
                self.gateway.spawn(self._service(action))
            else:  # Wait, StartRecording, Transfer, HangUp: once the prompt has been heard
                self._deferred.append(action)
        self._check_drained()

    def _check_drained(self) -> None:
        self._drain_timer = None
        if not self._deferred or self.ended or self.session is None:
            return
        if self.session.playing:
            delay = max(0.02, self.session.queued_seconds)
            self._drain_timer = asyncio.get_running_loop().call_later(delay, self._check_drained)
            return
        deferred, self._deferred = self._deferred, []
        for action in deferred:
            self._run_deferred(action)

    def _run_deferred(self, action: Action) -> None:
        loop = asyncio.get_running_loop()
        if isinstance(action, Wait):
            self._timers = [t for t in self._timers if not t.cancelled()]
            self._timers.append(loop.call_later(
                action.seconds, self.events.put_nowait, Timeout(action.token)))
        elif isinstance(action, StartRecording):
            self._start_recording(action)
        elif isinstance(action, Transfer):
            self.gateway.log(self.call_id, "transfer", action.target)
            self.ending = f"transfer:{action.target}"
            self.gateway.spawn(self._transfer(action.target))
        elif isinstance(action, HangUp):
            self.ending = self.ending or "ivr_hangup"
            self.hangup()

    def hangup(self) -> None:
        if not self.ended:
            self.gateway.sip_hangup(self.call_id)

    async def resume_flow(self, node: str) -> None:
        """Send the caller back into the IVR at ``node`` (a queue overflowing to voicemail)."""
        if self.run is not None and not self.ended:
            await self._execute(self.run.goto(node))

    async def play_and_wait(self, pcm: bytes) -> None:
        """Play audio outside the flow (the transfer handler's holding prompt)."""
        if self.session is None or self.ended:
            return
        self.session.play(pcm)
        while self.session.playing and not self.ended:
            await asyncio.sleep(max(0.02, self.session.queued_seconds))

    async def contact_recorded(self) -> None:
        """Wait until the call's contact is written (if it is being written): an order, a
        queue entry or a recording made during the call links to it."""
        if self.contact_task is not None:
            await asyncio.shield(self.contact_task)  # a caller's end must not cancel the write

    async def _transfer(self, target: str) -> None:
        await self.contact_recorded()
        await self.gateway.transfer_handler(self, target)

    async def _service(self, action: CallService) -> None:
        await self.contact_recorded()
        self.gateway.log(self.call_id, "service", action.name)
        result = await asyncio.to_thread(
            self.gateway.run_service, action.name, self.context, action.args)
        self.gateway.log(self.call_id, "service_result",
                         f"{action.name}:{result.get('outcome', 'ok')}")
        recording = action.args.get("recording")
        if recording and result.get("outcome", "ok") == "ok":
            self.stored_recordings.add(str(recording))
        if not self.ended:
            self.events.put_nowait(ServiceDone(action.token, result))

    # --- recording -------------------------------------------------------------------

    def _start_recording(self, action: StartRecording) -> None:
        if self.session is None or self.ended:
            return
        directory = self.gateway.config.recordings_dir / time.strftime("%Y-%m-%d")
        directory.mkdir(parents=True, exist_ok=True)
        self._recording_path = str(directory / f"{uuid.uuid4().hex}.wav")
        self.recordings.append(self._recording_path)
        self._recorder = WavRecorder(self._recording_path)
        self._recording_token = action.token
        self.session.recorder = self._recorder
        self.gateway.log(self.call_id, "recording", "start")
        self._timers.append(asyncio.get_running_loop().call_later(
            action.max_seconds, self._stop_recording, action.token))

    def _stop_recording(self, token: int) -> None:
        if self._recorder is None or token != self._recording_token:
            return
        seconds = self._close_recorder()
        self.gateway.log(self.call_id, "recording", f"{seconds:.1f}s")
        if not self.ended:
            self.events.put_nowait(RecordingDone(token, self._recording_path, seconds))

    def _close_recorder(self) -> float:
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return 0.0
        if self.session is not None:
            self.session.recorder = None
        recorder.close()
        return float(recorder.seconds)


class VoiceGateway:
    def __init__(
        self,
        flow: Flow,
        prompts: PromptLibrary,
        config: GatewayConfig,
        *,
        run_service: ServiceRunner,
        make_context: Callable[[str, str | None, str | None, str], Any],
        start_call: Callable[[Any], int | None] | None = None,
        finish_call: Callable[[Any, list[NodeVisit], str], None] | None = None,
        transfer_handler: TransferHandler | None = None,
        lines: LineDirectory | None = None,
        load_lines: Callable[[], list[LineRow]] | None = None,
    ) -> None:
        self.flow = flow
        # The numbers answered with a flow, greeting or queue of their own (merged hotlines).
        self.lines = lines or LineDirectory(flow, lambda path: flow)
        self.load_lines = load_lines
        self.prompts = prompts
        self.config = config
        self.run_service = run_service
        self.make_context = make_context
        self.start_call = start_call
        self.finish_call = finish_call
        self.transfer_handler = transfer_handler or self.default_transfer
        self.ports = RtpPortPool(*config.rtp_ports)
        self.calls: dict[str, Call] = {}
        self.sip: SipEndpoint | None = None
        self.node_visits: collections.Counter[str] = collections.Counter()
        self.visit_cursor: dict[str, int] = {}
        self.events: collections.deque[GatewayLogEntry] = collections.deque(maxlen=LOG_SIZE)
        self.finished: list[Call] = []
        self.peak_calls = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Future[Any]] = []  # background loops, cancelled at stop
        self.agents: Any = None  # hotline.voice.agentcalls.AgentCalls, set by the server
        self.fax: Any = None  # hotline.voice.fax.calls.FaxCalls, set by the server
        self.fax_out: Any = None  # hotline.voice.fax.sender.FaxSender, set by the server
        self.outbound: Any = None  # hotline.voice.outbound.OutboundDialler, set by the server

    # --- lifecycle -------------------------------------------------------------------

    async def start(self, *, warm: bool = True) -> None:
        """Bind SIP (a port in use fails here, at once), then synthesise the flow's phrases
        in the background; a call arriving meanwhile synthesises what it needs itself."""
        options: dict[str, Any] = {"max_calls": self.config.max_calls,
                                   "limits": self.config.source_limits}
        if self.agents is not None:
            options["registrar"] = self.agents.registrar
        self.sip = await open_sip_endpoint(
            self.config.sip_host, self.config.sip_port, self.on_sip_event,
            advertised_host=self.config.advertised_host, **options,
        )
        if self.agents is not None:
            await self.agents.start()
        if self.fax_out is not None:
            self._loops.append(self.spawn(self.fax_out.run()))
        if self.outbound is not None:
            self._loops.append(self.spawn(self.outbound.run()))
        if self.load_lines is not None:
            await self.refresh_lines()
            self._loops.append(self.spawn(self._keep_lines_fresh()))
        if warm:
            self.spawn(asyncio.to_thread(self.prompts.warm,
                                         self.flow.static_texts() | self.lines.static_texts()))
        logger.info("voice gateway: SIP on %s:%s, RTP %s-%s", self.config.sip_host,
                    self.sip.agent.local_port, *self.config.rtp_ports)

    async def refresh_lines(self) -> None:
        """Reload the hotline numbers (a database read and flow files: in a worker thread)."""
        assert self.load_lines is not None
        load = self.load_lines
        try:
            rows = await asyncio.to_thread(closing_connections, load)
            await asyncio.to_thread(self.lines.update, rows)
        except Exception:
            logger.exception("could not load the hotline numbers: keeping the ones loaded")

    async def _keep_lines_fresh(self) -> None:
        while True:
            await asyncio.sleep(LINES_REFRESH_S)
            await self.refresh_lines()

    def flow_of(self, call: Call) -> Flow:
        return call.flow or self.flow

    @property
    def sip_port(self) -> int:
        assert self.sip is not None
        return self.sip.agent.local_port

    async def stop(self) -> None:
        for loop_task in self._loops:
            loop_task.cancel()
        self._loops.clear()
        if self.outbound is not None:
            await self.outbound.stop()
        if self.agents is not None:
            await self.agents.stop()
        for call_id in list(self.calls):
            self.sip_hangup(call_id)
        await asyncio.sleep(0.05 if self.calls else 0)
        for call in list(self.calls.values()):
            call.end("shutdown")
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        if self.sip is not None:
            self.sip.close()

    def spawn(self, coroutine: Awaitable[Any]) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def log(self, call_id: str, kind: str, detail: str = "") -> None:
        self.events.append(GatewayLogEntry(time.monotonic(), call_id, kind, detail))
        logger.info("call %s %s %s", call_id[:16], kind, detail)

    def entries(self, kind: str, call_id: str | None = None) -> list[str]:
        return [e.detail for e in self.events
                if e.kind == kind and (call_id is None or e.call_id == call_id)]

    # --- SIP events --------------------------------------------------------------------

    def on_sip_event(self, endpoint: SipEndpoint, event: UaEvent) -> None:
        if self.fax is not None and self.fax.on_sip_event(endpoint, event):
            return  # a call to a fax number (hotline.voice.fax.calls)
        if self.fax_out is not None and self.fax_out.on_sip_event(endpoint, event):
            return  # a fax this gateway sends (hotline.voice.fax.sender)
        if self.outbound is not None and self.outbound.on_sip_event(endpoint, event):
            return  # an outbound call or the trunk's registration (hotline.voice.outbound)
        if self.agents is not None:
            if isinstance(event, (PhoneRegistered, PhoneUnregistered, RegistrationRejected)):
                self.agents.on_registrar_event(event)
                return
            if self.agents.on_leg_event(event):
                return  # one of the gateway's own calls to a phone or a number
        if isinstance(event, IncomingCall):
            line = self.lines.get(event.called_user)
            context = self.make_context(event.call_id, event.caller_user, event.called_user,
                                        line.queue if line is not None else "")
            call = Call(self, event.call_id, context,
                        flow=line.flow if line is not None else None)
            self.calls[event.call_id] = call
            self.peak_calls = max(self.peak_calls, len(self.calls))
            self.log(event.call_id, "call", str(event.caller_user))
            self.spawn(self._answer(endpoint, call))
        elif isinstance(event, CallEstablished):
            established = self.calls.get(event.call_id)
            if established is None:
                return
            call = established
            if event.media is None or call.rtp is None:
                call.ending = "no_media"
                endpoint.hangup(event.call_id)
                return
            loop = asyncio.get_running_loop()
            call.run = FlowRun(self.flow_of(call), {"caller": call.context.caller},
                               direct_to_agent=self.config.direct_to_agent)
            if self.start_call is not None:
                # The contact is written only now that the caller has confirmed the call:
                # a half-open call (an INVITE whose 200 is never ACKed) leaves no row.
                call.contact_task = loop.create_task(self._record_contact(call))
                self._tasks.add(call.contact_task)
                call.contact_task.add_done_callback(self._tasks.discard)
            call.start(MediaSession(event.media, start=loop.time()))
            call._timers.append(loop.call_later(self.config.max_call_seconds, call.hangup))
        elif isinstance(event, MediaChanged):
            changed = self.calls.get(event.call_id)
            if changed is not None and changed.session is not None:
                changed.session.update(event.media)
        elif isinstance(event, CallEnded):
            ending = self.calls.get(event.call_id)
            if ending is not None:
                ending.end(str(event.reason))

    async def _answer(self, endpoint: SipEndpoint, call: Call) -> None:
        try:
            call.rtp = await self.ports.open(self.config.rtp_host, call.on_digit,
                                             self.config.measure_rtp)
        except PortsExhausted:
            logger.error("call %s refused: %s", call.call_id, "no free RTP port")
            self.calls.pop(call.call_id, None)
            endpoint.reject(call.call_id, 503)
            return
        if call.ended:
            call.rtp.close()
            return
        # No database work before the ACK: see on_sip_event's CallEstablished.
        endpoint.answer(call.call_id, call.rtp.port)

    async def _record_contact(self, call: Call) -> None:
        assert self.start_call is not None
        try:
            call.context.contact_id = await asyncio.to_thread(
                closing_connections, self.start_call, call.context)
        except Exception:
            logger.exception("could not record the contact of call %s", call.call_id)

    def sip_hangup(self, call_id: str) -> None:
        if self.sip is not None:
            self.sip.hangup(call_id)

    async def finish(self, call: Call) -> None:
        # A recording stored with an order was copied into the order's files: the working copy
        # goes. Any other (the caller hung up before confirming, the database was down) stays
        # in the dated recordings folder: a half-finished recording is never lost; the
        # retention rules decide when such files are purged.
        for path in call.recordings:
            if path in call.stored_recordings:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            elif os.path.exists(path):
                logger.warning("call %s: recording %s kept (not stored with an order)",
                               call.call_id, path)
        self.calls.pop(call.call_id, None)
        self.visit_cursor.pop(call.call_id, None)
        self.finished.append(call)
        del self.finished[:-1000]
        visits = call.run.path if call.run is not None else []
        await call.contact_recorded()  # a caller hanging up at once still gets the summary
        self.log(call.call_id, "end", call.ending)
        if self.finish_call is not None:
            try:
                await asyncio.to_thread(closing_connections, self.finish_call, call.context,
                                        visits, call.ending)
            except Exception:
                logger.exception("could not record the end of call %s", call.call_id)

    # --- transfers without the ACD ---------------------------------------------------------

    async def default_transfer(self, call: Call, target: str) -> None:
        hold = self.flow_of(call).texts.get("hold", "")
        sorry = self.flow_of(call).texts.get("no_agent", "")
        if hold:
            await call.play_and_wait(await asyncio.to_thread(self.prompts.phrase, hold))
        logger.warning("call %s: transfer to %r requested; no agent can be reached: taking "
                       "a call-back request", call.call_id, target)
        result = await asyncio.to_thread(
            self.run_service, "callback", call.context, {"reason": f"transfer to {target}"})
        self.log(call.call_id, "service_result", f"callback:{result.get('outcome', 'ok')}")
        if sorry:
            await call.play_and_wait(await asyncio.to_thread(self.prompts.phrase, sorry))
        call.hangup()


def config_from_settings() -> GatewayConfig:
    """The gateway's configuration from the settings (each read and checked by a typed
    helper in hotline/settings.py: a bad value stops the start, loudly)."""
    from django.conf import settings

    sip_host, sip_port = settings.HOTLINE_SIP_BIND
    return GatewayConfig(
        sip_host=sip_host, sip_port=sip_port,
        rtp_host=settings.HOTLINE_RTP_HOST or sip_host,
        rtp_ports=settings.HOTLINE_RTP_PORTS,
        advertised_host=settings.HOTLINE_SIP_ADVERTISE or None,
        recordings_dir=Path(settings.DATA_DIR) / "recordings",
        direct_to_agent=settings.HOTLINE_IVR_DIRECT,
        acd=settings.HOTLINE_ACD,
        trunk=settings.HOTLINE_SIP_TRUNK,
        gateway_id=settings.HOTLINE_GATEWAY_ID,
        fax_numbers=frozenset(settings.HOTLINE_FAX_NUMBERS),
        sip_realm=settings.HOTLINE_SIP_REALM,
        sip_digest=tuple(settings.HOTLINE_SIP_DIGEST),
        max_calls=settings.HOTLINE_SIP_MAX_CALLS,
        source_limits=SourceLimits(
            calls=settings.HOTLINE_SIP_SOURCE_CALLS,
            unconfirmed=settings.HOTLINE_SIP_SOURCE_UNCONFIRMED,
            rate=float(settings.HOTLINE_SIP_SOURCE_RATE),
            burst=settings.HOTLINE_SIP_SOURCE_BURST,
            trusted=tuple(settings.HOTLINE_SIP_TRUSTED_PROXIES),
        ),
        extension_max_failures=settings.HOTLINE_SIP_EXTENSION_MAX_FAILURES,
        extension_lock_seconds=float(settings.HOTLINE_SIP_EXTENSION_LOCK_SECONDS),
    )
