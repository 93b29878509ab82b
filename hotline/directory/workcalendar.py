"""Working time on the Chinese calendar: which days are working days (statutory holidays and
make-up working Saturdays included) and how to add working hours or days to a moment.

The arithmetic is pure: ``WorkCalendar`` takes a function that says whether a date is a working
day, and the working periods of a day. ``default_is_workday`` asks the chinese-calendar package
and falls back to Monday-Friday for years the package does not know yet; the Django layer
(``calendar_from_db``) puts the centre's own overrides in front of both.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar

log = logging.getLogger(__name__)

Period = tuple[dt.time, dt.time]


def parse_periods(spec: str) -> tuple[Period, ...]:
    """Parse "09:00-12:00,13:30-17:30" into sorted, non-overlapping periods."""
    periods: list[Period] = []
    for chunk in spec.split(","):
        chunk = chunk.strip()
        if not chunk:
            continue
        try:
            start_s, end_s = chunk.split("-")
            start = dt.time.fromisoformat(start_s.strip())
            end = dt.time.fromisoformat(end_s.strip())
        except ValueError as exc:
            raise ValueError(f"bad working period {chunk!r}: use HH:MM-HH:MM") from exc
        if end <= start:
            raise ValueError(f"working period {chunk!r} ends before it starts")
        periods.append((start, end))
    periods.sort()
    for (_s1, e1), (s2, _e2) in itertools.pairwise(periods):
        if s2 < e1:
            raise ValueError(f"working periods overlap in {spec!r}")
    if not periods:
        raise ValueError("at least one working period is needed")
    return tuple(periods)


@lru_cache(maxsize=4096)
def default_is_workday(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # The package knows the State Council's notices only up to its release; later years
        # fall back to Monday-Friday until the centre enters the new notice as overrides.
        log.warning("chinese-calendar does not know %s; assuming Mon-Fri", day.year)
        return day.weekday() < 5


@dataclass(frozen=True)
class WorkCalendar:
    is_workday: Callable[[dt.date], bool]
    periods: tuple[Period, ...]
    tz: dt.tzinfo

    @property
    def hours_per_day(self) -> float:
        return sum(_seconds(s, e) for s, e in self.periods) / 3600

    def _local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            raise ValueError("working-time arithmetic needs timezone-aware datetimes")
        return moment.astimezone(self.tz)

    def _at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=self.tz)

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        day += dt.timedelta(days=1)
        for _ in range(400):
            if self.is_workday(day):
                return day
            day += dt.timedelta(days=1)
        raise RuntimeError("no working day within 400 days: the calendar is misconfigured")

    def add_working_seconds(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The moment when ``seconds`` of working time have passed after ``start``."""
        if seconds < 0:
            raise ValueError("cannot add negative working time")
        local = self._local(start)
        day = local.date()
        if not self.is_workday(day):
            day = self.next_workday(day)
            local = self._at(day, self.periods[0][0])
        remaining = float(seconds)
        while True:
            for p_start, p_end in self.periods:
                begin = max(local, self._at(day, p_start))
                end = self._at(day, p_end)
                if begin >= end:
                    continue
                available = (end - begin).total_seconds()
                if remaining <= available:
                    return begin + dt.timedelta(seconds=remaining)
                remaining -= available
            day = self.next_workday(day)
            local = self._at(day, self.periods[0][0])

    def add_working_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        return self.add_working_seconds(start, hours * 3600)

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """``days`` whole working days after ``start``: the same working time of day on the
        ``days``-th following working day (a start outside working time counts from the next
        working period's start)."""
        if days < 0:
            raise ValueError("cannot add negative working days")
        return self.add_working_seconds(start, days * self.hours_per_day * 3600)

    def working_seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working time between two moments (0 when ``end`` is not after ``start``)."""
        if end <= start:
            return 0.0
        a, b = self._local(start), self._local(end)
        total = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_workday(day):
                for p_start, p_end in self.periods:
                    lo = max(a, self._at(day, p_start))
                    hi = min(b, self._at(day, p_end))
                    if hi > lo:
                        total += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return total


def _seconds(start: dt.time, end: dt.time) -> float:
    return (
        dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)
    ).total_seconds()


def with_overrides(
    overrides: Mapping[dt.date, bool], fallback: Callable[[dt.date], bool] = default_is_workday
) -> Callable[[dt.date], bool]:
    def is_workday(day: dt.date) -> bool:
        found = overrides.get(day)
        return fallback(day) if found is None else found

    return is_workday
