"""Sending a reply by fax: staff queue it, a gateway with a SIP trunk sends it.

``do_queue_reply_fax`` writes an ``OutboundFax`` row with the order's reply as its text; any
gateway claims the oldest due row with one conditional UPDATE (``claim_fax``), so several
gateways share the work and none sends a fax twice. ``do_finish_fax`` records the outcome:
sent (an outbound fax contact on the order), or tried again after ``RETRY_AFTER`` up to
``MAX_ATTEMPTS`` times, then failed with the reason. A gateway that died while sending leaves
a row in "sending"; ``do_recover_faxes`` puts rows claimed too long ago back in the queue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hotline.contactcentre.models import OutboundFax
from hotline.core.errors import Forbidden, InvalidInput
from hotline.core.phones import normalise_phone
from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.orders.contacts import NewContact, do_link_contact, do_record_contact
from hotline.orders.models import Channel, Contact, Order
from hotline.orders.scope import can_see_order
from hotline.orders.sweeps import system_user

MAX_ATTEMPTS = 3
RETRY_AFTER = dt.timedelta(minutes=2)
STUCK_AFTER = dt.timedelta(minutes=15)  # a fax takes a few minutes; longer: its gateway died
SENDER_ROLES = frozenset({Role.AGENT, Role.MONITOR, Role.CENTRE_ADMIN})


@dataclass(frozen=True)
class FaxJob:
    id: int
    number: str
    title: str
    text: str


def may_send_faxes(actor: User) -> bool:
    return bool(actor.is_superuser or actor.role in SENDER_ROLES)


def do_queue_reply_fax(actor: User, order: Order, number: str,
                       now: dt.datetime | None = None) -> OutboundFax:
    if not may_send_faxes(actor) or not can_see_order(actor, order):
        raise Forbidden(gettext_noop("Your role may not send faxes for this order."))
    digits = normalise_phone(number)
    if not 5 <= len(digits.lstrip("+")) <= 20:
        raise InvalidInput(gettext_noop("Enter the fax number: 5 to 20 digits."), field="number")
    if not order.reply_text.strip():
        raise InvalidInput(gettext_noop("The order has no reply to send yet."), field="number")
    when = now or timezone.now()
    return OutboundFax.objects.create(
        order=order, number=digits, title=f"12345 {order.number} {order.title}"[:200],
        text=order.reply_text.strip(), next_try_at=when, created_by=actor, created_at=when)


def claim_fax(gateway: str, now: dt.datetime | None = None) -> FaxJob | None:
    """The oldest due fax, now this gateway's; None when there is none."""
    when = now or timezone.now()
    for candidate in (OutboundFax.objects.filter(state=OutboundFax.State.QUEUED,
                                                 next_try_at__lte=when)
                      .order_by("next_try_at", "pk").values_list("pk", flat=True)[:5]):
        claimed = OutboundFax.objects.filter(pk=candidate, state=OutboundFax.State.QUEUED).update(
            state=OutboundFax.State.SENDING, gateway=gateway[:64], next_try_at=when)
        if claimed:
            fax = OutboundFax.objects.get(pk=candidate)
            return FaxJob(fax.pk, fax.number, fax.title, fax.text)
    return None


def do_finish_fax(fax_id: int, *, ok: bool, pages: int = 0, error: str = "",
                  now: dt.datetime | None = None) -> OutboundFax:
    when = now or timezone.now()
    with transaction.atomic():
        fax = OutboundFax.objects.select_for_update().get(pk=fax_id)
        if fax.state != OutboundFax.State.SENDING:
            return fax  # recovered and claimed again meanwhile: that attempt reports
        fax.attempts += 1
        fax.pages, fax.error = pages, error[:255]
        if ok:
            fax.state, fax.finished_at = OutboundFax.State.SENT, when
            if fax.order_id is not None:  # a campaign's fax: its recipient row records it
                _record_contact(fax, when)
        elif fax.attempts >= MAX_ATTEMPTS:
            fax.state, fax.finished_at = OutboundFax.State.FAILED, when
        else:
            fax.state, fax.next_try_at = OutboundFax.State.QUEUED, when + RETRY_AFTER
        fax.save()
    return fax


def _record_contact(fax: OutboundFax, when: dt.datetime) -> Contact:
    assert fax.order is not None
    actor = system_user()
    citizen = fax.order.citizen
    contact = do_record_contact(actor, NewContact(
        channel=Channel.FAX, direction=Contact.Direction.OUTBOUND, occurred_at=when,
        citizen_phone=citizen.phone if citizen else "",
        citizen_email=citizen.email if citizen and not citizen.phone else "",
        summary=_("Reply sent by fax to %(number)s: %(pages)s page(s)")
        % {"number": fax.number, "pages": fax.pages}, external_id=f"fax-out:{fax.pk}"))
    do_link_contact(actor, contact, fax.order.number)
    return contact


def do_recover_faxes(now: dt.datetime | None = None) -> int:
    """Rows left in "sending" by a gateway that died go back to the queue."""
    when = now or timezone.now()
    return OutboundFax.objects.filter(state=OutboundFax.State.SENDING,
                                      next_try_at__lt=when - STUCK_AFTER).update(
        state=OutboundFax.State.QUEUED, gateway="", next_try_at=when)
