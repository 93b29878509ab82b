"""A fax over a real SIP call on loopback: a test-side SIP user agent (the gateway's own SIP and
RTP code, with a calling spandsp terminal) dials the gateway's fax number; the gateway answers
with its T.30 terminal and the pages arrive as the contact's PDF through do_receive."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest

from hotline.voice.fax import spandsp
from hotline.voice.fax.media import run_fax
from hotline.voice.fax.pages import images_to_fax_tiff
from hotline.voice.gateway import GatewayConfig
from hotline.voice.media.session import MediaSession
from hotline.voice.media.udp import open_rtp_endpoint
from hotline.voice.prompts import ToneTts
from hotline.voice.server import build_gateway
from hotline.voice.sip.uac import OutgoingAnswered
from hotline.voice.sip.udp import SipEndpoint, open_sip_endpoint
from hotline.voice.sip.useragent import CallEstablished, UaEvent
from tests.voice.test_fax import _pages, pdf_page_count

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not spandsp.available(), reason="libspandsp2 not installed")]
FAX_NUMBER = "96110"


async def send_fax_call(tmp_path: Path) -> tuple[Any, Any]:
    base = random.randrange(40000, 49000, 40)
    config = GatewayConfig(sip_host="127.0.0.1", sip_port=0, rtp_host="127.0.0.1",
                           rtp_ports=(base, base + 20), recordings_dir=tmp_path / "rec",
                           fax_numbers=frozenset({FAX_NUMBER}))
    gateway = build_gateway(config, tts=ToneTts(seconds=0.08), prompt_dir=tmp_path / "prompts")
    await gateway.start(warm=False)
    tiff = tmp_path / "out.tif"
    tiff.write_bytes(images_to_fax_tiff(_pages(2)))
    rtp = await open_rtp_endpoint("127.0.0.1", lambda digit: None)
    loop = asyncio.get_running_loop()
    established: asyncio.Future[Any] = loop.create_future()

    def on_event(endpoint: SipEndpoint, event: UaEvent) -> None:
        media = getattr(event, "media", None)
        if isinstance(event, (CallEstablished, OutgoingAnswered)) and media is not None \
                and not established.done():
            established.set_result(media)

    phone = await open_sip_endpoint("127.0.0.1", 0, on_event)
    try:
        call_id = phone.invite(f"sip:{FAX_NUMBER}@127.0.0.1:{gateway.sip_port}",
                               ("127.0.0.1", gateway.sip_port), rtp.port, caller="13900139000")
        media = await asyncio.wait_for(established, 30)
        session = MediaSession(media, start=loop.time())
        rtp.attach(session)
        terminal = spandsp.FaxTerminal(calling=True)
        terminal.send_from(str(tiff))
        sent = await run_fax(session, terminal, timeout=240)
        await asyncio.wait_for(_finished(gateway, call_id), 60)
        return sent, gateway.fax.finished[0]
    finally:
        rtp.close()
        if phone.transport is not None:
            phone.transport.close()
        await gateway.stop()


async def _finished(gateway: Any, call_id: str) -> None:
    while not any(call.call_id == call_id for call in gateway.fax.finished):
        await asyncio.sleep(0.1)


def test_a_fax_call_to_the_fax_number_becomes_a_two_page_pdf_contact(tmp_path: Path) -> None:
    from hotline.intake.models import ReceivedMessage

    sent, fax_call = asyncio.run(send_fax_call(tmp_path))
    assert sent is not None and sent.ok and sent.pages_tx == 2, sent
    assert fax_call.receipt is not None and fax_call.receipt.accepted, fax_call.receipt
    record = ReceivedMessage.objects.get(pk=fax_call.receipt.record_id)
    assert (record.channel, record.called_number, record.sender.endswith("13900139000")) == \
        ("fax", FAX_NUMBER, True)
    with record.raw.open("rb") as stored:
        assert pdf_page_count(stored.read()) == 2
