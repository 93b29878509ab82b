"""The desks' softphones in the gateway: one aiortc peer connection per registered desk.

Signalling rides on the database (``hotline.contactcentre.softphones``), like the desk's call
commands: the browser posts its complete SDP offer (ICE gathered) to the web, this gateway
claims it, answers with its own complete SDP and keeps the peer until the desk unregisters
(签出, another tab, the page closed), the peer fails, or the gateway stops. The desk needs no
route to the gateway's HTTP port and no second login, and several gateways share the offers.

A softphone is the agent's phone: ``SoftphonePeers.dial`` rings it as ``AgentCalls.dial``
rings a SIP phone (``ring_preview`` for a call back's preview dialling), and the desk's
answer and hang-up (over the peer's data channel, the "control" channel the desk opens) move
the leg through the same call-control table as a SIP phone's 200 OK and BYE. Once answered
the leg's media is the peer's ``PeerFrames``, so the bridge, the recording, hold, transfers,
three-way calls and a supervisor's listen / whisper / barge apply unchanged. The keypad's
digits go to the other parties as RFC 4733 events. A new registration of the same agent (the
page reloaded) takes over the leg ringing or talking on the old one: reloading the desk never
ends a call.

Control messages are JSON objects, at most ``MAX_MESSAGE`` characters; anything else, or one
about a leg that is not the softphone's current one, is ignored (never an error in the loop).
    gateway -> desk: {"type": "ring", "leg", "call"}, {"type": "connected", "leg"},
                     {"type": "ended", "leg"}
    desk -> gateway: {"type": "answer", "leg"}, {"type": "hangup", "leg"},
                     {"type": "dtmf", "leg", "digit"}
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from hotline.contactcentre.callcontrol import Effect, LegEvent, LegRole, LegState
from hotline.contactcentre.softphones import (
    ClaimedOffer,
    claim_softphone_offers,
    closed_softphones,
    do_answer_softphone,
    do_fail_softphone,
    softphone_extensions,
)
from hotline.voice.db_threads import closing_connections
from hotline.voice.media.bridge import LegMode
from hotline.voice.media.dtmf import EVENT_CODES
from hotline.voice.media.session import MediaSession
from hotline.voice.webrtc.frames import BridgeTrack, PeerFrames, pull_audio

if TYPE_CHECKING:
    from aiortc import RTCDataChannel

    from hotline.voice.agentcalls import AcdCall, AgentCalls, Leg

logger = logging.getLogger(__name__)

OFFER_POLL_S = 0.3  # the desk waits for the answer: look for new offers this often
CLOSED_POLL_S = 2.0  # registrations ended on the desk's side are noticed within this
MAX_MESSAGE = 512
CONTROL_CHANNEL = "control"
DIGIT_MS = 120


@dataclass
class PreviewRing:
    """The softphone's side of a preview call (a call back, ``outbound_agent``): no ACD call
    owns it; the dialler waits on ``answered`` and ``ended`` as on a SIP leg's."""

    sip_call_id: str
    phone: Softphone
    answered: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def connected(self) -> bool:
        return self.answered.done() and self.answered.result() and not self.ended.is_set()

    def end(self) -> None:
        """Either side ends it: the desk is told, the dialler's waits return."""
        if not self.answered.done():
            self.answered.set_result(False)
        self.ended.set()
        phone = self.phone
        if phone.leg is self:
            phone.leg = None
            phone.frames.capture = False
            phone.frames.stop_playing()
            phone.send({"type": "ended", "leg": self.sip_call_id})


class Softphone:
    """One registered desk: its peer connection, its audio and the leg ringing or talking."""

    def __init__(self, offer: ClaimedOffer, pc: RTCPeerConnection) -> None:
        self.session_id = offer.session_id
        self.agent_id = offer.agent_id
        self.extension = offer.extension
        self.pc = pc
        self.frames = PeerFrames()
        self.track = BridgeTrack(self.frames)
        self.channel: RTCDataChannel | None = None
        self.reader: asyncio.Task[None] | None = None
        self.leg: Leg | PreviewRing | None = None
        self.closed = False

    @property
    def reachable(self) -> bool:
        return not self.closed and self.channel is not None and self.channel.readyState == "open"

    def send(self, message: dict[str, Any]) -> None:
        if self.reachable:
            assert self.channel is not None
            self.channel.send(json.dumps(message))

    def leg_closed(self, leg: Leg | PreviewRing) -> None:
        """The leg ended (either side): the desk stops ringing or shows the call over."""
        if self.leg is leg:
            self.leg = None
            self.send({"type": "ended", "leg": leg.sip_call_id})


def parse_message(raw: object) -> dict[str, Any] | None:
    """A control message, or None for anything that is not one."""
    if not isinstance(raw, str) or len(raw) > MAX_MESSAGE:
        return None
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None
    return message


