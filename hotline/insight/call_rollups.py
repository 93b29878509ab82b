"""The call statistics' rollups: sums per hour and queue, per day, agent and queue, agents'
state seconds, IVR node visits, SMS and outbound attempts per day (``insight.models``), kept
up to date from the contact centre's records so that reports never scan the calls.

How they stay right while calls change:
- A refresh recomputes whole local days, from the day of ``mark.until - LATE`` to today: it
  deletes their rollup rows and writes them again from the source rows, in one transaction
  that holds the mark's row lock (SELECT ... FOR UPDATE), so two workers never interleave and
  a reader sees either the old rows or the new ones. Running it twice gives the same rows.
- ``LATE`` is how long a call's record can still change after it joined the queue: the
  longest a call lasts (``stats.MAX_CALL_SPAN``) plus an hour of wrap-up. A call answered,
  ended, held or wrapped up later than its queue hour is counted again at the next refresh.
  SMS delivery receipts come later still (``SMS_LATE``).
- A call counts in the hour it joined the ACD (``queued_at``), with everything that happened
  to it after (answer, talk, hold, wrap-up), so an hour's rates describe that hour's callers.
- The first refresh (no mark yet) and ``manage.py rebuild_call_rollups`` go through the whole
  history one day at a time.

The figures' definitions are ``hotline.contactcentre.call_figures`` (shared with the wallboard).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from hotline.contactcentre.call_figures import FAST_ANSWER_S, SHORT_ABANDON_S
from hotline.contactcentre.models import (
    AgentStatus,
    CallOutcome,
    IvrVisit,
    QueuedCall,
    State,
    StateChange,
)
from hotline.contactcentre.stats import ANSWERED, MAX_CALL_SPAN, first_entries
from hotline.insight import agent_time
from hotline.insight.models import (
    AgentCallDay,
    AgentStateDay,
    CallHour,
    IvrNodeDay,
    OutboundDay,
    RollupMark,
    SmsDay,
    StateHour,
)
from hotline.intake.models import SmsMessage
from hotline.outreach.models import CallAttempt

log = logging.getLogger("hotline.insight")

MARK = "calls"
LATE = MAX_CALL_SPAN + dt.timedelta(hours=1)
SMS_LATE = dt.timedelta(days=2)
ALL_OUTCOMES = [o.value for o in CallOutcome]
SUM_FIELDS = ("offered", "answered", "answered_fast", "answered_in_target", "abandoned",
              "short_abandoned", "overflowed", "wait_sum_s", "talked", "talk_sum_s",
              "hold_sum_s", "wrapped", "wrap_sum_s")


@dataclass(frozen=True)
class Refreshed:
    day_from: dt.date
    day_to: dt.date
    calls: int  # queue-hour rows written
    until: dt.datetime


# --- days and hours -----------------------------------------------------------------------

def local_midnight(day: dt.date) -> dt.datetime:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def day_span(day_from: dt.date, day_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[local midnight of day_from, local midnight after day_to)."""
    return local_midnight(day_from), local_midnight(day_to + dt.timedelta(days=1))


# --- the calls ----------------------------------------------------------------------------

def _seconds(value: dt.timedelta | float | int | None) -> float:
    if value is None:
        return 0.0
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value) / 1e6  # SQLite sums durations as microseconds


def call_sums(start: dt.datetime, end: dt.datetime) -> dict[tuple[dt.datetime, int, int], dict[str, float]]:
    """(UTC hour, queue id, answering agent id or 0) -> the sums, for the first queue entries
    that joined in [start, end). One grouped query."""
    answered = Q(outcome__in=ANSWERED, answered_at__isnull=False)
    abandoned = Q(outcome=CallOutcome.ABANDONED)
    talked = Q(outcome=CallOutcome.COMPLETED, answered_at__isnull=False, ended_at__isnull=False)
    talk = ExpressionWrapper(F("ended_at") - F("answered_at"), output_field=DurationField())
    agent = Case(When(answered, agent_id__isnull=False, then=F("agent_id")), default=Value(0),
                 output_field=IntegerField())
    # Every outcome spelled out: the (outcome, queued_at) index then serves the range (one
    # index range per outcome) instead of a scan of every call ever queued (30M rows).
    rows = (QueuedCall.objects
            .filter(first_entries(), outcome__in=ALL_OUTCOMES, queued_at__gte=start,
                    queued_at__lt=end)
            .annotate(h=TruncHour("queued_at", tzinfo=dt.UTC), who=agent)
            .values("h", "queue_id", "who")
            .annotate(
                offered=Count("id"),
                answered=Count("id", filter=answered),
                answered_fast=Count("id", filter=answered & Q(wait_s__lte=FAST_ANSWER_S)),
                answered_in_target=Count("id", filter=answered & Q(
                    wait_s__lte=F("queue__service_level_s"))),
                abandoned=Count("id", filter=abandoned & Q(wait_s__gt=SHORT_ABANDON_S)),
                short_abandoned=Count("id", filter=abandoned & Q(wait_s__lte=SHORT_ABANDON_S)),
                overflowed=Count("id", filter=Q(outcome=CallOutcome.OVERFLOWED)),
                wait_sum_s=Sum("wait_s", filter=answered),
                talked=Count("id", filter=talked),
                talk_sum_s=Sum(talk, filter=talked),
                hold_sum_s=Sum("hold_s", filter=talked),
            ).order_by())
    out: dict[tuple[dt.datetime, int, int], dict[str, float]] = {}
    for row in rows:
        key = (row["h"].astimezone(dt.UTC), row["queue_id"], row["who"])
        out[key] = {name: (_seconds(row[name]) if name == "talk_sum_s" else (row.get(name) or 0))
                    for name in SUM_FIELDS if name in row}
    return out


