"""Hot issues over the work orders in the caller's scope, for a window of time.

A run reads the orders of the window and of the ``BASELINE_DAYS`` before it (the usual
level), clusters the window's orders by topic (``clustering.cluster``), counts each cluster's
orders per day in the window and in the baseline, and tests both the clusters and every
category × district pair for a spike (``spikes``). Time runs in 24-hour slots ending at the
window's end, so "the last 24 hours" and "the last 7 days" are windows like any other.

Scope is ``orders.scope.visible_orders``: the centre, leaders and auditors see the whole city,
a sub-centre its district (and what was dispatched to it), a department its own orders.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.core.errors import Forbidden, InvalidInput
from hotline.core.roles import Role
from hotline.directory.models import Category, District, OrderType, User
from hotline.insight import clustering, spikes
from hotline.insight.models import OrderTerms
from hotline.insight.terms import do_index_terms, index_missing, words_for  # noqa: F401 - here too
from hotline.orders.disclosure import Disclosure
from hotline.orders.models import Order
from hotline.orders.scope import sees_everything, sees_hidden_citizens, visible_orders

WINDOW_DAYS = (1, 7, 30)
BASELINE_DAYS = 28
MAX_RANGE_DAYS = 92
DAY = dt.timedelta(days=1)
# Roles that may open hot issues (each within its scope). Department handlers work their own
# queue; their department's administrator follows the department's hot issues.
VIEWER_ROLES = frozenset({Role.AGENT, Role.MONITOR, Role.CENTRE_ADMIN, Role.LEADER,
                          Role.AUDITOR, Role.DEPT_ADMIN})


def may_view_hot_issues(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.role in VIEWER_ROLES and (sees_everything(user) or user.unit is not None)


def scope_label(user: User) -> str:
    """'city', 'district' or 'unit': how much of the city the caller's figures cover."""
    if sees_everything(user):
        return "city"
    if user.unit is not None and user.unit.district_id and user.unit.kind == "subcentre":
        return "district"
    return "unit"


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start) / DAY))

    @property
    def baseline_start(self) -> dt.datetime:
        return self.start - BASELINE_DAYS * DAY

    @property
    def chart_origin(self) -> dt.datetime:
        """Local midnight of the window's first day: trends are counted per calendar day, so
        today's orders are on today's bar even when the window is "the last 7 × 24 hours"."""
        local = timezone.localtime(self.start)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    @property
    def chart_days(self) -> int:
        """Calendar days the window touches (one more than ``days`` for a relative window)."""
        last = timezone.localtime(self.end - dt.timedelta(microseconds=1)).date()
        return max(1, (last - self.chart_origin.date()).days + 1)

    def day_starts(self) -> list[dt.datetime]:
        origin = self.chart_origin
        return [origin + k * DAY for k in range(self.chart_days)]


def window_for(*, days: int | None = None, date_from: dt.date | None = None,
               date_to: dt.date | None = None, now: dt.datetime | None = None) -> Window:
    """The last ``days`` (1, 7 or 30) up to now, or whole local days from..to (inclusive)."""
    now = now or timezone.now()
    if date_from is not None or date_to is not None:
        if date_from is None or date_to is None:
            field_name = "date_from" if date_from is None else "date_to"
            raise InvalidInput(_("A date range needs both a start and an end date."),
                               field_name)
        if date_to < date_from:
            raise InvalidInput(_("The end date is before the start date."), "date_to")
        if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
            raise InvalidInput(_("A date range covers at most %(days)s days.")
                               % {"days": MAX_RANGE_DAYS}, "date_to")
        if date_from > timezone.localdate(now):
            raise InvalidInput(_("The start date is in the future."), "date_from")
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(date_from, dt.time(), tzinfo=tz)
        end = dt.datetime.combine(date_to + DAY, dt.time(), tzinfo=tz)
        return Window(start=start, end=end)
    days = 7 if days is None else days
    if days not in WINDOW_DAYS:
        raise InvalidInput(f"days must be one of {', '.join(map(str, WINDOW_DAYS))}", "days")
    return Window(start=now - days * DAY, end=now)


@dataclass
class Sample:
    number: str
    title: str
    created_at: dt.datetime
    district: str


