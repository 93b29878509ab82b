"""A hot-issue report read from the standing topics (``hotline.insight.topics``): grouped counts
of the orders in the caller's window, scope and filters, with no clustering at view time.

The largest topics of the window are those with the most members in it; each is named from the
words of its most central members that the viewer may see (never from orders outside the
scope), its trend and usual level are its own members per day, and the category × district
spikes are counted by the database, one count per 24-hour slot.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.db.models import Count, Q, QuerySet
from scipy.sparse import csr_matrix

from hotline.directory.models import Category, District, User
from hotline.insight import clustering, spikes, topics
from hotline.insight.services import (
    BASELINE_DAYS,
    DAY,
    AreaSpike,
    HotIssue,
    Report,
    Window,
    _days,
    _samples,
    _top,
    naming_words,
)

NAMING_MEMBERS = 20


def _label(user: User, topic_id: int, member_ids: list[int]) -> list[str]:
    buckets, weights = topics.centroid_of(topic_id)
    if not len(buckets):
        return []
    words = naming_words(user, member_ids)
    member_words: list[Sequence[str]] = []
    member_words.extend(words[m] for m in member_ids if m in words)
    member_words = member_words[:NAMING_MEMBERS]
    row = csr_matrix((weights, (np.zeros(len(buckets), dtype=np.int64), np.arange(len(buckets)))),
                     shape=(1, len(buckets)))
    return clustering.top_terms_of(row, buckets, member_words, 3)


def report(user: User, qs: QuerySet[Any], window: Window, *, scope: str, limit: int,
           samples: int) -> Report:
    """The hot issues of ``qs`` (the scoped orders of the window and its baseline)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    done = topics.do_refresh(new_epoch_when_stale=False)
    timings["refresh_ms"] = (time.perf_counter() - started) * 1000
    in_window = Q(created_at__gte=window.start)
    totals = qs.aggregate(window=Count("id", filter=in_window),
                          baseline=Count("id", filter=~in_window))
    ranked = list(qs.filter(in_window, topic_member__isnull=False)
                  .values("topic_member__topic_id").annotate(n=Count("id"))
                  .filter(n__gte=2).order_by("-n", "topic_member__topic_id")[:limit])
    topic_ids = [r["topic_member__topic_id"] for r in ranked]
    members: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in (qs.filter(in_window, topic_member__topic_id__in=topic_ids)
                .order_by("-topic_member__similarity", "id")
                .values_list("topic_member__topic_id", "id", "created_at", "district_id",
                             "category_id", "address", "topic_member__similarity")):
        members[row[0]].append(row)
    usual: dict[int, list[float]] = defaultdict(list)
    for topic_id, at in (qs.filter(~in_window, topic_member__topic_id__in=topic_ids)
                         .values_list("topic_member__topic_id", "created_at")):
        usual[topic_id].append(at.timestamp())
    timings["count_ms"] = (time.perf_counter() - started) * 1000 - timings["refresh_ms"]
    districts = dict(District.objects.values_list("id", "name"))
    categories = dict(Category.objects.values_list("id", "name"))
    numbers = _samples([r[1] for t in topic_ids for r in members[t][:max(samples, 1)]], user)
    issues = []
    for topic_id in topic_ids:
        rows = members[topic_id]
        terms = _label(user, topic_id, [r[1] for r in rows[:NAMING_MEMBERS * 2]])
        label = clustering.label_of(terms)
        times = np.array([r[2].timestamp() for r in rows], dtype=np.float64)
        trend = np.bincount(_days(times, window.chart_origin),
                            minlength=window.chart_days)[:window.chart_days]
        base_times = np.array(usual[topic_id], dtype=np.float64)
        base_daily = np.bincount(_days(base_times, window.baseline_start),
                                 minlength=BASELINE_DAYS)[:BASELINE_DAYS]
        issues.append(HotIssue(
            label=label, terms=terms,
            title=numbers[rows[0][1]].title if rows[0][1] in numbers else "",
            count=len(rows),
            districts=_top(Counter(districts.get(r[3], "") for r in rows)),
            places=[p for p in _top(Counter(r[5] for r in rows)) if p[1] > 1],
            categories=_top(Counter(categories.get(r[4], "") for r in rows)),
            trend=trend.tolist(), baseline_per_day=round(len(base_times) / BASELINE_DAYS, 2),
            spike=spikes.spike_of(label, len(rows), base_daily.tolist(), window.days),
            cohesion=round(float(np.mean([r[6] for r in rows])), 3),
            samples=[numbers[r[1]] for r in rows[:samples] if r[1] in numbers]))
    area = area_spikes(qs, window, districts, categories)
    timings["total_ms"] = (time.perf_counter() - started) * 1000
    out: dict[str, float] = {k: round(v, 1) for k, v in timings.items()}
    out["topics_" + done] = 1
    return Report(window=window, scope=scope, orders=totals["window"],
                  baseline_orders=totals["baseline"], issues=issues, area_spikes=area,
                  day_starts=window.day_starts(), timings_ms=out)


def area_spikes(qs: QuerySet[Any], window: Window, districts: dict[int, str],
                categories: dict[int, str]) -> list[AreaSpike]:
    """Category × district counts per 24-hour slot (the baseline's, then the window's),
    counted by the database, against their own usual level."""
    slots = BASELINE_DAYS + window.days
    origin = window.baseline_start

    def slot(k: int) -> Q:
        low = origin + k * DAY
        return Q(created_at__gte=low, created_at__lt=low + DAY)

    counts = {f"s{k}": Count("id", filter=slot(k)) for k in range(slots)}
    series: dict[tuple[str, str], list[int]] = {}
    for row in (qs.filter(category__isnull=False, district__isnull=False)
                .values("category_id", "district_id").annotate(**counts)):
        key = (categories.get(row["category_id"], ""), districts.get(row["district_id"], ""))
        if not key[0] or not key[1]:
            continue
        values = [int(row[f"s{k}"]) for k in range(slots)]
        if key in series:  # two units of one name: one line, as the page shows names
            values = [a + b for a, b in zip(series[key], values, strict=True)]
        series[key] = values
    found = spikes.find_spikes({k: v for k, v in series.items()}, window.days)
    return [AreaSpike(category=s.key[0], district=s.key[1], spike=s,  # type: ignore[index]
                      trend=series[s.key][BASELINE_DAYS:])  # type: ignore[index]
            for s in found]


def may_answer(window: Window, now: dt.datetime | None = None) -> bool:
    return topics.covers(window.baseline_start, now)
