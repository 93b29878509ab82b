"""A heap of deadlines with lazy deletion, shared by the SIP layers' timers.

Each owner (transactions, the user agent's calls, the registrar's bindings, the dialler's
calls) pushes ``(when, item)`` whenever it sets a deadline and never removes an entry: a
deadline that was cancelled or set again is recognised as stale by the owner's ``live``
test when it comes to the top, and dropped then. So setting a deadline is O(log n), and
``next_deadline`` and ``due`` touch only the entries at the top instead of scanning every
call or binding after each datagram. Pure: no I/O, no clock.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Deadlines(Generic[T]):
    def __init__(self, live: Callable[[float, T], bool]) -> None:
        self._live = live
        # (when, order, item): the order breaks ties, so items are never compared.
        self._heap: list[tuple[float, int, T]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, when: float, item: T) -> None:
        heapq.heappush(self._heap, (when, next(self._order), item))

    def next_deadline(self) -> float | None:
        heap = self._heap
        while heap and not self._live(heap[0][0], heap[0][2]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def due(self, now: float) -> Iterator[tuple[float, T]]:
        """The live entries due by ``now``, earliest first. A deadline pushed while the
        caller handles one is seen in the same pass if it is due by ``now`` too."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            when, _, item = heapq.heappop(heap)
            if self._live(when, item):
                yield when, item

    def compact(self) -> None:
        """Drop every stale entry (O(n)): for owners whose deadlines are often set again."""
        self._heap = [entry for entry in self._heap if self._live(entry[0], entry[2])]
        heapq.heapify(self._heap)
