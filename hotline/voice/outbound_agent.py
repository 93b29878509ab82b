"""Outbound calls in mode "agent": preview dialling (the call backs, 回访).

The agent's phone rings first (the extension registered at this gateway's registrar, as the
ACD's agent legs; its display shows the citizen's number), or the agent's desk when the
extension's phone is the desk's softphone (``_preview_on_softphone``: the same steps). When
the agent answers, the agent hears that the citizen is being called and the citizen is
dialled through the trunk. If the citizen answers, the two media streams are joined in a
``Bridge`` that records the conversation (stored as a ``CallRecording`` of the outbound
Contact, attached to the call's order) until either side hangs up, and the other side is hung
up. If the citizen does not answer (busy, no answer, rejected, failed), the agent hears why and
the agent's phone is hung up. An agent who does not answer, or hangs up while the citizen's
phone rings, ends the attempt as failed: the citizen was not reached for a reason of ours, and
the rules retry it.

Owners (the call-back helper) only queue rows: ``do_queue_call(..., mode="agent",
agent_extension=...)``; everything here runs on the gateway that claims the row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from hotline.outreach.policy import Outcome
from hotline.voice.gateway import PortsExhausted
from hotline.voice.media.bridge import Bridge, BridgeRunner
from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.session import MediaSession

if TYPE_CHECKING:
    from hotline.outreach.calls import CallJob
    from hotline.voice.media.udp import RtpEndpoint
    from hotline.voice.outbound import Leg, OutboundDialler, Report
    from hotline.voice.webrtc.frames import PeerFrames
    from hotline.voice.webrtc.peers import PreviewRing

logger = logging.getLogger(__name__)

# What the agent hears (the gateway's voice speaks the centre's language, as the flows do).
CALLING = "正在呼叫市民，请稍候。"
NOT_REACHED = {
    Outcome.BUSY: "市民电话占线，本次回访未接通，系统将稍后再试。",
    Outcome.NO_ANSWER: "市民无人接听，本次回访未接通，系统将稍后再试。",
    Outcome.REJECTED: "市民拒绝接听或号码无法接通，本次回访结束。",
    Outcome.FAILED: "呼叫失败，本次回访未接通。",
}


async def _play(dialler: OutboundDialler, session: MediaSession, leg: Leg, text: str) -> None:
    pcm = await asyncio.to_thread(dialler.gateway.prompts.phrase, text)
    session.stop_playing()
    session.play(pcm)
    while session.playing and not leg.ended.is_set():
        await asyncio.sleep(max(0.02, min(0.2, session.queued_seconds)))


async def preview_call(dialler: OutboundDialler, job: CallJob) -> Report:
    from hotline.voice.outbound import Report

    gateway = dialler.gateway
    agents = gateway.agents
    loop = asyncio.get_running_loop()
    if agents is not None and job.agent_extension in agents.softphones.extensions:
        return await _preview_on_softphone(dialler, job)
    binding = (agents.registrar.binding(job.agent_extension, loop.time())
               if agents is not None and job.agent_extension else None)
    if binding is None:
        return Report(Outcome.FAILED, error=f"agent phone {job.agent_extension} not registered")
    rtps: list[RtpEndpoint] = []
    try:
        try:
            agent_rtp = await gateway.ports.open(gateway.config.rtp_host, lambda d: None,
                                                 gateway.config.measure_rtp)
            rtps.append(agent_rtp)
            citizen_rtp = await gateway.ports.open(gateway.config.rtp_host, lambda d: None,
                                                   gateway.config.measure_rtp)
            rtps.append(citizen_rtp)
        except PortsExhausted:
            return Report(Outcome.FAILED, error="no free RTP port")
        agent = dialler.dial(binding.contact, binding.address, agent_rtp.port,
                             label=f"agent:{job.agent_extension}", caller=job.number,
                             display_name="回访 " + job.number,
                             ring_timeout=dialler.agent_ring_timeout_s)
        gateway.log(agent.call_id, "dial", f"agent:{job.agent_extension}")
        agent_media = await agent.answered
        if agent_media is None:
            await dialler.wait_end(agent)
            return Report(Outcome.FAILED, sip_status=0,
                          error=f"the agent's phone did not answer ({agent.status})"[:255])
        agent.session = MediaSession(agent_media, start=loop.time())
        agent_rtp.attach(agent.session)
        calling = loop.create_task(_play(dialler, agent.session, agent, CALLING))
        citizen = dialler.dial_citizen(job.number, citizen_rtp.port)
        gateway.log(citizen.call_id, "dial", f"citizen:{job.number}")
        agent_gone = loop.create_task(agent.ended.wait())
        first: list[asyncio.Future[Any]] = [citizen.answered, agent_gone]
        await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
        calling.cancel()
        if agent.ended.is_set() and not citizen.answered.done():
            dialler.hang_up(citizen)  # CANCEL
            await dialler.wait_end(citizen)
            if citizen.answered.done() and citizen.answered.result() is not None:
                dialler.hang_up(citizen)  # the 200 crossed the CANCEL
            return Report(Outcome.FAILED, sip_status=citizen.status,
                          error="the agent hung up before the citizen answered")
        citizen_media = await citizen.answered
        if citizen_media is None:
            report = dialler.not_reached(citizen)
            if not agent.ended.is_set():
                await _play(dialler, agent.session, agent, NOT_REACHED[report.outcome])
                await asyncio.sleep(0.2)
                dialler.hang_up(agent)
            await dialler.wait_end(citizen, 5.0)
            await dialler.wait_end(agent, 5.0)
            return report
        agent_session = agent.session
        assert agent_session is not None

        async def agent_done() -> None:
            await dialler.wait_end(agent, 5.0)

        return await _bridged(dialler, job, agent_session, lambda: dialler.hang_up(agent),
                              agent_done, citizen, citizen_rtp, citizen_media, agent_gone)
    finally:
        for rtp in rtps:
            rtp.close()


async def _play_to_desk(dialler: OutboundDialler, frames: PeerFrames, ring: PreviewRing,
                        text: str) -> None:
    pcm = await asyncio.to_thread(dialler.gateway.prompts.phrase, text)
    frames.stop_playing()
    frames.play(pcm)
    while frames.playing and not ring.ended.is_set():
        await asyncio.sleep(max(0.02, min(0.2, frames.queued_seconds)))


async def _preview_on_softphone(dialler: OutboundDialler, job: CallJob) -> Report:
    """The same preview call with the agent's desk as the phone: its softphone rings (the
    desk's Answer), the agent hears the same announcements, the bridge is the same."""
    from hotline.voice.outbound import Report

    gateway = dialler.gateway
    assert gateway.agents is not None
    loop = asyncio.get_running_loop()
    ring = gateway.agents.softphones.ring_preview(job.agent_extension, job.number)
    if ring is None:
        return Report(Outcome.FAILED,
                      error=f"agent softphone {job.agent_extension} not registered or busy")
    gateway.log(ring.sip_call_id, "dial", f"agent:{job.agent_extension}")
    try:
        answered = await asyncio.wait_for(asyncio.shield(ring.answered),
                                          dialler.agent_ring_timeout_s)
    except TimeoutError:
        answered = False
    if not answered:
        ring.end()
        return Report(Outcome.FAILED, sip_status=0,
                      error="the agent's softphone did not answer")
    frames = ring.phone.frames
    try:
        citizen_rtp = await gateway.ports.open(gateway.config.rtp_host, lambda d: None,
                                               gateway.config.measure_rtp)
    except PortsExhausted:
        ring.end()
        return Report(Outcome.FAILED, error="no free RTP port")
    try:
        calling = loop.create_task(_play_to_desk(dialler, frames, ring, CALLING))
        citizen = dialler.dial_citizen(job.number, citizen_rtp.port)
        gateway.log(citizen.call_id, "dial", f"citizen:{job.number}")
        agent_gone = loop.create_task(ring.ended.wait())
        await asyncio.wait([citizen.answered, agent_gone], return_when=asyncio.FIRST_COMPLETED)
        calling.cancel()
        if ring.ended.is_set() and not citizen.answered.done():
            dialler.hang_up(citizen)  # CANCEL
            await dialler.wait_end(citizen)
            if citizen.answered.done() and citizen.answered.result() is not None:
                dialler.hang_up(citizen)  # the 200 crossed the CANCEL
            return Report(Outcome.FAILED, sip_status=citizen.status,
                          error="the agent hung up before the citizen answered")
        citizen_media = await citizen.answered
        if citizen_media is None:
            report = dialler.not_reached(citizen)
            if not ring.ended.is_set():
                await _play_to_desk(dialler, frames, ring, NOT_REACHED[report.outcome])
                await asyncio.sleep(0.2)
                ring.end()
            await dialler.wait_end(citizen, 5.0)
            return report

        async def desk_done() -> None:
            return None

        return await _bridged(dialler, job, frames, ring.end, desk_done, citizen, citizen_rtp,
                              citizen_media, agent_gone)
    finally:
        citizen_rtp.close()


