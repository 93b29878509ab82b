"""The order list at scale: what the search box finds, the sortable columns, keyset pages and
a count that never walks ten million rows.

- Search: an acceptance number, a phone number (in full or its last digits, read by
  ``core.phones``), the citizen's name, an address, or words of the title and text (the orders'
  full-text index). A name or a phone is looked up only by those who may see citizens' numbers,
  and never among the orders whose citizen the caller may not know (举报, confidential): a
  department must not learn that a number reported something by finding the report with it.
- Sorting: a whitelist of columns that are never NULL, each with ``pk`` as the tie-break, so a
  page boundary is one row of values (the keyset).
- Pages: ``after`` / ``before`` carry the boundary row's values; OFFSET would read every row
  before the page (page 40,000 of ten million orders reads a million rows).
- Count: PostgreSQL's planner estimate when it says the set is large (an exact count of
  millions takes seconds), the exact count below; SQLite counts up to a cap.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from hotline.core.errors import Forbidden, InvalidInput
from hotline.core.phones import digit_count, normalise_phone
from hotline.directory.models import OrderType, User
from hotline.orders import scope
from hotline.orders.models import Citizen, Order
from hotline.orders.phone_tail import citizens_with_phone_ending
from hotline.orders.search import catch_up_orders_quietly, matching_ids

NUMBER_RE = re.compile(r"^\d{8}$")
PHONE_CHARS_RE = re.compile(r"^\+?[\d\s\-()]+$")
MIN_PHONE_TAIL = 4  # fewer digits than that match half the city
FULL_PHONE_DIGITS = 7  # a local number or longer: compared whole, not as a tail

# sort key -> columns (all NOT NULL), newest / highest first when the key starts with "-".
SORTS: dict[str, tuple[str, ...]] = {
    "created": ("created_at",),
    "number": ("number",),
    "state": ("state", "created_at"),
}
DEFAULT_SORT = "-created"
SORT_CHOICES = [(f"{sign}{key}", f"{sign}{key}") for key in SORTS for sign in ("-", "")]

ESTIMATE_ABOVE = 10_000  # PostgreSQL: trust the planner above this, count exactly below
COUNT_CAP = 10_000  # SQLite: count at most this many


class SearchIn:
    ALL = "all"
    NUMBER = "number"
    PHONE = "phone"
    NAME = "name"
    ADDRESS = "address"
    TEXT = "text"


SEARCH_IN_CHOICES = [
    (SearchIn.ALL, _("Anything")),
    (SearchIn.NUMBER, _("Acceptance number")),
    (SearchIn.PHONE, _("Phone (full or last digits)")),
    (SearchIn.NAME, _("Citizen's name")),
    (SearchIn.ADDRESS, _("Address")),
    (SearchIn.TEXT, _("Title and text")),
]


def may_search_citizens(user: User) -> bool:
    """Those who see citizens' names and numbers unmasked (``orders.scope``) may look orders up
    by them; a leader or an auditor sees them masked and so may not confirm a number by
    searching it."""
    return bool(user.is_superuser or user.role in scope.FULL_PHONE_ROLES
                or user.role in scope.DEPARTMENT_ROLES)


def _sees_hidden_citizens(user: User) -> bool:
    probe = Order(confidential=True, type=OrderType.REPORT)
    return not scope.citizen_hidden(user, probe)


def _citizen_q(user: User, citizens: QuerySet[Citizen]) -> Q:
    condition = Q(citizen__in=citizens)
    if not _sees_hidden_citizens(user):
        condition &= Q(confidential=False) & ~Q(type=OrderType.REPORT)
    return condition


def _phone_q(user: User, text: str) -> Q | None:
    if not PHONE_CHARS_RE.match(text):
        return None
    phone = normalise_phone(text)
    digits = digit_count(phone)
    if digits < MIN_PHONE_TAIL:
        return None
    if digits >= FULL_PHONE_DIGITS and (phone.startswith("+") or digits >= 11):
        citizens = Citizen.objects.filter(phone=phone)
    else:
        citizens = citizens_with_phone_ending(phone.lstrip("+"))
    return _citizen_q(user, citizens)


def _text_q(text: str) -> Q | None:
    catch_up_orders_quietly()
    ids = matching_ids(text)
    return None if ids is None else Q(pk__in=ids)


def search_q(user: User, text: str, where: str) -> Q:
    """The orders ``text`` finds in ``where`` (one of ``SearchIn``); raises ``Forbidden`` for a
    search the caller may not make, ``InvalidInput`` for one that cannot match."""
    text = text.strip()
    citizens_ok = may_search_citizens(user)
    if where in (SearchIn.PHONE, SearchIn.NAME) and not citizens_ok:
        raise Forbidden(str(_("Your role may not look orders up by a citizen's name or phone.")),
                        field="q")
    if where == SearchIn.NUMBER:
        return Q(number=text)
    if where == SearchIn.PHONE:
        found = _phone_q(user, text)
        if found is None:
            raise InvalidInput(str(_("Type at least the last %(count)s digits of the phone.")
                                   % {"count": MIN_PHONE_TAIL}), field="q")
        return found
    if where == SearchIn.NAME:
        return _citizen_q(user, Citizen.objects.filter(name=text))
    if where == SearchIn.ADDRESS:
        return Q(address__icontains=text)
    if where == SearchIn.TEXT:
        return _text_q(text) or Q(pk__in=[])
    # Anything: a number is a number (or a phone's tail), digits are a phone, words are words.
    if NUMBER_RE.match(text):
        found = Q(number=text)
        phone = _phone_q(user, text) if citizens_ok else None
        return found | phone if phone is not None else found
    phone = _phone_q(user, text) if citizens_ok else None
    if phone is not None:
        return phone
    # Words through the full-text index only: a substring test of every title and address
    # (LIKE '%...%') reads all ten million rows; an address is searched when asked for.
    words = _text_q(text)
    condition = words if words is not None else Q(title__icontains=text)
    if citizens_ok:
        condition |= _citizen_q(user, Citizen.objects.filter(name=text))
    return condition


# --- sorting and keyset pages ----------------------------------------------------------------

def sort_columns(sort: str) -> list[tuple[str, bool]]:
    """[(column, descending)] for a whitelisted sort key, ``pk`` last; unknown keys sort by the
    default (the form refuses them first)."""
    key = sort if sort.lstrip("-") in SORTS else DEFAULT_SORT
    descending = key.startswith("-")
    return [(column, descending) for column in (*SORTS[key.lstrip("-")], "pk")]


def ordered(qs: QuerySet[Order], columns: list[tuple[str, bool]],
            reverse: bool = False) -> QuerySet[Order]:
    return qs.order_by(*[("-" if desc != reverse else "") + name for name, desc in columns])


def _value(order: Order, column: str) -> Any:
    return getattr(order, column)


def encode_cursor(order: Order, columns: list[tuple[str, bool]]) -> str:
    values = []
    for column, _desc in columns:
        value = _value(order, column)
        values.append(value.isoformat() if isinstance(value, dt.datetime) else value)
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, columns: list[tuple[str, bool]]) -> list[Any]:
    bad = InvalidInput(str(_("That page link is no longer valid; start from the first page.")),
                       field="after")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError):
        raise bad from None
    if not isinstance(values, list) or len(values) != len(columns):
        raise bad
    decoded: list[Any] = []
    for (column, _desc), value in zip(columns, values, strict=True):
        if column == "created_at":
            if not isinstance(value, str):
                raise bad
            try:
                decoded.append(dt.datetime.fromisoformat(value))
            except ValueError:
                raise bad from None
        elif column == "pk":
            if not isinstance(value, int) or isinstance(value, bool):
                raise bad
            decoded.append(value)
        else:
            if not isinstance(value, str):
                raise bad
            decoded.append(value)
    return decoded


def beyond(columns: list[tuple[str, bool]], values: list[Any], backwards: bool = False) -> Q:
    """Rows after the boundary ``values`` in the order ``columns`` give (before it when
    ``backwards``): (a > x) or (a = x and b > y) or ... with each column's own direction."""
    condition = Q(pk__in=[])
    equal = Q()
    for (column, desc), value in zip(columns, values, strict=True):
        later = "lt" if desc != backwards else "gt"
        condition |= equal & Q(**{f"{column}__{later}": value})
        equal &= Q(**{column: value})
    return condition


