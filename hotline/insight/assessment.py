"""Assessment (考核) for its readers and its appeals: the stored ranking in the viewer's scope,
one unit's month with the orders that lowered it, and the appeal services (``do_*`` write,
``check_*`` authorise).

Scope: the centre (its agents, monitors and administrators), leaders and auditors see every
unit; anyone else sees the units at or below their own (a sub-centre its district and its
streets, a department itself). The orders that lowered a score are listed only when the viewer
may see the order (``orders.scope.visible_orders``), and never with the citizen; their titles go
through the disclosure rule, so a 举报's reporter is not named to a department.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.core.roles import Role
from hotline.directory.models import Unit, User
from hotline.insight import scoring
from hotline.insight.appeal_states import (
    PENDING_OR_ACCEPTED,
    AppealAction,
    AppealState,
    AppealTransitionError,
    next_state,
)
from hotline.insight.assessment_models import (
    AssessmentAppeal,
    AssessmentFact,
    AssessmentRules,
    AssessmentScore,
    RankingGroup,
)
from hotline.insight.assessment_runs import assessed_for, month_of, rules_row_for
from hotline.orders.disclosure import Disclosure
from hotline.orders.history import append_event
from hotline.orders.models import Order, OrderAction
from hotline.orders.scope import sees_everything, visible_orders

VIEWER_ROLES = frozenset({Role.AGENT, Role.MONITOR, Role.CENTRE_ADMIN, Role.LEADER,
                          Role.AUDITOR, Role.DEPT_HANDLER, Role.DEPT_ADMIN})
# A unit's own staff appeal its orders; the centre's administrator decides.
APPEAL_ROLES = frozenset({Role.DEPT_HANDLER, Role.DEPT_ADMIN})
DECIDE_ROLES = frozenset({Role.CENTRE_ADMIN})
MAX_REASON = 2000
GROUPS = (RankingGroup.DEPARTMENTS, RankingGroup.DISTRICTS, RankingGroup.STREETS)


def check_month(raw: str | None, *, now: dt.datetime | None = None) -> str:
    """A 'YYYY-MM' month not after the current one; empty: the last complete month."""
    now = now or timezone.now()
    if not raw:
        return scoring.month_before(month_of(now))
    try:
        scoring.parse_month(raw)
    except ValueError:
        raise InvalidInput(gettext_noop("Give the month as YYYY-MM, e.g. 2026-11."),
                           field="month") from None
    if raw > month_of(now):
        raise InvalidInput(gettext_noop("That month has not begun yet."), field="month")
    return raw


def check_group(raw: str | None) -> str:
    if not raw:
        return ""
    if raw not in GROUPS:
        raise InvalidInput(gettext_noop("The ranking is departments, districts or streets."),
                           field="group")
    return raw


def visible_unit_ids(viewer: User) -> set[int] | None:
    """The assessed units ``viewer`` may see; None: all of them."""
    if not getattr(viewer, "is_authenticated", False) or not viewer.is_active:
        return set()
    if viewer.is_superuser or sees_everything(viewer):
        return None
    if viewer.role not in VIEWER_ROLES or viewer.unit is None:
        return set()
    return set(viewer.unit.descendant_ids())


@dataclass
class Ranking:
    month: str
    rules: AssessmentRules | None
    rows: list[AssessmentScore]
    computed_at: dt.datetime | None
    scope: str  # "city" or "unit"


def ranking(viewer: User, month: str, group: str = "") -> Ranking:
    """The stored standings of ``month`` under the rules then in force, in the viewer's scope:
    ranked units first by group, then those without a rank."""
    try:
        rules = rules_row_for(month)
    except Conflict:
        return Ranking(month, None, [], None, "city")
    qs = AssessmentScore.objects.filter(month=month, rules=rules).select_related("unit")
    if group == RankingGroup.STREETS:
        qs = qs.filter(group__startswith=f"{RankingGroup.STREETS}:")
    elif group:
        qs = qs.filter(group=group)
    allowed = visible_unit_ids(viewer)
    if allowed is not None:
        qs = qs.filter(unit_id__in=allowed)
    rows = sorted(qs, key=lambda s: (GROUPS.index(s.ranking) if s.ranking in GROUPS else 9,
                                     s.group, s.rank is None, s.rank or 0,
                                     -(s.score or -1.0), s.unit_id))
    computed = max((r.computed_at for r in rows), default=None)
    return Ranking(month, rules, rows, computed, "city" if allowed is None else "unit")


# --- one unit ---------------------------------------------------------------------------------

@dataclass
class LoweringOrder:
    """An order that brought one of the unit's rates down, as the viewer may see it."""

    fact_id: int
    number: str
    title: str
    type: str
    unit: Unit
    lowered: list[str]
    response_hours: float | None
    resolved: bool | None
    satisfaction: str
    appeal: AssessmentAppeal | None
    may_appeal: bool


