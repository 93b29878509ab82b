"""The calling rules alone: quiet hours (wrapping midnight or not), what each outcome means."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from hotline.outreach.policy import AfterAttempt, CallingRules, Outcome, after_attempt

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(h: int, m: int = 0, day: int = 3) -> dt.datetime:
    return dt.datetime(2026, 12, day, h, m, tzinfo=TZ)


@pytest.mark.parametrize(("local", "quiet"), [
    (at(20, 59), False), (at(21, 0), True), (at(23, 30), True), (at(0, 0), True),
    (at(7, 59), True), (at(8, 0), False), (at(12, 0), False),
])
def test_quiet_hours_wrap_midnight(local: dt.datetime, quiet: bool) -> None:
    assert CallingRules().in_quiet_hours(local) is quiet


def test_quiet_hours_within_one_day_and_none() -> None:
    lunch = CallingRules(quiet_start=dt.time(12, 0), quiet_end=dt.time(13, 30))
    assert lunch.in_quiet_hours(at(12, 15)) and not lunch.in_quiet_hours(at(13, 30))
    assert not CallingRules(quiet_start=dt.time(0), quiet_end=dt.time(0)).in_quiet_hours(at(3))


def test_next_allowed_moves_to_the_end_of_the_quiet_hours() -> None:
    rules = CallingRules()
    assert rules.next_allowed(at(10)) == at(10)
    assert rules.next_allowed(at(22, 10)) == at(8, 0, day=4)
    assert rules.next_allowed(at(6, 10)) == at(8, 0)


def test_outcomes_retry_by_rule_and_stop_at_the_limit() -> None:
    rules = CallingRules()
    assert after_attempt(rules, Outcome.ANSWERED, 1, 3, at(10)) == AfterAttempt(True, None)
    assert after_attempt(rules, Outcome.REJECTED, 1, 3, at(10)) == AfterAttempt(True, None)
    assert after_attempt(rules, Outcome.BUSY, 1, 3, at(10)) == AfterAttempt(False, at(10, 10))
    assert after_attempt(rules, Outcome.NO_ANSWER, 2, 3, at(10)) == AfterAttempt(False, at(10, 30))
    assert after_attempt(rules, Outcome.NO_ANSWER, 3, 3, at(10)).finished
    # A retry that would fall in quiet hours waits for the morning.
    assert after_attempt(rules, Outcome.NO_ANSWER, 1, 3, at(20, 45)).next_try_at == at(8, day=4)
