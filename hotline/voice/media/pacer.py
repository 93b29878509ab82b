"""20 ms packet pacing computed from a monotonic clock, without drift (pure arithmetic).

Send times are `start + index * interval`, never "previous send + interval", so jitter in
when the event loop wakes us up does not accumulate over a long prompt.
"""

from __future__ import annotations

from dataclasses import dataclass

PACKET_INTERVAL = 0.020


def due_time(start: float, index: int, interval: float = PACKET_INTERVAL) -> float:
    """Monotonic time at which packet `index` (0-based) of a stream is due."""
    return start + index * interval


@dataclass
class Pacer:
    """Tracks which packet of a stream is next and when it is due.

    `due(now)` returns how many packets should go out now. After a stall longer than
    `max_burst` packets we skip ahead (and say so through `skipped`) instead of bursting
    a second of audio into the peer's jitter buffer.
    """

    start: float
    interval: float = PACKET_INTERVAL
    max_burst: int = 3
    next_index: int = 0
    skipped: int = 0

    def next_due(self) -> float:
        return due_time(self.start, self.next_index, self.interval)

    def due(self, now: float) -> int:
        # 1 ns of tolerance, as below: a media clock hands us its grid point, computed as
        # `origin + n * interval`, which can be one rounding error short of our own
        # `start + index * interval` (it was: a packet every other tick, two at a time).
        if now + 1e-9 < self.next_due():
            return 0
        # +1: the packet whose due time is exactly now is due.
        behind = int((now - self.start) / self.interval + 1e-9) + 1 - self.next_index
        if behind > self.max_burst:
            self.skipped += behind - self.max_burst
            self.next_index += behind - self.max_burst
            behind = self.max_burst
        self.next_index += behind
        return behind

    def delay_until_next(self, now: float) -> float:
        return max(0.0, self.next_due() - now)
