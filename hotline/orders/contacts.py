"""Contacts (来电/来信) on every channel, and the citizen's one history across channels.

A contact exists for every interaction, whether or not it becomes a work order: a call answered
from the knowledge base, an email, an SMS. ``do_record_contact`` registers one (finding the
citizen by phone number, else by email); ``do_link_contact`` ties it to an order it concerns
(a citizen calling again about an open order).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from hotline.core.errors import Forbidden, InvalidInput
from hotline.directory.models import User
from hotline.orders import scope
from hotline.orders.citizens import find_or_register_citizen
from hotline.orders.disclosure import Disclosure
from hotline.orders.lifecycle import OPEN
from hotline.orders.models import Channel, Citizen, Contact, Order
from hotline.orders.scope import sees_everything
from hotline.orders.services import check_phone, get_contact_for, get_order_for

INTAKE_ROLES = frozenset({"agent", "monitor", "centre_admin", "system"})


@dataclass
class NewContact:
    channel: str
    summary: str = ""
    citizen_phone: str = ""
    citizen_name: str = ""
    citizen_email: str = ""
    direction: str = Contact.Direction.INBOUND
    external_id: str = ""
    occurred_at: dt.datetime | None = None
    identities: list[tuple[str, str]] = field(default_factory=list)  # (IdentityKind, value)
    called_number: str = ""  # the number or address it came in on (a merged hotline number)


def do_record_contact(actor: User, data: NewContact) -> Contact:
    if actor.role not in INTAKE_ROLES and not actor.is_superuser:
        raise Forbidden("your role may not register contacts")
    if data.channel not in Channel.values:
        raise InvalidInput(f"unknown channel {data.channel!r}", field="channel")
    if data.direction not in Contact.Direction.values:
        raise InvalidInput(f"unknown direction {data.direction!r}", field="direction")
    phone = check_phone(data.citizen_phone)
    with transaction.atomic():
        citizen = find_or_register_citizen(phone=phone, email=data.citizen_email,
                                           name=data.citizen_name, identities=data.identities)
        return Contact.objects.create(
            citizen=citizen, channel=data.channel, direction=data.direction,
            occurred_at=data.occurred_at or timezone.now(), summary=data.summary.strip(),
            external_id=data.external_id, agent=actor if actor.role != "system" else None,
            called_number=data.called_number.strip()[:64],
        )


def do_set_contact_agent(contact_id: int, agent_id: int | None) -> bool:
    """The agent who answered the call is the contact's agent, unless one is already set (a
    transferred call stays the first answerer's). True when it was set now."""
    if agent_id is None:
        return False
    return bool(Contact.objects.filter(pk=contact_id, agent__isnull=True).update(
        agent_id=agent_id))


def do_set_contact_summary(contact_id: int, summary: str) -> bool:
    """Replace what a contact says happened (the IVR trail written when the call ends). True
    when the contact exists."""
    return bool(Contact.objects.filter(pk=contact_id).update(summary=summary.strip()))


def do_set_contact_called_number(contact_id: int, number: str) -> bool:
    """Record the number or address a contact came in on, where it was not known when the
    contact was written (an order's intake writes its contact). True when it was set."""
    number = number.strip()[:64]
    return bool(number) and bool(Contact.objects.filter(pk=contact_id).update(
        called_number=number))


def do_link_contact(actor: User, contact: Contact, number: str) -> Order:
    """Record that ``contact`` concerns order ``number`` (a follow-up, a repeat call)."""
    if actor.role not in INTAKE_ROLES and not actor.is_superuser:
        raise Forbidden("your role may not link contacts to orders")
    contact = get_contact_for(actor, contact.pk)
    order = get_order_for(actor, number)
    contact.orders.add(order)
    return order


def _open_first(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.annotate(is_open=Case(
        When(state__in=[s.value for s in OPEN], then=Value(0)), default=Value(1),
        output_field=IntegerField(),
    )).order_by("is_open", "-created_at")


def citizen_history(actor: User, citizen: Citizen) -> tuple[QuerySet[Order], QuerySet[Contact]]:
    """The citizen's orders (open ones first, newest first) and contacts on every channel.
    Only staff who see every order see a whole history."""
    if not sees_everything(actor):
        raise Forbidden("only the centre sees a citizen's whole history")
    orders = _open_first(Order.objects.filter(citizen=citizen))
    contacts = Contact.objects.filter(citizen=citizen).order_by("-occurred_at")
    return orders, contacts


def visible_history(actor: User, citizen: Citizen
                    ) -> tuple[QuerySet[Order], QuerySet[Contact], bool]:
    """What ``actor`` may see of the citizen's history, and whether that is only part of it.
    The centre sees all (``citizen_history``); anyone else (a sub-centre's agent) sees the
    orders in their scope, less the confidential ones whose citizen they may not know, and only
    the contacts of those orders that concern no hidden order."""
    try:
        orders, contacts = citizen_history(actor, citizen)
        return orders, contacts, False
    except Forbidden:
        pass
    visible = scope.visible_orders(actor, Order.objects.filter(citizen=citizen))
    hidden = [o.pk for o in visible.filter(confidential=True) if scope.citizen_hidden(actor, o)]
    orders = _open_first(visible.exclude(pk__in=hidden))
    # A contact of a shown order may concern a hidden one too (a merge moves contacts along).
    contacts = Disclosure(actor).contacts(
        Contact.objects.filter(citizen=citizen, orders__in=orders).distinct()
    ).order_by("-occurred_at")
    return orders, contacts, True
