"""Fax: two spandsp T.30 terminals talking over G.711 audio in process, the received TIFF
pages converted to a PDF, and the PDF delivered as a contact through intake's do_receive."""

from __future__ import annotations

import re
from array import array
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from hotline.voice.fax import spandsp
from hotline.voice.fax.pages import FaxPageError, images_to_fax_tiff, tiff_to_pdf
from hotline.voice.media.g711 import Codec, decode, encode

needs_spandsp = pytest.mark.skipif(not spandsp.available(),
                                   reason="libspandsp2 not installed (make debian)")
FRAME = 160  # 20 ms at 8 kHz, one RTP packet
MAX_SECONDS = 180


def _pages(count: int) -> list[Image.Image]:
    pages = []
    for number in range(count):
        page = Image.new("L", (850, 1100), 255)
        draw = ImageDraw.Draw(page)
        draw.text((80, 80), f"12345 fax test page {number + 1}", fill=0)
        draw.rectangle((100, 200 + 40 * number, 700, 600), outline=0, width=6)
        pages.append(page)
    return pages


def _line(samples: array, codec: Codec) -> array:  # type: ignore[type-arg]
    """What the far end hears: the samples through a G.711 encode and decode."""
    heard = array("h")
    heard.frombytes(decode(codec, encode(codec, samples.tobytes())))
    return heard


def send_fax(tiff: Path, received: Path, codec: Codec) -> tuple[spandsp.FaxResult | None, ...]:
    caller = spandsp.FaxTerminal(calling=True)
    answerer = spandsp.FaxTerminal(calling=False)
    caller.send_from(str(tiff))
    answerer.receive_to(str(received))
    for _ in range(MAX_SECONDS * 8000 // FRAME):
        if caller.done and answerer.done:
            break
        to_answerer, to_caller = caller.tx(FRAME), answerer.tx(FRAME)
        answerer.rx(_line(to_answerer, codec))
        caller.rx(_line(to_caller, codec))
    return caller.result, answerer.result


def pdf_page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@needs_spandsp
@pytest.mark.parametrize("codec", [Codec.PCMA, Codec.PCMU])
def test_three_pages_cross_g711_and_become_a_three_page_pdf(tmp_path: Path, codec: Codec) -> None:
    tiff = tmp_path / "out.tif"
    tiff.write_bytes(images_to_fax_tiff(_pages(3)))
    sent, received = send_fax(tiff, tmp_path / "in.tif", codec)
    assert sent is not None and sent.ok and sent.pages_tx == 3
    assert received is not None and received.ok and received.pages_rx == 3
    pdf, count = tiff_to_pdf((tmp_path / "in.tif").read_bytes())
    assert count == 3
    assert pdf.startswith(b"%PDF") and pdf_page_count(pdf) == 3


@needs_spandsp
def test_a_missing_page_file_ends_the_call_with_an_error(tmp_path: Path) -> None:
    sent, received = send_fax(tmp_path / "absent.tif", tmp_path / "in.tif", Codec.PCMA)
    assert sent is not None and not sent.ok
    assert not (tmp_path / "in.tif").exists() or received is None or received.pages_rx == 0


def test_garbage_is_not_a_fax() -> None:
    with pytest.raises(FaxPageError):
        tiff_to_pdf(b"this is not a tiff")


@pytest.mark.django_db
def test_a_received_fax_is_a_contact_with_its_pdf_recorded_once(city: object) -> None:
    from hotline.intake.messages import Outcome
    from hotline.intake.models import ReceivedMessage
    from hotline.voice.fax.delivery import do_deliver_fax

    tiff = images_to_fax_tiff(_pages(2))
    receipt = do_deliver_fax(tiff=tiff, caller="13800138000", call_id="fax-call-1@test",
                             called_number="12345")
    assert receipt.outcome == Outcome.CREATED, receipt
    assert receipt.record_id is not None
    record = ReceivedMessage.objects.get(pk=receipt.record_id)
    assert (record.channel, record.called_number, record.meta["pages"]) == ("fax", "12345", 2)
    with record.raw.open("rb") as stored:
        assert pdf_page_count(stored.read()) == 2
    again = do_deliver_fax(tiff=tiff, caller="13800138000", call_id="fax-call-1@test")
    assert again.outcome == Outcome.DUPLICATE and again.record_id == record.pk