@dataclass
class HotIssue:
    label: str
    terms: list[str]
    title: str  # the most central order's title
    count: int
    districts: list[tuple[str, int]]
    places: list[tuple[str, int]]
    categories: list[tuple[str, int]]
    trend: list[int]  # orders per day of the window, oldest first
    baseline_per_day: float
    spike: spikes.Spike | None
    samples: list[Sample]
    cohesion: float


@dataclass
class AreaSpike:
    category: str
    district: str
    spike: spikes.Spike
    trend: list[int]


@dataclass
class Report:
    window: Window
    scope: str
    orders: int  # in the window
    baseline_orders: int
    issues: list[HotIssue]
    area_spikes: list[AreaSpike]
    day_starts: list[dt.datetime]
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def cluster_spikes(self) -> list[HotIssue]:
        return [i for i in self.issues if i.spike is not None]

    @property
    def spike_count(self) -> int:
        return len(self.cluster_spikes) + len(self.area_spikes)


def _category_filter(code: str) -> Q:
    category = Category.objects.filter(code=code).first()
    if category is None:
        raise InvalidInput(f"no category {code!r}", "category")
    # The catalogue has three levels: a category covers its children and grandchildren.
    return (Q(category=category) | Q(category__parent=category)
            | Q(category__parent__parent=category))


def scoped_orders(user: User, window: Window, *, district: str = "", category: str = "") -> Any:
    if not may_view_hot_issues(user):
        raise Forbidden("hot issues are for the centre, leaders, auditors, sub-centres and "
                        "department administrators")
    qs = Order.objects.filter(created_at__gte=window.baseline_start, created_at__lt=window.end)
    if district:
        found = District.objects.filter(code=district).first()
        if found is None:
            raise InvalidInput(f"no district {district!r}", "district")
        qs = qs.filter(district=found)
    if category:
        qs = qs.filter(_category_filter(category))
    return visible_orders(user, qs)


def _days(times: np.ndarray, origin: dt.datetime) -> np.ndarray:
    return np.floor_divide(times - origin.timestamp(), 86400).astype(np.int64)


def _top(counter: Counter[str], n: int = 3) -> list[tuple[str, int]]:
    return [(k, v) for k, v in counter.most_common(n) if k]


def hot_issues(user: User, window: Window, *, district: str = "", category: str = "",
               limit: int = 20, samples: int = 5) -> Report:
    """The window's hot issues in the caller's scope, largest first, with spikes: counted from
    the standing topics (``topics``) when they reach back to the window's baseline, else
    clustered for this view."""
    from hotline.insight import topic_report

    qs = scoped_orders(user, window, district=district, category=category)
    if topic_report.may_answer(window):
        return topic_report.report(user, qs, window, scope=scope_label(user), limit=limit,
                                   samples=samples)
    return clustered_for_view(user, qs, window, limit=limit, samples=samples)


