"""The call statistics as standard reports (``hotline.insight.reports``): calls, agents' time,
IVR nodes, SMS and outbound calls. Each compute reads the rollups through ``call_stats``; the
report pages, the Excel export and the API show them like every other report."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from hotline.contactcentre.models import IvrOutcome, Queue
from hotline.core.errors import InvalidInput
from hotline.insight import call_stats
from hotline.insight.call_drill import call_drill_url
from hotline.insight.call_stats import CALL_STATS_ROLES, CENTRE_ROLES, CallTotals, Grouping
from hotline.insight.reports import (
    ChartKind,
    Column,
    ColumnKind,
    ReportDefinition,
    ReportQuery,
    ReportResult,
    register,
)
from hotline.intake.models import SmsMessage
from hotline.outreach.models import Outcome

C, R, S, D = ColumnKind.COUNT, ColumnKind.RATE, ColumnKind.SECONDS, ColumnKind.DIMENSION

CALL_COLUMNS = (
    Column("offered", _("Offered"), C), Column("answered", _("Answered"), C),
    Column("abandoned", _("Abandoned"), C),
    Column("short_abandoned", _("Short abandons"), C),
    Column("connection_rate", _("Connection rate"), R),
    Column("fast_answer_rate", _("Answered within 15 s"), R),
    Column("service_level", _("Service level"), R),
    Column("asa_s", _("Average speed of answer"), S),
    Column("talk_s", _("Average talk"), S), Column("hold_s", _("Average hold"), S),
    Column("wrap_s", _("Average wrap-up"), S),
)
DIMENSION_LABELS = {Grouping.QUEUE: _("Queue"), Grouping.DAY: _("Day"),
                    Grouping.HOUR: _("Hour"), Grouping.AGENT: _("Agent")}


def call_values(t: CallTotals) -> dict[str, Any]:
    return {"offered": t.offered, "answered": t.answered, "abandoned": t.abandoned,
            "short_abandoned": t.short_abandoned, "connection_rate": t.connection_rate,
            "fast_answer_rate": t.fast_answer_rate, "service_level": t.service_level,
            "asa_s": t.average_wait_s, "talk_s": t.average_talk_s, "hold_s": t.average_hold_s,
            "wrap_s": t.average_wrap_s}


def _queue_filter(query: ReportQuery) -> int | None:
    code = query.filters.get("queue", "")
    if not code:
        return None
    pk = Queue.objects.filter(code=code).values_list("pk", flat=True).first()
    if pk is None:
        raise InvalidInput(gettext_noop("No queue has this code."), field="queue")
    return pk


def _agent_filter(query: ReportQuery) -> int | None:
    value = query.filters.get("agent", "")
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(gettext_noop("The agent is given by their number (id)."),
                           field="agent")
    return int(value)


def compute_calls(viewer: Any, query: ReportQuery) -> ReportResult:
    group = query.group_by or Grouping.QUEUE
    agent_id = _agent_filter(query)
    per_agent = agent_id is not None or not call_stats.sees_centre(viewer)
    if group == Grouping.HOUR and per_agent:
        raise InvalidInput(gettext_noop("Agents' figures are kept per day: group by day."),
                           field="group_by")
    rows = call_stats.call_rows(viewer, query.date_from, query.date_to, group,
                                queue_id=_queue_filter(query), agent_id=agent_id)
    columns = (Column("key", DIMENSION_LABELS[group], D), *CALL_COLUMNS)
    # ``_key`` matches the same queue, hour or agent in another period (环比/同比); days never
    # match (another period has other days), as for the order reports' periods.
    out = [{"key": row.label, "_key": "" if group == Grouping.DAY else str(row.key),
            **call_values(row.totals)} for row in rows]
    drill = {i: call_drill_url(query, {DRILL_PARAM[group]: _drill_value(row.key)})
             for i, row in enumerate(rows)}
    drill[-1] = call_drill_url(query, {})
    return ReportResult(columns=columns, rows=out, drill=drill,
                        totals={"key": _("Total"), **call_values(call_stats.total(rows))})


DRILL_PARAM = {Grouping.QUEUE: "queue", Grouping.DAY: "day", Grouping.HOUR: "hour",
               Grouping.AGENT: "agent"}


def _drill_value(key: Any) -> str:
    return key.isoformat() if hasattr(key, "isoformat") else str(key)


STATE_COLUMNS = (("idle", _("Ready")), ("busy", _("Not ready")), ("ringing", _("Ringing")),
                 ("talking", _("On a call")), ("wrap_up", _("Wrap-up")),
                 ("signed_in", _("Signed in, not yet ready")))


def compute_agent_time(viewer: Any, query: ReportQuery) -> ReportResult:
    group = query.group_by or Grouping.AGENT
    if group == Grouping.HOUR and not call_stats.sees_centre(viewer):
        raise InvalidInput(gettext_noop("The hours are the whole centre's."), field="group_by")
    rows = call_stats.state_rows(viewer, query.date_from, query.date_to, group)
    columns = (Column("key", DIMENSION_LABELS[group], D),
               *(Column(f"{state}_s", label, S) for state, label in STATE_COLUMNS),
               Column("occupancy", _("Occupancy"), R))
    summed: dict[str, float] = {}
    for row in rows:
        for state, seconds in row.seconds.items():
            summed[state] = summed.get(state, 0.0) + seconds
    total = call_stats.StateRow("", "", summed)

    def values(row: call_stats.StateRow) -> dict[str, Any]:
        return {**{f"{state}_s": row.seconds.get(state, 0.0) for state, _label in STATE_COLUMNS},
                "occupancy": row.occupancy}

    return ReportResult(columns=columns,
                        rows=[{"key": row.label, **values(row)} for row in rows],
                        totals={"key": _("Total"), **values(total)})


IVR_OUTCOMES = (IvrOutcome.OPERATOR, IvrOutcome.SERVICE, IvrOutcome.GAVE_UP,
                IvrOutcome.CALLER_HUNG_UP)


def compute_ivr(viewer: Any, query: ReportQuery) -> ReportResult:
    rows = call_stats.ivr_rows(query.date_from, query.date_to)
    columns = (Column("node", _("IVR node"), D), Column("visits", _("Visits"), C),
               Column("calls", _("Calls"), C),
               *(Column(outcome.value, outcome.label, C) for outcome in IVR_OUTCOMES),
               Column("average_s", _("Average time at the node"), S))
    out = [{"node": row.node, "visits": row.visits, "calls": row.calls,
            **{o.value: row.by_outcome.get(o.value, 0) for o in IVR_OUTCOMES},
            "average_s": row.average_s} for row in rows]
    visits = sum(r.visits for r in rows)
    return ReportResult(columns=columns, rows=out, totals={
        "node": _("Total"), "visits": visits, "calls": sum(r.calls for r in rows),
        **{o.value: sum(r.by_outcome.get(o.value, 0) for r in rows) for o in IVR_OUTCOMES},
        "average_s": (sum(r.duration_sum_s for r in rows) / visits) if visits else None})


Sms = SmsMessage.Status
SMS_COLUMNS = (("sent", _("Sent")), ("delivered", _("Delivered")), ("failed", _("Failed")),
               ("refused", _("Not sent")), ("received", _("Received")))


def sms_values(counts: dict[tuple[str, str], int]) -> dict[str, Any]:
    out: dict[str, Any] = {key: counts.get(("out", key), 0) for key, _label in SMS_COLUMNS
                           if key != "received"}
    out["received"] = counts.get(("in", Sms.RECEIVED), 0)
    handed = out["sent"] + out["delivered"] + out["failed"]
    out["delivery_rate"] = out["delivered"] / handed if handed else None
    return out


def compute_sms(viewer: Any, query: ReportQuery) -> ReportResult:
    by_day = call_stats.sms_counts(query.date_from, query.date_to, by_day=True)
    columns = (Column("day", _("Day"), D), *(Column(k, label, C) for k, label in SMS_COLUMNS),
               Column("delivery_rate", _("Delivered share"), R))
    summed: dict[tuple[str, str], int] = {}
    for counts in by_day.values():
        for key, n in counts.items():
            summed[key] = summed.get(key, 0) + n
    return ReportResult(columns=columns,
                        rows=[{"day": day.isoformat(), **sms_values(by_day[day])}
                              for day in sorted(by_day)],
                        totals={"day": _("Total"), **sms_values(summed)})


def outbound_values(counts: dict[str, tuple[int, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {o.value: counts.get(o.value, (0, 0.0))[0] for o in Outcome}
    attempts = sum(n for n, _t in counts.values())
    answered, talk = counts.get(Outcome.ANSWERED, (0, 0.0))
    out.update(attempts=attempts, answer_rate=answered / attempts if attempts else None,
               talk_s=talk / answered if answered else None)
    return out


def compute_outbound(viewer: Any, query: ReportQuery) -> ReportResult:
    group = query.group_by or "purpose"
    found = call_stats.outbound_counts(query.date_from, query.date_to, group)
    columns = (Column("key", _("Day") if group == Grouping.DAY else _("Purpose"), D),
               Column("attempts", _("Attempts"), C),
               *(Column(o.value, o.label, C) for o in Outcome),
               Column("answer_rate", _("Answered share"), R),
               Column("talk_s", _("Average talk"), S))
    summed: dict[str, tuple[int, float]] = {}
    for counts in found.values():
        for outcome, (n, t) in counts.items():
            m, u = summed.get(outcome, (0, 0.0))
            summed[outcome] = (m + n, u + t)
    return ReportResult(columns=columns,
                        rows=[{"key": str(key), **outbound_values(found[key])}
                              for key in sorted(found)],
                        totals={"key": _("Total"), **outbound_values(summed)})


CALLS = register(ReportDefinition(
    name="calls", section="calls", title=_("Calls"),
    description=_("Offered, answered and abandoned calls, connection rate (GB/T 33358), "
                  "15-second answer rate, service level, speed of answer, talk, hold and "
                  "wrap-up, by queue, day, hour or agent."),
    compute=compute_calls, roles=CALL_STATS_ROLES, filters=("queue", "agent"),
    group_by=(Grouping.QUEUE, Grouping.DAY, Grouping.HOUR, Grouping.AGENT),
    chart=ChartKind.BAR, chart_columns=("offered", "answered", "abandoned")))
AGENT_TIME = register(ReportDefinition(
    name="agent-time", section="calls", title=_("Agents' time and occupancy"),
    description=_("Time in each state and occupancy (time with calls over time available "
                  "for calls), by agent, day or hour."),
    compute=compute_agent_time, roles=CALL_STATS_ROLES,
    group_by=(Grouping.AGENT, Grouping.DAY, Grouping.HOUR),
    chart=ChartKind.BAR, chart_columns=("occupancy",)))
IVR_NODES = register(ReportDefinition(
    name="ivr-nodes", section="calls", title=_("IVR usage per menu node"),
    description=_("Visits of each IVR node and how callers left it."),
    compute=compute_ivr, roles=CENTRE_ROLES, chart=ChartKind.BAR, chart_columns=("visits",)))
SMS = register(ReportDefinition(
    name="sms", section="calls", title=_("SMS sent, received and failed"),
    description=_("Text messages per day by delivery status, and those received."),
    compute=compute_sms, roles=CENTRE_ROLES, chart=ChartKind.LINE,
    chart_columns=("sent", "delivered", "failed", "received")))
OUTBOUND = register(ReportDefinition(
    name="outbound-calls", section="calls", title=_("Outbound calls and their outcomes"),
    description=_("Outbound call attempts by purpose or day and how each ended."),
    compute=compute_outbound, roles=CENTRE_ROLES, group_by=("purpose", Grouping.DAY),
    chart=ChartKind.BAR, chart_columns=("attempts", "answered")))
