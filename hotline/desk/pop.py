"""The screen pop (弹屏): who is calling, before the agent says a word.

``screen_pop`` gathers what the caller's panel shows for one queued call: the number, the
citizen's name and tags (vulnerable callers highlighted), their history on every channel (open
orders first, then past ones; past contacts; the satisfaction they gave on call backs) and the
queue with the wait. The centre sees the whole history (``contacts.citizen_history``); anyone
else at a desk (a sub-centre's agent) sees only the orders in their scope, and never the
confidential ones whose citizen they may not know.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils import timezone

from hotline.contactcentre.models import CallOutcome, QueuedCall
from hotline.core.phones import mask_phone
from hotline.directory.models import User
from hotline.orders import access_log, scope
from hotline.orders.contacts import visible_history
from hotline.orders.lifecycle import OPEN
from hotline.orders.models import AccessKind, Citizen, CitizenTag, Contact, Order

ORDERS_SHOWN = 10
CONTACTS_SHOWN = 8
SATISFACTION_SHOWN = 10
VULNERABLE_TAGS = frozenset({CitizenTag.ELDERLY, CitizenTag.DISABLED})
OPEN_VALUES = frozenset(s.value for s in OPEN)


@dataclass(frozen=True)
class Tag:
    code: str
    label: str
    vulnerable: bool
    warning: bool  # a malicious repeat caller: the agent should know at once


@dataclass(frozen=True)
class PastOrder:
    order: Order
    is_open: bool


@dataclass(frozen=True)
class PastContact:
    contact: Contact
    order_numbers: list[str]


@dataclass
class ScreenPop:
    call: QueuedCall
    number: str
    name: str
    citizen: Citizen | None
    tags: list[Tag] = field(default_factory=list)
    orders: list[PastOrder] = field(default_factory=list)
    open_count: int = 0
    contacts: list[PastContact] = field(default_factory=list)
    satisfaction: list[Order] = field(default_factory=list)
    wait_s: float = 0.0
    history_limited: bool = False  # the actor sees only part of the history

    @property
    def vulnerable(self) -> bool:
        return any(tag.vulnerable for tag in self.tags)

    @property
    def first_call(self) -> bool:
        return not self.orders and not self.contacts


def citizen_tags(citizen: Citizen | None) -> list[Tag]:
    if citizen is None:
        return []
    labels = dict(CitizenTag.choices)
    return [Tag(code, str(labels.get(code, code)), code in VULNERABLE_TAGS,
                code == CitizenTag.MALICIOUS) for code in citizen.tags or []]


def wait_seconds(call: QueuedCall, now: dt.datetime | None = None) -> float:
    if call.wait_s is not None and call.outcome != CallOutcome.WAITING:
        return call.wait_s
    if call.answered_at is not None:
        return (call.answered_at - call.queued_at).total_seconds()
    return ((now or timezone.now()) - call.queued_at).total_seconds()


def shown_number(actor: User, call: QueuedCall) -> str:
    if actor.is_superuser or actor.role in scope.FULL_PHONE_ROLES:
        return call.caller
    return mask_phone(call.caller) if call.caller else ""


def screen_pop(actor: User, call: QueuedCall, now: dt.datetime | None = None) -> ScreenPop:
    """The caller's panel for ``call``; the caller checked that the actor may see the call."""
    citizen = call.citizen
    if citizen is None and call.caller:
        citizen = Citizen.objects.filter(phone=call.caller).first()
    pop = ScreenPop(call=call, number=shown_number(actor, call),
                    name=citizen.name if citizen else "", citizen=citizen,
                    tags=citizen_tags(citizen), wait_s=wait_seconds(call, now))
    if citizen is None:
        return pop
    orders, contacts, pop.history_limited = visible_history(actor, citizen)
    rows = list(orders.select_related("lead_unit", "category")[:ORDERS_SHOWN])
    pop.orders = [PastOrder(o, o.state in OPEN_VALUES) for o in rows]
    pop.open_count = orders.filter(state__in=list(OPEN_VALUES)).count()
    if call.contact_id is not None:
        contacts = contacts.exclude(pk=call.contact_id)
    contact_rows = list(contacts.prefetch_related("orders")[:CONTACTS_SHOWN])
    shown = {o.pk for o in orders.only("pk")[:1000]} if pop.history_limited else None
    pop.contacts = [PastContact(c, sorted(o.number for o in c.orders.all()
                                          if shown is None or o.pk in shown))
                    for c in contact_rows]
    pop.satisfaction = list(orders.exclude(satisfaction="").order_by("-closed_at", "-created_at")
                            [:SATISFACTION_SHOWN])
    return pop


def do_log_pop(actor: User, call: QueuedCall, number: str, name: str,
               request: HttpRequest | None, what: str = "screen pop") -> None:
    """Log the caller's panel or the prefilled order form when it shows the caller unmasked
    (the whole number, or a known citizen's whole name); call before rendering."""
    citizen = call.citizen
    if citizen is None and call.caller:
        citizen = Citizen.objects.filter(phone=call.caller).first()
    full_number = bool(call.caller) and number == call.caller
    if not full_number and not access_log.shows_in_full(citizen, name, ""):
        return
    access_log.do_log_access(actor, AccessKind.CITIZEN_VIEW, citizen=citizen, request=request,
                             detail=f"{what} of call {call.pk}")
