"""An SMS from a citizen, whatever provider brought it: TD (退订) opts the phone out; a reply
one of the reply handlers takes (a survey's digit: ``HOTLINE_SMS_REPLY_HANDLERS``, dotted paths
so intake imports none of their owners) is theirs and no order; anything else goes through
``do_receive`` (a new order, or added to the order it quotes) and is answered on the channel
with the acceptance number."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from hotline.core.phones import normalise_phone
from hotline.intake.messages import InboundMessage, Outcome, Receipt
from hotline.intake.models import SmsMessage, SmsOptOut
from hotline.intake.services import do_receive
from hotline.intake.sms import templates
from hotline.intake.sms.outbound import send_sms
from hotline.orders.models import Contact, Order

OPT_OUT_WORDS = frozenset({"TD", "T", "N", "退订", "STOP", "UNSUBSCRIBE"})
MAX_SMS_CHARS = 2000  # a long concatenated message; more is not an SMS


@dataclass(frozen=True)
class TakenReply:
    """What a reply handler says when an inbound SMS is its own: the purpose the message is
    logged under (never empty), the answer to send back ("" for none), the order it was
    about."""

    purpose: str
    answer: str = ""
    order_id: int | None = None


ReplyHandler = Callable[..., TakenReply | None]  # (phone=, text=, at=) -> TakenReply | None


@functools.cache
def _handlers(paths: tuple[str, ...]) -> tuple[ReplyHandler, ...]:
    return tuple(import_string(path) for path in paths)


def reply_handlers() -> tuple[ReplyHandler, ...]:
    return _handlers(tuple(settings.HOTLINE_SMS_REPLY_HANDLERS))


def _taken_by_handler(provider: str, provider_id: str, phone: str, text: str,
                      now: dt.datetime) -> bool:
    """True when a reply handler took the message (or took it at an earlier delivery)."""
    if provider_id and SmsMessage.objects.filter(
            direction=SmsMessage.Direction.INBOUND, provider=provider,
            provider_id=provider_id[:128]).exclude(purpose="").exists():
        return True  # a retried delivery of a reply a handler took: taken once
    for handler in reply_handlers():
        with transaction.atomic():  # the handler's answer and the log stand or fall together
            taken = handler(phone=phone, text=text, at=now)
            if taken is None:
                continue
            order = Order.objects.filter(pk=taken.order_id).first() if taken.order_id else None
            _log_inbound(provider, provider_id, phone, text, now, order, None,
                         purpose=taken.purpose or "reply")
        if taken.answer:
            send_sms(phone, taken.answer, purpose="requested", order=order)
        return True
    return False


def receive_sms(*, provider: str, provider_id: str, phone: str, text: str, to: str = "",
                at: dt.datetime | None = None) -> Receipt | None:
    """Take one inbound SMS; None when it was an opt-out."""
    phone, now = normalise_phone(phone), at or timezone.now()
    text = text[:MAX_SMS_CHARS]
    if text.strip().upper() in OPT_OUT_WORDS:
        SmsOptOut.objects.get_or_create(phone=phone, defaults={"at": now, "text": text[:160]})
        _log_inbound(provider, provider_id, phone, text, now, None, None)
        send_sms(phone, templates.opted_out(), purpose="requested")
        return None
    if _taken_by_handler(provider, provider_id, phone, text, now):
        return Receipt(Outcome.CONTACT, reason="taken as a reply")
    receipt = do_receive(InboundMessage(
        channel="sms", text=text, sender_phone=phone, message_id=f"{provider}:{provider_id}",
        raw=text.encode(), raw_extension=".txt", called_number=to, occurred_at=now))
    if receipt.outcome in (Outcome.DUPLICATE, Outcome.REFUSED):
        return receipt  # a retried delivery was answered the first time; a refusal is logged
    contact = Contact.objects.filter(pk=receipt.contact_id or 0).first()
    order = Order.objects.filter(number=receipt.order_number).first() if receipt.order_number \
        else None
    _log_inbound(provider, provider_id, phone, text, now, order, contact)
    if order is not None:  # the number only: nothing that says what the matter is
        text_back = (templates.accepted(order.number) if receipt.outcome == Outcome.CREATED
                     else templates.added(order.number))
        send_sms(phone, text_back, purpose="accepted", order=order, contact=contact)
    return receipt


def _log_inbound(provider: str, provider_id: str, phone: str, text: str, now: dt.datetime,
                 order: Order | None, contact: Contact | None, *, purpose: str = "") -> None:
    SmsMessage.objects.create(
        direction=SmsMessage.Direction.INBOUND, phone=phone, text=text, provider=provider,
        purpose=purpose[:32],
        provider_id=provider_id[:128], status=SmsMessage.Status.RECEIVED, created_at=now,
        order=order, contact=contact)


def record_delivery(*, provider: str, provider_id: str, delivered: bool, error: str = "",
                    at: dt.datetime | None = None, failure_sticks: bool = False) -> int:
    """A delivery report: the outbound message's status; how many rows it named (0 or 1).
    Matched by the provider's message id alone: a centre that changed providers still gets
    the reports for messages the old one took (``provider`` is the reporting one).
    ``failure_sticks``: a "delivered" leaves a failed message failed (SMPP reports each part of
    a long message: one lost part and the citizen cannot read it)."""
    status = SmsMessage.Status.DELIVERED if delivered else SmsMessage.Status.FAILED
    rows = SmsMessage.objects.filter(direction=SmsMessage.Direction.OUTBOUND,
                                     provider_id=provider_id)
    if delivered and failure_sticks:
        rows = rows.exclude(status=SmsMessage.Status.FAILED)
    return rows.update(status=status, error=error[:255],
                       delivered_at=(at or timezone.now()) if delivered else None)
