"""The centre's work-queue websocket: tells an open work-queue page that an order landed in one
of its queues or left one, so the page refreshes its counts and shows a notice.

A message names only the order's number and the action; a sub-centre's socket receives only
orders in its scope (the same rule as every page: ``scope.can_see_order``).
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from hotline.desk.fanout import QUEUES_GROUP, EventConsumer, queue_fanout


def _may_watch(user: Any) -> bool:
    from hotline.orders.workqueue_scope import works_queues

    return works_queues(user)


def _sees(user: Any, order_id: int) -> bool:
    from hotline.orders.models import Order
    from hotline.orders.scope import can_see_order, sees_everything

    if sees_everything(user):
        return True
    order = Order.objects.filter(pk=order_id).first()
    return order is not None and can_see_order(user, order)


class WorkQueueConsumer(EventConsumer):
    feed = queue_fanout

    async def allowed(self, user: Any) -> bool:
        return bool(await database_sync_to_async(_may_watch)(user))

    async def groups_for(self, user: Any) -> list[str]:
        self.user = user
        return [QUEUES_GROUP]

    async def wants(self, message: dict[str, Any]) -> bool:
        order_id = message.get("order")
        if not isinstance(order_id, int):
            return False
        return bool(await database_sync_to_async(_sees)(self.user, order_id))
