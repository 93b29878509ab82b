"""Sending an SMS: every part of the product calls ``send_sms``; the provider behind it is chosen
by ``HOTLINE_SMS_PROVIDER`` (``providers.py``: "log" for development and tests, "http" for a
gateway with an HTTP API). Every message is recorded (``SmsMessage``), sent or not.

Two rules stand before the provider: a phone that replied TD (退订) gets no notifications
(what the citizen asks for themselves, a verification code or an answer they requested, still
goes: ``ESSENTIAL``), and no phone gets more than HOTLINE_SMS_PER_PHONE_HOUR messages an hour,
so a bug or an abuser cannot flood a citizen."""

from __future__ import annotations

import datetime as dt
import logging
from collections import deque
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from hotline.core.phones import normalise_phone
from hotline.intake.models import SmsMessage, SmsOptOut
from hotline.intake.sms.providers import ProviderError, provider
from hotline.orders.models import Contact, Order

log = logging.getLogger("hotline.intake.sms")

ESSENTIAL = frozenset({"verify", "requested"})
OPT_OUT_HINT = "回复TD退订"


@dataclass(frozen=True)
class SentSms:
    phone: str
    text: str
    purpose: str  # what it is for: "verify", "accepted", "reply", ... (statistics, templates)
    provider_id: str
    status: str = SmsMessage.Status.SENT
    error: str = ""

    @property
    def sent(self) -> bool:
        return self.status == SmsMessage.Status.SENT


LOG_OUTBOX: deque[SentSms] = deque(maxlen=1000)  # what the log provider "sent", for tests


def sms_parts(text: str) -> int:
    """Segments the network bills: 70 UCS-2 characters in one, 67 each when concatenated
    (160/153 for plain GSM text)."""
    wide = any(ord(ch) > 127 for ch in text)
    single, multi = (70, 67) if wide else (160, 153)
    return 1 if len(text) <= single else -(-len(text) // multi)


def opted_out(phone: str) -> bool:
    return SmsOptOut.objects.filter(phone=normalise_phone(phone)).exists()


def _over_limit(phone: str, now: dt.datetime) -> bool:
    limit = int(settings.HOTLINE_SMS_PER_PHONE_HOUR)
    recent = SmsMessage.objects.filter(
        direction=SmsMessage.Direction.OUTBOUND, phone=phone,
        status__in=[SmsMessage.Status.SENT, SmsMessage.Status.DELIVERED],
        created_at__gte=now - dt.timedelta(hours=1)).count()
    return recent >= limit


def send_sms(phone: str, text: str, *, purpose: str, order: Order | None = None,
             contact: Contact | None = None) -> SentSms:
    """Send ``text`` to ``phone`` and record it; returns what happened (never raises for a
    provider's failure: the caller's work stands without its SMS)."""
    phone = normalise_phone(phone)
    now = timezone.now()
    chosen = provider()
    status, error, provider_id = SmsMessage.Status.SENT, "", ""
    if not phone:
        status, error = SmsMessage.Status.REFUSED, "no phone number"
    elif purpose not in ESSENTIAL and opted_out(phone):
        status, error = SmsMessage.Status.REFUSED, "opted out (TD)"
    elif _over_limit(phone, now):
        status, error = SmsMessage.Status.REFUSED, "hourly limit for this phone reached"
    else:
        try:
            provider_id = chosen.send(phone, text)
        except ProviderError as exc:
            status, error = SmsMessage.Status.FAILED, str(exc)[:255]
            log.warning("SMS to %s (%s) failed: %s", phone[-4:], purpose, error)
    SmsMessage.objects.create(
        direction=SmsMessage.Direction.OUTBOUND, phone=phone, text=text, purpose=purpose,
        provider=chosen.name, provider_id=provider_id, status=status, error=error,
        parts=sms_parts(text), created_at=now, order=order, contact=contact)
    sent = SentSms(phone=phone, text=text, purpose=purpose, provider_id=provider_id,
                   status=status, error=error)
    if chosen.name == "log" and status == SmsMessage.Status.SENT:
        LOG_OUTBOX.append(sent)
    return sent
