"""Agents' time from their state log, as plain values: the intervals an agent spent in each
state, cut at hour boundaries for the rollups, and the occupancy. Pure: no Django.

Occupancy (坐席占用率) = time with a call (ringing, talking, wrap-up) / (that + time ready and
waiting for a call). Not-ready time (breaks, meetings, paperwork) and the moment between
signing in and going ready are in neither: occupancy says how busy the agents were while
they were available for calls, which is what staffing is judged by.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SIGNED_OUT = "signed_out"
WRAP_UP = "wrap_up"
HANDLING = frozenset({"ringing", "talking", "wrap_up"})
AVAILABLE = frozenset({"idle"})
HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Change:
    """One row of the state log: at ``at`` the agent entered ``state`` (for ``call``)."""

    at: dt.datetime
    state: str
    call_id: int | None = None


@dataclass(frozen=True)
class Interval:
    state: str
    start: dt.datetime
    end: dt.datetime
    call_id: int | None = None

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def intervals(before: Change | None, changes: Sequence[Change], start: dt.datetime,
              end: dt.datetime) -> list[Interval]:
    """The agent's intervals inside [start, end): ``before`` is the last change before
    ``start`` (None: signed out), ``changes`` those in [start, end) in time order. Signed-out
    time is left out; an interval still open at ``end`` is cut there."""
    out: list[Interval] = []
    state = before.state if before is not None else SIGNED_OUT
    call = before.call_id if before is not None else None
    since = start
    for change in changes:
        at = min(max(change.at, start), end)
        if at > since and state != SIGNED_OUT:
            out.append(Interval(state, since, at, call))
        state, call, since = change.state, change.call_id, max(since, at)
    if end > since and state != SIGNED_OUT:
        out.append(Interval(state, since, end, call))
    return out


def floor_hour(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def by_hour(found: Iterable[Interval]) -> dict[tuple[dt.datetime, str], float]:
    """(hour start, state) -> seconds, each interval cut at the hour boundaries."""
    out: dict[tuple[dt.datetime, str], float] = {}
    for interval in found:
        cursor = interval.start
        while cursor < interval.end:
            hour = floor_hour(cursor)
            stop = min(interval.end, hour + HOUR)
            key = (hour, interval.state)
            out[key] = out.get(key, 0.0) + (stop - cursor).total_seconds()
            cursor = stop
    return out


def occupancy(seconds_by_state: Mapping[str, float]) -> float | None:
    handling = sum(seconds_by_state.get(s, 0.0) for s in HANDLING)
    available = handling + sum(seconds_by_state.get(s, 0.0) for s in AVAILABLE)
    return handling / available if available > 0 else None


def wrap_ups(found: Iterable[Interval]) -> dict[int, float]:
    """Call id -> seconds of wrap-up after it (the wrap-up intervals that name a call)."""
    out: dict[int, float] = {}
    for interval in found:
        if interval.state == WRAP_UP and interval.call_id is not None:
            out[interval.call_id] = out.get(interval.call_id, 0.0) + interval.seconds
    return out
