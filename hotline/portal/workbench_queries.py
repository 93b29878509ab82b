"""The department workbench's tabs, its search and the administrator's view of each handler's
load. Every query starts from ``scope.visible_orders(user)``, so no tab or search can list an
order of another unit."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.lookups import Contains
from django.utils.translation import gettext_lazy as _

from hotline.directory.calendar_service import current_calendar
from hotline.directory.models import OrderType, User
from hotline.orders.assignees import unit_handlers
from hotline.orders.lifecycle import Action, State
from hotline.orders.models import Assignment, Order, OrderEvent
from hotline.orders.scope import citizen_hidden, orders_for_held_queries, visible_orders
from hotline.portal.queries import overdue_q

MAX_QUERY = 100
# Still the department's to work on (the load view counts these).
WORKING = (State.DISPATCHED, State.HANDLING, State.SUSPENDED)
# The centre sent it back: the reply was refused, or the return was.
SENT_BACK = (Action.DENY_REPLY, Action.DENY_RETURN)


@dataclass(frozen=True)
class Tab:
    key: str
    label: Any
    orders: QuerySet[Order]
    # The tab's sort columns and order id (last), in the tab's order, where they can be read
    # without the orders' rows: the tab is counted and paged from these, and only the page's
    # orders are read (``by_id``). ``orders`` lists the same orders in the same order.
    keys: QuerySet[Any] | None = None
    by_id: QuerySet[Order] | None = None


def _held_by(unit_ids: list[int], roles: tuple[str, ...] | None = None) -> Exists:
    assignments = Assignment.objects.filter(order=OuterRef("pk"), unit_id__in=unit_ids, active=True)
    if roles is not None:
        assignments = assignments.filter(role__in=roles)
    return Exists(assignments)


def _held_ids(unit_ids: list[int], led_states: list[str],
              supported_states: list[str]) -> QuerySet[Order, Any]:
    """The ids of the orders the unit holds that it leads in one of ``led_states`` or supports
    (co-handles, or is the linkage unit of) in one of ``supported_states``, found from the unit:
    the led ones from the (lead_unit, state) index, the supported ones from its active co and
    linkage assignments checked against the ``order_working_keys`` partial index. Filtering the
    city's 40,000 orders in those states by the unit read 28,000 heap blocks (0.5 s at 1 M
    orders). An order held as lead always has the unit as lead_unit (see ``workbench_tabs``),
    so an order held without leading it is supported."""
    led = Order.objects.filter(_held_by(unit_ids), lead_unit_id__in=unit_ids,
                               state__in=led_states)
    supported = Order.objects.filter(
        state__in=supported_states,
        pk__in=Assignment.objects.filter(
            unit_id__in=unit_ids, active=True,
            role__in=(Assignment.Role.CO, Assignment.Role.LINKAGE)).values("order_id"),
    )
    return led.order_by().values("pk").union(supported.order_by().values("pk"))


def _held_keys(base: QuerySet[Order], unit_ids: list[int], led_states: list[str],
               supported_states: list[str], sort: tuple[str, ...]) -> QuerySet[Any]:
    """``_held_ids``' orders among ``base`` as rows of the ``sort`` columns and the id, sorted:
    the led ones read from the ``order_unit_working`` index, the supported ones from
    ``order_working_keys`` (the deadlines and state with them: ``base``'s deadline tests and the
    sort need no order's row), so sorting the in-progress tab's 6,590 orders at 1 M orders, or
    testing them for the overdue tab, reads the 25 orders of the page only."""
    fields = [name.lstrip("-") for name in sort]
    led = base.filter(_held_by(unit_ids), lead_unit_id__in=unit_ids, state__in=led_states)
    supported = base.filter(
        state__in=supported_states,
        pk__in=Assignment.objects.filter(
            unit_id__in=unit_ids, active=True,
            role__in=(Assignment.Role.CO, Assignment.Role.LINKAGE)).values("order_id"),
    )
    return (led.order_by().values_list(*fields)
            .union(supported.order_by().values_list(*fields)).order_by(*sort))


def _last_move() -> Subquery:
    """The action of the order's last event that changed its state (urges, reminders and other
    record-only events do not count)."""
    return Subquery(OrderEvent.objects.filter(order=OuterRef("pk"))
                    .exclude(from_state=F("to_state")).order_by("-seq").values("action")[:1])


def _hidden_q() -> Q:
    return Q(confidential=True) | Q(type=OrderType.REPORT)


def search(user: User, qs: QuerySet[Order], text: str) -> QuerySet[Order]:
    """Number, title, text or address. The citizen's name and phone are never searched; and
    where the user may not know the citizen (a 举报's reporter) a query that is part of the
    citizen's name or phone, or contains the name, finds nothing, so a search cannot tell a
    department who reported even when the reporter's name is in the text."""
    text = text.strip()[:MAX_QUERY]
    if not text:
        return qs
    found = (Q(number=text) | Q(title__icontains=text) | Q(text__icontains=text)
             | Q(address__icontains=text))
    if citizen_hidden(user, Order(confidential=True, type=OrderType.REPORT)):
        names_citizen = (Q(citizen__name__icontains=text) | Q(citizen__phone__contains=text)
                         | (~Q(citizen__name="") & Q(Contains(Value(text), F("citizen__name")))))
        found &= ~(_hidden_q() & names_citizen & ~Q(number=text))
    return qs.filter(found)


def workbench_tabs(user: User, now: dt.datetime, text: str = "") -> list[Tab]:
    unit_ids = user.unit.descendant_ids() if user.unit is not None else []
    related = ("district", "lead_unit", "category", "handler")
    everything = search(user, visible_orders(user), text).select_related(*related)
    # Every tab but "all" requires an active assignment of these units, which is what makes an
    # order visible to them: the scope's test is left out there (orders_for_held_queries).
    base = search(user, orders_for_held_queries(user), text).select_related(*related)
    lead = _held_by(unit_ids, (Assignment.Role.LEAD,))
    # The active lead assignment's unit is always the order's lead_unit (both are set together
    # in ``_assign_lead``): the redundant column test lets the database start from the
    # (lead_unit, state) index instead of testing every order of the state (1 M orders: the
    # closed tab's count went from 0.9 s to a few ms).
    led = base.filter(lead, lead_unit_id__in=unit_ids)
    to_sign = led.filter(state=State.DISPATCHED)
    # In progress: handling or suspended, or dispatched where the unit only supports (its
    # own dispatched orders wait in "to sign").
    handling = base.filter(pk__in=_held_ids(unit_ids, [State.HANDLING, State.SUSPENDED],
                                            list(WORKING)))
    mine = led.filter(handler=user, state__in=[State.HANDLING, State.SUSPENDED])
    # Due soon and overdue: among the orders the unit works on, found from the unit as the
    # in-progress tab's are (every active assignment of the unit is its lead or supports).
    # A semi-join on the unit's assignments walked the city's 40,000 working orders and
    # probed the unit's assignment for each (148 ms at 1 M orders).
    working = base.filter(pk__in=_held_ids(unit_ids, list(WORKING), list(WORKING)))
    soon = current_calendar().add_working_days(now, 1)
    due_soon_q = Q(overdue_at__isnull=True) & (
        Q(state=State.DISPATCHED, sign_due__gte=now, sign_due__lte=soon)
        | Q(state=State.HANDLING, handle_due__gte=now, handle_due__lte=soon)
    )
    due_soon = working.filter(due_soon_q)
    overdue = working.filter(overdue_q(now))
    # Their keys test the deadlines in each part of the union, from the two indexes' columns.
    by_deadline = ("handle_due", "sign_due", "pk")
    # The states first on their own (implied by the test after it), so the database reads the
    # unit's orders in these states from the (lead_unit, state) index, not all 87,000 it led.
    returned = led.filter(state__in=[State.RETURNED, State.DISPATCHED, State.HANDLING]).annotate(
        last_move=_last_move()).filter(
        Q(state=State.RETURNED)
        | Q(state__in=[State.DISPATCHED, State.HANDLING], last_move__in=SENT_BACK))
    replied = led.filter(state__in=[State.REPLIED, State.CALLBACK])
    closed = led.filter(state__in=[State.CLOSED, State.ARCHIVED])
    return [
        Tab("to_sign", _("To sign for"), to_sign.order_by("sign_due", "pk")),
        Tab("mine", _("Mine"), mine.order_by("handle_due", "pk")),
        Tab("handling", _("In progress"), handling.order_by("handle_due", "pk"),
            keys=_held_keys(base, unit_ids, [State.HANDLING, State.SUSPENDED], list(WORKING),
                            ("handle_due", "pk")),
            by_id=Order.objects.select_related(*related)),
        Tab("due_soon", _("Due soon"), due_soon.order_by(*by_deadline),
            keys=_held_keys(base.filter(due_soon_q), unit_ids, list(WORKING), list(WORKING),
                            by_deadline),
            by_id=Order.objects.select_related(*related)),
        Tab("overdue", _("Overdue"), overdue.order_by(*by_deadline),
            keys=_held_keys(base.filter(overdue_q(now)), unit_ids, list(WORKING),
                            list(WORKING), by_deadline),
            by_id=Order.objects.select_related(*related)),
        Tab("returned", _("Sent back"), returned.order_by("updated_at", "pk")),
        Tab("replied", _("Replied"), replied.order_by("replied_at", "pk")),
        Tab("closed", _("Closed"), closed.order_by("-closed_at", "-pk")),
        Tab("all", _("All"), everything.order_by("-created_at", "-pk")),
    ]


# A tab's count stops here: a department holding 100 k orders would count its closed and all
# tabs on every page (0.7 s each at 1 M orders); nobody reads "78,213" there, "999+" says it.
TAB_COUNT_CAP = 999


def tab_count(tab: Tab) -> int:
    """The tab's order count, counted up to one above the cap (shown as "999+")."""
    if tab.keys is not None:
        return tab.keys.order_by()[:TAB_COUNT_CAP + 1].count()
    return tab.orders.order_by().values("pk")[:TAB_COUNT_CAP + 1].count()


# A tab's pages are counted up to here (or a little past the page asked for): the in-progress
# tab of a department working on 6,590 orders counted them all on every page (~200 ms at 1 M
# orders); "page 3 of 40+" is as useful as "page 3 of 264".
PAGE_COUNT_CAP = 1000
MAX_PAGE = 10_000  # a page number past this is read as this one (OFFSET and LIMIT stay small)


@dataclass(frozen=True)
class CappedPage:
    """One page of a tab, with the rows counted only up to ``limit`` (and one more, to know
    whether there are more): what the template needs of Django's ``Page``, without the exact
    count of the whole tab."""
    rows: list[Order]
    number: int
    per_page: int
    counted: int  # at most limit + 1
    limit: int

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def more(self) -> bool:
        """More rows than counted: the number of pages is a lower bound ("40+")."""
        return self.counted > self.limit

    @property
    def num_pages(self) -> int:
        return max(1, -(-min(self.counted, self.limit) // self.per_page))

    def has_previous(self) -> bool:
        return self.number > 1

    def has_next(self) -> bool:
        return self.number * self.per_page < self.counted

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1


def _page_number(value: str | None) -> int:
    try:
        number = int(value or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def capped_page(tab: Tab | QuerySet[Order], page: str | None, per_page: int,
                cap: int | None = None) -> CappedPage:
    """Page ``page`` (as the query string gives it: anything but a number is the first) of
    the tab's orders, counted up to ``cap`` rows or to the end of the page asked for if that
    is further. A page past the end is the last one, as ``Paginator.get_page`` does. A tab
    with ``keys`` is counted and paged on those, and the page's orders read by id."""
    tab = tab if isinstance(tab, Tab) else Tab("", "", tab)
    cap = PAGE_COUNT_CAP if cap is None else cap
    number = _page_number(page)
    limit = max(cap, number * per_page)
    keys: list[Any] | None = None
    if tab.keys is not None and tab.by_id is not None:
        # The keys up to the limit in one query (small rows: a deadline and an id), counted
        # and cut here: the union behind them is worked out once, not for a count and again
        # for the page.
        keys = list(tab.keys[:limit + 1])
        counted = len(keys)
    else:
        counted = tab.orders.order_by().values("pk")[:limit + 1].count()
    if counted <= limit:  # counted to the end: the exact number of pages
        number = min(number, max(1, -(-counted // per_page)))
    start = (number - 1) * per_page
    rows: list[Order] = []
    if keys is not None and tab.by_id is not None:
        ids = [key[-1] for key in keys[start:start + per_page]]
        found = tab.by_id.in_bulk(ids) if ids else {}
        rows = [found[pk] for pk in ids if pk in found]
    elif counted > start:
        rows = list(tab.orders[start:start + per_page])
    return CappedPage(rows, number, per_page, counted, limit)


# --- the department administrator's view of the handlers' load --------------------------------

@dataclass(frozen=True)
class Load:
    handler: User | None  # None: the orders nobody holds yet
    open: int
    overdue: int
    due_this_week: int


def end_of_week(now: dt.datetime) -> dt.datetime:
    """Monday 00:00 (local time) after ``now``: what is due before it is due this week."""
    local = now.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))
    monday = local.date() + dt.timedelta(days=7 - local.weekday())
    return dt.datetime.combine(monday, dt.time.min, tzinfo=local.tzinfo)


def handler_load(user: User, now: dt.datetime) -> list[Load]:
    """Per handler of the user's unit: orders in hand (signed, not replied), how many are
    overdue and how many fall due before the week ends; then the signed orders nobody holds."""
    unit_ids = user.unit.descendant_ids() if user.unit is not None else []
    orders = visible_orders(user).filter(_held_by(unit_ids, (Assignment.Role.LEAD,)),
                                         lead_unit_id__in=unit_ids,  # see workbench_tabs
                                         state__in=[State.HANDLING, State.SUSPENDED])
    week_end = end_of_week(now)
    rows = {row["handler"]: row for row in orders.values("handler").annotate(
        open=Count("pk"),
        overdue=Count("pk", filter=overdue_q(now)),
        due=Count("pk", filter=Q(handle_due__gte=now, handle_due__lt=week_end)),
    )}

    def load(handler: User | None, key: int | None) -> Load:
        row = rows.get(key, {})
        return Load(handler, row.get("open", 0), row.get("overdue", 0), row.get("due", 0))

    handlers = list(unit_handlers(user.unit))
    known = {h.pk for h in handlers}
    # A handler who left the unit keeps the orders until reassigned: listed too.
    handlers += list(User.objects.filter(pk__in=[k for k in rows if k and k not in known]))
    return [*(load(h, h.pk) for h in handlers), load(None, None)]
