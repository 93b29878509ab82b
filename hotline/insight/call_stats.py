"""Reading the call rollups (``call_rollups``): the figures of any local date range, grouped
by queue, day, hour of the day or agent, the agents' state seconds and occupancy, IVR node
usage, SMS and outbound attempts. Every function reads rollup rows only (a year of a big
centre is a few hundred thousand of them), never the calls. Definitions: ``call_figures``.

Who sees what: the centre's administrators, shift monitors and leaders see the centre; an
agent sees their own calls and time (``agent_only``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from hotline.contactcentre import call_figures
from hotline.contactcentre.models import Queue
from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.insight import agent_time
from hotline.insight.call_rollups import day_span
from hotline.insight.models import (
    AgentCallDay,
    AgentStateDay,
    CallHour,
    IvrNodeDay,
    OutboundDay,
    SmsDay,
    StateHour,
)

CENTRE_ROLES = frozenset({Role.CENTRE_ADMIN, Role.MONITOR, Role.LEADER})
CALL_STATS_ROLES = CENTRE_ROLES | {Role.AGENT}  # agents: their own figures


def sees_centre(viewer: Any) -> bool:
    return bool(getattr(viewer, "is_superuser", False) or getattr(viewer, "role", "") in CENTRE_ROLES)


def may_view_call_stats(viewer: Any) -> bool:
    return bool(getattr(viewer, "is_authenticated", False) and viewer.is_active and (
        sees_centre(viewer) or viewer.role == Role.AGENT))


@dataclass(frozen=True)
class CallTotals:
    offered: int = 0
    answered: int = 0
    answered_fast: int = 0
    answered_in_target: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    overflowed: int = 0
    wait_sum_s: float = 0.0
    talked: int = 0
    talk_sum_s: float = 0.0
    hold_sum_s: float = 0.0
    wrapped: int = 0
    wrap_sum_s: float = 0.0

    def __add__(self, other: CallTotals) -> CallTotals:
        return CallTotals(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def connection_rate(self) -> float | None:
        return call_figures.connection_rate(self.answered, self.offered, self.short_abandoned)

    @property
    def meets_connection_target(self) -> bool | None:
        rate = self.connection_rate
        return None if rate is None else rate >= call_figures.CONNECTION_TARGET

    @property
    def fast_answer_rate(self) -> float | None:
        return call_figures.fast_answer_rate(self.answered_fast, self.offered,
                                             self.short_abandoned)

    @property
    def service_level(self) -> float | None:
        return call_figures.service_level(self.answered_in_target, self.answered, self.abandoned)

    @property
    def abandon_rate(self) -> float | None:
        return call_figures.abandon_rate(self.answered, self.abandoned)

    @property
    def average_wait_s(self) -> float | None:  # ASA
        return call_figures.mean(self.wait_sum_s, self.answered)

    @property
    def average_talk_s(self) -> float | None:
        return call_figures.mean(self.talk_sum_s, self.talked)

    @property
    def average_hold_s(self) -> float | None:
        return call_figures.mean(self.hold_sum_s, self.talked)

    @property
    def average_wrap_s(self) -> float | None:
        return call_figures.mean(self.wrap_sum_s, self.wrapped)

    @property
    def average_handle_s(self) -> float | None:
        """Talk + hold is inside talk (the call goes on); handling = talk + wrap-up."""
        talk, wrap = self.average_talk_s, self.average_wrap_s
        return None if talk is None else talk + (wrap or 0.0)


SUMS = tuple(f.name for f in fields(CallTotals))


def _totals(row: Mapping[str, Any]) -> CallTotals:
    return CallTotals(**{name: row[name] or 0 for name in SUMS})


class Grouping:
    QUEUE = "queue"
    DAY = "day"
    HOUR = "hour"  # hour of the day, 0-23 local
    AGENT = "agent"
    ALL = (QUEUE, DAY, HOUR, AGENT)


@dataclass(frozen=True)
class CallRow:
    key: Any  # queue id, date, hour 0-23 or agent id
    label: str
    totals: CallTotals


def call_rows(viewer: Any, date_from: dt.date, date_to: dt.date, group: str, *,
              queue_id: int | None = None, agent_id: int | None = None) -> list[CallRow]:
    """One row per queue / day / hour of day / agent over the local days [date_from, date_to].
    An agent's own view, an agent filter and the agent grouping read the agents' day rollup
    (which has no hours: grouping those by hour is refused by the caller)."""
    if not sees_centre(viewer):
        agent_id = viewer.pk
    tz = timezone.get_current_timezone()
    per_agent = agent_id is not None or group == Grouping.AGENT
    qs: QuerySet[Any]
    if per_agent:
        qs = AgentCallDay.objects.filter(day__gte=date_from, day__lte=date_to)
        if agent_id is not None:
            qs = qs.filter(agent_id=agent_id)
    else:
        start, end = day_span(date_from, date_to)
        qs = CallHour.objects.filter(hour__gte=start, hour__lt=end)
    if queue_id is not None:
        qs = qs.filter(queue_id=queue_id)
    if group == Grouping.QUEUE:
        qs = qs.values(k=F("queue_id"))
    elif group == Grouping.DAY:
        qs = qs.values(k=F("day")) if per_agent else qs.values(k=TruncDate("hour", tzinfo=tz))
    elif group == Grouping.HOUR:
        if per_agent:
            raise ValueError("the agents' rollup has no hours")
        qs = qs.values(k=ExtractHour("hour", tzinfo=tz))
    else:
        qs = qs.values(k=F("agent_id"))
    rows = list(qs.annotate(**{name: Sum(name) for name in SUMS}).order_by("k"))
    labels = _labels(group, [row["k"] for row in rows])
    return [CallRow(row["k"], labels.get(row["k"], str(row["k"])), _totals(row)) for row in rows]


def total(rows: Iterable[CallRow]) -> CallTotals:
    return sum((row.totals for row in rows), CallTotals())


def _labels(group: str, keys: list[Any]) -> dict[Any, str]:
    if group == Grouping.QUEUE:
        return {pk: name for pk, name in Queue.objects.filter(pk__in=keys)
                .values_list("pk", "name")}
    if group == Grouping.AGENT:
        return agent_names(keys)
    if group == Grouping.HOUR:
        return {h: f"{h:02d}:00" for h in keys}
    return {d: d.isoformat() for d in keys}


def agent_names(ids: Iterable[int]) -> dict[int, str]:
    return {pk: display or username for pk, display, username in
            User.objects.filter(pk__in=list(ids)).values_list("pk", "display_name", "username")}


# --- agents' time -------------------------------------------------------------------------

@dataclass(frozen=True)
class StateRow:
    key: Any  # agent id, date or hour 0-23
    label: str
    seconds: dict[str, float]

    @property
    def occupancy(self) -> float | None:
        return agent_time.occupancy(self.seconds)

    @property
    def signed_in_s(self) -> float:
        return sum(self.seconds.values())


def state_rows(viewer: Any, date_from: dt.date, date_to: dt.date, group: str
               ) -> list[StateRow]:
    """Seconds by state (and occupancy) per agent, per day, or per hour of the day (the whole
    centre); an agent sees only their own (per agent or per day)."""
    tz = timezone.get_current_timezone()
    if group == Grouping.HOUR:
        if not sees_centre(viewer):
            raise ValueError("the hours are the centre's")
        start, end = day_span(date_from, date_to)
        rows: list[dict[str, Any]] = list(
            StateHour.objects.filter(hour__gte=start, hour__lt=end)
            .annotate(k=ExtractHour("hour", tzinfo=tz)).values("k", "state")
            .annotate(s=Sum("seconds")).order_by())
    else:
        qs = AgentStateDay.objects.filter(day__gte=date_from, day__lte=date_to)
        if not sees_centre(viewer):
            qs = qs.filter(agent_id=viewer.pk)
        field = "day" if group == Grouping.DAY else "agent_id"
        rows = [{"k": r[field], "state": r["state"], "s": r["s"]}
                for r in qs.values(field, "state").annotate(s=Sum("seconds")).order_by()]
    found: dict[Any, dict[str, float]] = {}
    for row in rows:
        found.setdefault(row["k"], {})[row["state"]] = float(row["s"] or 0.0)
    group_labels = Grouping.AGENT if group not in (Grouping.DAY, Grouping.HOUR) else group
    labels = _labels(group_labels, list(found))
    return [StateRow(k, labels.get(k, str(k)), found[k]) for k in sorted(found)]


# --- IVR, SMS, outbound -------------------------------------------------------------------

@dataclass(frozen=True)
class IvrRow:
    node: str
    visits: int
    calls: int
    duration_sum_s: float
    by_outcome: dict[str, int]

    @property
    def average_s(self) -> float | None:
        return call_figures.mean(self.duration_sum_s, self.visits)


def ivr_rows(date_from: dt.date, date_to: dt.date) -> list[IvrRow]:
    """Per IVR node, most visited first. ``calls`` adds each day's distinct calls."""
    nodes: dict[str, dict[str, Any]] = {}
    for row in (IvrNodeDay.objects.filter(day__gte=date_from, day__lte=date_to)
                .values("node", "outcome")
                .annotate(v=Sum("visits"), c=Sum("calls"), s=Sum("duration_sum_s")).order_by()):
        node = nodes.setdefault(row["node"], {"visits": 0, "calls": 0, "secs": 0.0, "out": {}})
        node["visits"] += row["v"]
        node["calls"] += row["c"]
        node["secs"] += row["s"] or 0.0
        node["out"][row["outcome"]] = row["v"]
    return sorted((IvrRow(name, n["visits"], n["calls"], n["secs"], n["out"])
                   for name, n in nodes.items()), key=lambda r: (-r.visits, r.node))