@dataclass
class UnitMonth:
    unit: Unit
    month: str
    standing: AssessmentScore | None
    orders: list[LoweringOrder] = field(default_factory=list)
    hidden_orders: int = 0  # lowering orders the viewer may not open (another unit's now)
    excluded_by_appeal: int = 0


def get_unit_for(viewer: User, code: str) -> Unit:
    allowed = visible_unit_ids(viewer)
    unit = Unit.objects.filter(code=code).first()
    if unit is None or (allowed is not None and unit.pk not in allowed):
        raise NotFound(gettext_noop("No such unit in your scope."))
    return unit


def _member_unit_ids(unit: Unit, month: str) -> list[int]:
    """The holding units whose orders count for ``unit`` (a district: its streets too)."""
    holders = set(AssessmentFact.objects.filter(month=month).values_list("unit_id", flat=True)
                  .distinct())
    return [holder for holder, targets in assessed_for(holders).items()
            if any(t.unit_id == unit.pk for t in targets)]


def may_appeal(viewer: User, holding_unit_id: int) -> bool:
    if viewer.role not in APPEAL_ROLES or viewer.unit is None:
        return False
    return holding_unit_id in viewer.unit.descendant_ids()


def unit_month(viewer: User, code: str, month: str, *, limit: int = 200) -> UnitMonth:
    unit = get_unit_for(viewer, code)
    result = UnitMonth(unit, month, None)
    try:
        rules = rules_row_for(month)
    except Conflict:
        return result
    result.standing = (AssessmentScore.objects.filter(month=month, rules=rules, unit=unit)
                       .order_by("group").first())
    members = _member_unit_ids(unit, month)
    facts = AssessmentFact.objects.filter(month=month, unit_id__in=members)
    result.excluded_by_appeal = facts.filter(excluded=scoring.Exclusion.APPEAL).count()
    lowering = (facts.filter(excluded="").exclude(lowered=[])
                .select_related("order", "order__citizen", "unit").order_by("dispatched_at"))
    visible = set(visible_orders(viewer, Order.objects.filter(
        pk__in=lowering.values("order_id"))).values_list("pk", flat=True))
    appeals = {(a.order_id, a.unit_id): a for a in AssessmentAppeal.objects.filter(
        month=month, unit_id__in=members).order_by("submitted_at", "pk")}
    disclosure = Disclosure(viewer)
    for fact in lowering[: limit * 2]:
        if fact.order_id not in visible:
            result.hidden_orders += 1
            continue
        if len(result.orders) >= limit:
            break
        order = fact.order
        appeal = appeals.get((fact.order_id, fact.unit_id))
        standing_appeal = appeal is not None and appeal.state in PENDING_OR_ACCEPTED
        result.orders.append(LoweringOrder(
            fact_id=fact.pk, number=order.number,
            title=disclosure.redact(order.title, [order]), type=order.type, unit=fact.unit,
            lowered=list(fact.lowered), response_hours=fact.response_hours,
            resolved=fact.resolved, satisfaction=fact.satisfaction, appeal=appeal,
            may_appeal=may_appeal(viewer, fact.unit_id) and not standing_appeal,
        ))
    return result


# --- appeals ----------------------------------------------------------------------------------