def clustered_for_view(user: User, qs: Any, window: Window, *, limit: int = 20,
                       samples: int = 5) -> Report:
    """The hot issues of ``qs`` clustered for this view alone (a window older than the
    standing topics' horizon): seconds for a month of a big city."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    indexed = index_missing(qs)
    timings["index_ms"] = (time.perf_counter() - started) * 1000
    # Ids, not names: joining the district and category tables for every row cost more than
    # mapping the few distinct ids afterwards.
    raw = list(qs.order_by("created_at", "id").values_list(
        "id", "created_at", "district_id", "category_id", "address", "terms__features"))
    districts = dict(District.objects.values_list("id", "name"))
    categories = dict(Category.objects.values_list("id", "name"))
    rows = [(oid, at, districts.get(d, ""), categories.get(c, ""), address, features)
            for oid, at, d, c, address, features in raw]
    timings["load_ms"] = (time.perf_counter() - started) * 1000 - timings["index_ms"]
    times = np.array([r[1].timestamp() for r in rows], dtype=np.float64)
    in_window = times >= window.start.timestamp()
    window_idx = np.flatnonzero(in_window)
    base_idx = np.flatnonzero(~in_window)
    docs = [clustering.decode(bytes(r[5] or b"")) for r in rows]
    t0 = time.perf_counter()

    def words_of(indices: list[int]) -> dict[int, list[str]]:
        ids = {rows[window_idx[i]][0]: i for i in indices}
        return {ids[oid]: words for oid, words in naming_words(user, list(ids)).items()}

    clusters = clustering.cluster([docs[i] for i in window_idx],
                                  baseline=[docs[i] for i in base_idx],
                                  label_top=limit, words_of=words_of)
    timings["cluster_ms"] = (time.perf_counter() - t0) * 1000
    day_of = _days(times, window.start)  # 0..days-1 in the window, negative in the baseline
    chart_day = _days(times, window.chart_origin)  # the calendar day, for the trends
    base_day = _days(times, window.baseline_start)
    shown = clusters[:limit]
    numbers = _samples([rows[window_idx[m]][0] for c in shown for m in c.members[:samples]],
                       user)
    issues = []
    for c in shown:
        member_rows = [rows[window_idx[m]] for m in c.members]
        trend = np.bincount(chart_day[window_idx[c.members]],
                            minlength=window.chart_days)[:window.chart_days]
        baseline_daily = np.bincount(base_day[base_idx[c.baseline]] if c.baseline else
                                     np.zeros(0, dtype=np.int64), minlength=BASELINE_DAYS)
        spike = spikes.spike_of(c.label, c.size, baseline_daily[:BASELINE_DAYS].tolist(),
                                window.days)
        issues.append(HotIssue(
            label=c.label, terms=c.terms,
            title=numbers[member_rows[0][0]].title if member_rows[0][0] in numbers else "",
            count=c.size,
            districts=_top(Counter(r[2] or "" for r in member_rows)),
            places=[p for p in _top(Counter(r[4] for r in member_rows)) if p[1] > 1],
            categories=_top(Counter(r[3] or "" for r in member_rows)),
            trend=trend.tolist(), baseline_per_day=round(len(c.baseline) / BASELINE_DAYS, 2),
            spike=spike, cohesion=round(c.cohesion, 3),
            samples=[numbers[r[0]] for r in member_rows[:samples] if r[0] in numbers]))
    area = _area_spikes(rows, day_of, base_day, window.days)
    timings["total_ms"] = (time.perf_counter() - started) * 1000
    timings = {k: round(v, 1) for k, v in timings.items()}
    timings["indexed_orders"] = indexed
    return Report(window=window, scope=scope_label(user), orders=len(window_idx),
                  baseline_orders=len(base_idx), issues=issues, area_spikes=area,
                  day_starts=window.day_starts(), timings_ms=timings)


def _samples(order_ids: Sequence[int], user: User) -> dict[int, Sample]:
    """Sample orders as ``user`` may read them (a hidden reporter's name blanked in titles)."""
    seen = Disclosure(user)
    found = Order.objects.filter(pk__in=list(order_ids)).select_related("citizen", "district")
    return {o.pk: Sample(o.number, seen.order_title(o), o.created_at,
                         o.district.name if o.district else "") for o in found}


def naming_words(user: User, order_ids: Sequence[int]) -> dict[int, list[str]]:
    """The stored words of orders that may name an issue for ``user``: never those of a 举报 or
    a confidential order the viewer may not know the citizen of (their words can spell the
    reporter's name)."""
    rows = OrderTerms.objects.filter(order_id__in=list(order_ids))
    if not sees_hidden_citizens(user):
        rows = rows.exclude(Q(order__confidential=True) | Q(order__type=OrderType.REPORT))
    return {oid: words.replace("\t", " ").split()
            for oid, words in rows.values_list("order_id", "words")}


def _area_spikes(rows: Sequence[tuple[Any, ...]], day_of: np.ndarray, base_day: np.ndarray,
                 days: int) -> list[AreaSpike]:
    """Category × district counts of the window against their own daily baseline."""
    series: dict[tuple[str, str], np.ndarray] = {}
    for r, d, b in zip(rows, day_of.tolist(), base_day.tolist(), strict=True):
        if not r[3] or not r[2]:
            continue
        counts = series.get((r[3], r[2]))
        if counts is None:
            counts = series[(r[3], r[2])] = np.zeros(BASELINE_DAYS + days, dtype=np.int64)
        slot = BASELINE_DAYS + d if d >= 0 else b
        if 0 <= slot < len(counts):
            counts[slot] += 1
    found = spikes.find_spikes({k: v.tolist() for k, v in series.items()}, days)
    return [AreaSpike(category=s.key[0], district=s.key[1], spike=s,  # type: ignore[index]
                      trend=series[s.key][BASELINE_DAYS:].tolist())  # type: ignore[index]
            for s in found]
