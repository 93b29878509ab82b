"""Faxes out through the SIP trunk: the gateway claims a queued ``OutboundFax``
(``contactcentre.faxes``), renders its text into fax pages, dials the number through the trunk
with a calling T.30 terminal and reports the outcome. One fax at a time per gateway: a fax
line is a slow, long call, and the rows wait safely in the database for the next gateway."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hotline.voice.fax.media import run_fax
from hotline.voice.fax.pages import images_to_fax_tiff, text_pages
from hotline.voice.fax.spandsp import FaxTerminal
from hotline.voice.media.session import MediaSession
from hotline.voice.media.udp import RtpEndpoint
from hotline.voice.sip.uac import OutgoingAnswered, OutgoingFailed
from hotline.voice.sip.useragent import CallEnded, UaEvent

if TYPE_CHECKING:
    from hotline.voice.gateway import VoiceGateway
    from hotline.voice.sip.udp import SipEndpoint

logger = logging.getLogger(__name__)

POLL_S = 5.0
ANSWER_TIMEOUT_S = 60.0


@dataclass
class Dialling:
    answered: asyncio.Future[Any]
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class FaxSender:
    def __init__(self, gateway: VoiceGateway, trunk: tuple[str, int], *,
                 timeout: float = 600.0, poll_s: float = POLL_S) -> None:
        self.gateway = gateway
        self.trunk = trunk
        self.timeout = timeout
        self.poll_s = poll_s
        self.calls: dict[str, Dialling] = {}
        self.sent: list[tuple[int, bool, int, str]] = []  # (fax id, ok, pages, error)

    def on_sip_event(self, endpoint: SipEndpoint, event: UaEvent) -> bool:
        call_id = getattr(event, "call_id", None)
        dialling = self.calls.get(call_id) if isinstance(call_id, str) else None
        if dialling is None:
            return False
        if isinstance(event, OutgoingAnswered) and not dialling.answered.done():
            dialling.answered.set_result(event.media)
        elif isinstance(event, OutgoingFailed) and not dialling.answered.done():
            dialling.answered.set_exception(RuntimeError(f"{event.status} {event.reason}"))
        elif isinstance(event, CallEnded):
            dialling.ended.set()
            if not dialling.answered.done():
                dialling.answered.set_exception(RuntimeError("the call ended"))
        return True

    async def run(self) -> None:
        from hotline.contactcentre import faxes
        from hotline.voice.db_threads import closing_connections

        gateway_id = self.gateway.config.gateway_id or "gateway"
        while True:
            try:
                job = await asyncio.to_thread(closing_connections, faxes.claim_fax, gateway_id)
            except Exception:
                logger.exception("could not look for faxes to send")
                job = None
            if job is None:
                await asyncio.sleep(self.poll_s)
                continue
            ok, pages, error = await self.send(job.number, job.title, job.text)
            self.sent.append((job.id, ok, pages, error))
            try:
                await asyncio.to_thread(closing_connections, faxes.do_finish_fax, job.id,
                                        ok=ok, pages=pages, error=error)
            except Exception:
                logger.exception("fax %s: the outcome could not be recorded", job.id)

    async def send(self, number: str, title: str, text: str) -> tuple[bool, int, str]:
        """Dial ``number`` through the trunk and send the text as fax pages."""
        sip = self.gateway.sip
        if sip is None:
            return False, 0, "the gateway is not started"
        handle, path = tempfile.mkstemp(prefix="fax-out-", suffix=".tif")
        os.close(handle)
        rtp: RtpEndpoint | None = None
        call_id = ""
        try:
            tiff = await asyncio.to_thread(lambda: images_to_fax_tiff(text_pages(title, text)))
            with open(path, "wb") as out:
                out.write(tiff)
            rtp = await self.gateway.ports.open(self.gateway.config.rtp_host, lambda d: None,
                                                False)
            loop = asyncio.get_running_loop()
            dialling = Dialling(loop.create_future())
            host, port = self.trunk
            call_id = sip.invite(f"sip:{number}@{host}:{port}", self.trunk, rtp.port,
                                 caller="12345")
            self.calls[call_id] = dialling
            self.gateway.log(call_id, "fax_out", number)
            try:
                media = await asyncio.wait_for(dialling.answered, ANSWER_TIMEOUT_S)
            except (RuntimeError, TimeoutError) as failed:
                return False, 0, f"not answered: {failed}"[:255]
            if media is None:
                return False, 0, "answered without media"
            session = MediaSession(media, start=loop.time())
            rtp.attach(session)
            terminal = FaxTerminal(calling=True)
            terminal.send_from(path)
            result = await run_fax(session, terminal, timeout=self.timeout)
            terminal.close()
            self.gateway.log(call_id, "fax_result", repr(result))
            if result is None:
                return False, 0, "timed out"
            return (result.ok, result.pages_tx,
                    "" if result.ok else f"T.30 completion code {result.completion_code}")
        except Exception as exc:  # a broken fax must not stop the sender
            logger.exception("fax to %s failed", number)
            return False, 0, f"failed: {exc}"[:255]
        finally:
            if call_id:
                ended = self.calls.get(call_id)
                if ended is not None and not ended.ended.is_set():
                    await asyncio.sleep(0.5)  # let the last T.30 frames leave before the BYE
                    self.gateway.sip_hangup(call_id)
                self.calls.pop(call_id, None)
            if rtp is not None:
                rtp.close()
            os.unlink(path)
