"""Which order pages and buttons the portal offers a user.

Pages only decide what to show; the services decide what is allowed (role and scope) and raise
``ServiceError`` otherwise. The helpers here keep the pages from offering buttons the services
would refuse. Who may open a page at all is declared with ``hotline.web.access``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.orders import lifecycle
from hotline.orders.actions import DEPARTMENT_ACTORS, assignment_roles_needed
from hotline.orders.lifecycle import Action
from hotline.orders.models import Assignment, Order, OrderLink

DEPARTMENT_ROLES = frozenset({Role.DEPT_HANDLER, Role.DEPT_ADMIN})
# Actions only the background worker takes; no page offers them.
WORKER_ONLY = frozenset({Action.CREATE, Action.REMIND, Action.MARK_OVERDUE})
# Actions taken elsewhere: a call back that did not reach the citizen is recorded on the call-back
# desk, which counts the tries for the centre's "unreachable after N tries" rule.
ELSEWHERE = frozenset({Action.CALLBACK_ATTEMPT})
# Who registers orders on pages (the system account registers them too, but not on pages).
CREATE_ROLES = frozenset(lifecycle.ACTION_ROLES[Action.CREATE] - {Role.SYSTEM})


def is_department_user(user: Any) -> bool:
    return bool(user.is_authenticated and user.role in DEPARTMENT_ROLES)


def may_create_orders(user: Any) -> bool:
    if not user.is_authenticated:
        return False
    return bool(user.is_superuser or (
        user.role in lifecycle.ACTION_ROLES[Action.CREATE] and user.role != Role.SYSTEM
    ))


def _makes_sense(order: Order, action: Action, linked: set[int]) -> bool:
    """Actions the lifecycle allows in the state but the order's details rule out now (the
    services would refuse them with a Conflict, so no button is offered)."""
    if action == Action.CONFIRM_ESCALATION:
        return order.major_event
    if action in (Action.APPROVE_EXTENSION, Action.DENY_EXTENSION):
        return bool(order.extension_pending_days)
    if action == Action.REQUEST_EXTENSION:
        return not order.extension_pending_days
    if action == Action.UNLINK:  # 取消关联 only when the order is linked to another
        return order.pk in linked
    return True


def _offered(user: User, order: Order) -> list[Action]:
    """The lifecycle's actions in the order's state that a page offers and the user's role may
    take (``check_actor_may``'s first test)."""
    return [action for action in lifecycle.allowed_actions(order.state)
            if action not in WORKER_ONLY and action not in ELSEWHERE
            and (user.is_superuser or user.role in lifecycle.ACTION_ROLES[action])]


def _held_roles(user: User, order_ids: list[int]) -> dict[int, set[str]]:
    """Per order, the roles in which the user's unit (or a unit below it) holds it actively:
    ``check_actor_may``'s scope test for departments, for all the orders in one query."""
    if user.unit is None or not order_ids:
        return {}
    held: dict[int, set[str]] = {}
    for order_id, role in Assignment.objects.filter(
            order_id__in=order_ids, unit_id__in=user.unit.descendant_ids(),
            active=True).values_list("order_id", "role"):
        held.setdefault(order_id, set()).add(role)
    return held


def _linked(order_ids: list[int]) -> set[int]:
    if not order_ids:
        return set()
    links = OrderLink.objects.filter(Q(order_id__in=order_ids) | Q(linked_id__in=order_ids))
    ids = set(order_ids)
    return {pk for pair in links.values_list("order_id", "linked_id") for pk in pair if pk in ids}


def actions_by_order(user: User, orders: list[Order]) -> dict[int, list[Action]]:
    """``actions_for`` for every order of a page at once: the same tests, with the unit's
    assignments and the orders' links read in one query each instead of per order and action
    (a workbench page of 25 orders made 170-220 queries)."""
    offered = {order.pk: _offered(user, order) for order in orders}
    scoped = not user.is_superuser and user.role in DEPARTMENT_ACTORS
    held = _held_roles(user, [pk for pk, actions in offered.items() if actions]) if scoped else {}
    linked = _linked([pk for pk, actions in offered.items() if Action.UNLINK in actions])
    found: dict[int, list[Action]] = {}
    for order in orders:
        roles = held.get(order.pk, set())
        found[order.pk] = [
            action for action in offered[order.pk]
            if _makes_sense(order, action, linked)
            and (not scoped or roles.intersection(assignment_roles_needed(action)))]
    return found


def actions_for(user: User, order: Order) -> list[Action]:
    """Actions the user may take on the order now: the lifecycle allows them in its state, the
    user's role may take them, and (for departments) the unit holds the order as needed."""
    return actions_by_order(user, [order])[order.pk]
