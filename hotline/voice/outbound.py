"""The gateway's outbound dialler: calls to citizens through the SIP trunk.

Outbound calls are ``outreach.OutboundCall`` rows; any gateway with a trunk claims a due one
with a conditional UPDATE (``outreach.calls.claim_call``: the claim itself honours quiet
hours, the do-not-call list and the daily cap per number), dials it and reports the attempt
(``do_finish_attempt``: the outcome, the SIP status, when it was answered, the talk time, what
the citizen keyed). The rules for the next attempt and telling the call's owner are outreach's.

The trunk is the active ``outreach.Trunk`` (admin), read when the gateway starts and every
minute, or HOTLINE_SIP_TRUNK (a static trunk, no registration) when no row exists. With a user
name and ``register`` set the dialler registers with digest credentials (``Registration``: it
refreshes before the binding expires and retries a failure every minute) and dials only while
registered; the state is written to the gateway's ``TrunkStatus`` row, listed in the admin.
INVITEs go to the outbound proxy if one is set, else to the registrar, with the trunk's caller
id in From and P-Asserted-Identity; a 401/407 is answered with the trunk's credentials. At most
``Trunk.max_concurrent`` outbound calls at once per gateway.

SIP finals map to outcomes (``outcome_for``): 486/600 busy; 408/480, or our ring timeout
(then we CANCEL), no answer; 603/403/404/484/410/604 rejected; 5xx, other failures and no
response at all failed.

Two modes, each in its own module:
- "ivr" (``outbound_ivr``): on answer the call's ``flow`` (data, the inbound IVR's format) runs
  with its ``variables`` on the call's media session, exactly as an inbound call's flow does
  (TTS prompts, DTMF from RTP events or in band, recordings stored with the call's contact).
- "agent" (``outbound_agent``): preview dialling. The agent's phone (registered at this
  gateway's registrar) rings first; when the agent answers the citizen is dialled through the
  trunk and the two media streams are bridged (and recorded); a citizen not reached is told to
  the agent with a prompt before the agent's phone is hung up.
An answered call gets an outbound phone Contact (linked to the call's order) whose id is
reported with the attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from hotline.outreach.policy import Outcome
from hotline.voice.sdp import AudioAnswer
from hotline.voice.sip.registration import Registered, Registration, RegistrationFailed
from hotline.voice.sip.transaction import Address
from hotline.voice.sip.useragent import (
    CallEnded,
    MediaChanged,
    OutgoingAnswered,
    OutgoingFailed,
    OutgoingProgress,
)

if TYPE_CHECKING:
    from hotline.outreach.calls import CallJob
    from hotline.voice.gateway import VoiceGateway
    from hotline.voice.media.session import MediaSession
    from hotline.voice.outbound_db import TrunkSettings
    from hotline.voice.sip.udp import SipEndpoint

logger = logging.getLogger(__name__)

POLL_S = 0.25  # look for due calls this often while calls come (a campaign's pace) ...
IDLE_POLL_S = 1.0  # ... and this often when none came for IDLE_AFTER_S
IDLE_AFTER_S = 10.0
TRUNK_REFRESH_S = 60.0
RING_TIMEOUT_S = 45.0  # the citizen's phone rings this long, then we CANCEL: no answer
AGENT_RING_TIMEOUT_S = 30.0
MAX_CALL_S = 1800.0
NO_RESPONSE = "no answer from the callee"  # the Dialer's own INVITE timeout (Timer B)

BUSY = frozenset({486, 600})
NO_ANSWER = frozenset({408, 480})
REJECTED = frozenset({403, 404, 410, 484, 603, 604})


def outcome_for(status: int, *, timed_out: bool = False, responded: bool = True) -> Outcome:
    """The outcome of an attempt whose INVITE ended with ``status`` (0: nothing came back).

    ``timed_out``: we cancelled on our ring timeout (it rang: no answer; if the trunk never
    said anything at all, the trunk failed). ``responded``: any response came from the trunk.
    """
    if timed_out:
        return Outcome.NO_ANSWER if responded else Outcome.FAILED
    if 200 <= status < 300:
        return Outcome.ANSWERED
    if status in BUSY:
        return Outcome.BUSY
    if status in NO_ANSWER and responded:
        return Outcome.NO_ANSWER
    if status in REJECTED:
        return Outcome.REJECTED
    return Outcome.FAILED


@dataclass
class Report:
    """One attempt's end, as ``do_finish_attempt`` records it."""

    outcome: Outcome
    sip_status: int = 0
    answered_at: dt.datetime | None = None
    talk_seconds: int = 0
    result: dict[str, Any] | None = None
    contact_id: int | None = None
    error: str = ""