def sms_counts(date_from: dt.date, date_to: dt.date, *, by_day: bool = False
               ) -> dict[Any, dict[tuple[str, str], int]]:
    """(day or None) -> (direction, status) -> messages."""
    out: dict[Any, dict[tuple[str, str], int]] = {}
    for row in (SmsDay.objects.filter(day__gte=date_from, day__lte=date_to)
                .values("day", "direction", "status").annotate(n=Sum("messages")).order_by()):
        bucket = out.setdefault(row["day"] if by_day else None, {})
        key = (row["direction"], row["status"])
        bucket[key] = bucket.get(key, 0) + row["n"]
    return out


def outbound_counts(date_from: dt.date, date_to: dt.date, group: str = "purpose"
                    ) -> dict[Any, dict[str, tuple[int, float]]]:
    """purpose (or day) -> outcome -> (attempts, talk seconds)."""
    field = "day" if group == Grouping.DAY else "purpose"
    out: dict[Any, dict[str, tuple[int, float]]] = {}
    for row in (OutboundDay.objects.filter(day__gte=date_from, day__lte=date_to)
                .values(field, "outcome").annotate(n=Sum("attempts"), t=Sum("talk_sum_s"))
                .order_by()):
        out.setdefault(row[field], {})[row["outcome"]] = (row["n"], float(row["t"] or 0.0))
    return out


def agents_with_time(viewer: Any, day: dt.date) -> list[int]:
    qs = AgentStateDay.objects.filter(day=day)
    if not sees_centre(viewer):
        qs = qs.filter(agent_id=viewer.pk)
    return sorted(set(qs.values_list("agent_id", flat=True)))



# --- one day's agent timelines ------------------------------------------------------------

MAX_TIMELINES = 40


def day_timelines(viewer: Any, day: dt.date, now: dt.datetime | None = None
                  ) -> dict[int, list[agent_time.Interval]]:
    """Agent id -> the day's state intervals (local day, up to now), from the state log of
    that day alone (the (at) index); at most ``MAX_TIMELINES`` agents, an agent only their own."""
    from hotline.insight.call_rollups import agent_intervals

    start, end = day_span(day, day)
    end = min(end, now or timezone.now())
    if end <= start:
        return {}
    found = agent_intervals(start, end)
    if not sees_centre(viewer):
        found = {k: v for k, v in found.items() if k == viewer.pk}
    busiest = sorted(found, key=lambda k: -sum(i.seconds for i in found[k]))[:MAX_TIMELINES]
    return {k: found[k] for k in sorted(busiest) if found[k]}
