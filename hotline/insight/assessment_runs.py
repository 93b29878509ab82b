"""Scoring a month (worker side): measure each order's facts from the order tables once, judge
them by the rules in force that month (``scoring``), store the facts and the standings.

The pages and the API only read what this stores (``AssessmentFact``, ``AssessmentScore``), so a
ranking opens in one indexed query however large the city. A month is scored again by the
periodic job while call-back answers can still arrive (the current and the previous month, by
default) and at once when the centre decides an appeal; the months after a re-scored month are
re-scored too, because their change from the month before depends on it.

Which orders: each active lead assignment (主办) dispatched in the month, so an order counts for
the unit that holds it, in the month it reached that unit. A department is assessed alone; a
street is assessed alone (ranked among its district's streets) and within its district; a
sub-centre's own orders count for its district.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from hotline.core.errors import Conflict
from hotline.directory.calendar_service import current_calendar
from hotline.directory.models import AssessmentKind, Unit, UnitKind
from hotline.directory.workcalendar import WorkCalendar
from hotline.insight import scoring
from hotline.insight.appeal_states import AppealState
from hotline.insight.assessment_models import (
    AssessmentAppeal,
    AssessmentFact,
    AssessmentRules,
    AssessmentScore,
    RankingGroup,
)
from hotline.orders.models import Assignment, Contact, Urgency

BATCH = 2000


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """The month's first moment and the next month's, in the centre's time zone."""
    year, number = scoring.parse_month(month)
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime(year, number, 1, tzinfo=tz)
    end = dt.datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=tz)
    return start, end


