"""The desk's outbox: events written with the change that caused them, tailed by web processes.

``publish`` inserts a ``DeskEvent`` in the caller's transaction, so an event exists exactly when
its change committed (a rolled-back offer publishes nothing). Each web process reads new rows
with ``EventTail`` and forwards them to its websockets; the gateway processes and the web
processes share nothing but the database.

Ids are handed out at INSERT, but transactions commit in any order: a row with a lower id can
become visible after a higher one was read. The tail therefore re-reads a short window below
its cursor and remembers which ids it has already delivered.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from hotline.contactcentre.models import DeskEvent

Kind = DeskEvent.Kind
REREAD_WINDOW = 200  # ids below the cursor read again for late commits
KEEP_DAYS = 2


@dataclass(frozen=True)
class Event:
    id: int
    at: dt.datetime
    kind: str
    agent_id: int | None
    call_id: int | None
    payload: dict[str, Any]

    def message(self) -> dict[str, Any]:
        """What a websocket receives (JSON)."""
        return {"id": self.id, "at": self.at.isoformat(), "kind": self.kind,
                "agent": self.agent_id, "call": self.call_id, **self.payload}


def publish(kind: str, *, agent_id: int | None = None, call_id: int | None = None,
            at: dt.datetime | None = None, **payload: Any) -> None:
    """Record an event in the current transaction (call it inside the change's atomic block)."""
    DeskEvent.objects.create(at=at or timezone.now(), kind=kind, agent_id=agent_id,
                             call_id=call_id, payload=payload)


def last_id() -> int:
    return DeskEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


class EventTail:
    """Reads events committed since the last read, each exactly once (see the module doc)."""

    def __init__(self, start: int | None = None) -> None:
        self.cursor = last_id() if start is None else start
        self._seen: deque[int] = deque(maxlen=4 * REREAD_WINDOW)
        self._seen_set: set[int] = set()
        # What is already committed below the starting point is history, not news.
        for pk in DeskEvent.objects.filter(
                id__gt=max(0, self.cursor - REREAD_WINDOW), id__lte=self.cursor
        ).values_list("id", flat=True):
            self._remember(pk)

    def read(self, limit: int = 1000) -> list[Event]:
        rows = (DeskEvent.objects.filter(id__gt=max(0, self.cursor - REREAD_WINDOW))
                .order_by("id").values_list("id", "at", "kind", "agent_id", "call_id",
                                            "payload")[:limit])
        out = []
        for pk, at, kind, agent_id, call_id, payload in rows:
            if pk in self._seen_set or pk <= self.cursor - REREAD_WINDOW:
                continue
            self._remember(pk)
            out.append(Event(pk, at, kind, agent_id, call_id, payload or {}))
        if out:
            self.cursor = max(self.cursor, max(event.id for event in out))
        return out

    def _remember(self, pk: int) -> None:
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(pk)
        self._seen_set.add(pk)


def purge(now: dt.datetime | None = None) -> int:
    """Drop events older than ``KEEP_DAYS`` (the worker's daily clean-up)."""
    before = (now or timezone.now()) - dt.timedelta(days=KEEP_DAYS)
    return DeskEvent.objects.filter(at__lt=before).delete()[0]
