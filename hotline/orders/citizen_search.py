"""Finding a citizen by what a caller or writer tells staff (a phone, an email, a name), and the
one history of a found citizen for a staff page.

Agents, monitors and centre administrators look citizens up; a department sees the citizen of an
order in its scope, never the registry. The city centre searches every citizen and sees each
whole history; a sub-centre finds only the citizens of orders in its scope whose identity it
may know, and sees that part of their history (``contacts.visible_history``). The result list is
masked (enough to recognise a person); opening one record shows it in full and is an access to
personal data (``access_log``), and so is the search itself, because a search by phone tells
whether that person ever called.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_noop

from hotline.core.errors import Forbidden, InvalidInput, NotFound
from hotline.core.phones import normalise_phone
from hotline.core.roles import Role
from hotline.directory.models import OrderType, User
from hotline.orders import access_log, scope
from hotline.orders.contacts import visible_history
from hotline.orders.models import AccessKind, Citizen, Contact, Order
from hotline.orders.scope import sees_everything

MIN_QUERY_CHARS = 2
RESULTS_SHOWN = 50
HISTORY_SHOWN = 200


SEARCH_ROLES = frozenset({Role.AGENT, Role.MONITOR, Role.CENTRE_ADMIN})


def may_search_citizens(actor: User) -> bool:
    return bool(actor.is_superuser or actor.role in SEARCH_ROLES)


def _in_reach(actor: User, citizens: QuerySet[Citizen]) -> QuerySet[Citizen]:
    """The citizens ``actor`` may find: all for the centre; for others, those of an order in
    scope that is neither confidential nor a 举报 (whose citizen they may not know)."""
    if sees_everything(actor):
        return citizens
    known = scope.visible_orders(actor).exclude(confidential=True).exclude(type=OrderType.REPORT)
    return citizens.filter(pk__in=known.values("citizen_id"))


def _check(actor: User) -> None:
    if not may_search_citizens(actor):
        raise Forbidden(gettext_noop("Only the centre's staff look up citizens."))


def matching_citizens(query: str) -> QuerySet[Citizen]:
    """Citizens whose phone (or a phone kept from a merged record) contains the digits typed,
    whose email is the one typed, or whose name contains the text; newest first, with their
    numbers of orders and contacts."""
    qs = Citizen.objects.annotate(order_count=Count("orders", distinct=True),
                                  contact_count=Count("contacts", distinct=True))
    query = query.strip()
    if query:
        condition = Q(name__icontains=query) | Q(email__iexact=query) | Q(
            identities__value__iexact=query)
        phone = normalise_phone(query)
        if phone:
            condition |= Q(phone__contains=phone) | Q(identities__value__contains=phone)
        qs = qs.filter(condition).distinct()
    return qs.order_by("-created_at", "-pk")


def search_citizens(actor: User, query: str,
                    request: HttpRequest | None = None) -> list[Citizen]:
    """The citizens matching ``query`` for a staff search (logged: see the module)."""
    _check(actor)
    query = query.strip()
    if len(query) < MIN_QUERY_CHARS:
        raise InvalidInput(
            gettext_noop("Type at least two characters of a phone, an email or a name."),
            field="q")
    found = list(_in_reach(actor, matching_citizens(query))[:RESULTS_SHOWN])
    access_log.do_log_access(actor, AccessKind.CITIZEN_SEARCH, request=request,
                             detail=f"q={normalise_phone(query) or query}"[:access_log.DETAIL_MAX])
    return found


@dataclass(frozen=True)
class HistoryContact:
    contact: Contact
    order_numbers: list[str]


@dataclass(frozen=True)
class CitizenHistory:
    citizen: Citizen
    orders: list[Order]
    contacts: list[HistoryContact]
    channels: list[tuple[str, int]]  # (channel label, contacts on it), most used first
    limited: bool  # the actor sees only the part of the history in their scope


def citizen_record(actor: User, citizen_id: int,
                   request: HttpRequest | None = None) -> CitizenHistory:
    """One citizen in full with their orders and contacts on every channel; logged before it
    is returned (a view that cannot be logged is not shown)."""
    _check(actor)
    citizen = _in_reach(actor, Citizen.objects.filter(pk=citizen_id)).first()
    if citizen is None:
        raise NotFound(gettext_noop("No such citizen."))
    access_log.do_log_access(actor, AccessKind.CITIZEN_VIEW, citizen=citizen, request=request,
                             detail="citizen history")
    orders, contacts, limited = visible_history(actor, citizen)
    shown = list(contacts.select_related("agent").prefetch_related("orders")[:HISTORY_SHOWN])
    counts: dict[str, int] = {}
    for contact in shown:
        label = str(contact.get_channel_display())
        counts[label] = counts.get(label, 0) + 1
    return CitizenHistory(
        citizen=citizen,
        orders=list(orders.select_related("category")[:HISTORY_SHOWN]),
        contacts=[HistoryContact(c, sorted(o.number for o in c.orders.all())) for c in shown],
        channels=sorted(counts.items(), key=lambda item: -item[1]), limited=limited,
    )
