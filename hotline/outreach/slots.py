"""Bookable time slots from a service's windows and the working-day calendar (pure: no Django,
no asyncio), so every rule below is tested without a database.

- A window is a weekday's opening period (Monday is 0), e.g. Monday 09:00-12:00; a weekday may
  have several windows.
- A statutory holiday is closed whatever the windows say.
- A working day opens its weekday's windows. A make-up working Saturday or Sunday (调休) that has
  no windows of its own follows the first weekday (Monday to Friday) that has windows: the
  State Council moves a weekday's work to that day, so the service hall opens as on a weekday.
- A rest day that is not a holiday (an ordinary weekend) opens only the windows its weekday has
  (a hall that opens on Saturdays); a weekday made a rest day (a local day off) stays closed.
- Each window is cut into slots of ``slot_minutes`` from its start; a remainder shorter than a
  slot is not offered. Every slot takes ``capacity`` bookings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

WEEKDAYS = range(7)


@dataclass(frozen=True)
class Window:
    weekday: int  # 0 Monday ... 6 Sunday
    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        if self.weekday not in WEEKDAYS:
            raise ValueError(f"weekday {self.weekday} is not 0 (Monday) to 6 (Sunday)")
        if self.end <= self.start:
            raise ValueError(f"window {self.start}-{self.end} ends before it starts")


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    capacity: int


def periods_on(day: dt.date, windows: Iterable[Window], *, is_workday: Callable[[dt.date], bool],
               is_holiday: Callable[[dt.date], bool]) -> list[tuple[dt.time, dt.time]]:
    """The opening periods of ``day`` (sorted), by the rules in the module's docstring."""
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for window in windows:
        by_day.setdefault(window.weekday, []).append((window.start, window.end))
    weekday = day.weekday()
    if is_holiday(day):
        return []
    if is_workday(day):
        own = by_day.get(weekday)
        if own:
            return sorted(own)
        if weekday >= 5:  # 调休: a weekend day that is worked follows a weekday's hours
            for other in range(5):
                if by_day.get(other):
                    return sorted(by_day[other])
        return []
    if weekday >= 5:
        return sorted(by_day.get(weekday, []))
    return []


def slots_between(first: dt.date, last: dt.date, windows: Iterable[Window], *,
                  slot_minutes: int, capacity: int, tz: dt.tzinfo,
                  is_workday: Callable[[dt.date], bool],
                  is_holiday: Callable[[dt.date], bool]) -> Iterator[Slot]:
    """Every slot from ``first`` to ``last`` (both included), in time order."""
    if slot_minutes <= 0:
        raise ValueError("a slot lasts at least one minute")
    if capacity <= 0:
        raise ValueError("a slot takes at least one booking")
    windows = list(windows)
    length = dt.timedelta(minutes=slot_minutes)
    day = first
    while day <= last:
        for start, end in periods_on(day, windows, is_workday=is_workday,
                                     is_holiday=is_holiday):
            moment = dt.datetime.combine(day, start, tzinfo=tz)
            closing = dt.datetime.combine(day, end, tzinfo=tz)
            while moment + length <= closing:
                yield Slot(moment, moment + length, capacity)
                moment += length
        day += dt.timedelta(days=1)


def is_slot_start(moment: dt.datetime, windows: Iterable[Window], *, slot_minutes: int,
                  tz: dt.tzinfo, is_workday: Callable[[dt.date], bool],
                  is_holiday: Callable[[dt.date], bool]) -> bool:
    """Whether ``moment`` is the start of one of the day's slots (a booking names a real slot,
    not any time a client makes up)."""
    local = moment.astimezone(tz)
    return any(slot.start == local for slot in slots_between(
        local.date(), local.date(), windows, slot_minutes=slot_minutes, capacity=1, tz=tz,
        is_workday=is_workday, is_holiday=is_holiday))
