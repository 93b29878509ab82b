"""``do_receive``: the one entry for every inbound message, whatever the channel.

It records the message once (a retried delivery with the same channel and message id gets the
first receipt back), keeps the payload as it came, records a contact for the citizen found or
registered through the one registry, and then either attaches the message to the order it
answers (a genuine reply token, or an acceptance number quoted by that order's own citizen) or
creates an order. Bad input is refused with a reason for the sender and logged; it never raises
out of here for the adapter to crash on, except for faults of our own (the database is gone).
"""

from __future__ import annotations

import hashlib
import logging
import re

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.core.errors import ServiceError
from hotline.directory.models import OrderType, User
from hotline.intake import tokens
from hotline.intake.messages import InboundMessage, Outcome, Receipt
from hotline.intake.models import ReceivedMessage
from hotline.orders import numbering
from hotline.orders.attachments import do_attach_file, max_attachment_bytes
from hotline.orders.citizens import find_citizen
from hotline.orders.contacts import NewContact, do_record_contact, do_set_contact_called_number
from hotline.orders.models import Attachment, Channel, Contact, Order
from hotline.orders.services import NewOrder, check_phone, do_create_order
from hotline.orders.sweeps import system_user

log = logging.getLogger("hotline.intake")

NUMBER_RE = re.compile(r"(?<!\d)(\d{8})(?!\d)")
TITLE_CHARS = 60


def max_inbound_bytes() -> int:
    """The largest payload kept (a mail with its attachments); larger is refused."""
    return int(settings.HOTLINE_MAX_INBOUND_BYTES)


class Refused(ServiceError):
    status = 400


def do_refuse(msg: InboundMessage, reason: str, field: str = "") -> Receipt:
    """Refuse a message an adapter cannot take (a mail without a sender): recorded and logged
    like ``do_receive``'s own refusals."""
    return _refuse(msg, reason, field)


def _refuse(msg: InboundMessage, reason: str, field: str = "") -> Receipt:
    """A refusal is recorded (who sent what, why) without its payload, and logged."""
    log.warning("refused %s message %r from %r: %s", msg.channel, msg.message_id,
                _sender(msg), reason)
    record = ReceivedMessage.objects.create(
        channel=msg.channel if msg.channel in Channel.values else Channel.API,
        message_id="", received_at=timezone.now(), sender=_sender(msg)[:255],
        called_number=msg.called_number[:255], outcome=ReceivedMessage.Outcome.REFUSED,
        reason=reason[:255], raw_size=len(msg.raw),
        meta={"message_id": msg.message_id[:255], **_safe_meta(msg)},
    )
    return Receipt(Outcome.REFUSED, record_id=record.pk, reason=reason, field=field)


def _sender(msg: InboundMessage) -> str:
    return msg.sender_email or msg.sender_phone or next((v for _k, v in msg.identities), "")


def _safe_meta(msg: InboundMessage) -> dict[str, object]:
    return {k: v for k, v in msg.meta.items() if isinstance(v, str | int | float | bool | None)}


def _check(msg: InboundMessage) -> tuple[str, str] | None:
    """(reason, field) when the message cannot be taken; None when it can."""
    if msg.channel not in Channel.values:
        return gettext_noop("unknown channel"), "channel"
    if len(msg.raw) > max_inbound_bytes():
        return gettext_noop("the message is too large"), "raw"
    limit = max_attachment_bytes()
    for item in msg.attachments:
        if len(item.content) > limit:
            return gettext_noop("an attachment is larger than the limit"), "attachments"
    if not (msg.text.strip() or msg.subject.strip() or msg.attachments):
        return gettext_noop("the message is empty"), "text"
    try:
        check_phone(msg.sender_phone)
    except ServiceError:
        return gettext_noop("the phone number is not valid"), "sender_phone"
    if len(msg.message_id) > 255:
        return gettext_noop("the message id is too long"), "message_id"
    return None


def _first_receipt(msg: InboundMessage) -> Receipt | None:
    if not msg.message_id:
        return None
    first = (ReceivedMessage.objects.filter(channel=msg.channel, message_id=msg.message_id)
             .select_related("order").first())
    if first is None:
        return None
    return Receipt(Outcome.DUPLICATE, record_id=first.pk, contact_id=first.contact_id,
                   order_number=first.order.number if first.order else "")


def _order_answered(msg: InboundMessage) -> Order | None:
    """The order this message answers: a genuine token names it outright; an acceptance number
    in the subject or text counts only when the sender is that order's citizen (anyone can
    type a number; only the citizen can add to their own request by quoting it)."""
    for candidate in (msg.reply_token, msg.in_reply_to, msg.subject):
        number = tokens.order_number_for(candidate)
        if number is not None:
            order = Order.objects.filter(number=number).first()
            if order is not None:
                return order
    if msg.anonymous:
        return None
    citizen = find_citizen(phone=msg.sender_phone, email=msg.sender_email,
                           identities=msg.identities)
    if citizen is None:
        return None
    for text in (msg.subject, msg.text[:2000]):
        for number in NUMBER_RE.findall(text):
            if numbering.is_valid(number):
                order = Order.objects.filter(number=number, citizen=citizen).first()
                if order is not None:
                    return order
    return None


