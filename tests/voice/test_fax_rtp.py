"""A fax over real RTP on loopback UDP: two media sessions (the gateway's MediaSession and
RtpEndpoint) each driven by a spandsp terminal; no SIP, the media path only."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.voice.fax import spandsp
from hotline.voice.fax.media import run_fax
from hotline.voice.fax.pages import images_to_fax_tiff, tiff_to_pdf
from hotline.voice.media.g711 import Codec
from hotline.voice.media.session import MediaSession
from hotline.voice.media.udp import open_rtp_endpoint
from hotline.voice.sdp import AudioAnswer, Direction
from tests.voice.test_fax import _pages, pdf_page_count

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not spandsp.available(), reason="libspandsp2 not installed")]


async def fax_over_rtp(tiff: Path, received: Path) -> tuple[spandsp.FaxResult | None, ...]:
    loop = asyncio.get_running_loop()
    sender_rtp = await open_rtp_endpoint("127.0.0.1", lambda digit: None)
    gateway_rtp = await open_rtp_endpoint("127.0.0.1", lambda digit: None)
    now = loop.time()
    sender = MediaSession(AudioAnswer("127.0.0.1", gateway_rtp.port, 8, Codec.PCMA, None,
                                      Direction.SENDRECV, b""), start=now)
    gateway = MediaSession(AudioAnswer("127.0.0.1", sender_rtp.port, 8, Codec.PCMA, None,
                                       Direction.SENDRECV, b""), start=now + 0.007)
    sender_rtp.attach(sender)
    gateway_rtp.attach(gateway)
    calling, answering = spandsp.FaxTerminal(calling=True), spandsp.FaxTerminal(calling=False)
    calling.send_from(str(tiff))
    answering.receive_to(str(received))
    try:
        return tuple(await asyncio.gather(run_fax(sender, calling, timeout=240),
                                          run_fax(gateway, answering, timeout=240)))
    finally:
        sender_rtp.close()
        gateway_rtp.close()


def test_two_pages_over_rtp_arrive_as_a_two_page_pdf(tmp_path: Path) -> None:
    tiff = tmp_path / "out.tif"
    tiff.write_bytes(images_to_fax_tiff(_pages(2)))
    sent, received = asyncio.run(fax_over_rtp(tiff, tmp_path / "in.tif"))
    assert sent is not None and sent.ok, sent
    assert received is not None and received.ok and received.pages_rx == 2, received
    pdf, count = tiff_to_pdf((tmp_path / "in.tif").read_bytes())
    assert count == 2 and pdf_page_count(pdf) == 2
