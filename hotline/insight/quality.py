"""Quality inspection (质检) services: sampling calls each week, scoring, appeals, figures.

Inspectors are shift monitors and centre administrators; an inspector never scores their
own call, and an appeal is decided by another inspector than the one who scored. An agent
sees only their own inspections. Sampling is idempotent (the same calls for the same rule,
agent and week; one inspection per call and scorecard), so the worker runs it every hour.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.contactcentre.models import CallOutcome, QueuedCall
from hotline.core.errors import Forbidden, InvalidInput, NotFound
from hotline.core.roles import Role
from hotline.directory.models import OrderType, User
from hotline.insight import quality_scoring as qs
from hotline.insight.quality_models import Inspection, SamplingRule, Scorecard
from hotline.orders.models import Satisfaction

INSPECTOR_ROLES = frozenset({Role.MONITOR, Role.CENTRE_ADMIN})
QA_ROLES = INSPECTOR_ROLES | {Role.AGENT, Role.LEADER}


def may_inspect(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") in INSPECTOR_ROLES)


def may_use_quality(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") in QA_ROLES)


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def _week_bounds(week: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(week, dt.time(0), tzinfo=_zone())
    return start, start + dt.timedelta(days=7)


def candidate_calls(rule: SamplingRule, week: dt.date) -> QuerySet[QueuedCall]:
    """Answered calls of the week that have a recording, narrowed by the rule's kind."""
    start, end = _week_bounds(week)
    calls = QueuedCall.objects.filter(
        outcome=CallOutcome.COMPLETED, agent__isnull=False, answered_at__gte=start,
        answered_at__lt=end, contact__call_recordings__isnull=False).distinct()
    if rule.kind == SamplingRule.Kind.LONG:
        calls = calls.filter(ended_at__gte=F("answered_at")
                             + dt.timedelta(seconds=rule.long_call_seconds))
    elif rule.kind == SamplingRule.Kind.COMPLAINT:
        calls = calls.filter(contact__orders__type=OrderType.COMPLAINT)
    elif rule.kind == SamplingRule.Kind.UNSATISFIED:
        calls = calls.filter(contact__orders__satisfaction=Satisfaction.UNSATISFIED)
    return calls


def do_sample_week(week: dt.date, now: dt.datetime | None = None) -> int:
    """Sample every active rule's calls of ``week`` for every agent; returns inspections made."""
    when = now or timezone.now()
    made = 0
    for rule in SamplingRule.objects.filter(is_active=True, scorecard__is_active=True):
        by_agent: dict[int, list[int]] = defaultdict(list)
        for call_id, agent_id in candidate_calls(rule, week).values_list("pk", "agent_id"):
            by_agent[agent_id].append(call_id)
        for agent_id, call_ids in by_agent.items():
            already = Inspection.objects.filter(rule=rule, agent_id=agent_id, week=week).count()
            chosen = qs.sample(call_ids, rule.per_agent_per_week,
                               f"{rule.pk}:{agent_id}:{week.isoformat()}")
            for call_id in chosen[:max(0, rule.per_agent_per_week - already)]:
                try:
                    with transaction.atomic():
                        Inspection.objects.create(call_id=call_id, agent_id=agent_id, rule=rule,
                                                  scorecard=rule.scorecard, week=week,
                                                  created_at=when)
                    made += 1
                except IntegrityError:
                    pass  # sampled already, by this rule or another with the same scorecard
    return made


def do_sample_recent(now: dt.datetime | None = None) -> int:
    """The worker's job: this week so far and last week (late calls), both idempotent."""
    today = (now or timezone.now()).astimezone(_zone()).date()
    this_week = week_of(today)
    return do_sample_week(this_week - dt.timedelta(days=7), now) + do_sample_week(this_week, now)


def do_inspect_call(inspector: User, call_id: int, scorecard_id: int,
                    now: dt.datetime | None = None) -> Inspection:
    """A targeted inspection chosen by hand (a call a citizen complained about)."""
    if not may_inspect(inspector):
        raise Forbidden(gettext_noop("Your role may not inspect calls."))
    call = QueuedCall.objects.filter(pk=call_id, agent__isnull=False,
                                     outcome=CallOutcome.COMPLETED).first()
    if call is None or call.agent_id is None:
        raise NotFound(gettext_noop("No such answered call."))
    scorecard = Scorecard.objects.filter(pk=scorecard_id, is_active=True).first()
    if scorecard is None:
        raise NotFound(gettext_noop("No such scorecard."))
    when = now or timezone.now()
    day = (call.answered_at or when).astimezone(_zone()).date()
    inspection, _created = Inspection.objects.get_or_create(
        call=call, scorecard=scorecard,
        defaults={"agent_id": call.agent_id, "week": week_of(day), "created_at": when})
    return inspection


def items_of(scorecard: Scorecard) -> list[qs.Item]:
    return [qs.Item(item.key, 0 if item.fatal else item.points, item.fatal)
            for item in scorecard.items.all()]


def parse_marks(scorecard: Scorecard, form: Mapping[str, str]) -> dict[str, int | bool]:
    """The marks a form posts: ``item-<id>`` = points, or "pass"/"fail" for a fatal item."""
    marks: dict[str, int | bool] = {}
    for item in scorecard.items.all():
        raw = (form.get(f"item-{item.pk}") or "").strip()
        if item.fatal:
            if raw in ("pass", "fail"):
                marks[item.key] = raw == "pass"
        elif raw.isdigit():
            marks[item.key] = int(raw)
    return marks