@dataclass
class Leg:
    """One outgoing INVITE of the dialler (to the citizen through the trunk, or to an agent's
    phone), from the INVITE to its end."""

    call_id: str
    label: str
    answered: asyncio.Future[AudioAnswer | None]
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    status: int = 0
    reason: str = ""
    progressed: bool = False  # a 18x came: it rang
    responded: bool = False  # anything came back
    timed_out: bool = False  # our ring timeout cancelled it
    answered_at: dt.datetime | None = None
    session: MediaSession | None = None
    on_end: Callable[[str], None] | None = None
    ring_timer: asyncio.TimerHandle | None = None

    @property
    def outcome(self) -> Outcome:
        if self.answered.done() and not self.answered.cancelled() \
                and self.answered.result() is not None:
            return Outcome.ANSWERED
        return outcome_for(self.status, timed_out=self.timed_out, responded=self.responded)

    def _settle(self, media: AudioAnswer | None) -> None:
        if self.ring_timer is not None:
            self.ring_timer.cancel()
        if not self.answered.done():
            self.answered.set_result(media)


class OutboundDialler:
    def __init__(self, gateway: VoiceGateway, *, fallback: Address | None = None,
                 poll_s: float = POLL_S, trunk_refresh_s: float = TRUNK_REFRESH_S,
                 ring_timeout_s: float = RING_TIMEOUT_S,
                 agent_ring_timeout_s: float = AGENT_RING_TIMEOUT_S,
                 max_call_s: float = MAX_CALL_S, load_trunk: Callable[[], Any] | None = None
                 ) -> None:
        self.gateway = gateway
        self.fallback = fallback
        self.poll_s = poll_s
        self.trunk_refresh_s = trunk_refresh_s
        self.ring_timeout_s = ring_timeout_s
        self.agent_ring_timeout_s = agent_ring_timeout_s
        self.max_call_s = max_call_s
        self._load_trunk = load_trunk
        self.trunk: TrunkSettings | None = None
        self.registration: Registration | None = None
        self.registrations = 0  # successful REGISTERs (first and refreshes)
        self.legs: dict[str, Leg] = {}  # by SIP Call-ID
        self.active: dict[int, asyncio.Future[Any]] = {}  # attempts under way, by call id
        self.peak = 0
        self.reports: list[tuple[int, Report]] = []  # (outbound call id, report), the last ones
        self.finished: list[Any] = []  # the last IVR calls (their RTP endpoints, for benches)
        self.started_at: list[tuple[int, float]] = []  # (call id, loop time of the INVITE)
        self._kick = asyncio.Event()
        self._last_claim = -IDLE_AFTER_S
        self._status_lock = asyncio.Lock()
        self.stopped = False

    @property
    def gateway_id(self) -> str:
        configured = self.gateway.config.gateway_id
        if configured:
            return configured
        return f"{os.uname().nodename}:{self.gateway.sip_port}"

    @property
    def can_dial(self) -> bool:
        if self.trunk is None or self.gateway.sip is None or self.stopped:
            return False
        return self.trunk.account is None or (self.registration is not None
                                              and self.registration.registered)

    # --- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        from hotline.voice import outbound_db

        loop = asyncio.get_running_loop()
        try:
            kept = await self.db(outbound_db.recover_recordings,
                                 self.gateway.config.recordings_dir, self.gateway_id)
            if kept:
                logger.warning("outbound: %d recordings of a previous run stored", kept)
        except Exception:
            logger.exception("outbound: could not look for recordings of a previous run")
        next_reload = 0.0
        while not self.stopped:
            if loop.time() >= next_reload:
                next_reload = loop.time() + self.trunk_refresh_s
                await self.reload_trunk()
            if await self._claim_due():
                self._last_claim = loop.time()
            self._kick.clear()
            idle = loop.time() - self._last_claim > IDLE_AFTER_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(),
                                       max(self.poll_s, IDLE_POLL_S) if idle else self.poll_s)

    async def db(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        from hotline.voice.db_threads import closing_connections

        return await asyncio.to_thread(closing_connections, function, *args, **kwargs)

    def kick(self) -> None:
        self._kick.set()

    async def _claim_due(self) -> bool:
        """Claim due calls while the trunk has room; True when one was claimed."""
        from hotline.outreach.calls import claim_call

        claimed = False
        while self.can_dial and self.trunk is not None \
                and len(self.active) < self.trunk.max_concurrent:
            try:
                job = await self.db(claim_call, self.gateway_id)
            except Exception:
                logger.exception("outbound: could not claim a call")
                return claimed
            if job is None:
                return claimed
            claimed = True
            self.active[job.id] = self.gateway.spawn(self._attempt(job))
            self.peak = max(self.peak, len(self.active))
        return claimed

    async def stop(self) -> None:
        self.stopped = True
        for leg in list(self.legs.values()):
            self.hang_up(leg)
        if self.active:
            await asyncio.wait(list(self.active.values()), timeout=5)

    # --- the trunk and its registration -----------------------------------------------------

    async def reload_trunk(self) -> None:
        from hotline.voice import outbound_db

        load = self._load_trunk or (lambda: outbound_db.load_trunk(self.fallback))
        try:
            trunk = await self.db(load)
        except Exception:
            logger.exception("outbound: could not read the SIP trunk; keeping the one loaded")
            return
        if trunk != self.trunk:
            self._apply(trunk)
        await self.write_status()

    def _apply(self, trunk: TrunkSettings | None) -> None:
        sip = self.gateway.sip
        old = self.registration
        if old is not None and sip is not None and (
                trunk is None or trunk.account != old.account):
            with contextlib.suppress(ValueError):
                sip.agent.registrations.remove(old)
            self.registration = None
        self.trunk = trunk
        logger.info("outbound: trunk %s", trunk.name if trunk is not None else "none")
        account = trunk.account if trunk is not None else None
        if account is not None and self.registration is None and sip is not None:
            sip.register(account)
            self.registration = sip.agent.registrations[-1]

    async def write_status(self, *, sip_status: int = 0, reason: str = "",
                           registered_for: int | None = None) -> None:
        from hotline.outreach.models_dialler import TrunkStatus
        from hotline.voice import outbound_db

        trunk = self.trunk
        registered_at = expires_at = None
        if trunk is None:
            state = TrunkStatus.State.NO_TRUNK
        elif trunk.account is None:
            state = TrunkStatus.State.NOT_REGISTERING
        elif self.registration is not None and self.registration.registered:
            state = TrunkStatus.State.REGISTERED
            if registered_for is not None:
                registered_at = timezone.now()
                expires_at = registered_at + dt.timedelta(seconds=registered_for)
        elif sip_status or reason:
            state = TrunkStatus.State.FAILED
        else:
            state = TrunkStatus.State.REGISTERING
        async with self._status_lock:  # in the order things happened
            try:
                await self.db(outbound_db.write_status, self.gateway_id, trunk, state,
                              sip_status=sip_status, reason=reason,
                              registered_at=registered_at, expires_at=expires_at,
                              active_calls=len(self.active))
            except Exception:
                logger.exception("outbound: could not write the trunk's status")

    # --- SIP events (from the gateway) -------------------------------------------------------

    def on_sip_event(self, endpoint: SipEndpoint, event: object) -> bool:
        if isinstance(event, Registered | RegistrationFailed):
            if self.registration is None or event.account != self.registration.account:
                return False
            if isinstance(event, Registered):
                self.registrations += 1
                self.gateway.log("trunk", "registered", f"{event.expires}s")
                self.gateway.spawn(self.write_status(registered_for=event.expires))
                self.kick()
            else:
                self.gateway.log("trunk", "registration_failed", f"{event.status} {event.reason}")
                self.gateway.spawn(self.write_status(sip_status=event.status,
                                                     reason=event.reason))
            return True
        call_id = getattr(event, "call_id", None)
        leg = self.legs.get(call_id) if isinstance(call_id, str) else None
        if leg is None:
            return False
        if isinstance(event, OutgoingProgress):
            leg.progressed = leg.responded = True
        elif isinstance(event, OutgoingAnswered):
            leg.responded = True
            leg.status = 200
            leg.answered_at = timezone.now()
            if event.media is None:
                leg.status, leg.reason = 488, "answered without media"
                leg._settle(None)
                self.hang_up(leg)
            else:
                leg._settle(event.media)
        elif isinstance(event, OutgoingFailed):
            leg.status, leg.reason = event.status, event.reason
            leg.responded = leg.responded or event.reason != NO_RESPONSE
            leg._settle(None)
            self._ended(leg, "failed")
        elif isinstance(event, MediaChanged):
            if leg.session is not None:
                leg.session.update(event.media)
        elif isinstance(event, CallEnded):
            leg._settle(None)
            self._ended(leg, str(event.reason))
        return True

    def _ended(self, leg: Leg, reason: str) -> None:
        self.legs.pop(leg.call_id, None)
        if leg.ring_timer is not None:
            leg.ring_timer.cancel()
        if not leg.ended.is_set():
            leg.ended.set()
            if leg.on_end is not None:
                leg.on_end(reason)

    # --- dialling --------------------------------------------------------------------------

    def dial(self, uri: str, destination: Address, rtp_port: int, *, label: str,
             caller: str, ring_timeout: float, auth: tuple[str, str] | None = None,
             display_name: str | None = None, asserted: str | None = None,
             call_id: str | None = None) -> Leg:
        """Send one INVITE; the leg's ``answered`` gives the media (None: not answered)."""
        sip = self.gateway.sip
        assert sip is not None
        loop = asyncio.get_running_loop()
        extra = [("P-Asserted-Identity", asserted)] if asserted else []
        sip_call_id = sip.invite(uri, destination, rtp_port, caller=caller,
                                 display_name=display_name, extra_headers=extra, auth=auth,
                                 call_id=call_id)
        leg = Leg(sip_call_id, label, loop.create_future())
        self.legs[sip_call_id] = leg
        leg.ring_timer = loop.call_later(ring_timeout, self._ring_timeout, leg)
        return leg

    def dial_citizen(self, number: str, rtp_port: int) -> Leg:
        trunk = self.trunk
        assert trunk is not None
        caller = trunk.caller_id
        return self.dial(trunk.uri(number), trunk.destination, rtp_port, label=number,
                         caller=caller, ring_timeout=self.ring_timeout_s, auth=trunk.auth,
                         asserted=f"<sip:{caller}@{trunk.domain}>")

    def _ring_timeout(self, leg: Leg) -> None:
        if not leg.answered.done():
            leg.timed_out = True
            self.gateway.log(leg.call_id, "ring_timeout", leg.label)
            self.hang_up(leg)

    def hang_up(self, leg: Leg) -> None:
        """BYE when answered, CANCEL while it rings (the final response then ends it)."""
        if not leg.ended.is_set() and self.gateway.sip is not None:
            self.gateway.sip.hangup(leg.call_id)

    async def wait_end(self, leg: Leg, timeout: float = 40.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(leg.ended.wait(), timeout)
        self.legs.pop(leg.call_id, None)

    # --- one attempt -------------------------------------------------------------------------

    async def _attempt(self, job: CallJob) -> None:
        from hotline.outreach.calls import do_finish_attempt

        started = timezone.now()
        self.started_at.append((job.id, asyncio.get_running_loop().time()))
        del self.started_at[:-5000]
        self.gateway.log(f"outbound:{job.id}", "outbound", f"{job.mode}:{job.number}")
        try:
            if job.mode == "agent":
                from hotline.voice.outbound_agent import preview_call

                report = await preview_call(self, job)
            else:
                from hotline.voice.outbound_ivr import ivr_call

                report = await ivr_call(self, job)
        except Exception as exc:
            logger.exception("outbound call %s failed", job.id)
            report = Report(Outcome.FAILED, error=f"gateway error: {exc}"[:255])
        self.gateway.log(f"outbound:{job.id}", "outbound_end",
                         f"{report.outcome}:{report.sip_status}")
        try:
            await self.db(do_finish_attempt, job.id, str(report.outcome),
                          sip_status=report.sip_status, started_at=started,
                          answered_at=report.answered_at, talk_seconds=report.talk_seconds,
                          result=report.result, error=report.error,
                          contact_id=report.contact_id)
        except Exception:
            # The row stays "dialling": the periodic recovery queues it again.
            logger.exception("outbound call %s: the attempt could not be recorded", job.id)
        finally:
            self.active.pop(job.id, None)
            self.reports.append((job.id, report))
            del self.reports[:-5000]
            self.kick()

    def not_reached(self, leg: Leg, error: str = "") -> Report:
        return Report(leg.outcome, sip_status=leg.status,
                      error=error or (f"{leg.status} {leg.reason}".strip() if leg.status
                                      else "no response from the trunk"))


def replace_trunk(dialler: OutboundDialler, **changes: Any) -> None:
    """Tests and benches: change the loaded trunk's settings in place."""
    assert dialler.trunk is not None
    dialler._apply(dataclasses.replace(dialler.trunk, **changes))
