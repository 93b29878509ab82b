from __future__ import annotations

from typing import Any

from hotline.orders.models import Order
from hotline.orders.services import NewOrder, do_create_order


def new_order(actor: Any, **overrides: Any) -> Order:
    fields: dict[str, Any] = {
        "type": "complaint", "channel": "phone", "title": "小区停水", "text": "鼓楼区东街小区停水两天",
        "citizen_phone": "13812341234", "citizen_name": "张三", "district": "gulou",
        "category": "100101",
    }
    fields.update(overrides)
    order, _created = do_create_order(actor, NewOrder(**fields))
    return order
