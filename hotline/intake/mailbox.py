"""The mayor's mailbox (市长信箱) adapter: a letter from the public form becomes an
``InboundMessage`` on channel "mailbox" for ``do_receive``. No Django views here (the form
page lives in a face); this only turns the form's cleaned fields into a message."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from hotline.intake.messages import InboundFile, InboundMessage

CHANNEL = "mailbox"
# SPEC 1: a mailbox letter is acknowledged within 24 hours.
ACKNOWLEDGE_WITHIN = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Letter:
    """What the letter form collects."""

    title: str
    text: str
    name: str = ""
    phone: str = ""
    email: str = ""
    district: str = ""
    publish: bool = False  # the writer agrees to publish the letter and its reply
    files: list[InboundFile] = field(default_factory=list)


def acknowledge_by(received_at: dt.datetime) -> dt.datetime:
    """When staff must have acknowledged a letter received at ``received_at``."""
    return received_at + ACKNOWLEDGE_WITHIN


def letter_message(letter: Letter, *, received_at: dt.datetime,
                   submission_id: str) -> InboundMessage:
    """The message for ``do_receive``: the raw payload is the form as submitted (JSON), the
    consent to publish and the acknowledgement deadline travel in ``meta``."""
    raw = json.dumps({
        "title": letter.title, "text": letter.text, "name": letter.name,
        "phone": letter.phone, "email": letter.email, "district": letter.district,
        "publish": letter.publish, "files": [f.name for f in letter.files],
    }, ensure_ascii=False).encode()
    return InboundMessage(
        channel=CHANNEL, text=letter.text.strip(), subject=letter.title.strip(),
        message_id=submission_id, sender_phone=letter.phone.strip(),
        sender_email=letter.email.strip().lower(), sender_name=letter.name.strip(),
        raw=raw, raw_extension=".json", attachments=list(letter.files),
        occurred_at=received_at, district=letter.district,
        meta={"publish": letter.publish,
              "acknowledge_by": acknowledge_by(received_at).isoformat()},
    )
