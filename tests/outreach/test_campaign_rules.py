"""The campaign's state table, pair by pair, its windows and the pacing arithmetic."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.outreach.campaign_rules import (
    TRANSITIONS,
    Action,
    Pace,
    State,
    TransitionError,
    Window,
    allowed_actions,
    due_releases,
    next_state,
)

EXPECTED = {
    (State.DRAFT, Action.SCHEDULE): State.SCHEDULED,
    (State.DRAFT, Action.START): State.RUNNING,
    (State.DRAFT, Action.CANCEL): State.CANCELLED,
    (State.SCHEDULED, Action.BEGIN): State.RUNNING,
    (State.SCHEDULED, Action.PAUSE): State.PAUSED,
    (State.SCHEDULED, Action.CANCEL): State.CANCELLED,
    (State.RUNNING, Action.PAUSE): State.PAUSED,
    (State.RUNNING, Action.FINISH): State.FINISHED,
    (State.RUNNING, Action.CANCEL): State.CANCELLED,
    (State.PAUSED, Action.RESUME): State.RUNNING,
    (State.PAUSED, Action.FINISH): State.FINISHED,
    (State.PAUSED, Action.CANCEL): State.CANCELLED,
}


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(Action))
def test_every_pair_of_the_table(state: State, action: Action) -> None:
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(TransitionError):
            next_state(state, action)
    else:
        assert next_state(state.value, action.value) == expected


def test_the_table_is_the_expected_one_and_ends_are_final() -> None:
    found = {(s, a): t for s, moves in TRANSITIONS.items() for a, t in moves.items()}
    assert found == EXPECTED
    assert allowed_actions("finished") == [] and allowed_actions("cancelled") == []
    assert Action.BEGIN not in allowed_actions("scheduled")  # the pacer's, not a person's
    with pytest.raises(TransitionError):
        next_state("no-such-state", "start")


def test_windows() -> None:
    at = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)
    w = Window(starts_at=at, ends_at=at + dt.timedelta(hours=2),
               daily_start=dt.time(9, 0), daily_end=dt.time(18, 0))
    assert not w.begun(at - dt.timedelta(seconds=1)) and w.begun(at)
    assert not w.over(at + dt.timedelta(hours=1)) and w.over(at + dt.timedelta(hours=2))
    assert w.open(at, at.replace(hour=9)) and not w.open(at, at.replace(hour=18))
    night = Window(daily_start=dt.time(22, 0), daily_end=dt.time(2, 0))
    assert night.in_daily_window(at.replace(hour=23)) and night.in_daily_window(at.replace(hour=1))
    assert not night.in_daily_window(at.replace(hour=12))
    assert Window().open(at, at.replace(hour=3))  # no window: always


def test_the_first_slot_is_at_once_then_one_per_interval() -> None:
    pace = Pace(per_minute=30, concurrent=100)  # every 2 s
    r = due_releases(pace, elapsed_s=0, slots_used=0, released_last_minute=0, in_flight=0,
                     remaining=10)
    assert r.count == 1 and r.slots_used == 1
    r = due_releases(pace, elapsed_s=1.9, slots_used=1, released_last_minute=1, in_flight=1,
                     remaining=9)
    assert r.count == 0 and r.slots_used == 1
    r = due_releases(pace, elapsed_s=2.0, slots_used=1, released_last_minute=1, in_flight=1,
                     remaining=9)
    assert r.count == 1 and r.slots_used == 2


def simulate(pace: Pace, ticks: list[float], recipients: int, call_seconds: float) -> list[float]:
    """Release times over ``ticks`` (seconds since the anchor), calls lasting call_seconds."""
    released: list[float] = []
    slots = 0
    for t in ticks:
        in_flight = sum(1 for r in released if r + call_seconds > t)
        last_minute = sum(1 for r in released if r > t - 60)
        rel = due_releases(pace, elapsed_s=t, slots_used=slots, released_last_minute=last_minute,
                           in_flight=in_flight, remaining=recipients - len(released))
        slots = rel.slots_used
        released.extend([t] * rel.count)
    return released


def test_the_long_run_rate_is_exact_despite_a_jittery_tick() -> None:
    # A tick every 1.0-1.3 s (the scheduler is late now and then): 300 calls at 120 a minute
    # take 150 s, not 300 × the tick.
    ticks, t = [], 0.0
    for i in range(400):
        ticks.append(t)
        t += 1.0 + 0.3 * ((i * 7) % 5) / 4
    released = simulate(Pace(per_minute=120, concurrent=1000), ticks, 300, call_seconds=5)
    assert len(released) == 300
    span = released[-1] - released[0]
    rate = (len(released) - 1) / span * 60
    assert abs(rate - 120) / 120 < 0.05, rate
    # never more than the pace in any minute
    for start in released:
        assert sum(1 for r in released if start <= r < start + 60) <= 120


def test_the_concurrent_limit_holds_and_missed_slots_do_not_burst() -> None:
    ticks = [i * 1.0 for i in range(200)]
    released = simulate(Pace(per_minute=600, concurrent=3), ticks, 100, call_seconds=10)
    for t in ticks:
        assert sum(1 for r in released if r <= t < r + 10) <= 3
    # Held back by the limit, the campaign releases 3 per call length, never 60 at once.
    assert max(released.count(t) for t in set(released)) <= 3


def test_running_out_of_recipients_or_a_full_minute() -> None:
    pace = Pace(per_minute=60, concurrent=10)
    r = due_releases(pace, elapsed_s=10, slots_used=0, released_last_minute=0, in_flight=0,
                     remaining=2)
    assert r.count == 2 and r.slots_used == 2  # the rest of the slots are not dropped ...
    r = due_releases(pace, elapsed_s=10, slots_used=0, released_last_minute=60, in_flight=0,
                     remaining=20)
    assert r.count == 0 and r.slots_used == 11  # ... but slots past the minute's cap are
    assert due_releases(pace, elapsed_s=-1, slots_used=3, released_last_minute=0, in_flight=0,
                        remaining=5).count == 0
    with pytest.raises(ValueError):
        Pace(per_minute=0, concurrent=1)
