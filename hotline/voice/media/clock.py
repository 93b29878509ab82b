"""One media clock per event loop: a single drift-free 20 ms tick drives every stream and bridge.

Every call's RTP stream (`udp.RtpEndpoint`) and every mixing bridge (`bridge.BridgeRunner`)
registers with the clock of its loop instead of keeping a timer of its own. Each tick the
clock calls every bridge first (the mix of what was received since the last tick) and then
every stream (its due packets, so a bridge's mix goes out in the tick that made it). With
300 calls that is 50 wake-ups a second instead of one per packet (15,000).

Ticks are `origin + n * 20 ms` on the loop's monotonic clock (never "last tick + 20 ms"), so
timer jitter does not accumulate. A member is handed the tick's *nominal* time, the grid
point, not the moment the loop woke up: its own `Pacer`, whose start the member puts on the
grid (`align`), then sees exactly one slot per tick however late the wake-up came, and after
a stall as many as were missed (each member's pacer caps its catch-up and skips the rest, as
before). A wake-up a little early (uvloop's timers have a resolution of 1 ms) counts as the
grid point it was meant for.

The clock runs only while it has members: an idle gateway does not wake up 50 times a
second, and the grid keeps its origin across idle spells. `wakeups` (timer callbacks) and
`ticks` (grid points run) count what it did; with `measure`, `lateness` keeps how late (s)
each wake-up came after its grid point.
"""

from __future__ import annotations

import asyncio
import logging
import math
import weakref
from typing import Protocol

from hotline.voice.media.pacer import PACKET_INTERVAL

logger = logging.getLogger(__name__)

EARLY_TOLERANCE = 0.002  # s: a wake-up this close before a grid point is that grid point
LATENESS_KEPT = 100_000  # measured wake-ups kept (an hour and a half of ticks)


class ClockMember(Protocol):
    def on_tick(self, tick_time: float) -> None: ...


_clocks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MediaClock] = (
    weakref.WeakKeyDictionary())


def media_clock(loop: asyncio.AbstractEventLoop | None = None) -> MediaClock:
    """The clock of `loop` (default: the running loop), made on first use."""
    loop = loop or asyncio.get_running_loop()
    clock = _clocks.get(loop)
    if clock is None:
        clock = _clocks[loop] = MediaClock(loop)
    return clock


class MediaClock:
    def __init__(self, loop: asyncio.AbstractEventLoop, *,
                 interval: float = PACKET_INTERVAL) -> None:
        # Weakly: the clocks are kept per loop in a WeakKeyDictionary, and a clock holding
        # its loop would keep every loop the process ever ran (tests run hundreds) alive.
        self._loop = weakref.ref(loop)
        self.interval = interval
        self.origin = loop.time()
        self._bridges: dict[int, ClockMember] = {}
        self._streams: dict[int, ClockMember] = {}
        self._active: dict[int, ClockMember] = {}
        self._members: tuple[ClockMember, ...] = ()  # bridges, then streams (a snapshot)
        self._timer: asyncio.TimerHandle | None = None
        self._last_index = -1  # the grid point of the last tick run
        self.ticks = 0
        self.wakeups = 0
        self.errors = 0
        self.measure = False
        self.lateness: list[float] = []

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop()
        if loop is None:
            raise RuntimeError("the media clock's event loop is gone")
        return loop

    # --- membership ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._members)

    def add_bridge(self, member: ClockMember) -> None:
        self._bridges[id(member)] = member
        self._changed()

    def add_stream(self, member: ClockMember) -> None:
        self._streams[id(member)] = member
        self._changed()

    def remove(self, member: ClockMember) -> None:
        """Safe at any time, from inside a tick too (the member is not called again)."""
        if (self._bridges.pop(id(member), None) is not None
                or self._streams.pop(id(member), None) is not None):
            self._changed()

    def _changed(self) -> None:
        self._members = (*self._bridges.values(), *self._streams.values())
        self._active = {id(member): member for member in self._members}
        if self._members and self._timer is None:
            self._timer = self.loop.call_at(self.grid_at_or_after(self.loop.time()), self._wake)
        elif not self._members and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # --- the grid --------------------------------------------------------------------------

    def grid_at_or_after(self, when: float) -> float:
        """The first tick time at or after `when` (a member's pacer starts there)."""
        index = math.ceil((when - self.origin) / self.interval - 1e-9)
        return self.origin + max(index, self._last_index + 1) * self.interval

    def align(self, start: float) -> float:
        """Where a stream or bridge wanting to start at `start` starts on this clock's grid."""
        return self.grid_at_or_after(start)

    def _wake(self) -> None:
        self._timer = None
        self.wakeups += 1
        now = self.loop.time()
        index = math.floor((now - self.origin + EARLY_TOLERANCE) / self.interval)
        if index > self._last_index:
            self._last_index = index
            tick_time = self.origin + index * self.interval
            self.ticks += 1
            if self.measure:
                self.lateness.append(max(0.0, now - tick_time))
                del self.lateness[:-LATENESS_KEPT]
            for member in self._members:
                if self._active.get(id(member)) is not member:
                    continue  # removed during this tick (a bridge's tick hung a leg up)
                try:
                    member.on_tick(tick_time)
                except Exception:
                    # One member's fault must not stop every call's audio: log the first and
                    # then every 500th (10 s), so a persistent fault does not flood the log.
                    self.errors += 1
                    if self.errors % 500 == 1:
                        logger.exception("media clock member failed (%d failures)",
                                         self.errors)
        if self._members and self._timer is None:
            self._timer = self.loop.call_at(
                self.origin + (self._last_index + 1) * self.interval, self._wake)