async def _bridged(dialler: OutboundDialler, job: CallJob,
                   agent_session: MediaSession | PeerFrames,
                   end_agent: Callable[[], None], agent_done: Callable[[], Awaitable[None]],
                   citizen: Leg, citizen_rtp: RtpEndpoint, citizen_media: object,
                   agent_gone: asyncio.Task[bool]) -> Report:
    """Citizen and agent (a SIP phone's session or a softphone's frames) in one recorded
    bridge until either hangs up; ``end_agent`` hangs up the agent's side, ``agent_done``
    waits until it has ended."""
    from hotline.voice import outbound_db
    from hotline.voice.outbound import Report

    gateway = dialler.gateway
    loop = asyncio.get_running_loop()
    answered = loop.time()
    citizen.session = MediaSession(citizen_media, start=loop.time())  # type: ignore[arg-type]
    citizen_rtp.attach(citizen.session)
    agent_session.stop_playing()
    contact_task = loop.create_task(dialler.db(outbound_db.record_contact, job.id, job.number,
                                               citizen.call_id))
    directory = gateway.config.recordings_dir / time.strftime("%Y-%m-%d")
    directory.mkdir(parents=True, exist_ok=True)
    path = str(directory / outbound_db.recording_name(dialler.gateway_id, job.id))
    recorder = WavRecorder(path)
    music = gateway.agents.music if gateway.agents is not None else None
    bridge = Bridge(recorder=recorder, music=music)
    bridge.add("agent", agent_session)
    bridge.add("citizen", citizen.session)
    runner = BridgeRunner(bridge)
    runner.start()
    gateway.log(citizen.call_id, "bridged", f"agent:{job.agent_extension}")
    citizen_gone = loop.create_task(citizen.ended.wait())
    timeout = loop.create_task(asyncio.sleep(dialler.max_call_s))
    await asyncio.wait([agent_gone, citizen_gone, timeout], return_when=asyncio.FIRST_COMPLETED)
    timeout.cancel()
    runner.stop()
    recorder.close()
    talk = max(0, round(loop.time() - answered))
    end_agent()
    dialler.hang_up(citizen)
    contact_id = None
    try:
        contact_id = await contact_task
    except Exception:
        logger.exception("outbound call %s: the contact could not be written", job.id)
    stored = None
    if contact_id is not None:
        try:
            stored = await dialler.db(outbound_db.store_recording, contact_id, path,
                                      float(recorder.seconds))
        except Exception:
            logger.exception("outbound call %s: recording %s kept", job.id, path)
    if stored is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    await agent_done()
    await dialler.wait_end(citizen, 5.0)
    result = {"vars": {}, "path": ["agent", "citizen"],
              "recordings": [stored or path], "agent_extension": job.agent_extension}
    return Report(Outcome.ANSWERED, sip_status=200, answered_at=citizen.answered_at,
                  talk_seconds=talk, result=result, contact_id=contact_id)
