"""When the hotline may call a citizen, as data and pure functions (no Django, no asyncio).

Quiet hours (no call between 21:00 and 08:00 by default, in the citizen's local time), a cap
of attempts per number and day, and what follows each outcome: try again after a pause that
depends on the outcome, or stop. The services apply these rules when a call is queued, when
a gateway claims one and when an attempt ends; the rules themselves are tested alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Outcome(StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"  # 486/600
    NO_ANSWER = "no_answer"  # rang until our ring timeout, or 408/480
    REJECTED = "rejected"  # 603 declined, 403/404/484: the number or the citizen says no
    FAILED = "failed"  # the trunk or the network failed: 5xx, no answer from the trunk


# What each outcome means for the next attempt: None = no further attempt.
_DEFAULT_RETRY: Mapping[Outcome, dt.timedelta | None] = MappingProxyType({
    Outcome.ANSWERED: None,
    Outcome.BUSY: dt.timedelta(minutes=10),
    Outcome.NO_ANSWER: dt.timedelta(minutes=30),
    Outcome.REJECTED: None,
    Outcome.FAILED: dt.timedelta(minutes=5),
})


@dataclass(frozen=True)
class CallingRules:
    quiet_start: dt.time = dt.time(21, 0)  # no call from this local time ...
    quiet_end: dt.time = dt.time(8, 0)  # ... until this one (may wrap midnight)
    daily_cap: int = 3  # attempts to one number per local day, every purpose together
    max_attempts: int = 3  # per outbound call unless the call says otherwise
    retry_after: Mapping[Outcome, dt.timedelta | None] = field(
        default_factory=lambda: _DEFAULT_RETRY)

    def in_quiet_hours(self, local: dt.datetime) -> bool:
        t = local.timetz().replace(tzinfo=None)
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= t < self.quiet_end
        return t >= self.quiet_start or t < self.quiet_end

    def next_allowed(self, local: dt.datetime) -> dt.datetime:
        """``local`` if calling is allowed then, else the end of these quiet hours."""
        if not self.in_quiet_hours(local):
            return local
        end = local.replace(hour=self.quiet_end.hour, minute=self.quiet_end.minute,
                            second=0, microsecond=0)
        if end <= local:
            end += dt.timedelta(days=1)
        return end


@dataclass(frozen=True)
class AfterAttempt:
    finished: bool  # no further attempt
    next_try_at: dt.datetime | None  # when finished is False


def after_attempt(rules: CallingRules, outcome: Outcome, attempts: int, max_attempts: int,
                  local_now: dt.datetime) -> AfterAttempt:
    """What follows an attempt that ended with ``outcome`` (``attempts`` made so far)."""
    pause = rules.retry_after.get(outcome)
    if pause is None or attempts >= max_attempts:
        return AfterAttempt(True, None)
    return AfterAttempt(False, rules.next_allowed(local_now + pause))
