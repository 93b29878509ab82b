"""The order history: appending hash-chained events and verifying the chain.

Each event's hash covers its content and the previous event's hash, so changing or removing any
event (even directly in the database) breaks every hash after it, and ``verify_order`` says
where. Appending happens while the caller holds the order's row lock (``select_for_update``),
so two writers never race for the same sequence number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hotline.directory.models import User
from hotline.orders.models import Order, OrderEvent

GENESIS_HASH = "0" * 64


def event_hash(
    *,
    number: str,
    seq: int,
    action: str,
    from_state: str,
    to_state: str,
    actor_id: int | None,
    actor_name: str,
    unit_id: int | None,
    note: str,
    data: dict[str, Any],
    created_at: dt.datetime,
    prev_hash: str,
) -> str:
    payload = json.dumps(
        [
            number, seq, action, from_state, to_state, actor_id, actor_name, unit_id, note,
            data, created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"), prev_hash,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def build_event(
    order: Order,
    *,
    seq: int,
    prev_hash: str,
    action: str,
    from_state: str,
    to_state: str,
    actor: User | None,
    note: str = "",
    data: dict[str, Any] | None = None,
    now: dt.datetime,
) -> OrderEvent:
    """An unsaved event; the bulk loader saves many at once, services one at a time."""
    data = data or {}
    actor_name = (actor.display_name or actor.username) if actor is not None else "system"
    actor_id = actor.pk if actor is not None else None
    unit_id = actor.unit_id if actor is not None else None
    digest = event_hash(
        number=order.number, seq=seq, action=action, from_state=from_state, to_state=to_state,
        actor_id=actor_id, actor_name=actor_name, unit_id=unit_id, note=note, data=data,
        created_at=now, prev_hash=prev_hash,
    )
    return OrderEvent(
        order=order, seq=seq, action=action, from_state=from_state, to_state=to_state,
        actor_id=actor_id, actor_name=actor_name, unit_id=unit_id, note=note, data=data,
        created_at=now, prev_hash=prev_hash, hash=digest,
    )


def append_event(
    order: Order,
    *,
    action: str,
    from_state: str,
    to_state: str,
    actor: User | None,
    note: str = "",
    data: dict[str, Any] | None = None,
    now: dt.datetime,
) -> OrderEvent:
    """Append one event; the caller must hold the order's row lock in a transaction."""
    last = (
        OrderEvent.objects.filter(order=order).order_by("-seq").values_list("seq", "hash").first()
    )
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    event = build_event(
        order, seq=seq, prev_hash=prev_hash, action=action, from_state=from_state,
        to_state=to_state, actor=actor, note=note, data=data, now=now,
    )
    event.save()
    return event


@dataclass(frozen=True)
class ChainProblem:
    number: str
    seq: int
    problem: str


def verify_events(number: str, events: Iterable[OrderEvent]) -> list[ChainProblem]:
    problems: list[ChainProblem] = []
    prev_hash = GENESIS_HASH
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            problems.append(ChainProblem(number, event.seq, f"expected event {expected_seq}"))
        if event.prev_hash != prev_hash:
            problems.append(ChainProblem(number, event.seq, "link to previous event broken"))
        recomputed = event_hash(
            number=number, seq=event.seq, action=event.action, from_state=event.from_state,
            to_state=event.to_state, actor_id=event.actor_id, actor_name=event.actor_name,
            unit_id=event.unit_id, note=event.note, data=event.data,
            created_at=event.created_at, prev_hash=event.prev_hash,
        )
        if recomputed != event.hash:
            problems.append(ChainProblem(number, event.seq, "content does not match its hash"))
        prev_hash = event.hash
        expected_seq = event.seq + 1
    return problems


def verify_order(order: Order) -> list[ChainProblem]:
    problems = verify_events(order.number, order.events.order_by("seq"))
    last = order.events.order_by("-seq").first()
    if last is None:
        problems.append(ChainProblem(order.number, 0, "order has no history"))
    elif last.to_state != order.state:
        problems.append(
            ChainProblem(order.number, last.seq, f"order state {order.state!r} differs from history")
        )
    return problems