class SoftphonePeers:
    def __init__(self, agents: AgentCalls) -> None:
        self.agents = agents
        self.extensions: set[str] = set()  # extensions set to ring in the desk
        self.phones: dict[str, Softphone] = {}  # the registered ones, by extension
        self._ring_ids = itertools.count(1)

    @property
    def gateway_id(self) -> str:
        return self.agents.gateway_id

    async def _in_thread(self, function: Any, *args: Any) -> Any:
        # Not through AgentCalls.db: signalling needs no place in the ACD's ordered writes
        # and must not wait behind them.
        return await asyncio.to_thread(closing_connections, function, *args)

    async def refresh(self) -> None:
        try:
            self.extensions = await self._in_thread(softphone_extensions)
        except Exception:
            logger.exception("could not read the softphone extensions")

    # --- registrations ---------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_closed_check = loop.time()
        while True:
            try:
                offers = await self._in_thread(claim_softphone_offers, self.gateway_id)
            except Exception:
                logger.exception("reading softphone offers failed")
                offers = []
            for offer in offers:
                self.agents.gateway.spawn(self._answer(offer))
            if loop.time() >= next_closed_check and self.phones:
                next_closed_check = loop.time() + CLOSED_POLL_S
                await self._drop_closed()
            await asyncio.sleep(OFFER_POLL_S)

    async def _drop_closed(self) -> None:
        by_session = {phone.session_id: phone for phone in self.phones.values()}
        try:
            ended = await self._in_thread(closed_softphones, self.gateway_id, list(by_session))
        except Exception:
            logger.exception("reading softphone registrations failed")
            return
        for session_id in ended:
            await self._drop(by_session[session_id], "unregistered by the desk", record=False)

    async def _answer(self, offer: ClaimedOffer) -> None:
        # No STUN or TURN: the desk reaches the gateway directly (the centre's own network).
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        phone = Softphone(offer, pc)

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            if channel.label != CONTROL_CHANNEL or phone.channel is not None:
                return
            phone.channel = channel
            channel.on("message", lambda raw: self._on_message(phone, raw))
            self._tell_current(phone)

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio" and phone.reader is None:
                phone.reader = asyncio.get_running_loop().create_task(
                    pull_audio(track, phone.frames))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and not phone.closed:
                await self._drop(phone, f"connection {pc.connectionState}")

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer.offer_sdp,
                                                                type="offer"))
            pc.addTrack(phone.track)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:
            # A browser's odd or hostile offer ends this registration, nothing else.
            logger.warning("softphone %s: offer refused: %s", offer.extension, exc)
            phone.closed = True
            await pc.close()
            await self._in_thread(do_fail_softphone, offer.session_id, self.gateway_id,
                                  "the offer could not be answered")
            return
        answered = await self._in_thread(do_answer_softphone, offer.session_id,
                                         self.gateway_id, pc.localDescription.sdp)
        if not answered:  # the desk closed it meanwhile
            phone.closed = True
            await pc.close()
            return
        previous = self.phones.get(offer.extension)
        self.phones[offer.extension] = phone
        if previous is not None:
            self._take_over(previous, phone)
            await self._drop(previous, "replaced", record=False)
        logger.info("softphone %s registered (session %d)", offer.extension, offer.session_id)

    def _take_over(self, old: Softphone, new: Softphone) -> None:
        """The agent's new desk (a reload, another tab) takes the old one's call: a call must
        not end because the page was reloaded, as it does not with a SIP phone."""
        leg, old.leg = old.leg, None
        if leg is None:
            return
        if isinstance(leg, PreviewRing):
            # A call back is short and the agent started it: the reload ends it (the
            # dialler records why and the rules try again).
            old.leg = leg
            leg.end()
            return
        new.leg, leg.softphone = leg, new
        if leg.connected:
            leg.session = new.frames
            bridge = leg.owner.bridge
            if bridge is not None and leg.sip_call_id in bridge.leg_ids:
                bridge.replace_media(leg.sip_call_id, new.frames)
        self._tell_current(new)
        logger.info("softphone %s: call %s taken over by session %d", new.extension,
                    leg.sip_call_id, new.session_id)

    def _tell_current(self, phone: Softphone) -> None:
        """A desk that connects while its agent's leg rings or talks learns of it."""
        leg = phone.leg
        if leg is None:
            return
        if isinstance(leg, PreviewRing):
            phone.send({"type": "connected" if leg.connected else "ring",
                        "leg": leg.sip_call_id, "call": None})
            return
        if leg.connected:
            phone.send({"type": "connected", "leg": leg.sip_call_id})
        elif leg.state is LegState.RINGING:
            phone.send({"type": "ring", "leg": leg.sip_call_id,
                        "call": leg.queued_id if leg.queued_id is not None
                        else leg.owner.queued_id})

    async def _drop(self, phone: Softphone, reason: str, *, record: bool = True) -> None:
        """The registration ends: a call on it ends as if the phone had hung up."""
        if phone.closed:
            return
        phone.closed = True
        if self.phones.get(phone.extension) is phone:
            del self.phones[phone.extension]
        if isinstance(phone.leg, PreviewRing):
            phone.leg.end()
        elif phone.leg is not None:
            self._phone_hung_up(phone.leg)
        if phone.reader is not None:
            phone.reader.cancel()
        phone.track.stop()
        with contextlib.suppress(Exception):
            await phone.pc.close()
        if record:
            with contextlib.suppress(Exception):
                await self._in_thread(do_fail_softphone, phone.session_id, self.gateway_id,
                                      reason)
        logger.info("softphone %s dropped: %s", phone.extension, reason)

    async def close_all(self) -> None:
        for phone in list(self.phones.values()):
            await self._drop(phone, "the gateway stopped")

    # --- ringing ---------------------------------------------------------------------------

    async def dial(self, acd_call: AcdCall, role: LegRole, extension: str, *, timeout: float,
                   queued_id: int | None = None, agent_id: int | None = None,
                   mode: LegMode = LegMode.PARTY) -> Leg | None:
        """Ring the extension's softphone and wait for the desk's answer (the leg) or not."""
        from hotline.voice.agentcalls import Leg

        phone = self.phones.get(extension)
        if phone is None or not phone.reachable:
            logger.warning("call %s: extension %r has no softphone registered",
                           acd_call.call.call_id, extension)
            return None
        if phone.leg is not None:
            logger.warning("call %s: the softphone of %r is busy", acd_call.call.call_id,
                           extension)
            return None
        leg = Leg(f"softphone-{extension}-{next(self._ring_ids)}", role, acd_call, None,
                  extension, queued_id=queued_id, agent_id=agent_id, mode=mode,
                  softphone=phone)
        phone.leg = leg
        self._tell_current(phone)
        return await self.agents.ring(leg, timeout)

    def ring_preview(self, extension: str, label: str) -> PreviewRing | None:
        """Ring the extension's softphone for a preview call (None: not registered, busy)."""
        phone = self.phones.get(extension)
        if phone is None or not phone.reachable or phone.leg is not None:
            return None
        ring = PreviewRing(f"softphone-{extension}-{next(self._ring_ids)}", phone)
        phone.leg = ring
        self._tell_current(phone)
        logger.info("softphone %s rung for %s", extension, label)
        return ring

    # --- the desk's buttons ----------------------------------------------------------------

    def _on_message(self, phone: Softphone, raw: object) -> None:
        message = parse_message(raw)
        leg = phone.leg
        if message is None or leg is None or message.get("leg") != leg.sip_call_id:
            return
        kind = message["type"]
        if isinstance(leg, PreviewRing):
            if kind == "answer" and not leg.answered.done():
                leg.answered.set_result(True)
                phone.send({"type": "connected", "leg": leg.sip_call_id})
            elif kind == "hangup":
                leg.end()
            return
        if kind == "answer":
            self._phone_answered(phone, leg)
        elif kind == "hangup":
            self._phone_hung_up(leg)
        elif kind == "dtmf":
            self._keypad(leg, message.get("digit"))

    def _phone_answered(self, phone: Softphone, leg: Leg) -> None:
        if leg.state is not LegState.RINGING or leg.answered.done():
            return
        if leg.ring_timer is not None:
            leg.ring_timer.cancel()
        if Effect.ATTACH_MEDIA in leg.change(LegEvent.ANSWERED):
            leg.session = phone.frames
        leg.answered.set_result(True)
        phone.send({"type": "connected", "leg": leg.sip_call_id})

    def _phone_hung_up(self, leg: Leg) -> None:
        """The desk's hang-up: refusing while it rings, a BYE once connected."""
        if leg.state is LegState.RINGING:
            if Effect.CLOSE_LEG in leg.change(LegEvent.FAILED):
                self.agents._leg_closed(leg)
        elif leg.state is LegState.CONNECTED:
            if Effect.CLOSE_LEG in leg.change(LegEvent.GONE):
                self.agents._leg_closed(leg)
            self.agents.gateway.spawn(self.agents._leg_gone(leg))

    def _keypad(self, leg: Leg, digit: object) -> None:
        """A key pressed on the desk's keypad reaches the other parties (a department's own
        menu, a number that asks for an extension) as an RFC 4733 event."""
        if not leg.connected or not isinstance(digit, str) or len(digit) != 1 \
                or digit not in EVENT_CODES:
            return
        owner = leg.owner
        others: list[Any] = [owner.call.session]
        others += [other.session for other in owner.live_legs(LegRole.PARTY, LegRole.CONSULT)
                   if other is not leg]
        for session in others:
            if isinstance(session, MediaSession) and session.media.telephone_event is not None:
                session.send_dtmf(digit, DIGIT_MS)
        self.agents.gateway.log(owner.call.call_id, "keypad", f"{leg.label}:{digit}")
