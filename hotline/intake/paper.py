"""Letters (来信) and walk-in visits (来访) that agents register with their scanned pages: the
registration form's fields and scans become an ``InboundMessage`` on channel "letter" or
"visit" for ``do_receive`` (called with the agent as its actor). No Django here but what the
message needs: the page lives in a face.

The raw payload is what came in: one ZIP archive holding the registration as JSON and every
scan byte for byte (the attachments are what the order shows; photos among them are re-encoded
without their metadata, so the archive is the only copy exactly as scanned).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath

from hotline.intake.messages import InboundFile, InboundMessage

LETTER, VISIT = "letter", "visit"  # hotline.orders.models.Channel
CHANNELS = (LETTER, VISIT)


@dataclass(frozen=True)
class PaperRegistration:
    """What the agent typed from the letter or the visitor's account, with the scans."""

    channel: str  # LETTER or VISIT
    text: str  # the summary of what the citizen asks
    order_type: str
    name: str = ""
    phone: str = ""
    address: str = ""  # where the matter is (never an ID number: the form does not ask one)
    district: str = ""
    category: str = ""
    confidential: bool = False
    title: str = ""
    scans: list[InboundFile] = field(default_factory=list)


def _archive(reg: PaperRegistration, registered_at: dt.datetime) -> bytes:
    names = [f"scans/{i:02d}{PurePath(scan.name).suffix.lower()[:10]}"
             for i, scan in enumerate(reg.scans, start=1)]
    form = {"channel": reg.channel, "type": reg.order_type, "title": reg.title,
            "text": reg.text, "name": reg.name, "phone": reg.phone, "address": reg.address,
            "district": reg.district, "category": reg.category,
            "confidential": reg.confidential, "registered_at": registered_at.isoformat(),
            "scans": [{"file": stored, "name": scan.name, "content_type": scan.content_type}
                      for stored, scan in zip(names, reg.scans, strict=True)]}
    out = io.BytesIO()
    # Stored, not deflated: scans are compressed images and PDFs already.
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("registration.json", json.dumps(form, ensure_ascii=False, indent=1))
        for stored, scan in zip(names, reg.scans, strict=True):
            archive.writestr(stored, scan.content)
    return out.getvalue()


def paper_message(reg: PaperRegistration, *, registered_at: dt.datetime,
                  registration_id: str) -> InboundMessage:
    """The message for ``do_receive``. ``registration_id`` comes with the form, so a form sent
    twice (a double click, a reload) registers one order."""
    if reg.channel not in CHANNELS:
        raise ValueError(f"not a paper channel: {reg.channel!r}")
    return InboundMessage(
        channel=reg.channel, text=reg.text.strip(), subject=reg.title.strip(),
        message_id=f"{reg.channel}-{registration_id}", sender_phone=reg.phone.strip(),
        sender_name=reg.name.strip(), raw=_archive(reg, registered_at), raw_extension=".zip",
        attachments=list(reg.scans), occurred_at=registered_at, order_type=reg.order_type,
        category=reg.category, district=reg.district, address=reg.address.strip()[:255],
        confidential=reg.confidential, meta={"scans": len(reg.scans)},
    )
