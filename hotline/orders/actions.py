"""What each lifecycle action does to an order besides changing its state.

``do_action`` (services) has already locked the order, checked the transition against the
lifecycle table and the caller's role and scope; a handler validates its parameters, changes the
order's fields and returns the note and details for the history event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_noop

from hotline.core.errors import Conflict, Forbidden, InvalidInput
from hotline.core.roles import Role
from hotline.directory.calendar_service import current_calendar
from hotline.directory.models import Unit, UnitKind, User
from hotline.directory.routing import route_for
from hotline.orders import deadlines, lifecycle
from hotline.orders.history import append_event
from hotline.orders.lifecycle import Action, State
from hotline.orders.models import (
    Assignment,
    Citizen,
    CitizenTag,
    Contact,
    Order,
    OrderLink,
    Satisfaction,
)
from hotline.orders.scope import is_centre_user

MAX_EXTENSION_DAYS = 30


@dataclass
class ActionContext:
    actor: User
    order: Order
    params: dict[str, Any]
    now: dt.datetime
    to_state: State


@dataclass
class ActionResult:
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[ActionContext], ActionResult]


# --- authorisation ---------------------------------------------------------------------------

def _active_assignment(order: Order, actor: User, roles: tuple[str, ...]) -> Assignment | None:
    if actor.unit is None:
        return None
    return (
        Assignment.objects.filter(
            order=order, unit_id__in=actor.unit.descendant_ids(), active=True, role__in=roles
        )
        .order_by("role")
        .first()
    )


# Roles whose actions need their unit to hold the order (``assignment_roles_needed``).
DEPARTMENT_ACTORS = (Role.DEPT_HANDLER, Role.DEPT_ADMIN)


def assignment_roles_needed(action: Action) -> tuple[str, ...]:
    """The assignment roles one of which a department's unit must hold, actively, to take
    ``action`` on an order."""
    if action == Action.CO_REPLY:
        return (Assignment.Role.CO,)
    if action == Action.CONFIRM_ESCALATION:
        return (Assignment.Role.LINKAGE, Assignment.Role.LEAD, Assignment.Role.CO)
    return (Assignment.Role.LEAD,)


def check_actor_may(actor: User, order: Order, action: Action) -> None:
    """Role first (the lifecycle's ACTION_ROLES), then scope: department actions need an active
    assignment of the actor's unit; centre actions need the order in the actor's view (already
    checked when the order was loaded)."""
    if actor.is_superuser:
        return
    if actor.role not in lifecycle.ACTION_ROLES[action]:
        raise Forbidden(f"your role may not {action.value} orders")
    if actor.role in DEPARTMENT_ACTORS:
        needed = assignment_roles_needed(action)
        if _active_assignment(order, actor, needed) is None:
            raise Forbidden(f"your unit does not hold this order as {'/'.join(needed)}")


def sends_anywhere(actor: User) -> bool:
    """The city centre (and the platform's own account) dispatch to any unit of the city."""
    return actor.is_superuser or is_centre_user(actor) or actor.role == Role.SYSTEM


def check_may_send(actor: User, unit: Unit, field: str = "unit") -> None:
    """May ``actor`` send an order to ``unit`` (as lead, co-handler or linkage unit)? One rule
    for dispatch, co-dispatch, transfer, re-dispatch after a return and escalation: the centre
    sends anywhere; a sub-centre, department or street sends only to its own unit or the units
    below it (a sub-centre's district, never another district's units or the city's
    departments, which the centre dispatches to)."""
    if sends_anywhere(actor):
        return
    if actor.unit is None or unit.pk not in actor.unit.descendant_ids():
        raise Forbidden(f"you may send orders only to your own unit or the units below it, "
                        f"not to {unit.code}", field=field)


def _sendable(actor: User, units: list[Unit], field: str) -> list[Unit]:
    for unit in units:
        check_may_send(actor, unit, field)
    return units


# --- helpers ---------------------------------------------------------------------------------

def _text(ctx: ActionContext, name: str, *, required: bool, max_len: int = 5000) -> str:
    value = ctx.params.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text", field=name)
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{name} is required", field=name)
    if len(value) > max_len:
        raise InvalidInput(f"{name} is longer than {max_len} characters", field=name)
    return value


def _unit(code: Any, name: str) -> Unit:
    if not isinstance(code, str) or not code:
        raise InvalidInput(f"{name} is required", field=name)
    unit = Unit.objects.filter(code=code, active=True).first()
    if unit is None:
        raise InvalidInput(f"unknown unit {code!r}", field=name)
    if unit.kind == UnitKind.CENTRE:
        raise InvalidInput("orders are dispatched to departments, sub-centres or streets",
                           field=name)
    return unit


def _units(codes: Any, name: str) -> list[Unit]:
    if codes in (None, ""):
        return []
    if not isinstance(codes, list):
        raise InvalidInput(f"{name} must be a list of unit codes", field=name)
    return [_unit(code, name) for code in codes]


def _clear_deadline_marks(order: Order) -> None:
    """A new deadline starts afresh: reminders, overdue marks and escalation apply to the
    deadline that was current when they were made (the history keeps them)."""
    order.reminded_at = None
    order.overdue_at = None
    order.overdue_escalated_at = None


def _set_deadlines(order: Order, now: dt.datetime) -> None:
    cal = current_calendar()
    limits = deadlines.limits_for(order.category, cal)
    order.sign_due = deadlines.sign_due(now, order.urgency, limits, cal)
    order.handle_due = deadlines.handle_due(now, order.urgency, limits, cal)
    _clear_deadline_marks(order)


def _withdraw_extension(order: Order, data: dict[str, Any]) -> dict[str, Any]:
    """A pending extension request lapses when the order leaves 办理中 (replied, suspended,
    sent to another unit, merged): nobody could decide it any more, and the centre's queue
    would show it forever. The event says which request lapsed."""
    if order.extension_pending_days:
        data = {**data, "extension_withdrawn": order.extension_pending_days}
        order.extension_pending_days = None
    return data


def _assign_lead(order: Order, unit: Unit, now: dt.datetime) -> None:
    Assignment.objects.filter(order=order, role=Assignment.Role.LEAD, active=True).update(
        active=False
    )
    Assignment.objects.filter(order=order, unit=unit, active=True).update(active=False)
    Assignment.objects.create(
        order=order, unit=unit, role=Assignment.Role.LEAD, assigned_at=now
    )
    order.lead_unit = unit
    order.dispatched_at = now
    order.signed_at = None
    # A handler belongs to a unit: the new unit chooses its own.
    order.handler = None


def _assign_co(order: Order, units: list[Unit], now: dt.datetime, role: str) -> list[str]:
    codes = []
    for unit in units:
        if unit.pk == order.lead_unit_id:
            continue
        if not Assignment.objects.filter(order=order, unit=unit, active=True).exists():
            Assignment.objects.create(order=order, unit=unit, role=role, assigned_at=now)
        codes.append(unit.code)
    return codes


def _route_for(order: Order) -> tuple[Unit | None, list[Unit]]:
    found = route_for(order.category_id, order.district_id)
    return found if found else (None, [])


# --- handlers --------------------------------------------------------------------------------

def answer(ctx: ActionContext) -> ActionResult:
    reply = _text(ctx, "reply", required=True)
    ctx.order.reply_text = reply
    ctx.order.answered_directly = ctx.order.state == State.ACCEPTED
    ctx.order.closed_at = ctx.now
    return ActionResult(note=reply)


def reject(ctx: ActionContext) -> ActionResult:
    reason = _text(ctx, "reason", required=True)
    ctx.order.closed_at = ctx.now
    return ActionResult(note=reason)


def dispatch(ctx: ActionContext) -> ActionResult:
    order = ctx.order
    category_code = ctx.params.get("category")
    if category_code:
        from hotline.directory.models import Category

        category = Category.objects.filter(code=category_code, active=True).first()
        if category is None:
            raise InvalidInput(f"unknown category {category_code!r}", field="category")
        if order.type not in category.accepted_types:
            raise InvalidInput(f"category {category.name} does not accept this order type",
                               field="category")
        order.category = category
    urgency = ctx.params.get("urgency")
    if urgency:
        if urgency not in ("normal", "urgent"):
            raise InvalidInput("urgency must be normal or urgent", field="urgency")
        order.urgency = urgency
    route_lead, route_co = _route_for(order)
    lead = _unit(ctx.params["unit"], "unit") if ctx.params.get("unit") else route_lead
    if lead is None:
        raise InvalidInput(
            gettext_noop("no lead unit: give one, or a category with a dispatch route"), field="unit"
        )
    co_units = _units(ctx.params["co_units"], "co_units") if "co_units" in ctx.params else route_co
    # A route's units are checked too: the rule is about where the order goes, not who chose it.
    check_may_send(ctx.actor, lead, "unit")
    _sendable(ctx.actor, co_units, "co_units")
    _assign_lead(order, lead, ctx.now)
    co_codes = _assign_co(order, co_units, ctx.now, Assignment.Role.CO)
    _set_deadlines(order, ctx.now)
    return ActionResult(
        note=_text(ctx, "note", required=False),
        data={"unit": lead.code, "co_units": co_codes,
              "category": order.category.code if order.category else None,
              "sign_due": order.sign_due.isoformat() if order.sign_due else None,
              "handle_due": order.handle_due.isoformat() if order.handle_due else None},
    )


def transfer(ctx: ActionContext) -> ActionResult:
    """A sub-centre or department passes its order down to a unit below it (a street office);
    the centre may transfer to any unit."""
    target = _unit(ctx.params.get("unit"), "unit")
    actor = ctx.actor
    check_may_send(actor, target, "unit")
    if not sends_anywhere(actor) and target.pk == actor.unit_id:
        raise InvalidInput("the order is already with your unit", field="unit")
    if target.pk == ctx.order.lead_unit_id:
        raise InvalidInput("the order is already with that unit", field="unit")
    previous = ctx.order.lead_unit.code if ctx.order.lead_unit else None
    _assign_lead(ctx.order, target, ctx.now)
    _set_deadlines(ctx.order, ctx.now)
    return ActionResult(note=_text(ctx, "note", required=False), data=_withdraw_extension(
        ctx.order, {"from_unit": previous, "unit": target.code}))


def sign(ctx: ActionContext) -> ActionResult:
    late = bool(ctx.order.sign_due and ctx.now > ctx.order.sign_due)
    ctx.order.signed_at = ctx.now
    # From now on the handling deadline is the one watched.
    _clear_deadline_marks(ctx.order)
    Assignment.objects.filter(
        order=ctx.order, role=Assignment.Role.LEAD, active=True
    ).update(signed_at=ctx.now)
    return ActionResult(data={"late": late})


def return_order(ctx: ActionContext) -> ActionResult:
    ctx.order.returned_at = ctx.now
    return ActionResult(note=_text(ctx, "reason", required=True),
                        data={"unit": ctx.order.lead_unit.code if ctx.order.lead_unit else None})


def approve_return(ctx: ActionContext) -> ActionResult:
    target = _unit(ctx.params.get("unit"), "unit")
    check_may_send(ctx.actor, target, "unit")
    if target.pk == ctx.order.lead_unit_id:
        raise InvalidInput("re-dispatch to a different unit, or refuse the return", field="unit")
    previous = ctx.order.lead_unit.code if ctx.order.lead_unit else None
    _assign_lead(ctx.order, target, ctx.now)
    _set_deadlines(ctx.order, ctx.now)
    return ActionResult(note=_text(ctx, "note", required=False),
                        data={"from_unit": previous, "unit": target.code})


def deny_return(ctx: ActionContext) -> ActionResult:
    # 首问负责: the unit keeps the order and must sign for it anew.
    _set_deadlines(ctx.order, ctx.now)
    return ActionResult(note=_text(ctx, "reason", required=True))


def reply(ctx: ActionContext) -> ActionResult:
    text = _text(ctx, "reply", required=True)
    ctx.order.reply_text = text
    ctx.order.replied_at = ctx.now
    Assignment.objects.filter(
        order=ctx.order, role=Assignment.Role.LEAD, active=True
    ).update(replied_at=ctx.now, reply_text=text)
    return ActionResult(note=text, data=_withdraw_extension(ctx.order, {
        "late": bool(ctx.order.handle_due and ctx.now > ctx.order.handle_due)
    }))


def co_reply(ctx: ActionContext) -> ActionResult:
    text = _text(ctx, "reply", required=True)
    assignment = _active_assignment(ctx.order, ctx.actor, (Assignment.Role.CO,))
    if assignment is not None:
        assignment.replied_at = ctx.now
        assignment.reply_text = text
        assignment.save(update_fields=["replied_at", "reply_text"])
    return ActionResult(note=text)


def approve_reply(ctx: ActionContext) -> ActionResult:
    return ActionResult(note=_text(ctx, "note", required=False))


def deny_reply(ctx: ActionContext) -> ActionResult:
    return ActionResult(note=_text(ctx, "reason", required=True))


def _satisfaction(ctx: ActionContext, required: bool) -> tuple[bool | None, str]:
    resolved = ctx.params.get("resolved")
    satisfaction = ctx.params.get("satisfaction") or ""
    if required and resolved is None:
        raise InvalidInput("resolved (true/false) is required", field="resolved")
    if resolved is not None and not isinstance(resolved, bool):
        raise InvalidInput("resolved must be true or false", field="resolved")
    if required and not satisfaction:
        raise InvalidInput("satisfaction is required", field="satisfaction")
    if satisfaction and satisfaction not in Satisfaction.values:
        raise InvalidInput(f"satisfaction must be one of {Satisfaction.values}",
                           field="satisfaction")
    return resolved, satisfaction


def callback(ctx: ActionContext) -> ActionResult:
    if ctx.params.get("unreachable") is True:
        # 联系不上: closed without the citizen's word after the call backs the centre's rule
        # asks for; the reason (the tries and their outcomes) is the note, and nothing is
        # recorded as resolved or as a satisfaction.
        ctx.order.closed_at = ctx.now
        return ActionResult(note=_text(ctx, "note", required=True),
                            data={"unreachable": True, "resolved": None, "satisfaction": ""})
    resolved, satisfaction = _satisfaction(ctx, required=True)
    ctx.order.resolved = resolved
    ctx.order.satisfaction = satisfaction
    ctx.order.closed_at = ctx.now
    return ActionResult(note=_text(ctx, "note", required=False),
                        data={"resolved": resolved, "satisfaction": satisfaction})


def reopen(ctx: ActionContext) -> ActionResult:
    resolved, satisfaction = _satisfaction(ctx, required=False)
    note = _text(ctx, "reason", required=True)
    order = ctx.order
    if order.lead_unit is None:
        raise Conflict("the order was never dispatched; nothing to reopen")
    if resolved is not None:
        order.resolved = resolved
    if satisfaction:
        order.satisfaction = satisfaction
    order.reopen_count += 1
    order.closed_at = None
    order.replied_at = None
    cal = current_calendar()
    order.handle_due = deadlines.handle_due(
        ctx.now, order.urgency, deadlines.limits_for(order.category, cal), cal
    )
    _clear_deadline_marks(order)
    Assignment.objects.filter(order=order, role=Assignment.Role.LEAD, active=True).update(
        replied_at=None
    )
    return ActionResult(note=note, data={
        "resolved": resolved, "satisfaction": satisfaction, "reopen_count": order.reopen_count,
        "handle_due": order.handle_due.isoformat(),
    })


def archive(ctx: ActionContext) -> ActionResult:
    return ActionResult()


def note_only(name: str, required: bool) -> Handler:
    def handler(ctx: ActionContext) -> ActionResult:
        return ActionResult(note=_text(ctx, name, required=required))

    return handler


def supervise(ctx: ActionContext) -> ActionResult:
    ctx.order.supervised = True
    return ActionResult(note=_text(ctx, "note", required=False))


def request_extension(ctx: ActionContext) -> ActionResult:
    if ctx.order.extension_pending_days:
        raise Conflict("an extension request is already waiting for approval")
    days = ctx.params.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidInput(f"days must be a whole number from 1 to {MAX_EXTENSION_DAYS}",
                           field="days")
    ctx.order.extension_pending_days = days
    return ActionResult(note=_text(ctx, "reason", required=True), data={"days": days})


def approve_extension(ctx: ActionContext) -> ActionResult:
    days = ctx.order.extension_pending_days
    if not days:
        raise Conflict("there is no extension request to approve")
    cal = current_calendar()
    base = max(ctx.order.handle_due or ctx.now, ctx.now)
    ctx.order.handle_due = cal.add_working_days(base, days)
    ctx.order.extension_pending_days = None
    _clear_deadline_marks(ctx.order)
    return ActionResult(note=_text(ctx, "note", required=False),
                        data={"days": days, "handle_due": ctx.order.handle_due.isoformat()})


def deny_extension(ctx: ActionContext) -> ActionResult:
    if not ctx.order.extension_pending_days:
        raise Conflict("there is no extension request to refuse")
    ctx.order.extension_pending_days = None
    return ActionResult(note=_text(ctx, "reason", required=True))


def suspend(ctx: ActionContext) -> ActionResult:
    ctx.order.suspended_at = ctx.now
    return ActionResult(note=_text(ctx, "reason", required=True),
                        data=_withdraw_extension(ctx.order, {}))


def resume(ctx: ActionContext) -> ActionResult:
    """The clock stood still while the order waited for the citizen: the deadline moves by the
    working time that passed."""
    order = ctx.order
    paused = 0.0
    if order.suspended_at is not None and order.handle_due is not None:
        cal = current_calendar()
        paused = cal.working_seconds_between(order.suspended_at, ctx.now)
        order.handle_due = cal.add_working_seconds(order.handle_due, paused)
    order.suspended_at = None
    return ActionResult(note=_text(ctx, "note", required=False), data={
        "paused_working_hours": round(paused / 3600, 2),
        "handle_due": order.handle_due.isoformat() if order.handle_due else None,
    })


def _other_order(ctx: ActionContext, name: str, *, label: str) -> Order:
    """The other order of a merge or link: in the actor's scope (an order one may not see is
    "no such order"), not this one; locked, because its history gets an event too."""
    from hotline.orders.scope import visible_orders

    number = ctx.params.get(name)
    if not isinstance(number, str) or not number:
        raise InvalidInput(f"{name} ({label}) is required", field=name)
    if number == ctx.order.number:
        raise InvalidInput("an order cannot be merged into or linked to itself", field=name)
    qs = Order.objects.all()
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(of=("self",))
    other = visible_orders(ctx.actor, qs).filter(number=number).first()
    if other is None:
        raise InvalidInput(f"no work order {number}", field=name)
    return other


def _record_on(other: Order, ctx: ActionContext, action: Action, note: str,
               data: dict[str, Any]) -> None:
    """The other order's side of a merge or link, in its own history (its state unchanged)."""
    other.updated_at = ctx.now
    other.save(update_fields=["updated_at"])
    append_event(other, action=action, from_state=other.state, to_state=other.state,
                 actor=ctx.actor, note=note, data=data, now=ctx.now)


def _flag_repeat_caller(order: Order, other: Order) -> bool:
    """The same citizen with two orders on the same matter is a repeat caller (重复来电)."""
    if order.citizen_id != other.citizen_id:
        return False
    citizen = Citizen.objects.select_for_update().get(pk=order.citizen_id) \
        if connection.vendor == "postgresql" else Citizen.objects.get(pk=order.citizen_id)
    if CitizenTag.REPEAT not in citizen.tags:
        citizen.tags = [*citizen.tags, CitizenTag.REPEAT.value]
        citizen.save(update_fields=["tags"])
    return True


def merge(ctx: ActionContext) -> ActionResult:
    """并单: this order closes into ``into``. Its contacts move along, so the citizen who
    called about it is among those the target's handlers call back and inform; both histories
    say so (the target's event names the merged order and whether it was the same caller)."""
    target = _other_order(ctx, "into", label="the acceptance number to merge into")
    if target.state not in lifecycle.OPEN:
        raise Conflict(f"order {target.number} is not open; merge into an open order")
    if target.merged_into_id is not None:
        raise Conflict(f"order {target.number} was itself merged")
    note = _text(ctx, "note", required=False)
    ctx.order.merged_into = target
    ctx.order.closed_at = ctx.now
    moved = 0
    for contact in Contact.objects.filter(orders=ctx.order):
        contact.orders.add(target)
        moved += 1
    # Links of the merged order now concern the target.
    for link in OrderLink.objects.filter(Q(order=ctx.order) | Q(linked=ctx.order)):
        other_id = link.linked_id if link.order_id == ctx.order.pk else link.order_id
        if other_id != target.pk:
            low, high = sorted((other_id, target.pk))
            OrderLink.objects.get_or_create(order_id=low, linked_id=high, defaults={
                "kind": link.kind, "created_by": ctx.actor if ctx.actor.pk else None,
                "created_at": ctx.now})
    repeat = _flag_repeat_caller(ctx.order, target)
    _record_on(target, ctx, Action.MERGE, note, {
        "merged": ctx.order.number, "contacts": moved, "same_caller": repeat,
    })
    return ActionResult(note=note, data=_withdraw_extension(ctx.order, {
        "into": target.number, "contacts": moved, "same_caller": repeat}))


def link(ctx: ActionContext) -> ActionResult:
    """关联: the two orders stay open; each history names the other."""
    other = _other_order(ctx, "other", label="the acceptance number to link to")
    kind = ctx.params.get("kind") or OrderLink.Kind.RELATED
    if kind not in OrderLink.Kind.values:
        raise InvalidInput(f"kind must be one of {OrderLink.Kind.values}", field="kind")
    low, high = sorted((ctx.order.pk, other.pk))
    if OrderLink.objects.filter(order_id=low, linked_id=high).exists():
        raise Conflict(f"the orders {ctx.order.number} and {other.number} are already linked")
    OrderLink.objects.create(order_id=low, linked_id=high, kind=kind,
                             created_by=ctx.actor if ctx.actor.pk else None, created_at=ctx.now)
    repeat = kind == OrderLink.Kind.DUPLICATE and _flag_repeat_caller(ctx.order, other)
    note = _text(ctx, "note", required=False)
    _record_on(other, ctx, Action.LINK, note, {"with": ctx.order.number, "kind": kind})
    return ActionResult(note=note, data={"with": other.number, "kind": kind,
                                         "same_caller": repeat})


def unlink(ctx: ActionContext) -> ActionResult:
    other = _other_order(ctx, "other", label="the acceptance number of the linked order")
    low, high = sorted((ctx.order.pk, other.pk))
    deleted, _rows = OrderLink.objects.filter(order_id=low, linked_id=high).delete()
    if not deleted:
        raise Conflict(f"the orders {ctx.order.number} and {other.number} are not linked")
    note = _text(ctx, "note", required=False)
    _record_on(other, ctx, Action.UNLINK, note, {"with": ctx.order.number})
    return ActionResult(note=note, data={"with": other.number})


def assign(ctx: ActionContext) -> ActionResult:
    """分派承办人: the department administrator gives the order to a handler of the unit (or
    moves it to another); a handler takes an order nobody holds."""
    from hotline.orders.assignees import check_assignee

    handler = check_assignee(ctx.actor, ctx.order, ctx.params.get("handler"))
    previous = ctx.order.handler
    ctx.order.handler = handler
    return ActionResult(note=_text(ctx, "note", required=False), data={
        "handler": handler.username, "handler_name": handler.display_name or handler.username,
        "from_handler": previous.username if previous is not None else None,
    })


def escalate(ctx: ActionContext) -> ActionResult:
    linkage = _sendable(ctx.actor, _units(ctx.params.get("linkage_units"), "linkage_units"),
                        "linkage_units")
    ctx.order.major_event = True
    ctx.order.escalated_at = ctx.now
    codes = _assign_co(ctx.order, linkage, ctx.now, Assignment.Role.LINKAGE)
    return ActionResult(note=_text(ctx, "note", required=True), data={"linkage_units": codes})


def confirm_escalation(ctx: ActionContext) -> ActionResult:
    assignment = _active_assignment(
        ctx.order, ctx.actor, (Assignment.Role.LINKAGE, Assignment.Role.LEAD, Assignment.Role.CO)
    )
    if assignment is not None and assignment.signed_at is None:
        assignment.signed_at = ctx.now
        assignment.save(update_fields=["signed_at"])
    return ActionResult(note=_text(ctx, "note", required=False))


def remind(ctx: ActionContext) -> ActionResult:
    ctx.order.reminded_at = ctx.now
    return ActionResult(note=_text(ctx, "note", required=False),
                        data={k: v for k, v in ctx.params.items() if k == "deadline"})


def mark_overdue(ctx: ActionContext) -> ActionResult:
    ctx.order.overdue_at = ctx.now
    return ActionResult(note=_text(ctx, "note", required=False),
                        data={k: v for k, v in ctx.params.items() if k == "deadline"})


def escalate_overdue(ctx: ActionContext) -> ActionResult:
    ctx.order.overdue_escalated_at = ctx.now
    ctx.order.supervised = True
    return ActionResult(note=_text(ctx, "note", required=False),
                        data={k: v for k, v in ctx.params.items() if k == "deadline"})


A = Action
HANDLERS: dict[Action, Handler] = {
    A.ANSWER: answer,
    A.REJECT: reject,
    A.DISPATCH: dispatch,
    A.TRANSFER: transfer,
    A.SIGN: sign,
    A.RETURN: return_order,
    A.APPROVE_RETURN: approve_return,
    A.DENY_RETURN: deny_return,
    A.REPLY: reply,
    A.CO_REPLY: co_reply,
    A.APPROVE_REPLY: approve_reply,
    A.DENY_REPLY: deny_reply,
    A.CALLBACK: callback,
    A.REOPEN: reopen,
    A.CALLBACK_ATTEMPT: note_only("note", required=True),
    A.ARCHIVE: archive,
    A.URGE: note_only("note", required=False),
    A.SUPERVISE: supervise,
    A.INSTRUCT: note_only("note", required=True),
    A.REQUEST_EXTENSION: request_extension,
    A.APPROVE_EXTENSION: approve_extension,
    A.DENY_EXTENSION: deny_extension,
    A.SUSPEND: suspend,
    A.RESUME: resume,
    A.MERGE: merge,
    A.ESCALATE: escalate,
    A.CONFIRM_ESCALATION: confirm_escalation,
    A.REMIND: remind,
    A.MARK_OVERDUE: mark_overdue,
    A.ESCALATE_OVERDUE: escalate_overdue,
    A.LINK: link,
    A.UNLINK: unlink,
    A.ASSIGN: assign,
}
