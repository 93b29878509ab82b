"""History entries about partners on an order (assigned, rated, suspended after this order's
rating). Outreach owns partners; orders must not import it, so outreach calls this service
with what to record, and the entry joins the order's hash-chained history like any action
(under the order's row lock, the state unchanged)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from hotline.directory.models import User
from hotline.orders.history import append_event
from hotline.orders.models import Order, OrderEvent, PartnerEvent


def do_record_partner_event(order: Order, kind: PartnerEvent, *, actor: User | None,
                            note: str = "", data: dict[str, Any] | None = None,
                            now: dt.datetime | None = None) -> OrderEvent:
    """Append one partner entry to ``order``'s history (``actor`` None: the system)."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        return append_event(locked, action=PartnerEvent(kind).value, from_state=locked.state,
                            to_state=locked.state, actor=actor, note=note, data=data or {},
                            now=now or timezone.now())
