"""A received fax becomes a contact: its pages as a PDF through intake's one entry point."""

from __future__ import annotations

from hotline.intake.messages import InboundFile, InboundMessage, Receipt
from hotline.intake.services import do_receive
from hotline.voice.fax.pages import tiff_to_pdf


def do_deliver_fax(*, tiff: bytes, caller: str, call_id: str, called_number: str = "") -> Receipt:
    """Hand the fax to ``do_receive``; the call id makes a retried delivery count once."""
    pdf, page_count = tiff_to_pdf(tiff)
    return do_receive(InboundMessage(
        channel="fax", text=f"Fax, {page_count} page(s)", sender_phone=caller,
        raw=pdf, raw_extension=".pdf", attachments=[InboundFile("fax.pdf", pdf, "application/pdf")],
        message_id=call_id, called_number=called_number, meta={"pages": page_count},
    ))
