"""A campaign's life and its pace, as data and pure functions (no Django, no asyncio).

States and the actions that move them are one table (``TRANSITIONS``); an unknown pair raises.
The pace (calls per minute, spread evenly, and a limit of calls in flight) is arithmetic over
counts the service reads from the database: ``due_releases`` says how many recipients the
pacer may release on this tick. The service applies both; the rules themselves are tested
alone (tests/outreach/test_campaign_rules.py).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class State(StrEnum):
    DRAFT = "draft"  # being prepared: recipients chosen, nothing sent
    SCHEDULED = "scheduled"  # started, waiting for its start time
    RUNNING = "running"  # the pacer releases recipients (inside its windows)
    PAUSED = "paused"  # nothing released; queued calls withdrawn
    FINISHED = "finished"  # every recipient has a result, or its stop time passed
    CANCELLED = "cancelled"  # stopped for good; queued calls withdrawn


class Action(StrEnum):
    SCHEDULE = "schedule"  # a person: start, with a start time in the future
    START = "start"  # a person: start now
    BEGIN = "begin"  # the pacer: the start time came
    PAUSE = "pause"
    RESUME = "resume"
    FINISH = "finish"  # the pacer: nothing left to do, or the stop time passed
    CANCEL = "cancel"


TRANSITIONS: Mapping[State, Mapping[Action, State]] = MappingProxyType({
    State.DRAFT: MappingProxyType({
        Action.SCHEDULE: State.SCHEDULED, Action.START: State.RUNNING,
        Action.CANCEL: State.CANCELLED}),
    State.SCHEDULED: MappingProxyType({
        Action.BEGIN: State.RUNNING, Action.PAUSE: State.PAUSED,
        Action.CANCEL: State.CANCELLED}),
    State.RUNNING: MappingProxyType({
        Action.PAUSE: State.PAUSED, Action.FINISH: State.FINISHED,
        Action.CANCEL: State.CANCELLED}),
    State.PAUSED: MappingProxyType({
        Action.RESUME: State.RUNNING, Action.FINISH: State.FINISHED,
        Action.CANCEL: State.CANCELLED}),
    State.FINISHED: MappingProxyType({}),
    State.CANCELLED: MappingProxyType({}),
})

# Actions a person may take from the campaign's page (the others are the pacer's).
PERSON_ACTIONS = frozenset({Action.SCHEDULE, Action.START, Action.PAUSE, Action.RESUME,
                            Action.CANCEL})


class TransitionError(ValueError):
    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"a campaign that is {state} cannot {action}")
        self.state, self.action = state, action


def next_state(state: str, action: str) -> State:
    """The state ``action`` leads to from ``state``; TransitionError when it may not."""
    try:
        return TRANSITIONS[State(state)][Action(action)]
    except (KeyError, ValueError):
        raise TransitionError(state, action) from None


def allowed_actions(state: str) -> list[Action]:
    return [a for a in TRANSITIONS.get(State(state), {}) if a in PERSON_ACTIONS]


# --- windows ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """When a campaign may release recipients: between ``starts_at`` and ``ends_at`` (either
    may be open) and, each local day, from ``daily_start`` to ``daily_end`` (equal: all day;
    may wrap midnight). Quiet hours and the do-not-call list are the outbound calls' own rules
    and apply on top."""

    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    daily_start: dt.time = dt.time(0, 0)
    daily_end: dt.time = dt.time(0, 0)

    def begun(self, now: dt.datetime) -> bool:
        return self.starts_at is None or now >= self.starts_at

    def over(self, now: dt.datetime) -> bool:
        return self.ends_at is not None and now >= self.ends_at

    def in_daily_window(self, local: dt.datetime) -> bool:
        start, end = self.daily_start, self.daily_end
        t = local.timetz().replace(tzinfo=None)
        if start == end:
            return True
        if start < end:
            return start <= t < end
        return t >= start or t < end

    def open(self, now: dt.datetime, local: dt.datetime) -> bool:
        return self.begun(now) and not self.over(now) and self.in_daily_window(local)


# --- pace ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pace:
    per_minute: int  # calls (or messages) released per minute, spread evenly
    concurrent: int  # calls in flight at most (released and not finished)

    def __post_init__(self) -> None:
        if self.per_minute < 1 or self.concurrent < 1:
            raise ValueError("a pace needs at least one call per minute and one in flight")

    @property
    def interval_s(self) -> float:
        return 60.0 / self.per_minute


@dataclass(frozen=True)
class Release:
    count: int  # recipients to release now
    slots_used: int  # the new count of slots spent since the anchor (released + dropped)


def due_releases(pace: Pace, *, elapsed_s: float, slots_used: int, released_last_minute: int,
                 in_flight: int, remaining: int) -> Release:
    """How many recipients to release on this tick.

    The slots of an even pace are fixed from the anchor (when the campaign began or resumed):
    slot k is due at k × 60 / per_minute seconds, the first at once. Counting slots from the
    anchor rather than from the last release keeps the long-run rate exact whatever the tick's
    jitter. A slot that cannot be used now because of the concurrent limit or the one-minute
    cap is dropped, not saved up: a campaign held back by its limit must not burst afterwards.
    Running out of recipients drops nothing (there is nothing to burst with)."""
    if elapsed_s < 0:
        return Release(0, slots_used)
    slots_due = math.floor(elapsed_s / pace.interval_s + 1e-9) + 1
    owed = max(0, slots_due - slots_used)
    limit = min(pace.per_minute - released_last_minute, pace.concurrent - in_flight)
    count = max(0, min(owed, limit, remaining))
    dropped = owed - count if limit < owed and limit <= remaining else 0
    return Release(count, slots_used + count + max(0, dropped))
