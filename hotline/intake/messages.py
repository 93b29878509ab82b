"""What a channel adapter hands to ``do_receive`` and what it gets back. No Django here: an
adapter builds these from bytes (a mail, an SMPP PDU, a webhook body) and tests build them by
hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class InboundFile:
    """A file that came with the message (a mail attachment, a photo, a fax's PDF)."""

    name: str
    content: bytes
    content_type: str = ""


@dataclass
class InboundMessage:
    """One message from a citizen on any channel.

    ``message_id`` is what the channel uses to name the message (a mail's Message-ID, the SMS
    provider's message id, an Open311 client's request): a retried delivery with the same id is
    recorded once. ``raw`` is the payload as it came (the .eml, the SMS text, the chat
    transcript, the fax pages) and is kept as it came; ``raw_extension`` names its kind in
    storage (".eml", ".txt", ".json", ".pdf", ".xml")."""

    channel: str  # hotline.orders.models.Channel
    text: str
    message_id: str = ""
    subject: str = ""
    sender_phone: str = ""
    sender_email: str = ""
    sender_name: str = ""
    identities: list[tuple[str, str]] = field(default_factory=list)  # (IdentityKind, value)
    raw: bytes = b""
    raw_extension: str = ".txt"
    attachments: list[InboundFile] = field(default_factory=list)
    occurred_at: dt.datetime | None = None
    # Threading: a reply token (from Reply-To, a link) proves the order; an acceptance number
    # found in the subject or text attaches only when the sender is that order's citizen.
    reply_token: str = ""
    in_reply_to: str = ""  # a mail's In-Reply-To / References: Message-IDs we sent
    # A new order: what the channel knows (a portal form knows much, an SMS little).
    create_order: bool = True
    order_type: str = ""  # OrderType; "" lets intake choose (consultation)
    category: str = ""  # category code
    district: str = ""  # district code
    address: str = ""
    confidential: bool = False
    anonymous: bool = False  # no phone or email wanted (the centre allows it on this channel)
    # An unknown sender may not open a new matter here (a closed mailbox): refuse instead.
    known_senders_only: bool = False
    called_number: str = ""  # the number or address it was sent to (a merged hotline number)
    meta: dict[str, Any] = field(default_factory=dict)  # channel details kept with the record


class Outcome(StrEnum):
    CREATED = "created"  # a new order with this message as its contact
    ATTACHED = "attached"  # added to an existing order
    CONTACT = "contact"  # recorded as a contact only (agents decide)
    DUPLICATE = "duplicate"  # a retried delivery: the first receipt stands
    REFUSED = "refused"  # not taken: ``reason`` says why, for the sender


@dataclass(frozen=True)
class Receipt:
    outcome: Outcome
    record_id: int | None = None  # the ReceivedMessage row
    contact_id: int | None = None
    order_number: str = ""
    reason: str = ""  # for a refusal: a message for the sender (marked for translation)
    field: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome != Outcome.REFUSED
