"""Working-time arithmetic on the Chinese calendar (2025's National Day holiday is the example:
1-8 October off, Sunday 28 September and Saturday 11 October are make-up working days)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.directory.calendar_service import current_calendar
from hotline.directory.models import CalendarDay
from hotline.directory.workcalendar import (
    WorkCalendar,
    default_is_workday,
    parse_periods,
    with_overrides,
)

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
PERIODS = parse_periods("09:00-12:00,13:30-17:30")
CAL = WorkCalendar(is_workday=default_is_workday, periods=PERIODS, tz=TZ)
HOUR = 3600


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


# --- parsing -------------------------------------------------------------------------------

def test_parse_periods_sorts_and_counts_hours() -> None:
    periods = parse_periods(" 13:30-17:30, 09:00-12:00 ,")
    assert periods == PERIODS
    assert CAL.hours_per_day == 7


@pytest.mark.parametrize("spec", ["", "09:00", "12:00-09:00", "09:00-12:00,11:00-13:00", "9h-12h"])
def test_parse_periods_refuses_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_periods(spec)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_hours(dt.datetime(2025, 9, 29, 10), 1)


def test_negative_working_time_is_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_seconds(at("2025-09-29 10:00"), -1)
    with pytest.raises(ValueError):
        CAL.add_working_days(at("2025-09-29 10:00"), -1)


# --- which days work -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("day", "works"),
    [
        ("2025-09-26", True),  # Friday
        ("2025-09-27", False),  # Saturday
        ("2025-09-28", True),  # Sunday, make-up working day
        ("2025-09-30", True),
        ("2025-10-01", False),  # National Day
        ("2025-10-06", False),  # Monday inside the holiday
        ("2025-10-08", False),
        ("2025-10-09", True),
        ("2025-10-11", True),  # Saturday, make-up working day
        ("2025-10-12", False),
    ],
)
def test_chinese_calendar_days(day: str, works: bool) -> None:
    assert default_is_workday(dt.date.fromisoformat(day)) is works


def test_unknown_years_fall_back_to_monday_to_friday() -> None:
    # chinese-calendar 1.11 knows the State Council's notices up to 2026 only.
    assert default_is_workday(dt.date(2030, 1, 1)) is True  # a Tuesday; New Year unknown
    assert default_is_workday(dt.date(2030, 1, 5)) is False  # Saturday
    assert default_is_workday(dt.date(2030, 1, 6)) is False  # Sunday
    assert CAL.add_working_hours(at("2030-01-04 17:00"), 1) == at("2030-01-07 09:30")


def test_overrides_win_over_the_package() -> None:
    is_workday = with_overrides({dt.date(2025, 10, 6): True, dt.date(2025, 9, 29): False})
    assert is_workday(dt.date(2025, 10, 6)) is True
    assert is_workday(dt.date(2025, 9, 29)) is False
    assert is_workday(dt.date(2025, 9, 30)) is True  # untouched days ask the package


@pytest.mark.django_db
def test_calendar_days_in_the_database_win() -> None:
    CalendarDay.objects.create(date=dt.date(2025, 9, 29), is_workday=False, note="local day")
    CalendarDay.objects.create(date=dt.date(2025, 10, 4), is_workday=True, note="typhoon make-up")
    CalendarDay.objects.create(date=dt.date(2030, 1, 1), is_workday=False, note="New Year")
    cal = current_calendar()
    assert cal.hours_per_day == 7
    # Friday 17:00 + 1 h skips Saturday, the Sunday make-up day counts... but Monday is off now.
    assert cal.add_working_hours(at("2025-09-28 17:00"), 1) == at("2025-09-30 09:30")
    assert cal.add_working_hours(at("2025-09-30 17:00"), 1) == at("2025-10-04 09:30")
    assert cal.add_working_hours(at("2029-12-31 17:00"), 1) == at("2030-01-02 09:30")


# --- adding working time -------------------------------------------------------------------

def test_last_working_day_before_national_day_is_due_after_the_holiday() -> None:
    # 6 h left on 30 September, the 7th hour falls on 9 October.
    assert CAL.add_working_hours(at("2025-09-30 10:00"), 7) == at("2025-10-09 10:00")
    assert CAL.add_working_days(at("2025-09-30 10:00"), 1) == at("2025-10-09 10:00")


def test_make_up_working_days_count() -> None:
    assert CAL.add_working_hours(at("2025-09-26 17:00"), 1) == at("2025-09-28 09:30")
    assert CAL.add_working_hours(at("2025-10-10 17:00"), 1) == at("2025-10-11 09:30")
    # 9 Oct (Thu), 10 Oct (Fri), 11 Oct (make-up Saturday), then Monday 13 Oct.
    assert CAL.add_working_days(at("2025-10-09 09:00"), 3) == at("2025-10-11 17:30")
    assert CAL.add_working_days(at("2025-10-09 10:00"), 3) == at("2025-10-13 10:00")


@pytest.mark.parametrize(
    ("start", "due"),
    [
        ("2025-09-29 07:00", "2025-09-29 10:00"),  # before work: from 09:00
        ("2025-09-29 12:30", "2025-09-29 14:30"),  # lunch break: from 13:30
        ("2025-09-29 20:00", "2025-09-30 10:00"),  # evening: from next morning
        ("2025-09-27 10:00", "2025-09-28 10:00"),  # Saturday: from the Sunday make-up day
        ("2025-10-03 10:00", "2025-10-09 10:00"),  # holiday: from the first day after it
        ("2025-10-18 10:00", "2025-10-20 10:00"),  # ordinary weekend
    ],
)
def test_start_outside_working_time_counts_from_the_next_period(start: str, due: str) -> None:
    assert CAL.add_working_hours(at(start), 1) == at(due)


def test_working_periods_are_spanned_across_lunch() -> None:
    assert CAL.add_working_hours(at("2025-09-29 11:00"), 2) == at("2025-09-29 14:30")
    assert CAL.add_working_hours(at("2025-09-29 09:00"), 3) == at("2025-09-29 12:00")


def test_other_time_zones_are_converted() -> None:
    utc = dt.datetime(2025, 9, 30, 2, 0, tzinfo=dt.UTC)  # 10:00 in Beijing
    assert CAL.add_working_hours(utc, 7) == at("2025-10-09 10:00")


def test_working_seconds_between() -> None:
    assert CAL.working_seconds_between(at("2025-09-30 09:00"), at("2025-10-09 09:00")) == 7 * HOUR
    assert CAL.working_seconds_between(at("2025-09-29 11:00"), at("2025-09-29 14:00")) == 1.5 * HOUR
    assert CAL.working_seconds_between(at("2025-10-02 10:00"), at("2025-10-05 10:00")) == 0
    assert CAL.working_seconds_between(at("2025-09-30 10:00"), at("2025-09-29 10:00")) == 0


def test_next_workday_gives_up_on_a_calendar_without_working_days() -> None:
    never = WorkCalendar(is_workday=lambda day: False, periods=PERIODS, tz=TZ)
    with pytest.raises(RuntimeError):
        never.next_workday(dt.date(2025, 1, 1))


# --- properties ----------------------------------------------------------------------------

moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2026, 11, 30),
    timezones=st.just(TZ),
)
spans = st.integers(min_value=0, max_value=20 * 7 * HOUR)


@settings(max_examples=200, deadline=None)
@given(start=moments, seconds=spans)
def test_adding_then_measuring_round_trips(start: dt.datetime, seconds: int) -> None:
    end = CAL.add_working_seconds(start, seconds)
    assert end >= start
    assert CAL.working_seconds_between(start, end) == pytest.approx(seconds, abs=1e-3)
    # The deadline itself lies in working time: on a working day, inside a period.
    local = end.astimezone(TZ)
    assert CAL.is_workday(local.date())
    assert any(s <= local.time() <= e for s, e in PERIODS)


@settings(max_examples=200, deadline=None)
@given(start=moments, first=spans, second=st.integers(min_value=1, max_value=5 * 7 * HOUR))
def test_adding_in_two_steps_equals_adding_once(start: dt.datetime, first: int, second: int) -> None:
    step = CAL.add_working_seconds(CAL.add_working_seconds(start, first), second)
    once = CAL.add_working_seconds(start, first + second)
    assert abs((step - once).total_seconds()) < 1e-3


@settings(max_examples=100, deadline=None)
@given(start=moments, days=st.integers(min_value=0, max_value=30))
def test_working_days_are_whole_days_of_working_hours(start: dt.datetime, days: int) -> None:
    end = CAL.add_working_days(start, days)
    assert CAL.working_seconds_between(start, end) == pytest.approx(days * 7 * HOUR, abs=1e-3)
