"""Sending an SMS: every part of the product calls ``send_sms``; the provider behind it is chosen
by ``HOTLINE_SMS_PROVIDER``. The log provider (development, tests) writes the message to the log
and keeps the last ones in ``LOG_OUTBOX`` for tests to read."""

from __future__ import annotations

import logging
import uuid
from collections import deque
from dataclasses import dataclass

from django.conf import settings

log = logging.getLogger("hotline.intake.sms")


@dataclass(frozen=True)
class SentSms:
    phone: str
    text: str
    purpose: str  # what it is for: "verify", "accepted", "reply", ... (statistics, templates)
    provider_id: str


LOG_OUTBOX: deque[SentSms] = deque(maxlen=1000)


def send_sms(phone: str, text: str, *, purpose: str) -> SentSms:
    """Send ``text`` to ``phone``; returns what was sent with the provider's message id."""
    provider = getattr(settings, "HOTLINE_SMS_PROVIDER", "log")
    if provider != "log":
        raise NotImplementedError(f"SMS provider {provider!r} is not configured")
    sent = SentSms(phone=phone, text=text, purpose=purpose, provider_id=uuid.uuid4().hex)
    LOG_OUTBOX.append(sent)
    log.info("SMS to %s (%s): %s", phone[:3] + "****" + phone[-4:], purpose, text)
    return sent