def wrap_up_seconds(start: dt.datetime, end: dt.datetime, now: dt.datetime
                    ) -> dict[tuple[dt.datetime, int, int], tuple[int, float]]:
    """(hour, queue, agent) -> (calls wrapped up, seconds), for calls that joined in
    [start, end): each wrap-up lasts from the agent's change into wrap-up for the call to the
    agent's next change (still in wrap-up: until ``now``). One query; the next change is an
    index probe on (agent, at)."""
    following = (StateChange.objects.filter(agent_id=OuterRef("agent_id"))
                 .filter(Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), id__gt=OuterRef("id")))
                 .order_by("at", "id").values("at")[:1])
    rows = (StateChange.objects
            .filter(to_state=State.WRAP_UP, call__isnull=False, at__gte=start,
                    at__lt=min(now, end + LATE), call__queued_at__gte=start,
                    call__queued_at__lt=end)
            .annotate(until=Subquery(following))
            .values_list("call_id", "agent_id", "at", "until", "call__queued_at", "call__queue_id"))
    per_call: dict[int, tuple[tuple[dt.datetime, int, int], float]] = {}
    for call_id, agent_id, at, until, queued_at, queue_id in rows:
        seconds = max(0.0, ((until or now) - at).total_seconds())
        key = (agent_time.floor_hour(queued_at.astimezone(dt.UTC)), queue_id, agent_id)
        previous = per_call.get(call_id, (key, 0.0))[1]
        per_call[call_id] = (key, previous + seconds)
    out: dict[tuple[dt.datetime, int, int], tuple[int, float]] = {}
    for key, seconds in per_call.values():
        n, total = out.get(key, (0, 0.0))
        out[key] = (n + 1, total + seconds)
    return out


