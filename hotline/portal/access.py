"""Who may open which page and take which action from it.

Pages only decide what to show; the services decide what is allowed (role and scope) and raise
``ServiceError`` otherwise. The helpers here keep the pages from offering buttons the services
would refuse, and keep users out of pages that are not theirs.

Every page declares who may open it (``hotline.core.rules``): ``staff_required`` (every staff
role), ``role_required(check, roles=...)`` (those roles, then ``check``), ``public_page``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django_htmx.middleware import HtmxDetails

from hotline.core.errors import ServiceError
from hotline.core.roles import Role
from hotline.core.rules import PUBLIC, declare, roles_rule
from hotline.directory.models import User
from hotline.orders import lifecycle
from hotline.orders.lifecycle import Action
from hotline.orders.models import Order


class PortalRequest(HttpRequest):
    """A request as the middleware leaves it (for type checkers): htmx details attached."""

    htmx: HtmxDetails


class StaffRequest(PortalRequest):
    """A request that passed ``staff_required``: the user is logged-in staff."""

    user: User  # type: ignore[assignment]


DEPARTMENT_ROLES = frozenset({Role.DEPT_HANDLER, Role.DEPT_ADMIN})
# Actions only the background worker takes; no page offers them.
WORKER_ONLY = frozenset({Action.CREATE, Action.REMIND, Action.MARK_OVERDUE})

View = Callable[..., HttpResponseBase]

# Every role that works on pages: the system account is for the worker, not for pages.
STAFF_ROLES = frozenset(r.value for r in Role if r != Role.SYSTEM)
STAFF_RULE = roles_rule(STAFF_ROLES, "logged-in staff")
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


def staff_required(view: View) -> View:
    """Logged-in, active staff (the system account is for the worker, not for pages)."""

    @login_required
    @wraps(view)
    def wrapper(request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not STAFF_RULE.admits(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return declare(wrapper, STAFF_RULE)


def role_required(check: Callable[[Any], bool], *,
                  roles: Iterable[str] | None = None) -> Callable[[View], View]:
    """Staff whose role is in ``roles`` and for whom ``check`` holds (it may look at the unit).
    Without ``roles`` the page still works but declares no rule (the endpoint-rules test names
    it): say which roles the check lets through."""
    rule = roles_rule(roles, "role_required") if roles is not None else None

    def decorator(view: View) -> View:
        @staff_required
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if rule is not None and not rule.admits(request.user):
                raise PermissionDenied
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return declare(wrapper, rule)

    return decorator


def public_page(view: View) -> View:
    """A page anyone may open, logged in or not (login, the citizens' status page, the public
    knowledge base). The view itself decides what an anonymous visitor sees."""
    return declare(view, PUBLIC)


def _makes_sense(order: Order, action: Action) -> bool:
    """Actions the lifecycle allows in the state but the order's details rule out now (the
    services would refuse them with a Conflict, so no button is offered)."""
    if action == Action.CONFIRM_ESCALATION:
        return order.major_event
    if action in (Action.APPROVE_EXTENSION, Action.DENY_EXTENSION):
        return bool(order.extension_pending_days)
    if action == Action.REQUEST_EXTENSION:
        return not order.extension_pending_days
    return True


def actions_for(user: User, order: Order) -> list[Action]:
    """Actions the user may take on the order now: the lifecycle allows them in its state, the
    user's role may take them, and (for departments) the unit holds the order as needed."""
    from hotline.orders.actions import check_actor_may

    found = []
    for action in lifecycle.allowed_actions(order.state):
        if action in WORKER_ONLY:
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