@dataclass
class KeysetPage:
    object_list: list[Order]
    next_cursor: str
    previous_cursor: str

    def has_next(self) -> bool:
        return bool(self.next_cursor)

    def has_previous(self) -> bool:
        return bool(self.previous_cursor)

    def __iter__(self) -> Any:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def keyset_page(qs: QuerySet[Order], sort: str, size: int, *, after: str = "",
                before: str = "") -> KeysetPage:
    columns = sort_columns(sort)
    if before:
        rows = list(ordered(qs.filter(beyond(columns, decode_cursor(before, columns), True)),
                            columns, reverse=True)[:size + 1])
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(rows, encode_cursor(rows[-1], columns) if rows else "",
                          encode_cursor(rows[0], columns) if rows and more_before else "")
    if after:
        qs = qs.filter(beyond(columns, decode_cursor(after, columns)))
    rows = list(ordered(qs, columns)[:size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(rows, encode_cursor(rows[-1], columns) if rows and more else "",
                      encode_cursor(rows[0], columns) if rows and after else "")


# --- counting --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Count:
    value: int
    exact: bool  # False: the planner's estimate (about) or a cap (at least)
    capped: bool = False


def _planner_estimate(qs: QuerySet[Order]) -> int | None:
    try:
        sql, params = qs.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # ``none()``: a role that sees no order (security administrator)
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    try:
        return int(plan[0]["Plan"]["Plan Rows"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def count_orders(qs: QuerySet[Order]) -> Count:
    if connection.vendor == "postgresql":
        estimate = _planner_estimate(qs)
        if estimate is not None and estimate > ESTIMATE_ABOVE:
            return Count(estimate, exact=False)
        return Count(qs.order_by().count(), exact=True)
    counted = qs.order_by().values("pk")[:COUNT_CAP + 1].count()
    if counted > COUNT_CAP:
        return Count(COUNT_CAP, exact=False, capped=True)
    return Count(counted, exact=True)

