"""Fax calls in the gateway: a call to a configured fax number (DID) is answered by a T.30
terminal instead of the IVR, and its pages become the contact's PDF.

A DID rather than CNG detection: the number says what the call is before it is answered, so
no caller hears a prompt cut by a fax tone and no voice caller is mistaken for a fax."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hotline.voice.fax.media import run_fax
from hotline.voice.fax.spandsp import FaxTerminal
from hotline.voice.media.session import MediaSession
from hotline.voice.media.udp import RtpEndpoint
from hotline.voice.sip.useragent import CallEnded, CallEstablished, IncomingCall, UaEvent

if TYPE_CHECKING:
    from hotline.voice.gateway import VoiceGateway
    from hotline.voice.sip.udp import SipEndpoint

logger = logging.getLogger(__name__)


@dataclass
class FaxCall:
    call_id: str
    caller: str
    called: str
    tiff_path: str
    rtp: RtpEndpoint | None = None
    task: asyncio.Task[None] | None = None
    ended: bool = False
    receipt: Any = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class FaxCalls:
    def __init__(self, gateway: VoiceGateway, numbers: frozenset[str], *,
                 timeout: float = 600.0) -> None:
        self.gateway = gateway
        self.numbers = numbers
        self.timeout = timeout
        self.calls: dict[str, FaxCall] = {}
        self.finished: list[FaxCall] = []

    def on_sip_event(self, endpoint: SipEndpoint, event: UaEvent) -> bool:
        """True when the event belongs to a fax call (handled here)."""
        if isinstance(event, IncomingCall):
            if (event.called_user or "") not in self.numbers:
                return False
            handle, path = tempfile.mkstemp(prefix="fax-", suffix=".tif")
            os.close(handle)
            call = FaxCall(event.call_id, event.caller_user or "", event.called_user or "", path)
            self.calls[event.call_id] = call
            self.gateway.log(event.call_id, "fax", call.called)
            self.gateway.spawn(self._answer(endpoint, call))
            return True
        call_id = getattr(event, "call_id", None)
        known = self.calls.get(call_id) if isinstance(call_id, str) else None
        if known is None:
            return False
        call = known
        if isinstance(event, CallEstablished):
            if event.media is None or call.rtp is None:
                endpoint.hangup(call.call_id)
                return True
            loop = asyncio.get_running_loop()
            session = MediaSession(event.media, start=loop.time())
            call.rtp.attach(session)
            call.task = loop.create_task(self._receive(endpoint, call, session))
        elif isinstance(event, CallEnded):
            call.ended = True
            if call.task is None:
                self.gateway.spawn(self._finish(call))
        return True

    async def _answer(self, endpoint: SipEndpoint, call: FaxCall) -> None:
        call.rtp = await self.gateway.ports.open(self.gateway.config.rtp_host, lambda d: None,
                                                 False)
        endpoint.answer(call.call_id, call.rtp.port)

    async def _receive(self, endpoint: SipEndpoint, call: FaxCall, session: MediaSession) -> None:
        terminal = FaxTerminal(calling=False)
        terminal.receive_to(call.tiff_path)
        result = await run_fax(session, terminal, timeout=self.timeout)
        self.gateway.log(call.call_id, "fax_result", repr(result))
        terminal.close()
        if not call.ended:
            await asyncio.sleep(0.5)  # let the last T.30 frames leave before the BYE
            endpoint.hangup(call.call_id)
        await self._finish(call)

    async def _finish(self, call: FaxCall) -> None:
        from hotline.voice.db_threads import closing_connections
        from hotline.voice.fax.delivery import do_deliver_fax

        if self.calls.pop(call.call_id, None) is None:
            return  # finished already: a repeated BYE ends a call that has no task twice
        if call.rtp is not None:
            call.rtp.close()
        try:
            tiff = _pages_of(call.tiff_path)
            if tiff:
                call.receipt = await asyncio.to_thread(
                    closing_connections, do_deliver_fax, tiff=tiff, caller=call.caller,
                    call_id=call.call_id, called_number=call.called)
        except Exception:
            logger.exception("fax call %s: the pages could not be delivered", call.call_id)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(call.tiff_path)
            self.finished.append(call)
            call.done.set()


def _pages_of(path: str) -> bytes:
    """The received TIFF, or nothing when no page arrived: the T.4 receiver removes the file
    it was given when it closes without a page."""
    try:
        with open(path, "rb") as received:
            return received.read()
    except FileNotFoundError:
        return b""
