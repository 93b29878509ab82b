"""Slot generation and the two state machines, pure: no database."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest

from hotline.outreach import booking_states, partner_states
from hotline.outreach.slots import Window, is_slot_start, periods_on, slots_between

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
T = dt.time
WEEKDAY_WINDOWS = [Window(d, T(9), T(12)) for d in range(5)] + [Window(0, T(14), T(15, 10))]


def mon_fri(day: dt.date) -> bool:
    return day.weekday() < 5


def never(day: dt.date) -> bool:
    return False


def test_windows_are_cut_into_slots_and_a_short_remainder_is_not_offered() -> None:
    monday = dt.date(2026, 11, 30)
    slots = list(slots_between(monday, monday, WEEKDAY_WINDOWS, slot_minutes=30, capacity=2,
                               tz=TZ, is_workday=mon_fri, is_holiday=never))
    starts = [s.start.strftime("%H:%M") for s in slots]
    # 09:00-12:00 gives six; 14:00-15:10 gives two (the last 10 minutes are no slot).
    assert starts == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "14:00", "14:30"]
    assert all(s.capacity == 2 and s.end - s.start == dt.timedelta(minutes=30) for s in slots)
    assert slots[0].start.tzinfo is TZ


def test_a_holiday_is_closed_even_on_a_weekday_with_windows() -> None:
    national_day = dt.date(2026, 10, 1)  # a Thursday
    assert periods_on(national_day, WEEKDAY_WINDOWS, is_workday=never,
                      is_holiday=lambda d: d == national_day) == []


def test_a_make_up_working_saturday_opens_with_a_weekdays_hours() -> None:
    saturday = dt.date(2026, 9, 26)
    assert periods_on(saturday, WEEKDAY_WINDOWS, is_workday=lambda d: True,
                      is_holiday=never) == [(T(9), T(12)), (T(14), T(15, 10))]
    # An ordinary Saturday (a rest day, not a holiday) stays closed without Saturday windows.
    assert periods_on(saturday, WEEKDAY_WINDOWS, is_workday=mon_fri, is_holiday=never) == []


def test_a_hall_open_on_saturdays_opens_on_ordinary_saturdays_but_not_on_holidays() -> None:
    windows = [*WEEKDAY_WINDOWS, Window(5, T(10), T(11))]
    saturday = dt.date(2026, 11, 28)
    assert periods_on(saturday, windows, is_workday=mon_fri, is_holiday=never) == [
        (T(10), T(11))]
    assert periods_on(saturday, windows, is_workday=mon_fri,
                      is_holiday=lambda d: True) == []


def test_a_weekday_made_a_rest_day_is_closed() -> None:
    tuesday = dt.date(2026, 12, 1)
    assert periods_on(tuesday, WEEKDAY_WINDOWS, is_workday=never, is_holiday=never) == []


def test_slot_starts_are_exact() -> None:
    def starts(moment: dt.datetime) -> bool:
        return is_slot_start(moment, WEEKDAY_WINDOWS, slot_minutes=30, tz=TZ,
                             is_workday=mon_fri, is_holiday=never)

    assert starts(dt.datetime(2026, 11, 30, 9, 30, tzinfo=TZ))
    assert starts(dt.datetime(2026, 11, 30, 1, 30, tzinfo=dt.UTC))
    assert not starts(dt.datetime(2026, 11, 30, 9, 40, tzinfo=TZ))
    assert not starts(dt.datetime(2026, 11, 30, 12, 0, tzinfo=TZ))
    assert not starts(dt.datetime(2026, 11, 29, 9, 0, tzinfo=TZ))


@pytest.mark.parametrize("bad", [(7, T(9), T(10)), (0, T(10), T(9)), (0, T(9), T(9))])
def test_bad_windows_are_refused(bad: tuple[int, dt.time, dt.time]) -> None:
    with pytest.raises(ValueError):
        Window(*bad)


def test_slot_length_and_capacity_must_be_positive() -> None:
    day = dt.date(2026, 11, 30)
    for minutes, capacity in ((0, 1), (30, 0)):
        with pytest.raises(ValueError):
            list(slots_between(day, day, WEEKDAY_WINDOWS, slot_minutes=minutes,
                               capacity=capacity, tz=TZ, is_workday=mon_fri, is_holiday=never))


BOOKING_EXPECTED = {
    ("booked", "cancel"): "cancelled", ("booked", "attend"): "attended",
    ("booked", "no_show"): "no_show", ("booked", "remind"): "booked",
}


@pytest.mark.parametrize(("state", "action"), list(itertools.product(
    [s.value for s in booking_states.BookingState],
    [a.value for a in booking_states.BookingAction])))
def test_every_booking_pair(state: str, action: str) -> None:
    expected = BOOKING_EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(booking_states.BookingTransitionError):
            booking_states.next_booking_state(state, action)
    else:
        assert booking_states.next_booking_state(state, action) == expected


PARTNER_EXPECTED = {("active", "suspend"): "suspended", ("suspended", "reinstate"): "active"}


@pytest.mark.parametrize(("state", "action"), list(itertools.product(
    ["active", "suspended", "nonsense"], ["suspend", "reinstate", "nonsense"])))
def test_every_partner_pair(state: str, action: str) -> None:
    expected = PARTNER_EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(partner_states.PartnerTransitionError):
            partner_states.next_partner_state(state, action)
    else:
        assert partner_states.next_partner_state(state, action) == expected


def test_the_suspension_rule_counts_to_the_threshold() -> None:
    assert [partner_states.must_suspend(n, 3) for n in range(5)] == [
        False, False, False, True, True]
    assert partner_states.must_suspend(1, 1)
    with pytest.raises(ValueError):
        partner_states.must_suspend(5, 0)
