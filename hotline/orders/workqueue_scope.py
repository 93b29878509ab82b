"""Who works the centre's queues (returns to review, extension requests, replies to check, call
backs due, escalations awaiting confirmation): the centre's and the sub-centres' own staff. What
each of them sees in a queue is the usual scope (``scope.visible_orders``)."""

from __future__ import annotations

from typing import Any

from hotline.core.roles import Role
from hotline.directory.models import UnitKind

QUEUE_ROLES = frozenset({Role.AGENT, Role.MONITOR, Role.CENTRE_ADMIN})


def works_queues(user: Any) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return bool(user.role in QUEUE_ROLES and user.unit is not None
                and user.unit.kind in (UnitKind.CENTRE, UnitKind.SUBCENTRE))