def _write_calls(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> int:
    sums = call_sums(start, end)
    for key, (n, seconds) in wrap_up_seconds(start, end, now).items():
        row = sums.setdefault(key, {})
        row["wrapped"] = row.get("wrapped", 0) + n
        row["wrap_sum_s"] = row.get("wrap_sum_s", 0.0) + seconds
    hours: dict[tuple[dt.datetime, int], dict[str, float]] = defaultdict(dict)
    agents: dict[tuple[dt.date, int, int], dict[str, float]] = defaultdict(dict)
    for (hour, queue_id, agent_id), row in sums.items():
        _add(hours[(hour, queue_id)], row)
        if agent_id:
            _add(agents[(local_day(hour), agent_id, queue_id)], row)
    CallHour.objects.filter(hour__gte=start, hour__lt=end).delete()
    AgentCallDay.objects.filter(day__gte=local_day(start),
                                day__lte=local_day(end - dt.timedelta(microseconds=1))).delete()
    CallHour.objects.bulk_create(
        [CallHour(hour=h, queue_id=q, **row) for (h, q), row in hours.items()], batch_size=1000)
    AgentCallDay.objects.bulk_create(
        [AgentCallDay(day=d, agent_id=a, queue_id=q, **row) for (d, a, q), row in agents.items()],
        batch_size=1000)
    return len(hours)


def _add(into: dict[str, float], row: dict[str, float]) -> None:
    for name, value in row.items():
        into[name] = into.get(name, 0) + value


# --- agents' time -------------------------------------------------------------------------

def _changes_before(start: dt.datetime) -> dict[int, agent_time.Change]:
    """Each agent's last state change before ``start`` (an index probe per agent). The agents
    are those with a desk status and those with changes in the two days before (an agent
    whose status row is gone -- or a bulk load without one -- still counts)."""
    from hotline.directory.models import User

    ids = set(AgentStatus.objects.values_list("agent_id", flat=True))
    ids.update(StateChange.objects.filter(at__gte=start - dt.timedelta(days=2), at__lt=start)
               .values_list("agent_id", flat=True).distinct())
    last = StateChange.objects.filter(agent_id=OuterRef("pk"), at__lt=start) \
        .order_by("-at", "-id")
    rows = (User.objects.filter(pk__in=ids)
            .annotate(prev_at=Subquery(last.values("at")[:1]),
                      prev_state=Subquery(last.values("to_state")[:1]),
                      prev_call=Subquery(last.values("call_id")[:1]))
            .filter(prev_at__isnull=False)
            .values_list("pk", "prev_at", "prev_state", "prev_call"))
    return {agent_id: agent_time.Change(at, state, call)
            for agent_id, at, state, call in rows}


def agent_intervals(start: dt.datetime, end: dt.datetime
                    ) -> dict[int, list[agent_time.Interval]]:
    before = _changes_before(start)
    changes: dict[int, list[agent_time.Change]] = defaultdict(list)
    for agent_id, at, state, call_id in (StateChange.objects.filter(at__gte=start, at__lt=end)
                                         .order_by("agent_id", "at", "id")
                                         .values_list("agent_id", "at", "to_state", "call_id")):
        changes[agent_id].append(agent_time.Change(at, state, call_id))
    return {agent_id: agent_time.intervals(before.get(agent_id), changes.get(agent_id, []),
                                           start, end)
            for agent_id in set(before) | set(changes)}


def _write_states(start: dt.datetime, end: dt.datetime) -> None:
    hours: dict[tuple[dt.datetime, str], list[float]] = {}
    days: dict[tuple[dt.date, int, str], float] = defaultdict(float)
    for agent_id, found in agent_intervals(start, end).items():
        for (hour, state), seconds in agent_time.by_hour(
                agent_time.Interval(i.state, i.start.astimezone(dt.UTC), i.end.astimezone(dt.UTC))
                for i in found).items():
            entry = hours.setdefault((hour, state), [0.0, 0])
            entry[0] += seconds
            entry[1] += 1
            days[(local_day(hour), agent_id, state)] += seconds
    StateHour.objects.filter(hour__gte=start, hour__lt=end).delete()
    AgentStateDay.objects.filter(day__gte=local_day(start),
                                 day__lte=local_day(end - dt.timedelta(microseconds=1))).delete()
    StateHour.objects.bulk_create([StateHour(hour=h, state=s, seconds=v, agents=int(n))
                                   for (h, s), (v, n) in hours.items()], batch_size=1000)
    AgentStateDay.objects.bulk_create([AgentStateDay(day=d, agent_id=a, state=s, seconds=v)
                                       for (d, a, s), v in days.items()], batch_size=1000)


# --- IVR, SMS, outbound -------------------------------------------------------------------

def _write_days(start: dt.datetime, end: dt.datetime, sms_start: dt.datetime) -> None:
    tz = timezone.get_current_timezone()
    first, last = local_day(start), local_day(end - dt.timedelta(microseconds=1))
    IvrNodeDay.objects.filter(day__gte=first, day__lte=last).delete()
    IvrNodeDay.objects.bulk_create([
        IvrNodeDay(day=row["d"], node=row["node"], outcome=row["outcome"], visits=row["n"],
                   calls=row["calls"], duration_sum_s=row["secs"] or 0.0)
        for row in (IvrVisit.objects.filter(entered_at__gte=start, entered_at__lt=end)
                    .annotate(d=TruncDate("entered_at", tzinfo=tz))
                    .values("d", "node", "outcome")
                    .annotate(n=Count("id"), calls=Count("call_ref", distinct=True),
                              secs=Sum("duration_s")).order_by())], batch_size=1000)
    sms_first = local_day(sms_start)
    SmsDay.objects.filter(day__gte=sms_first, day__lte=last).delete()
    SmsDay.objects.bulk_create([
        SmsDay(day=row["d"], direction=row["direction"], status=row["status"],
               messages=row["n"], parts=row["parts"] or 0)
        for row in (SmsMessage.objects
                    .filter(created_at__gte=local_midnight(sms_first), created_at__lt=end)
                    .annotate(d=TruncDate("created_at", tzinfo=tz))
                    .values("d", "direction", "status")
                    .annotate(n=Count("id"), parts=Sum("parts")).order_by())], batch_size=1000)
    OutboundDay.objects.filter(day__gte=first, day__lte=last).delete()
    OutboundDay.objects.bulk_create([
        OutboundDay(day=row["d"], purpose=row["purpose"], outcome=row["outcome"],
                    attempts=row["n"], talk_sum_s=float(row["talk"] or 0))
        for row in (CallAttempt.objects.filter(started_at__gte=start, started_at__lt=end)
                    .annotate(d=TruncDate("started_at", tzinfo=tz))
                    .values("d", "purpose", "outcome")
                    .annotate(n=Count("id"), talk=Sum("talk_seconds")).order_by())],
        batch_size=1000)


# --- refreshing ---------------------------------------------------------------------------

def recompute_days(day_from: dt.date, day_to: dt.date, now: dt.datetime, *,
                   sms_from: dt.date | None = None) -> int:
    """Rewrite every rollup for the local days [day_from, day_to] (up to ``now``). The caller
    holds the mark's lock inside a transaction."""
    start, end = day_span(day_from, day_to)
    end = min(end, now)
    if end <= start:
        return 0
    if connection.vendor == "postgresql":
        # "First queue entry" is a NOT EXISTS on call_ref: a few days' calls each probe the
        # call_ref index. Left to itself the planner hashes every call ever queued for it
        # instead (a parallel scan of 30M rows, ~15 s for each day range, measured in
        # bench/reports.py); for this transaction only.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_hashjoin = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
    rows = _write_calls(start, end, now)
    _write_states(start, end)
    _write_days(start, end, local_midnight(sms_from or day_from))
    return rows


def _locked_mark() -> RollupMark:
    RollupMark.objects.get_or_create(name=MARK)
    return RollupMark.objects.select_for_update().get(name=MARK)


def refresh_call_rollups(now: dt.datetime | None = None) -> Refreshed:
    """Bring the rollups up to ``now`` (the periodic job). Idempotent; safe to run in several
    workers at once (they take turns on the mark's lock)."""
    now = now or timezone.now()
    if rolled_until() is None:  # never rolled up (or a rebuild was cut short): all of it
        return rebuild_call_rollups(now)
    with transaction.atomic():
        mark = _locked_mark()
        since = min(mark.until or now, now)
        day_from, day_to = local_day(since - LATE), local_day(now)
        rows = recompute_days(day_from, day_to, now, sms_from=local_day(since - SMS_LATE))
        mark.until, mark.refreshed_at = now, timezone.now()
        mark.save(update_fields=["until", "refreshed_at"])
    return Refreshed(day_from, day_to, rows, now)


def history_start() -> dt.date | None:
    """The first local day any source has a row for."""
    firsts: list[dt.datetime] = [m for m in (
        QueuedCall.objects.aggregate(m=Min("queued_at"))["m"],
        StateChange.objects.aggregate(m=Min("at"))["m"],
        IvrVisit.objects.aggregate(m=Min("entered_at"))["m"],
        SmsMessage.objects.aggregate(m=Min("created_at"))["m"],
        CallAttempt.objects.aggregate(m=Min("started_at"))["m"],
    ) if m is not None]
    return local_day(min(firsts)) if firsts else None


def rebuild_call_rollups(now: dt.datetime | None = None, *, days_per_step: int = 1
                         ) -> Refreshed:
    """Rewrite every rollup from the whole history, ``days_per_step`` days per transaction (each
    holds the mark's lock, so a periodic refresh waits between steps, never interleaves)."""
    now = now or timezone.now()
    today = local_day(now)
    first = history_start() or today
    rows = 0
    with transaction.atomic():
        mark = _locked_mark()
        mark.until = None  # a rebuild cut short is started again by the next refresh
        mark.save(update_fields=["until"])
        for model in (CallHour, AgentCallDay, StateHour, AgentStateDay, IvrNodeDay, SmsDay,
                      OutboundDay):
            model.objects.all().delete()
    day = first
    while day <= today:
        last = min(today, day + dt.timedelta(days=days_per_step - 1))
        with transaction.atomic():
            _locked_mark()
            rows += recompute_days(day, last, now)
        day = last + dt.timedelta(days=1)
    with transaction.atomic():
        mark = _locked_mark()
        mark.until, mark.refreshed_at = now, timezone.now()
        mark.save(update_fields=["until", "refreshed_at"])
    log.info("call rollups rebuilt from %s to %s: %d queue-hours", first, today, rows)
    return Refreshed(first, today, rows, now)


def rolled_until() -> dt.datetime | None:
    return RollupMark.objects.filter(name=MARK).values_list("until", flat=True).first()

