"""The standard order reports (工单统计), computed from ``OrderDailyRollup`` in the viewer's
scope: volumes, the handling rates and the overdue/extension figures, each grouped by period
(day, week, month) or by type, channel, district, category or lead unit.

Scope, on the rollup's own columns: the centre, leaders and auditors see the whole city; a
sub-centre its district plus what its units lead; a department (or street) the orders its
units lead (主办). Co-handlers (协办) are not counted for a unit: every order counts once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet, Sum
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from hotline.core.errors import InvalidInput
from hotline.directory.models import Category, District, OrderType, Unit, UnitKind
from hotline.insight.models import OrderDailyRollup
from hotline.insight.order_measures import (
    MEASURE_BY_KEY,
    MEASURE_KEYS,
    RATE_BY_KEY,
    grain_for,
    rate,
)
from hotline.insight.reports import (
    ChartKind,
    Column,
    ColumnKind,
    ReportDefinition,
    ReportQuery,
    ReportResult,
    register,
)
from hotline.insight.services import VIEWER_ROLES
from hotline.orders.models import Channel
from hotline.orders.scope import NO_ORDER_ROLES, sees_everything

FILTERS = ("type", "channel", "district", "category", "unit")
PERIODS = ("day", "week", "month")
GROUPS = ("day", "week", "month", "unit", "district", "category", "type", "channel")
GROUP_LABELS = {
    "day": _("Day"), "week": _("Week"), "month": _("Month"), "unit": _("Lead unit"),
    "district": _("District"), "category": _("Category"), "type": _("Type"),
    "channel": _("Channel"),
}
GROUP_COLUMN = {"unit": "unit_id", "district": "district_id", "category": "category_id",
                "type": "type", "channel": "channel"}


def rollup_scope(viewer: Any) -> Q | None:
    """The rollup rows (or facts: same columns) ``viewer`` may count; None: everything."""
    if getattr(viewer, "is_superuser", False) or sees_everything(viewer):
        return None
    if viewer.role in NO_ORDER_ROLES or viewer.unit is None:
        return Q(pk__in=[])
    condition = Q(unit_id__in=viewer.unit.descendant_ids())
    if viewer.unit.kind == UnitKind.SUBCENTRE and viewer.unit.district_id:
        condition |= Q(district_id=viewer.unit.district_id)
    return condition


def filter_condition(filters: Mapping[str, str]) -> Q:
    """The report filters (codes, as a person types them) as a condition on rollup rows.
    A category or unit covers everything below it."""
    q = Q()
    if value := filters.get("type"):
        if value not in OrderType.values:
            raise InvalidInput(gettext_noop("Unknown order type."), field="type")
        q &= Q(type=value)
    if value := filters.get("channel"):
        if value not in Channel.values:
            raise InvalidInput(gettext_noop("Unknown channel."), field="channel")
        q &= Q(channel=value)
    if value := filters.get("district"):
        district = District.objects.filter(code=value).first()
        if district is None:
            raise InvalidInput(gettext_noop("Unknown district."), field="district")
        q &= Q(district_id=district.pk)
    if value := filters.get("category"):
        category = Category.objects.filter(code=value).first()
        if category is None:
            raise InvalidInput(gettext_noop("Unknown category."), field="category")
        q &= Q(category_id__in=_category_tree(category.pk))
    if value := filters.get("unit"):
        unit = Unit.objects.filter(code=value).first()
        if unit is None:
            raise InvalidInput(gettext_noop("Unknown unit."), field="unit")
        q &= Q(unit_id__in=unit.descendant_ids())
    return q


def _category_tree(root: int) -> list[int]:
    ids, frontier = [root], [root]
    while frontier:
        frontier = list(Category.objects.filter(parent_id__in=frontier)
                        .values_list("pk", flat=True))
        ids.extend(frontier)
    return ids


FILTER_COLUMN = {"type": "type", "channel": "channel", "district": "district_id",
                 "category": "category_id", "unit": "unit_id"}


def _first_of_next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def span_condition(date_from: dt.date, date_to: dt.date, *, months: bool) -> Q:
    """The rollup rows that cover [date_from, date_to] exactly once: with ``months``, the month
    rows of the months inside the range and the day rows of the days outside them; else only
    day rows (a grouping by day or week needs them)."""
    days = Q(period=OrderDailyRollup.Period.DAY)
    whole = Q(days, day__gte=date_from, day__lte=date_to)
    if not months:
        return whole
    first = date_from if date_from.day == 1 else _first_of_next_month(date_from)
    end = (date_to + dt.timedelta(days=1)).replace(day=1)  # whole months: [first, end)
    if first >= end:  # no whole month inside
        return whole
    return (Q(period=OrderDailyRollup.Period.MONTH, day__gte=first, day__lt=end)
            | Q(days, day__gte=date_from, day__lt=first)
            | Q(days, day__gte=end, day__lte=date_to))


def scoped_rows(viewer: Any, query: ReportQuery, *, months: bool = True
                ) -> QuerySet[OrderDailyRollup]:
    """The rollup rows of the query's grain, range, scope and filters (month rows where the
    range covers whole months, unless ``months`` is False)."""
    scope = rollup_scope(viewer)
    needed = {FILTER_COLUMN[f] for f in query.filters if f in FILTER_COLUMN}
    if query.group_by in GROUP_COLUMN:
        needed.add(GROUP_COLUMN[query.group_by])
    if scope is not None:
        needed |= {"unit_id", "district_id"}
    qs = OrderDailyRollup.objects.filter(
        span_condition(query.date_from, query.date_to, months=months),
        grain=grain_for(needed))
    if scope is not None:
        qs = qs.filter(scope)
    return qs.filter(filter_condition(query.filters))


def _bucket(day: dt.date, period: str) -> tuple[dt.date, dt.date]:
    """The period containing ``day``: (first day, last day)."""
    if period == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=6)
    if period == "month":
        start = day.replace(day=1)
        following = (start + dt.timedelta(days=32)).replace(day=1)
        return start, following - dt.timedelta(days=1)
    return day, day


def _period_label(start: dt.date, period: str) -> str:
    if period == "week":
        year, week, _day = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return start.strftime("%Y-%m")
    return start.isoformat()


@dataclass
class Group:
    label: str
    key: str  # matches the same group in another period ("" for periods: never the same)
    sums: dict[str, int]
    drill: dict[str, str]  # drill-down parameters of this group


def _sums(row: Mapping[str, Any]) -> dict[str, int]:
    return {m: int(row.get(m) or 0) for m in MEASURE_KEYS}


def grouped(viewer: Any, query: ReportQuery) -> list[Group]:
    """The rollup summed per group of the query, in display order."""
    group = query.group_by or "day"
    # A month row falls in one month (and in no one day or week): only days and weeks need
    # the day rows throughout.
    qs = scoped_rows(viewer, query, months=group not in ("day", "week"))
    sums = {m: Sum(m) for m in MEASURE_KEYS}
    if group in PERIODS:
        buckets: dict[dt.date, dict[str, int]] = {}
        ends: dict[dt.date, dt.date] = {}
        for row in qs.values("day").annotate(**sums).order_by("day"):
            start, end = _bucket(row["day"], group)
            start, end = max(start, query.date_from), min(end, query.date_to)
            ends[start] = end
            target = buckets.setdefault(start, dict.fromkeys(MEASURE_KEYS, 0))
            for m, v in _sums(row).items():
                target[m] += v
        return [Group(_period_label(start, group), "", buckets[start],
                      {"from": start.isoformat(), "to": ends[start].isoformat()})
                for start in sorted(buckets)]
    column = GROUP_COLUMN[group]
    rows = list(qs.values(column).annotate(**sums).order_by(column))
    names = _names(group, [r[column] for r in rows])
    out = [Group(names.get(r[column], str(r[column])), str(r[column]), _sums(r),
                 {column: str(r[column])}) for r in rows]
    out.sort(key=lambda g: (-g.sums["received"], g.label))
    return out


def _names(group: str, values: Sequence[Any]) -> dict[Any, str]:
    none = str(_("(none)"))
    if group == "unit":
        found = dict(Unit.objects.filter(pk__in=values).values_list("pk", "name"))
    elif group == "district":
        found = dict(District.objects.filter(pk__in=values).values_list("pk", "name"))
    elif group == "category":
        found = dict(Category.objects.filter(pk__in=values).values_list("pk", "name"))
    elif group == "type":
        return {v: str(OrderType(v).label) if v in OrderType.values else v for v in values}
    elif group == "channel":
        return {v: str(Channel(v).label) if v in Channel.values else v for v in values}
    else:
        found = {}
    return {**{0: none}, **found}


def drill_url(query: ReportQuery, params: Mapping[str, str]) -> str:
    """The order list behind a row (the drill-down page adds ``measure=``)."""
    try:
        base = reverse("insight:order_drill")
    except NoReverseMatch:  # a project without the pages: the numbers still compute
        return ""
    merged = {"from": query.date_from.isoformat(), "to": query.date_to.isoformat(),
              **query.filters, **params}
    return f"{base}?{urlencode(merged)}"


def _value(key: str, sums: Mapping[str, int]) -> int | float | None:
    if key in RATE_BY_KEY:
        r = RATE_BY_KEY[key]
        return rate(sums[r.numerator], sums[r.denominator])
    return sums[key]


def _columns(group: str, keys: Sequence[str]) -> list[Column]:
    cols = [Column("label", GROUP_LABELS.get(group, group), ColumnKind.DIMENSION)]
    for key in keys:
        if key in RATE_BY_KEY:
            cols.append(Column(key, RATE_BY_KEY[key].label, ColumnKind.RATE))
        else:
            cols.append(Column(key, MEASURE_BY_KEY[key].label, ColumnKind.COUNT))
    return cols


def order_report(keys: Sequence[str]) -> Callable[[Any, ReportQuery], ReportResult]:
    """A compute function showing ``keys`` (measures and rates) per group."""

    def compute(viewer: Any, query: ReportQuery) -> ReportResult:
        groups = grouped(viewer, query)
        rows: list[dict[str, Any]] = []
        drill: dict[int, str] = {}
        totals = dict.fromkeys(MEASURE_KEYS, 0)
        for i, g in enumerate(groups):
            row: dict[str, Any] = {"label": g.label, "_key": g.key}
            row.update({k: _value(k, g.sums) for k in keys})
            rows.append(row)
            drill[i] = drill_url(query, g.drill)
            for m, v in g.sums.items():
                totals[m] += v
        total_row: dict[str, Any] = {"label": str(_("Total"))}
        total_row.update({k: _value(k, totals) for k in keys})
        drill[-1] = drill_url(query, {})
        chart = ChartKind.LINE if query.group_by in PERIODS else ChartKind.BAR
        return ReportResult(columns=_columns(query.group_by, keys), rows=rows, totals=total_row,
                            drill=drill, chart=chart,
                            notes=[_definition(k) for k in keys])

    return compute


def _definition(key: str) -> str:
    if key in RATE_BY_KEY:
        r = RATE_BY_KEY[key]
        return f"{r.label}: {r.definition}"
    m = MEASURE_BY_KEY[key]
    return f"{m.label}: {m.definition}"


VOLUME = register(ReportDefinition(
    name="order-volume",
    title=_("Order volume"),
    description=_("Orders accepted, answered directly, dispatched, closed and overdue, by period, "
                  "type, channel, district, category or lead unit."),
    compute=order_report(("received", "direct", "dispatched", "closed", "overdue")),
    roles=VIEWER_ROLES, filters=FILTERS, group_by=GROUPS, chart=ChartKind.LINE,
    chart_columns=("received", "dispatched"), section="orders",
))

RATES_REPORT = register(ReportDefinition(
    name="order-rates",
    title=_("Handling rates"),
    description=_("Direct resolution, timely sign-for, on-time completion, call-back, return, "
                  "reopen and satisfaction rates."),
    compute=order_report(("received", "dispatched", "direct_rate", "sign_rate", "on_time_rate",
                          "callback_rate", "return_rate", "reopen_rate", "satisfaction_rate")),
    roles=VIEWER_ROLES, filters=FILTERS,
    group_by=("unit", "district", "category", "type", "channel", "day", "week", "month"),
    chart=ChartKind.BAR, chart_columns=("sign_rate", "on_time_rate"), section="orders",
))

OVERDUE = register(ReportDefinition(
    name="order-overdue",
    title=_("Overdue, extensions and returns"),
    description=_("Orders overdue, extensions granted, orders returned and reopened."),
    compute=order_report(("dispatched", "overdue", "extensions", "returned", "reopened")),
    roles=VIEWER_ROLES, filters=FILTERS,
    group_by=("unit", "district", "category", "type", "channel", "day", "week", "month"),
    chart=ChartKind.BAR, chart_columns=("overdue", "extensions", "returned"), section="orders",
))