def _title(msg: InboundMessage) -> str:
    title = msg.subject.strip() or " ".join(msg.text.split())
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1] + "…"
    return title or str(gettext_noop("(no text)"))


def _attach_files(actor: User, order: Order, msg: InboundMessage, contact: Contact) -> list[str]:
    """Each attachment joins the order; one refused by content (an executable) is listed in
    the record and the rest are kept."""
    refused = []
    for item in msg.attachments:
        try:
            do_attach_file(actor, order, ContentFile(item.content, name=item.name),
                           Attachment.Kind.INTAKE, name=item.name, contact_id=contact.pk)
        except ServiceError as error:
            log.info("attachment %r of %s message %r refused: %s", item.name, msg.channel,
                     msg.message_id, error.message)
            refused.append(item.name[:120])
    return refused


def do_receive(msg: InboundMessage, *, actor: User | None = None) -> Receipt:
    """Take one inbound message; see the module's docstring. ``actor`` is who records it: the
    system account for what arrives by itself, the agent who registers a paper letter or a
    walk-in visit (then the contact and the order name them, as for a call they took)."""
    problem = _check(msg)
    if problem is not None:
        return _refuse(msg, *problem)
    first = _first_receipt(msg)
    if first is not None:
        return first
    if msg.known_senders_only and find_citizen(
            phone=msg.sender_phone, email=msg.sender_email, identities=msg.identities) is None:
        return _refuse(msg, gettext_noop("this address takes messages only from known senders"),
                       "sender")
    try:
        with transaction.atomic():
            return _record(msg, actor or system_user())
    except IntegrityError:
        # Two deliveries of the same message raced: the one that committed stands.
        first = _first_receipt(msg)
        if first is not None:
            return first
        raise
    except ServiceError as error:  # the order service refused what the message carried
        return _refuse(msg, error.message, error.field or "")


def _record(msg: InboundMessage, actor: User) -> Receipt:
    now = msg.occurred_at or timezone.now()
    record = ReceivedMessage(
        channel=msg.channel, message_id=msg.message_id, received_at=now,
        sender=_sender(msg)[:255], called_number=msg.called_number[:255],
        outcome=ReceivedMessage.Outcome.CONTACT, raw_size=len(msg.raw),
        sha256=hashlib.sha256(msg.raw).hexdigest() if msg.raw else "", meta=_safe_meta(msg),
    )
    record.save()  # first, so a concurrent duplicate fails here before any contact exists
    order = _order_answered(msg)
    # An anonymous message keeps nothing that names its sender on the contact or the order.
    phone, email, name = ("", "", "") if msg.anonymous else (
        msg.sender_phone, msg.sender_email, msg.sender_name)
    identities = [] if msg.anonymous else list(msg.identities)
    summary = (f"{msg.subject.strip()}\n{msg.text.strip()}" if msg.subject.strip()
               else msg.text.strip())[:4000]
    if order is None and msg.create_order:
        order, _created = do_create_order(actor, NewOrder(
            type=msg.order_type or OrderType.CONSULTATION, channel=msg.channel,
            title=_title(msg), text=summary or _title(msg), address=msg.address,
            district=msg.district, category=msg.category, confidential=msg.confidential,
            contact_summary=summary, external_id=msg.message_id[:128], citizen_phone=phone,
            citizen_email=email, citizen_name=name, citizen_identities=identities,
        ), now=now)
        found = Contact.objects.filter(orders=order).order_by("-pk").first()
        assert found is not None  # do_create_order records the contact it came in on
        contact = found
        if do_set_contact_called_number(contact.pk, msg.called_number):
            contact.called_number = msg.called_number.strip()[:64]
        record.outcome = ReceivedMessage.Outcome.CREATED
    else:
        contact = do_record_contact(actor, NewContact(
            channel=msg.channel, summary=summary, external_id=msg.message_id[:128],
            occurred_at=now, citizen_phone=phone, citizen_email=email, citizen_name=name,
            identities=identities, called_number=msg.called_number))
        if order is not None:
            contact.orders.add(order)
            record.outcome = ReceivedMessage.Outcome.ATTACHED
    record.contact, record.order = contact, order
    if order is not None:
        refused = _attach_files(actor, order, msg, contact)
        if refused:
            record.meta = {**record.meta, "refused_attachments": refused}
    if msg.raw:
        record.raw.save(msg.raw_extension if msg.raw_extension.startswith(".") else ".bin",
                        ContentFile(msg.raw), save=False)
    record.save()
    transaction.on_commit(lambda: log.info("received %s message %r: %s %s", msg.channel,
                                           msg.message_id, record.outcome,
                                           order.number if order else ""))
    return Receipt(Outcome(record.outcome), record_id=record.pk, contact_id=contact.pk,
                   order_number=order.number if order else "")
