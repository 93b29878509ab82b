"""Small display helpers for the portal's templates."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.translation import gettext as _

from hotline.orders.lifecycle import State
from hotline.orders.models import Order, OrderState
from hotline.portal.queries import is_late

register = template.Library()

# What the platform's own actor (deadline sweeps, the gateway, the worker) is recorded as: the
# history keeps the name it had ("system", or the demo's 系统), each reader sees it in their
# language.
_SYSTEM_NAMES = frozenset({"system", "系统"})


@register.filter
def actor_label(event: object) -> str:
    name = str(getattr(event, "actor_name", "") or "")
    if name.strip().lower() in _SYSTEM_NAMES:
        return _("System")
    return name

_STATE_CLASS = {
    State.ACCEPTED: "badge-new",
    State.DISPATCHED: "badge-wait",
    State.RETURNED: "badge-warn",
    State.HANDLING: "badge-work",
    State.SUSPENDED: "badge-muted",
    State.REPLIED: "badge-wait",
    State.CALLBACK: "badge-wait",
    State.CLOSED: "badge-done",
    State.REJECTED: "badge-muted",
    State.MERGED: "badge-muted",
    State.ARCHIVED: "badge-muted",
}


@register.filter
def state_class(state: str) -> str:
    try:
        return _STATE_CLASS[State(state)]
    except ValueError:
        return "badge-muted"


@register.filter
def state_label(state: str) -> str:
    """The translated name of a state value (history events store bare values)."""
    if not state or state == State.NEW:
        return ""
    try:
        return str(OrderState(state).label)
    except ValueError:
        return state


@register.filter
def late(order: Order, now: dt.datetime) -> bool:
    return is_late(order, now)


@register.filter
def can_create_orders(user: object) -> bool:
    from hotline.portal.order_access import may_create_orders

    return may_create_orders(user)


@register.filter
def works_queues(user: object) -> bool:
    from hotline.orders.workqueue_scope import works_queues as works

    return works(user)


@register.filter
def is_department(user: object) -> bool:
    from hotline.portal.order_access import is_department_user

    return is_department_user(user)


@register.filter
def changes_security(user: object) -> bool:
    from hotline.directory.duties import may_change_security

    return may_change_security(user)


@register.filter
def reads_audit_log(user: object) -> bool:
    from hotline.directory.duties import may_read_audit_log

    return may_read_audit_log(user)


@register.filter
def looks_up_citizens(user: object) -> bool:
    from hotline.orders.citizen_search import may_search_citizens

    return bool(getattr(user, "is_authenticated", False)) and may_search_citizens(user)  # type: ignore[arg-type]


@register.filter
def manages_mailbox(user: object) -> bool:
    from hotline.intake.mailbox_services import may_withdraw_letters

    return may_withdraw_letters(user)  # type: ignore[arg-type]


@register.simple_tag(takes_context=True)
def shown_title(context: template.Context, order: Order) -> str:
    """The order's title as the page's viewer may read it (a hidden reporter's name blanked)."""
    from hotline.orders.disclosure import Disclosure

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return order.title
    return Disclosure(user).order_title(order)