def month_of(moment: dt.datetime) -> str:
    return timezone.localtime(moment, zoneinfo.ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m")


def month_after(month: str) -> str:
    year, number = scoring.parse_month(month)
    return f"{year + 1}-01" if number == 12 else f"{year}-{number + 1:02d}"


def rules_row_for(month: str) -> AssessmentRules:
    """The rules version in force in ``month``: the latest whose first month is not after it."""
    year, number = scoring.parse_month(month)
    row = (AssessmentRules.objects.filter(effective_from__lte=dt.date(year, number, 1))
           .order_by("-effective_from").first())
    if row is None:
        raise Conflict("no assessment rules are in force for that month")
    return row


# --- measuring -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Measured:
    fact: scoring.OrderFact
    dispatched_at: dt.datetime
    satisfaction: str


def _hours(cal: WorkCalendar, start: dt.datetime, end: dt.datetime | None, urgent: bool
           ) -> float | None:
    if end is None or end < start:
        return None
    if urgent:
        return (end - start).total_seconds() / 3600
    return cal.working_seconds_between(start, end) / 3600


def measure_month(month: str) -> list[Measured]:
    """The facts of every order dispatched in ``month`` to the unit holding it."""
    start, end = month_bounds(month)
    cal = current_calendar()
    assignments = Assignment.objects.filter(role=Assignment.Role.LEAD, active=True,
                                            assigned_at__gte=start, assigned_at__lt=end)
    rows = list(assignments.values_list(
        "order_id", "unit_id", "assigned_at", "signed_at", "order__state", "order__type",
        "order__urgency", "order__resolved", "order__satisfaction"))
    # The unit's first outbound contact with the citizen about the order (a call by its staff).
    first_contact: dict[tuple[int, int], dt.datetime] = {}
    through = Contact.orders.through
    contacts = (through.objects
                .filter(order_id__in=assignments.values("order_id"),
                        contact__direction=Contact.Direction.OUTBOUND,
                        contact__occurred_at__gte=start, contact__agent__unit__isnull=False)
                .values_list("order_id", "contact__agent__unit_id")
                .annotate(first=Min("contact__occurred_at")))
    for order_id, unit_id, first in contacts:
        first_contact[(order_id, unit_id)] = first
    appealed = set(AssessmentAppeal.objects.filter(month=month, state=AppealState.ACCEPTED)
                   .values_list("order_id", "unit_id"))
    measured = []
    for (order_id, unit_id, assigned_at, signed_at, state, kind, urgency, resolved,
         satisfaction) in rows:
        urgent = urgency == Urgency.URGENT
        fact = scoring.OrderFact(
            order_id=order_id, unit_id=unit_id, state=state, type=kind, urgent=urgent,
            sign_hours=_hours(cal, assigned_at, signed_at, urgent),
            contact_hours=_hours(cal, assigned_at, first_contact.get((order_id, unit_id)),
                                 urgent),
            resolved=resolved, satisfaction=satisfaction or "",
            appeal_accepted=(order_id, unit_id) in appealed,
        )
        measured.append(Measured(fact, assigned_at, satisfaction or ""))
    return measured


# --- who is assessed -------------------------------------------------------------------------

@dataclass(frozen=True)
class Assessed:
    unit_id: int
    group: str
    kind: str


def _subcentre_of(unit: Unit, by_id: dict[int, Unit], by_district: dict[int, Unit]
                  ) -> Unit | None:
    node: Unit | None = unit
    while node is not None:
        if node.kind == UnitKind.SUBCENTRE:
            return node
        node = by_id.get(node.parent_id) if node.parent_id else None
    return by_district.get(unit.district_id) if unit.district_id else None


def assessed_for(unit_ids: Iterable[int]) -> dict[int, list[Assessed]]:
    """For each holding unit, the assessed units its orders count for (itself and, for a
    street, its district's sub-centre)."""
    units = list(Unit.objects.all())
    by_id = {u.pk: u for u in units}
    by_district = {u.district_id: u for u in units
                   if u.kind == UnitKind.SUBCENTRE and u.district_id}
    result: dict[int, list[Assessed]] = {}
    for unit_id in set(unit_ids):
        unit = by_id.get(unit_id)
        if unit is None:
            continue
        found: list[Assessed] = []
        own_kind = unit.assessment_kind or ""
        if unit.kind == UnitKind.DEPARTMENT:
            found.append(Assessed(unit.pk, RankingGroup.DEPARTMENTS,
                                  own_kind or AssessmentKind.BUREAU))
        elif unit.kind == UnitKind.SUBCENTRE:
            found.append(Assessed(unit.pk, RankingGroup.DISTRICTS,
                                  own_kind or AssessmentKind.DISTRICT))
        elif unit.kind == UnitKind.STREET:
            district = unit.district.code if unit.district_id and unit.district else "-"
            found.append(Assessed(unit.pk, f"{RankingGroup.STREETS}:{district}",
                                  own_kind or AssessmentKind.DISTRICT))
            sub = _subcentre_of(unit, by_id, by_district)
            if sub is not None:
                found.append(Assessed(sub.pk, RankingGroup.DISTRICTS,
                                      sub.assessment_kind or AssessmentKind.DISTRICT))
        result[unit_id] = found
    return result


# --- scoring ---------------------------------------------------------------------------------

def _previous(month: str) -> dict[int, scoring.Previous]:
    before = scoring.month_before(month)
    try:
        rules = rules_row_for(before)
    except Conflict:
        return {}
    return {unit_id: scoring.Previous(rank, score) for unit_id, rank, score in
            AssessmentScore.objects.filter(month=before, rules=rules)
            .values_list("unit_id", "rank", "score")}


def score_month(month: str, *, now: dt.datetime | None = None) -> int:
    """Measure, judge and rank ``month``; replaces what was stored for it under its rules.
    Returns the number of units scored."""
    now = now or timezone.now()
    row = rules_row_for(month)
    rules = row.rules()
    measured = measure_month(month)
    verdicts = [(m, scoring.judge(rules, m.fact)) for m in measured]
    assessed = assessed_for(m.fact.unit_id for m in measured)
    members: dict[Assessed, list[scoring.Verdict]] = defaultdict(list)
    for m, verdict in verdicts:
        for target in assessed.get(m.fact.unit_id, ()):
            members[target].append(verdict)
    entries = [scoring.Entry(a.unit_id, a.group, a.kind, scoring.tally(v))
               for a, v in members.items()]
    standings = scoring.rank(rules, entries, _previous(month))
    with transaction.atomic():
        AssessmentFact.objects.filter(month=month).delete()
        AssessmentFact.objects.bulk_create((
            AssessmentFact(
                month=month, order_id=m.fact.order_id, unit_id=m.fact.unit_id, rules=row,
                urgent=m.fact.urgent, dispatched_at=m.dispatched_at,
                response_hours=scoring.response_hours(rules, m.fact),
                excluded=v.excluded, responded=v.responded, resolved=v.resolved,
                satisfaction=m.satisfaction, satisfaction_points=v.satisfaction,
                lowered=list(v.lowered))
            for m, v in verdicts), batch_size=BATCH)
        AssessmentScore.objects.filter(month=month, rules=row).delete()
        AssessmentScore.objects.bulk_create((
            AssessmentScore(
                month=month, rules=row, unit_id=s.unit_id, group=s.group, kind=s.kind,
                counted=s.counts.counted, responded=s.counts.responded,
                answered=s.counts.answered, resolved=s.counts.resolved, rated=s.counts.rated,
                points=s.counts.points, excluded=s.counts.excluded,
                response_rate=s.rates[scoring.RateName.RESPONSE],
                resolution_rate=s.rates[scoring.RateName.RESOLUTION],
                satisfaction_rate=s.rates[scoring.RateName.SATISFACTION],
                score=s.score, rank=s.rank, ranked_in_group=s.ranked_in_group,
                previous_rank=s.previous.rank if s.previous else None,
                rank_change=s.rank_change, score_change=s.score_change, computed_at=now)
            for s in standings), batch_size=BATCH)
    return len(standings)


def score_from(month: str, *, now: dt.datetime | None = None) -> list[str]:
    """Score ``month`` and every later month already scored, up to the current one (their
    change from the month before depends on it)."""
    now = now or timezone.now()
    current = month_of(now)
    done = []
    cursor = month
    while cursor <= current:
        if cursor == month or AssessmentScore.objects.filter(month=cursor).exists():
            score_month(cursor, now=now)
            done.append(cursor)
        cursor = month_after(cursor)
    return done


def score_recent_months(*, now: dt.datetime | None = None) -> list[str]:
    """The periodic job: the last ``HOTLINE_ASSESSMENT_RESCORE_MONTHS`` months (the current one
    included), oldest first, while late call-back answers and signatures still arrive."""
    now = now or timezone.now()
    months = [month_of(now)]
    for _ in range(settings.HOTLINE_ASSESSMENT_RESCORE_MONTHS - 1):
        months.insert(0, scoring.month_before(months[0]))
    for month in months:
        score_month(month, now=now)
    return months
