"""Outbound calls in mode "ivr": the call's flow runs on the answered call's media session.

``OutboundIvrCall`` is the gateway's inbound ``Call`` with another beginning and end: the same
engine (``FlowRun``), prompts (TTS through the gateway's ``PromptLibrary``), DTMF (RTP events
or in band, from the call's ``RtpEndpoint``), recordings and service nodes (the inbound
services, with the citizen's number as the caller). What differs: it starts when the citizen
answers our INVITE, its recordings are named after the outbound call (so a file left by a
killed gateway is found and stored on the next start), a transfer node ends the call (nobody
waits in a queue for a call the hotline placed), and its end is reported to the dialler
instead of the inbound call's bookkeeping.

When the call ends, every recording made during it is stored as a ``CallRecording`` of the
call's outbound Contact (attached to the call's order), a recording cut short by the citizen
hanging up included, and the stored file's name replaces the working path in the variables.
The result is ``{"vars": {...}, "path": [visited nodes], "recordings": [stored names]}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hotline.outreach.policy import Outcome
from hotline.voice.gateway import Call, PortsExhausted
from hotline.voice.ivr.engine import CallerHungUp, FlowRun, StartRecording
from hotline.voice.ivr.flow import FlowError, build_flow
from hotline.voice.media.recorder import WavRecorder
from hotline.voice.media.session import MediaSession

if TYPE_CHECKING:
    from hotline.outreach.calls import CallJob
    from hotline.voice.outbound import OutboundDialler, Report

logger = logging.getLogger(__name__)

SUMMARY_PREFIX = "IVR: "


@dataclass
class OutboundIvrCall(Call):
    job_id: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

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
        if self.rtp is not None:
            self.rtp.close()
        if self.task is None:
            self.done.set()

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
            logger.exception("outbound IVR failed on call %s", self.call_id)
            self.ending = "error"
            self.hangup()
        finally:
            self._visits_logged()
            self.done.set()

    async def _transfer(self, target: str) -> None:
        self.gateway.log(self.call_id, "transfer_refused", target)
        self.hangup()

    def _start_recording(self, action: StartRecording) -> None:
        from hotline.voice.outbound_db import recording_name

        if self.session is None or self.ended:
            return
        directory = self.gateway.config.recordings_dir / time.strftime("%Y-%m-%d")
        directory.mkdir(parents=True, exist_ok=True)
        gateway_id = self.gateway.outbound.gateway_id if self.gateway.outbound else "gateway"
        self._recording_path = str(directory / recording_name(gateway_id, self.job_id))
        self.recordings.append(self._recording_path)
        self._recorder = WavRecorder(self._recording_path)
        self._recording_token = action.token
        self.session.recorder = self._recorder
        self.gateway.log(self.call_id, "recording", "start")
        self._timers.append(asyncio.get_running_loop().call_later(
            action.max_seconds, self._stop_recording, action.token))


def _wav_seconds(path: str) -> float:
    import wave

    try:
        with wave.open(path, "rb") as wav:
            return wav.getnframes() / float(wav.getframerate() or 8000)
    except (wave.Error, EOFError, OSError):
        return 0.0


async def ivr_call(dialler: OutboundDialler, job: CallJob) -> Report:
    from hotline.voice import outbound_db
    from hotline.voice.outbound import Report
    from hotline.voice.services import SERVICES, CallContext

    gateway = dialler.gateway
    try:
        flow = build_flow(job.flow, services=SERVICES)
    except FlowError as exc:
        return Report(Outcome.FAILED, error=f"invalid IVR flow: {exc.problems[0]}"[:255])
    context = CallContext("", job.number)
    call = OutboundIvrCall(gateway, "", context, flow=flow, job_id=job.id)
    try:
        call.rtp = await gateway.ports.open(gateway.config.rtp_host, call.on_digit,
                                            gateway.config.measure_rtp)
    except PortsExhausted:
        return Report(Outcome.FAILED, error="no free RTP port")
    loop = asyncio.get_running_loop()
    leg = dialler.dial_citizen(job.number, call.rtp.port)
    call.call_id = context.call_id = leg.call_id
    leg.on_end = call.end
    media = await leg.answered
    if media is None:
        call.end("not answered")
        await dialler.wait_end(leg)
        return dialler.not_reached(leg)
    answered = loop.time()
    gateway.log(leg.call_id, "answered", job.number)

    async def write_contact() -> None:
        try:
            context.contact_id = await dialler.db(outbound_db.record_contact, job.id,
                                                  job.number, leg.call_id)
        except Exception:
            logger.exception("outbound call %s: the contact could not be written", job.id)

    call.contact_task = loop.create_task(write_contact())
    call.run = FlowRun(flow, {**job.variables, "caller": job.number})
    session = MediaSession(media, start=loop.time())
    leg.session = session
    if not call.ended:
        call.start(session)
        call._timers.append(loop.call_later(dialler.max_call_s, call.hangup))
    await call.done.wait()
    if not leg.ended.is_set():
        dialler.hang_up(leg)
    talk = max(0, round(loop.time() - answered))
    await asyncio.shield(call.contact_task)
    await dialler.wait_end(leg, 5.0)
    dialler.finished.append(call)
    del dialler.finished[:-1000]
    result = await _result(dialler, call, job)
    return Report(Outcome.ANSWERED, sip_status=200, answered_at=leg.answered_at,
                  talk_seconds=talk, result=result, contact_id=context.contact_id)


async def _result(dialler: OutboundDialler, call: OutboundIvrCall,
                  job: CallJob) -> dict[str, Any]:
    from hotline.voice import outbound_db

    run = call.run
    assert run is not None
    variables = dict(run.variables)
    variables.pop("caller", None)
    for key, value in job.variables.items():
        if variables.get(key) == value:
            variables.pop(key)
    contact_id = call.context.contact_id
    stored_names: list[str] = []
    for path in call.recordings:
        if not os.path.exists(path):
            continue
        seconds = _wav_seconds(path)
        stored = None
        if contact_id is not None:
            try:
                stored = await dialler.db(outbound_db.store_recording, contact_id, path, seconds)
            except Exception:
                logger.exception("outbound call %s: recording %s kept (not stored)", job.id, path)
        if stored is None:
            logger.warning("outbound call %s: recording %s kept (no contact yet)", job.id, path)
            stored = path
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        stored_names.append(stored)
        replaced = False
        for key, value in list(variables.items()):
            if value == path:
                variables[key] = stored
                replaced = True
        node = run.node
        if not replaced and node is not None and node.type == "record" and node.var:
            # Cut short by the citizen hanging up: the engine never heard the recording end.
            variables[node.var] = stored
            variables[f"{node.var}_seconds"] = round(seconds, 1)
    if contact_id is not None:
        with contextlib.suppress(Exception):
            await dialler.db(outbound_db.set_summary, contact_id,
                             SUMMARY_PREFIX + " > ".join(run.visits)
                             + (f" [{call.ending}]" if call.ending else ""))
    result: dict[str, Any] = {"vars": variables, "path": list(run.visits)}
    if stored_names:
        result["recordings"] = stored_names
    return result
