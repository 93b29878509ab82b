"""Who inside a department works on an order (承办人).

There is no 科室 model: a department's sections, if it has any, are units below it, so a handler
belongs to the order's lead unit or to a unit below it. The department administrator assigns
and reassigns; a handler may only take an order that nobody holds yet.
"""

from __future__ import annotations

from django.db.models import QuerySet

from hotline.core.errors import Conflict, Forbidden, InvalidInput
from hotline.core.roles import Role
from hotline.directory.models import Unit, User
from hotline.orders.models import Order

HANDLER_ROLES = (Role.DEPT_HANDLER, Role.DEPT_ADMIN)


def unit_handlers(unit: Unit | None) -> QuerySet[User]:
    """The active staff of ``unit`` and the units below it who may hold an order."""
    if unit is None:
        return User.objects.none()
    return (User.objects.filter(unit_id__in=unit.descendant_ids(), role__in=HANDLER_ROLES,
                                is_active=True)
            .select_related("unit").order_by("unit__code", "username"))


def assigns_others(actor: User) -> bool:
    return bool(actor.is_superuser or actor.role == Role.DEPT_ADMIN)


def check_assignee(actor: User, order: Order, username: object) -> User:
    """The handler ``actor`` may give ``order`` to; InvalidInput, Forbidden or Conflict naming
    the ``handler`` field otherwise."""
    if not isinstance(username, str) or not username.strip():
        raise InvalidInput("handler is required", field="handler")
    handler = unit_handlers(order.lead_unit).filter(username=username.strip()).first()
    if handler is None:
        # The same answer for a user who does not exist and one of another unit.
        raise InvalidInput(f"{username!r} is not a handler of the order's unit", field="handler")
    if not assigns_others(actor):
        if handler.pk != actor.pk:
            raise Forbidden("only the department administrator assigns orders to others",
                            field="handler")
        if order.handler_id is not None and order.handler_id != actor.pk:
            raise Forbidden("the order already has a handler; ask the department administrator "
                            "to reassign it", field="handler")
    if order.handler_id == handler.pk:
        raise Conflict(f"the order is already assigned to {handler.username}", field="handler")
    return handler
