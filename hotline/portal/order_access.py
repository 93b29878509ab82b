"""Which order pages and buttons the portal offers a user.

Pages only decide what to show; the services decide what is allowed (role and scope) and raise
``ServiceError`` otherwise. The helpers here keep the pages from offering buttons the services
would refuse. Who may open a page at all is declared with ``hotline.web.access``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from hotline.core.errors import ServiceError
from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.orders import lifecycle
from hotline.orders.lifecycle import Action
from hotline.orders.models import Order, OrderLink

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


def _makes_sense(order: Order, action: Action) -> bool:
    """Actions the lifecycle allows in the state but the order's details rule out now (the
    services would refuse them with a Conflict, so no button is offered)."""
    if action == Action.CONFIRM_ESCALATION:
        return order.major_event
    if action in (Action.APPROVE_EXTENSION, Action.DENY_EXTENSION):
        return bool(order.extension_pending_days)
    if action == Action.REQUEST_EXTENSION:
        return not order.extension_pending_days
    if action == Action.UNLINK:  # 取消关联 only when the order is linked to another
        return OrderLink.objects.filter(Q(order=order) | Q(linked=order)).exists()
    return True


def actions_for(user: User, order: Order) -> list[Action]:
    """Actions the user may take on the order now: the lifecycle allows them in its state, the
    user's role may take them, and (for departments) the unit holds the order as needed."""
    from hotline.orders.actions import check_actor_may

    found = []
    for action in lifecycle.allowed_actions(order.state):
        if action in WORKER_ONLY or action in ELSEWHERE:
            continue
        if not user.is_superuser and user.role not in lifecycle.ACTION_ROLES[action]:
            continue
        if not _makes_sense(order, action):
            continue
        try:
            check_actor_may(user, order, action)
        except ServiceError:
            continue
        found.append(action)
    return found
