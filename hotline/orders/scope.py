"""Who sees which orders, and how much of the citizen they see.

- The centre's staff, leaders and auditors see every order.
- A sub-centre sees the orders of its district and those dispatched to it or below it.
- A department or street sees the orders dispatched to it (lead or co-handler) or to its units.
- Departments never see the citizen of a confidential order (every 举报 is confidential).
- Phone numbers are shown in full only to those who must call the citizen.
- A contact (a call, a letter) is seen by those who see every order, by the unit whose staff
  took it, and by whoever sees an order it is linked to.
"""

from __future__ import annotations

import enum
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from hotline.core.phones import mask_phone
from hotline.core.roles import Role
from hotline.directory.models import OrderType, Unit, UnitKind, User
from hotline.orders.models import Assignment, Contact, Order

CENTRE_WIDE_ROLES = frozenset({Role.LEADER, Role.AUDITOR})
# Roles whose work is calling the citizen (agents call back, monitors check and arbitrate).
FULL_PHONE_ROLES = frozenset({Role.AGENT, Role.MONITOR, Role.CENTRE_ADMIN})
DEPARTMENT_ROLES = frozenset({Role.DEPT_HANDLER, Role.DEPT_ADMIN})
# The security and audit administrators (三员分立) administer the platform, not the cases: they
# see no order, although their unit (the centre) sits above every department.
NO_ORDER_ROLES = frozenset({Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


def is_centre_user(user: User) -> bool:
    """Staff of the city centre itself (not a sub-centre, not a department)."""
    return user.unit is not None and user.unit.kind == UnitKind.CENTRE and user.role in (
        Role.AGENT, Role.MONITOR, Role.CENTRE_ADMIN
    )


def sees_everything(user: User) -> bool:
    # The platform's own actor (deadline sweeps, the voice gateway) works on every order.
    return (
        user.is_superuser
        or is_centre_user(user)
        or user.role in CENTRE_WIDE_ROLES
        or user.role == Role.SYSTEM
    )


class OrderView(enum.Enum):
    """Which orders a user sees, the one rule behind every function below."""

    NONE = "none"  # signed out, inactive, the 三员 administrators, staff of no unit
    ALL = "all"  # the centre's staff, leaders, auditors, the platform itself
    SUBCENTRE = "subcentre"  # its district's orders and its tree's active assignments'
    ASSIGNED = "assigned"  # exactly its tree's active assignments' orders (departments, streets)


def order_view(user: User) -> OrderView:
    if not user.is_authenticated or not user.is_active:
        return OrderView.NONE
    if sees_everything(user):
        return OrderView.ALL
    if user.role in NO_ORDER_ROLES or user.unit is None:
        return OrderView.NONE
    if user.unit.kind == UnitKind.SUBCENTRE and user.unit.district_id:
        return OrderView.SUBCENTRE
    return OrderView.ASSIGNED


NARROW_SCOPE = 5000


def visible_orders(user: User, queryset: QuerySet[Order] | None = None, *,
                   wide: bool = False, units: list[int] | None = None) -> QuerySet[Order]:
    """``wide``: the caller knows the unit holds NARROW_SCOPE orders or more
    (``few_visible_order_ids`` said None), so the count deciding how to test them is
    skipped. ``units``: the user's ``unit_tree`` when the caller has it."""
    qs = Order.objects.all() if queryset is None else queryset
    view = order_view(user)
    if view is OrderView.NONE:
        return qs.none()
    if view is OrderView.ALL:
        return qs
    assert user.unit is not None  # order_view: SUBCENTRE and ASSIGNED have a unit
    assignments = _unit_assignments(user.unit, units)
    # A street office holds a few hundred orders among millions: listing its assignments and
    # looking the orders up (IN) is ~1 ms where testing every order (EXISTS) walks the table
    # (0.5 s on SQLite with 1M orders). For a department holding a large share the opposite
    # holds (IN: 1.6 s, EXISTS: 1 ms for the newest 50). One bounded count decides.
    if not wide and assignments[:NARROW_SCOPE].count() < NARROW_SCOPE:
        condition = Q(pk__in=assignments.values("order_id"))
    else:
        condition = Q(Exists(assignments.filter(order=OuterRef("pk"))))
    if view is OrderView.SUBCENTRE:
        condition |= Q(district_id=user.unit.district_id)
    return qs.filter(condition)


def orders_for_held_queries(user: User) -> QuerySet[Order]:
    """The orders table for a query that itself requires an active assignment of the user's unit
    or a unit below it (the workbench's tabs): ``visible_orders`` admits every such order, so
    its own test (a semi-join over all the unit's assignments, hashed again for every tab's
    count at 116,000 assignments) would only cost. Empty for whoever sees no order at all."""
    if not user.is_authenticated or not user.is_active or user.unit is None:
        return Order.objects.none()
    if user.role in NO_ORDER_ROLES and not user.is_superuser:
        return Order.objects.none()
    return Order.objects.all()


def _unit_assignments(unit: Unit, units: list[int] | None = None) -> QuerySet[Assignment]:
    """The active assignments of ``unit`` and the units below it (``units``, when read)."""
    return Assignment.objects.filter(
        unit_id__in=unit.descendant_ids() if units is None else units, active=True)


def few_visible_order_ids(user: User) -> list[int] | None:
    """The ids of every order ``user`` may see, newest first, when they are fewer than
    NARROW_SCOPE (a street office, a small department); None when they may be more (the
    centre, a sub-centre with its district, a large department). The same orders as
    ``visible_orders``: a unit that sees only its assignments sees exactly their orders.

    Why: a search over a few hundred orders is fastest over their ids in memory; read as
    "the newest visible orders" through the orders table, the database walks the orders
    newest first and tests each against the assignments (tens of ms over a million)."""
    view = order_view(user)
    if view is OrderView.NONE:
        return []
    if view is not OrderView.ASSIGNED:
        return None
    assert user.unit is not None
    ids = list(_unit_assignments(user.unit).values_list("order_id", flat=True)[:NARROW_SCOPE])
    if len(ids) >= NARROW_SCOPE:
        return None
    return sorted(set(ids), reverse=True)


def _district_subcentre(user: User) -> tuple[Unit, int] | None:
    """The user's unit and its district when the user sees through a district sub-centre."""
    if order_view(user) is not OrderView.SUBCENTRE:
        return None
    assert user.unit is not None and user.unit.district_id is not None
    return user.unit, user.unit.district_id


def unit_tree(user: User) -> list[int] | None:
    """The ids of the user's unit and the units below it when what the user sees rests on
    their assignments (a district sub-centre, a department, a street office), for
    ``visible_orders`` and ``newest_visible_ids`` called many times in one search (the tree
    read once); None for anyone else."""
    if order_view(user) not in (OrderView.SUBCENTRE, OrderView.ASSIGNED):
        return None
    assert user.unit is not None
    return user.unit.descendant_ids()


def is_district_subcentre(user: User) -> bool:
    """Does ``user`` see through a sub-centre with a district (its district's orders and its
    tree's assignments)?"""
    return order_view(user) is OrderView.SUBCENTRE


def visible_among(user: User, ids: list[int], units: list[int] | None = None,
                  visible: QuerySet[Order] | None = None) -> set[int]:
    """Which of ``ids`` ``user`` may see (``visible_orders``); a sub-centre's district and
    assignments asked apart (together, the OR is tested row by row). ``units``: the
    sub-centre's ``unit_tree`` when the caller has it; ``visible``: anyone else's
    ``visible_orders(user)`` when the caller has it (built once for many calls: it reads
    the unit's tree)."""
    subcentre = _district_subcentre(user)
    if subcentre is None:
        mine = visible_orders(user) if visible is None else visible
        return set(mine.filter(pk__in=ids).values_list("pk", flat=True))
    if not ids:
        return set()
    unit, district_id = subcentre
    # Both parts in one statement (one round trip per chunk of a search); unordered (SQLite
    # takes no ORDER BY inside a compound statement).
    district = Order.objects.filter(pk__in=ids, district_id=district_id).order_by() \
        .values_list("pk", flat=True)
    assigned = Assignment.objects.filter(
        unit_id__in=unit.descendant_ids() if units is None else units, active=True,
        order_id__in=ids).order_by().values_list("order_id", flat=True)
    return set(district.union(assigned, all=True))


def newest_visible_ids(user: User, before: int | None, count: int,
                       units: list[int] | None = None,
                       visible: QuerySet[Order] | None = None) -> list[int]:
    """The ids of the ``count`` newest orders below ``before`` that ``user`` may see: as
    ``visible_orders(user)`` ordered newest first, but read from the assignments where the
    user sees through a unit: a department's or street office's as its tree's active
    assignments' newest, a sub-centre's as its district's newest (an index on district and
    id) merged with those (asked together, the database walks every order newest first: ~20
    per visible one). ``units``: the user's ``unit_tree`` when the caller has it;
    ``visible`` as for ``visible_among``."""
    if count <= 0:
        return []
    sql, params = newest_visible_sql(user, before, count, units, visible)
    with connection.cursor() as cursor:
        # The ORM's own SQL (newest_visible_sql); the values are parameters.
        cursor.execute(sql, params)
        return [int(row[0]) for row in cursor.fetchall()]


def newest_visible_sql(user: User, before: int | None, count: int,
                       units: list[int] | None = None,
                       visible: QuerySet[Order] | None = None) -> tuple[str, list[Any]]:
    """``newest_visible_ids`` as one SQL statement selecting the ids newest first (for a
    search backend to test them in the same statement: ``matches_among``); ``count`` > 0."""
    if order_view(user) is OrderView.ASSIGNED:
        # A department or a street office sees exactly its tree's active assignments' orders:
        # their newest come from the (unit, order) index of active assignments. Through the
        # orders table (EXISTS), each chunk re-read all of them: 10,000 for a street office
        # with one order in 1,000 at 10M, 20-200 ms a chunk on PostgreSQL.
        assert user.unit is not None
        return _newest_assigned_sql(user.unit.descendant_ids() if units is None else units,
                                    before, count)
    subcentre = _district_subcentre(user)
    if subcentre is None:
        below = visible_orders(user) if visible is None else visible
        if before is not None:
            below = below.filter(pk__lt=before)
        sql, params = below.order_by("-pk").values_list("pk", flat=True)[:count] \
            .query.sql_with_params()
        return sql, list(params)
    unit, district_id = subcentre
    district = Order.objects.filter(district_id=district_id)
    if before is not None:
        district = district.filter(pk__lt=before)
    newest = district.order_by("-pk").values_list("pk", flat=True)[:count]
    return _newest_assigned_sql(unit.descendant_ids() if units is None else units, before,
                                count, also=newest)


# Units read apart in one statement at most (SQLite allows 500 terms in a compound SELECT).
NEWEST_ASSIGNED_UNITS = 64


def _newest_assigned_sql(unit_ids: list[int], before: int | None, count: int,
                         also: QuerySet[Any] | None = None) -> tuple[str, list[Any]]:
    """SQL selecting the ids of the ``count`` newest orders below ``before`` actively
    assigned to any of ``unit_ids``, newest first. Asked for all the units at once, the
    database walks every assignment newest first and keeps the units' (a street holding one
    order in 500: ~25,000 rows for 50, 20 ms on PostgreSQL at 1M orders); each unit's newest
    are read from the (unit, order) index of active assignments instead, one UNION ALL of the
    units' ordered and limited reads. ``also``: another ordered and limited read of order ids
    (a sub-centre's district's newest), joined into the same statement: the ``count`` newest
    of both together."""
    def newest(units: list[int] | int) -> QuerySet[Assignment]:
        qs = Assignment.objects.filter(active=True)
        qs = qs.filter(unit_id__in=units) if isinstance(units, list) else qs.filter(unit_id=units)
        if before is not None:
            qs = qs.filter(order_id__lt=before)
        return qs.order_by("-order_id")

    reads: list[QuerySet[Any]] = [] if also is None else [also]
    if len(unit_ids) > NEWEST_ASSIGNED_UNITS:
        # Distinct: an order held by two of the units would otherwise take two of the places.
        reads.append(newest(unit_ids).values_list("order_id", flat=True).distinct()[:count])
    else:
        reads.extend(newest(unit_id).values_list("order_id", flat=True)[:count]
                     for unit_id in unit_ids)
    parts: list[str] = []
    params: list[Any] = []
    for n, read in enumerate(reads):
        sql, part_params = read.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS part{n}")  # noqa: S608
        params.extend(part_params)
    if not parts:
        return "SELECT 1 WHERE 1 = 0", []
    # The ORM's own SQL for each read, joined; the values are parameters. DISTINCT: an order
    # both in the district and assigned (or held by two units) takes one place.
    return (f"SELECT DISTINCT * FROM ({' UNION ALL '.join(parts)}) AS newest "  # noqa: S608
            "ORDER BY 1 DESC LIMIT %s", [*params, count])


def can_see_order(user: User, order: Order) -> bool:
    if user.is_authenticated and user.is_active and sees_everything(user):
        return True
    return visible_orders(user, Order.objects.filter(pk=order.pk)).exists()


def visible_contacts(user: User, queryset: QuerySet[Contact] | None = None) -> QuerySet[Contact]:
    """The contacts ``user`` may see and link to an order. Contact ids are sequential, so an
    intake form that takes one must not reach a call another district took (its summary and
    citizen would show on the new order)."""
    qs = Contact.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.role in NO_ORDER_ROLES and not user.is_superuser:
        return qs.none()
    if sees_everything(user):
        return qs
    condition = Q(agent_id=user.pk)
    if user.unit is not None:
        condition |= Q(agent__unit_id__in=user.unit.descendant_ids())
    linked = Contact.orders.through.objects.filter(
        contact_id=OuterRef("pk"), order_id__in=visible_orders(user).values("pk"))
    return qs.filter(condition | Q(Exists(linked)))


def sees_hidden_citizens(user: User) -> bool:
    """May the caller know who filed a 举报 or a confidential order?"""
    return bool(user.is_superuser or is_centre_user(user) or user.role == Role.MONITOR)


def citizen_hidden(user: User, order: Order) -> bool:
    """True when the caller must not learn who the citizen is (name and number)."""
    if not (order.confidential or order.type == OrderType.REPORT):
        return False
    return not sees_hidden_citizens(user)


def mask_name(name: str) -> str:
    """张** : the family name stays so the department can address the citizen politely."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def shown_phone(user: User, order: Order) -> str:
    phone = order.citizen.phone
    if citizen_hidden(user, order):
        return ""
    if user.is_superuser or user.role in FULL_PHONE_ROLES:
        return phone
    if user.role in DEPARTMENT_ROLES:
        # The handling department calls the citizen about non-confidential orders.
        return phone
    return mask_phone(phone) if phone else ""


def shown_name(user: User, order: Order) -> str:
    if citizen_hidden(user, order):
        return ""
    name = order.citizen.name
    if user.is_superuser or user.role in FULL_PHONE_ROLES or user.role in DEPARTMENT_ROLES:
        return name
    return mask_name(name)
