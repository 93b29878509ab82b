"""Reuse a hot-issue report computed in the last few minutes for the same view.

The report depends on who asks only through their scope (the whole city, or a unit's orders),
so the key is the scope plus the window and the filters. A relative window ("the last 7 days")
moves with the clock: a report up to ``HOTLINE_HOT_ISSUES_REFRESH_SECONDS`` old stands for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import pickle

from django.conf import settings
from django.utils import timezone

from hotline.core.errors import Forbidden
from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.insight.models import HotIssueSnapshot
from hotline.insight.services import (
    WINDOW_DAYS,
    Report,
    Window,
    hot_issues,
    may_view_hot_issues,
    window_for,
)
from hotline.orders.scope import sees_everything

log = logging.getLogger("hotline.insight")

RELATIVE_SLACK = dt.timedelta(minutes=1)
STALE_AFTER = dt.timedelta(days=1)


def snapshot_key(user: User, window: Window, *, district: str, category: str, limit: int,
                 now: dt.datetime) -> str:
    scope = "city" if sees_everything(user) else f"unit:{user.unit_id}"
    if abs(now - window.end) <= RELATIVE_SLACK:
        span = f"last:{window.days}"
    else:
        span = f"range:{window.start.isoformat()}/{window.end.isoformat()}"
    return f"{scope}|{span}|{district}|{category}|{limit}"[:255]


def report_for(user: User, window: Window, *, district: str = "", category: str = "",
               limit: int = 20, now: dt.datetime | None = None) -> Report:
    """The same as ``services.hot_issues``, from a recent snapshot when there is one."""
    if not may_view_hot_issues(user):
        raise Forbidden("hot issues are for the centre, leaders, auditors, sub-centres and "
                        "department administrators")
    now = now or timezone.now()
    key = snapshot_key(user, window, district=district, category=category, limit=limit, now=now)
    fresh_since = now - dt.timedelta(seconds=settings.HOTLINE_HOT_ISSUES_REFRESH_SECONDS)
    stored = HotIssueSnapshot.objects.filter(key=key, computed_at__gte=fresh_since).first()
    if stored is not None:
        try:
            report: Report = pickle.loads(bytes(stored.report))  # noqa: S301 - written below
        except Exception:  # a report from an older version of the code: compute it again
            log.info("hot-issue snapshot %s unreadable; recomputing", key)
        else:
            report.timings_ms = {**report.timings_ms,
                                 "snapshot_age_s": round((now - stored.computed_at).total_seconds())}
            return report
    report = hot_issues(user, window, district=district, category=category, limit=limit)
    _store(key, report, now)
    return report


def _store(key: str, report: Report, now: dt.datetime) -> None:
    HotIssueSnapshot.objects.update_or_create(
        key=key, defaults={"computed_at": now, "report": pickle.dumps(report)})


def refresh_city_reports(now: dt.datetime | None = None) -> list[str]:
    """Compute the city-wide default views (last day, week and month, no filters) so the
    leaders and the centre never wait for them; the worker runs this every half refresh
    period. Returns the keys written."""
    now = now or timezone.now()
    # Not a stored account: a city-wide reader, which is all the report depends on.
    reader = User(username="hot-issue-refresh", role=Role.LEADER, is_active=True)
    keys = []
    for days in WINDOW_DAYS:
        window = window_for(days=days, now=now)
        report = hot_issues(reader, window)
        key = snapshot_key(reader, window, district="", category="", limit=20, now=now)
        _store(key, report, now)
        keys.append(key)
    # Every filter and date range makes a key of its own: drop those nobody asked for lately.
    HotIssueSnapshot.objects.filter(computed_at__lt=now - STALE_AFTER).delete()
    return keys
