"""The big screen's figures (大屏, the centre's hall at 1920 x 1080): today's calls and orders,
the service level, agents by state, today's orders per district for the map, the hot issues.

Today's calls come from the rollups for the hours the last refresh covered, and from the
calls themselves only for the hours since (at most the hour or two between refreshes, read
through the (queue, queued_at) bounds), so the screen is exact and live however long the day.
Agents by state and the calls waiting are the wallboard's own figures (``contactcentre.stats``).
The whole is a plain dict for the websocket (``as_message``): the page draws it with its own
translated labels."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from hotline.contactcentre import stats
from hotline.core.roles import Role
from hotline.directory.models import District, User
from hotline.insight import agent_time, call_rollups
from hotline.insight.call_stats import SUMS, CallTotals
from hotline.insight.city_map import DistrictVolume
from hotline.insight.models import CallHour
from hotline.insight.services import window_for
from hotline.insight.snapshots import report_for
from hotline.orders.models import Order

SCREEN_ROLES = frozenset({Role.CENTRE_ADMIN, Role.MONITOR, Role.LEADER})
HOT_ISSUES = 6


@dataclass(frozen=True)
class HotIssueLine:
    title: str
    orders: int


@dataclass(frozen=True)
class ScreenFigures:
    at: dt.datetime
    calls: CallTotals
    waiting: int
    longest_wait_s: float | None
    agents: stats.AgentCounts
    orders_received: int
    orders_closed: int
    districts: list[DistrictVolume]
    hot_issues: list[HotIssueLine] = field(default_factory=list)

    def as_message(self) -> dict[str, Any]:
        calls = self.calls
        most = max((d.orders for d in self.districts), default=0)
        return {
            "type": "figures",
            "at": timezone.localtime(self.at).strftime("%H:%M:%S"),
            "calls": {"offered": calls.offered, "answered": calls.answered,
                      "abandoned": calls.abandoned, "waiting": self.waiting,
                      "connection_rate": _percent(calls.connection_rate),
                      "service_level": _percent(calls.service_level),
                      "fast_answer_rate": _percent(calls.fast_answer_rate),
                      "asa": _seconds(calls.average_wait_s),
                      "longest_wait": _seconds(self.longest_wait_s),
                      "meets_target": calls.meets_connection_target},
            "orders": {"received": self.orders_received, "closed": self.orders_closed},
            "agents": {k: v for k, v in asdict(self.agents).items() if isinstance(v, int)},
            "districts": [{"code": d.code, "orders": d.orders, "level": d.level(most)}
                          for d in self.districts],
            "hot_issues": [{"title": h.title, "orders": h.orders} for h in self.hot_issues],
        }


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    whole = round(value)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def calls_today(now: dt.datetime) -> CallTotals:
    """Today's calls: the rolled-up hours before the last refresh's hour, the rest live."""
    midnight = stats.local_day_start(now)
    until = call_rollups.rolled_until()
    cut = midnight if until is None else min(max(agent_time.floor_hour(until), midnight), now)
    rolled = CallHour.objects.filter(hour__gte=midnight, hour__lt=cut) \
        .aggregate(**{name: Sum(name) for name in SUMS})
    totals = CallTotals(**{name: rolled[name] or 0 for name in SUMS})
    for row in call_rollups.call_sums(cut, now + dt.timedelta(microseconds=1)).values():
        totals += CallTotals(**{name: row.get(name, 0) for name in SUMS})  # type: ignore[arg-type]
    return totals


def district_volumes(now: dt.datetime) -> list[DistrictVolume]:
    """Orders received today per district (every district, none too), from the (created_at)
    index: one day of orders."""
    midnight = stats.local_day_start(now)
    counts = dict(Order.objects.filter(created_at__gte=midnight, created_at__lte=now)
                  .values("district_id").annotate(n=Count("id")).order_by()
                  .values_list("district_id", "n"))
    return [DistrictVolume(code, name, counts.get(pk, 0))
            for pk, code, name in District.objects.values_list("pk", "code", "name")]


def order_counts(now: dt.datetime) -> tuple[int, int]:
    """Orders received and closed since local midnight."""
    midnight = stats.local_day_start(now)
    received = Order.objects.filter(created_at__gte=midnight, created_at__lte=now).count()
    closed = Order.objects.filter(closed_at__gte=midnight, closed_at__lte=now).count()
    return received, closed


def hot_issue_lines(now: dt.datetime) -> list[HotIssueLine]:
    """The last day's hot issues, city-wide, from the snapshot the worker keeps fresh."""
    reader = User(username="big-screen", role=Role.LEADER, is_active=True)
    report = report_for(reader, window_for(days=1, now=now), now=now)
    return [HotIssueLine(issue.label or issue.title, issue.count)
            for issue in report.issues[:HOT_ISSUES]]


def screen_figures(now: dt.datetime | None = None, *, with_hot_issues: bool = True
                   ) -> ScreenFigures:
    now = now or timezone.now()
    waiting = stats.waiting_now(now)
    longest = max((w for _n, w in waiting.values() if w is not None), default=None)
    received, closed = order_counts(now)
    return ScreenFigures(
        at=now, calls=calls_today(now), waiting=sum(n for n, _w in waiting.values()),
        longest_wait_s=longest, agents=stats.agent_counts(), orders_received=received,
        orders_closed=closed, districts=district_volumes(now),
        hot_issues=hot_issue_lines(now) if with_hot_issues else [])