def _locked(inspection_id: int) -> Inspection:
    inspection = (Inspection.objects.select_for_update().select_related("scorecard")
                  .filter(pk=inspection_id).first())
    if inspection is None:
        raise NotFound(gettext_noop("No such inspection."))
    return inspection


def _step(inspection: Inspection, step: qs.Step) -> None:
    try:
        inspection.state = qs.apply(qs.State(inspection.state), step).value
    except qs.TransitionError:
        raise InvalidInput(gettext_noop("This inspection cannot do that now."),
                           field="state") from None


def _apply_marks(inspection: Inspection, marks: Mapping[str, int | bool]) -> None:
    try:
        result = qs.score(items_of(inspection.scorecard), marks)
    except qs.ScoringError:
        raise InvalidInput(gettext_noop("Mark every item of the scorecard within its points."),
                           field="marks") from None
    inspection.marks = dict(marks)
    inspection.score = result.total
    inspection.fatal_failed = bool(result.fatal_failed)


def do_score(inspector: User, inspection_id: int, marks: Mapping[str, int | bool],
             comment: str = "", now: dt.datetime | None = None) -> Inspection:
    if not may_inspect(inspector):
        raise Forbidden(gettext_noop("Your role may not inspect calls."))
    with transaction.atomic():
        inspection = _locked(inspection_id)
        if inspection.agent_id == inspector.pk:
            raise Forbidden(gettext_noop("Nobody inspects their own calls."))
        _step(inspection, qs.Step.SCORE)
        _apply_marks(inspection, marks)
        inspection.inspector, inspection.comment = inspector, comment.strip()[:4000]
        inspection.scored_at = now or timezone.now()
        inspection.save()
    return inspection


def do_appeal(agent: User, inspection_id: int, reason: str,
              now: dt.datetime | None = None) -> Inspection:
    reason = reason.strip()
    with transaction.atomic():
        inspection = _locked(inspection_id)
        if inspection.agent_id != agent.pk:
            raise NotFound(gettext_noop("No such inspection."))
        if not reason:
            raise InvalidInput(gettext_noop("Say why you disagree with the score."),
                               field="reason")
        _step(inspection, qs.Step.APPEAL)
        inspection.appeal_reason, inspection.appealed_at = reason[:4000], now or timezone.now()
        inspection.save()
    return inspection


def do_decide_appeal(decider: User, inspection_id: int, *, accept: bool, decision: str,
                     marks: Mapping[str, int | bool] | None = None,
                     now: dt.datetime | None = None) -> Inspection:
    """Refuse (the score stands) or accept (scored again with ``marks``) an appeal; decided by
    an inspector other than the one who scored, with the reason written down."""
    if not may_inspect(decider):
        raise Forbidden(gettext_noop("Your role may not inspect calls."))
    decision = decision.strip()
    with transaction.atomic():
        inspection = _locked(inspection_id)
        if decider.pk in (inspection.inspector_id, inspection.agent_id):
            raise Forbidden(gettext_noop(
                "An appeal is decided by another inspector than the one who scored."))
        if not decision:
            raise InvalidInput(gettext_noop("Write the reason for the decision."),
                               field="decision")
        _step(inspection, qs.Step.REVISE if accept else qs.Step.UPHOLD)
        if accept:
            _apply_marks(inspection, marks or {})
        inspection.decided_by, inspection.decision = decider, decision[:4000]
        inspection.decided_at = now or timezone.now()
        inspection.save()
    return inspection


def inspections_for(viewer: User) -> QuerySet[Inspection]:
    """Every inspection for inspectors and leaders; an agent's own otherwise."""
    rows = Inspection.objects.select_related("agent", "scorecard", "rule", "call", "inspector")
    if may_inspect(viewer) or viewer.role == Role.LEADER or viewer.is_superuser:
        return rows
    return rows.filter(agent=viewer)


@dataclass(frozen=True)
class AgentFigures:
    agent_id: int
    agent: str
    team: str
    inspected: int
    average: float | None
    fatal: int
    appeals: int
    appeals_accepted: int


FINISHED = (Inspection.State.SCORED, Inspection.State.APPEALED, Inspection.State.UPHELD,
            Inspection.State.REVISED)


def figures(viewer: User, date_from: dt.date, date_to: dt.date) -> list[AgentFigures]:
    """QA figures per agent over the weeks that start in the range (the viewer's scope)."""
    rows = inspections_for(viewer).filter(week__gte=week_of(date_from), week__lte=date_to,
                                          state__in=FINISHED)
    acc: dict[int, dict[str, Any]] = {}
    for ins in rows.select_related("agent__unit"):
        a = acc.setdefault(ins.agent_id, {
            "agent": ins.agent.display_name or ins.agent.username,
            "team": ins.agent.unit.name if ins.agent.unit else "", "scores": [], "fatal": 0,
            "appeals": 0, "accepted": 0})
        if ins.score is not None:
            a["scores"].append(ins.score)
        a["fatal"] += ins.fatal_failed
        a["appeals"] += ins.appealed_at is not None
        a["accepted"] += ins.state == Inspection.State.REVISED
    return [AgentFigures(agent_id, a["agent"], a["team"], len(a["scores"]),
                         round(sum(a["scores"]) / len(a["scores"]), 1) if a["scores"] else None,
                         a["fatal"], a["appeals"], a["accepted"])
            for agent_id, a in sorted(acc.items(), key=lambda kv: kv[1]["agent"])]