def _reason(text: str | None, field_name: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(gettext_noop("Give a reason."), field=field_name)
    if len(text) > MAX_REASON:
        raise InvalidInput(gettext_noop("The reason is too long (2,000 characters at most)."),
                           field=field_name)
    return text


def check_may_appeal(actor: User, fact: AssessmentFact) -> None:
    if not (actor.role in APPEAL_ROLES or actor.is_superuser):
        raise Forbidden(gettext_noop("Only a unit's handlers and administrators appeal."))
    if not actor.is_superuser and not may_appeal(actor, fact.unit_id):
        raise NotFound(gettext_noop("No such order in your unit's assessment."))
    if fact.excluded or not fact.lowered:
        raise Conflict(gettext_noop("This order did not lower the unit's score."))
    if AssessmentAppeal.objects.filter(order_id=fact.order_id, unit_id=fact.unit_id,
                                       month=fact.month,
                                       state__in=list(PENDING_OR_ACCEPTED)).exists():
        raise Conflict(gettext_noop("This order has an appeal already."))


def do_submit_appeal(actor: User, *, number: str, month: str, reason: str,
                     upload: UploadedFile | None = None,
                     now: dt.datetime | None = None) -> AssessmentAppeal:
    """A unit appeals an order that lowered its month; the order's history records it."""
    if not (actor.role in APPEAL_ROLES or actor.is_superuser):
        raise Forbidden(gettext_noop("Only a unit's handlers and administrators appeal."))
    now = now or timezone.now()
    reason = _reason(reason, "reason")
    candidates = AssessmentFact.objects.filter(month=month, order__number=number)
    facts = [f for f in candidates.select_related("order", "unit")
             if actor.is_superuser or may_appeal(actor, f.unit_id)]
    if not facts:
        raise NotFound(gettext_noop("No such order in your unit's assessment."))
    fact = facts[0]
    check_may_appeal(actor, fact)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=fact.order_id)
        attachment = None
        if upload is not None:
            from hotline.orders.attachments import do_attach

            attachment = do_attach(actor, order, upload, "other", now=now)
        appeal = AssessmentAppeal.objects.create(
            order=order, unit_id=fact.unit_id, month=month, reason=reason,
            attachment=attachment, submitted_by=actor, submitted_at=now)
        append_event(order, action=OrderAction.ASSESSMENT_APPEAL, from_state=order.state,
                     to_state=order.state, actor=actor, note=reason, now=now,
                     data={"appeal": appeal.pk, "month": month, "unit": fact.unit.code,
                           "lowered": list(fact.lowered)})
    return appeal


def check_may_decide(actor: User) -> None:
    if not (actor.is_superuser or actor.role in DECIDE_ROLES):
        raise Forbidden(gettext_noop("Only the centre's administrator decides appeals."))


def do_decide_appeal(actor: User, appeal_id: int, *, accept: bool, decision: str,
                     now: dt.datetime | None = None) -> AssessmentAppeal:
    """The centre accepts or refuses an appeal; an accepted one excludes the order from the
    unit's month, which is scored again (with the months after it) once this commits."""
    check_may_decide(actor)
    now = now or timezone.now()
    decision = _reason(decision, "decision")
    with transaction.atomic():
        appeal = (AssessmentAppeal.objects.select_for_update().select_related("unit")
                  .filter(pk=appeal_id).first())
        if appeal is None:
            raise NotFound(gettext_noop("No such appeal."))
        action = AppealAction.ACCEPT if accept else AppealAction.REFUSE
        try:
            appeal.state = next_state(appeal.state, action)
        except AppealTransitionError:
            raise Conflict(gettext_noop("This appeal has been decided already.")) from None
        appeal.decided_by, appeal.decided_at, appeal.decision = actor, now, decision
        appeal.save(update_fields=["state", "decided_by", "decided_at", "decision"])
        order = Order.objects.select_for_update().get(pk=appeal.order_id)
        append_event(order, action=OrderAction.ASSESSMENT_DECISION, from_state=order.state,
                     to_state=order.state, actor=actor, note=decision, now=now,
                     data={"appeal": appeal.pk, "month": appeal.month,
                           "unit": appeal.unit.code, "decision": appeal.state})
        month = appeal.month
        transaction.on_commit(lambda: _rescore(month))
    return appeal


def _rescore(month: str) -> None:
    from hotline.insight.tasks import score_assessment_task

    score_assessment_task.enqueue(month)


def pending_appeals(actor: User) -> list[AssessmentAppeal]:
    check_may_decide(actor)
    return list(AssessmentAppeal.objects.filter(state=AppealState.SUBMITTED)
                .select_related("order", "unit", "submitted_by", "attachment")
                .order_by("submitted_at", "pk")[:500])


def recent_decisions(actor: User, limit: int = 50) -> list[AssessmentAppeal]:
    check_may_decide(actor)
    return list(AssessmentAppeal.objects.exclude(state=AppealState.SUBMITTED)
                .select_related("order", "unit", "decided_by")
                .order_by("-decided_at", "-pk")[:limit])


