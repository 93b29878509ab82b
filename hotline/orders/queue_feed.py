"""The centre's work queues as a feed: which history events put an order into a queue or take
it out, read from the order history.

The order history is the orders' outbox: every lifecycle action writes its event in the
transaction that changes the order, whichever path took it (a page, the API, the worker, the
voice gateway), and rolled-back changes leave none. So a web process learns that an order landed
in a queue by tailing the history, and no caller can forget to publish. (The desk's outbox,
``contactcentre.events``, belongs to a domain orders may not import.)

Ids are handed out at INSERT but transactions commit in any order, so, like the desk's tail, the
reader re-reads a window below its cursor and remembers what it delivered.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from hotline.orders.lifecycle import Action
from hotline.orders.models import OrderEvent

A = Action
# The queue an action puts the order into.
LANDS_IN: dict[str, str] = {
    A.RETURN: "returns",
    A.REQUEST_EXTENSION: "extensions",
    A.REPLY: "replies",
    A.APPROVE_REPLY: "callbacks",
    A.ESCALATE: "escalations",
}
# Actions that take an order out of a queue (the counts change, nothing new to look at).
LEAVES: frozenset[str] = frozenset({
    A.APPROVE_RETURN, A.DENY_RETURN, A.ANSWER, A.MERGE, A.APPROVE_EXTENSION, A.DENY_EXTENSION,
    A.DENY_REPLY, A.CALLBACK, A.REOPEN, A.CONFIRM_ESCALATION,
})
QUEUE_ACTIONS = sorted({*LANDS_IN, *LEAVES})
REREAD_WINDOW = 200


@dataclass(frozen=True)
class QueueEvent:
    id: int
    order_id: int
    number: str
    action: str

    @property
    def queue(self) -> str:
        return LANDS_IN.get(self.action, "")

    def message(self) -> dict[str, object]:
        """What a websocket receives: no citizen, no text; the page fetches fresh counts."""
        return {"kind": "queue", "id": self.id, "number": self.number, "action": self.action,
                "queue": self.queue, "landed": bool(self.queue)}


def last_id() -> int:
    return OrderEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


class QueueTail:
    """Reads the queue events committed since the last read, each once."""

    def __init__(self, start: int | None = None) -> None:
        self.cursor = last_id() if start is None else start
        self._seen: deque[int] = deque(maxlen=4 * REREAD_WINDOW)
        self._seen_set: set[int] = set()
        for pk in OrderEvent.objects.filter(
                id__gt=max(0, self.cursor - REREAD_WINDOW), id__lte=self.cursor
        ).values_list("id", flat=True):
            self._remember(pk)

    def read(self, limit: int = 1000) -> list[QueueEvent]:
        # The primary key bounds the scan; the action filter runs on those few rows.
        rows = (OrderEvent.objects.filter(id__gt=max(0, self.cursor - REREAD_WINDOW))
                .order_by("id").values_list("id", "order_id", "order__number", "action")[:limit])
        out = []
        highest = self.cursor
        for pk, order_id, number, action in rows:
            highest = max(highest, pk)
            if pk in self._seen_set:
                continue
            self._remember(pk)
            if action in LANDS_IN or action in LEAVES:
                out.append(QueueEvent(pk, order_id, number, action))
        self.cursor = highest
        return out

    def _remember(self, pk: int) -> None:
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(pk)
        self._seen_set.add(pk)
