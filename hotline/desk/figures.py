"""The agent's own figures for today, shown on the idle desk (no call, no order in progress).

Only the agent's own work counts, so the figures are in the agent's scope by construction:
calls they answered, orders they registered, their promised call backs. "Today" is the local
calendar day (``TIME_ZONE``), from midnight to now.

- calls handled: calls the agent answered today;
- orders created: work orders the agent registered today (on a call or not);
- average handle time: talk time (answer to hang-up, holds included) plus the agent's actual
  wrap-up time (from the append-only state log, so a wrap-up cut short by "ready now" counts
  as short), over the calls answered today that have ended; ``None`` before the first one;
- call backs due: the agent's promised call backs not yet made that are due by the end of
  today, overdue ones included (and counted apart).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from hotline.contactcentre.callbacks import open_callbacks
from hotline.contactcentre.models import QueuedCall, State, StateChange
from hotline.directory.models import User
from hotline.orders.models import Order


@dataclass(frozen=True)
class DayFigures:
    calls: int
    orders: int
    ended_calls: int
    handle_s: float  # talk plus wrap-up of the ended calls, in seconds
    callbacks_due: int
    callbacks_overdue: int

    @property
    def average_handle_s(self) -> float | None:
        return self.handle_s / self.ended_calls if self.ended_calls else None


def day_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight of ``now``'s day and the next midnight, as aware datetimes."""
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def wrap_up_seconds(agent: User, start: dt.datetime, now: dt.datetime) -> float:
    """Seconds the agent spent in wrap-up since ``start``: each entry into wrap-up lasts until
    the next state change (or until now if the agent is still in it)."""
    rows = list(StateChange.objects.filter(agent=agent, at__gte=start, at__lte=now)
                .order_by("at", "pk").values_list("at", "to_state"))
    total = 0.0
    for index, (at, to_state) in enumerate(rows):
        if to_state != State.WRAP_UP:
            continue
        until = rows[index + 1][0] if index + 1 < len(rows) else now
        total += max(0.0, (until - at).total_seconds())
    return total


def agent_day_figures(agent: User, now: dt.datetime | None = None) -> DayFigures:
    when = now or timezone.now()
    start, end = day_bounds(when)
    calls = QueuedCall.objects.filter(agent=agent, answered_at__gte=start, answered_at__lte=when)
    ended = list(calls.filter(ended_at__isnull=False).values_list("answered_at", "ended_at"))
    talk = sum(max(0.0, (ended_at - answered).total_seconds()) for answered, ended_at in ended
               if answered is not None and ended_at is not None)
    due = open_callbacks(agent).filter(due_at__lt=end)
    return DayFigures(
        calls=calls.count(),
        orders=Order.objects.filter(created_by=agent, created_at__gte=start,
                                    created_at__lte=when).count(),
        ended_calls=len(ended),
        handle_s=talk + (wrap_up_seconds(agent, start, when) if ended else 0.0),
        callbacks_due=due.count(),
        callbacks_overdue=due.filter(due_at__lte=when).count(),
    )


def clock_text(seconds: float | None) -> str:
    """m:ss (or h:mm:ss) for a duration; an em dash when there is none yet."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def figures_context(user: User) -> dict[str, Any]:
    """What ``desk/_figures.html`` shows."""
    now = timezone.now()
    figures = agent_day_figures(user, now)
    return {"figures": figures, "figures_at": now,
            "average_handle": clock_text(figures.average_handle_s)}
