"""The citizen portal's adapter: clean form data in, one ``InboundMessage`` out. The portal's
view validates the form and hands the result here, so the web channel enters ``do_receive``
like every other channel."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from hotline.intake.messages import InboundFile, InboundMessage
from hotline.orders.models import Channel


@dataclass(frozen=True)
class WebSubmission:
    """What the portal's submit form collected, already cleaned."""

    order_type: str
    category: str  # category code, "" for "not sure"
    text: str
    district: str  # district code
    street: str  # the street office's name, "" when not chosen
    address: str
    phone: str = ""
    email: str = ""
    name: str = ""
    anonymous: bool = False
    latitude: float | None = None
    longitude: float | None = None
    files: list[InboundFile] = field(default_factory=list)


def web_message(sub: WebSubmission) -> InboundMessage:
    """The message ``do_receive`` takes for one portal submission; the raw payload is the form
    as JSON (without the files, which travel as attachments)."""
    address = " ".join(part for part in (sub.street, sub.address) if part).strip()
    point = ({"latitude": sub.latitude, "longitude": sub.longitude}
             if sub.latitude is not None and sub.longitude is not None else {})
    raw = {"type": sub.order_type, "category": sub.category, "text": sub.text,
           "district": sub.district, "street": sub.street, "address": sub.address,
           "anonymous": sub.anonymous, **point}
    if not sub.anonymous:
        raw.update(phone=sub.phone, email=sub.email, name=sub.name)
    text = sub.text
    if point:
        text = f"{text}\n[{sub.latitude:.6f}, {sub.longitude:.6f}]"
    return InboundMessage(
        channel=Channel.WEB, text=text, message_id=f"portal-{uuid.uuid4().hex}",
        sender_phone="" if sub.anonymous else sub.phone,
        sender_email="" if sub.anonymous else sub.email,
        sender_name="" if sub.anonymous else sub.name,
        raw=json.dumps(raw, ensure_ascii=False).encode(), raw_extension=".json",
        attachments=list(sub.files), order_type=sub.order_type, category=sub.category,
        district=sub.district, address=address[:255], anonymous=sub.anonymous,
        meta={k: v for k, v in point.items()},
    )
