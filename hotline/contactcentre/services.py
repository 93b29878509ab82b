"""Every write of the agent desk and the ACD: agents' states, SIP extensions, queued calls.

Agents' state changes go through ``_apply``: it locks the agent's state row, asks the pure
state machine (``hotline.contactcentre.acd.states``) where the action leads, updates the row and appends
the change to the log in the same transaction. Offering a call is different on purpose: the
agent is claimed with ONE conditional UPDATE (``state = idle`` in the WHERE clause), so when
two routers pick the same agent at the same moment exactly one of them wins and the other sees
0 rows and routes again (``do_route``). Times are passed in (``now``) so the benchmark can run
on simulated time; they default to the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.contactcentre import events
from hotline.contactcentre.acd import routing, states
from hotline.contactcentre.acd.states import AgentAction, ReasonError, TransitionError
from hotline.contactcentre.models import (
    AgentStatus,
    CallOutcome,
    Queue,
    QueuedCall,
    SipExtension,
    SoftphoneSession,
    SoftphoneState,
    State,
    StateChange,
)
from hotline.contactcentre.snapshot import agent_views, queue_rules, waiting_calls
from hotline.core.digest import ha1
from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.orders.lifecycle import OPEN
from hotline.orders.models import Citizen, Order

DESK_ROLES = frozenset({Role.AGENT, Role.MONITOR})  # who takes calls
FORCE_ROLES = frozenset({Role.MONITOR, Role.CENTRE_ADMIN})  # who may change another's state
MAX_ROUTING_ROUNDS = 20
SOFTPHONE_OPEN = (SoftphoneState.OFFERED, SoftphoneState.CLAIMED, SoftphoneState.ANSWERED)


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


# --- agents' states ------------------------------------------------------------------------

def _apply(agent_id: int, action: AgentAction, now: dt.datetime, *, reason: str = "",
           actor: User | None = None, call: QueuedCall | None = None,
           by_system: bool = False, wrap_up_s: int = 0) -> AgentStatus:
    """Apply one state-machine action to an agent; caller holds no lock. Raises Conflict."""
    with transaction.atomic():
        status = AgentStatus.objects.select_for_update().filter(pk=agent_id).first()
        if status is None:
            if action != AgentAction.SIGN_IN:
                raise Conflict("the agent is not signed in", "state")
            status = AgentStatus(agent_id=agent_id, state=State.SIGNED_OUT, since=now)
        try:
            target = states.next_state(status.state, action)
            stored_reason = states.check_reason(action, reason, by_system=by_system)
        except TransitionError as exc:
            raise Conflict(str(exc), "state") from None
        except ReasonError as exc:
            raise InvalidInput(str(exc), "reason") from None
        before = status.state
        on_call = status.call_id if before in (State.RINGING, State.TALKING, State.WRAP_UP) \
            else None
        status.state, status.reason, status.since = target, stored_reason, now
        if target == State.IDLE and before != State.RINGING:
            status.idle_since = now  # back of the line; a lost ring keeps the old place
        elif target not in (State.IDLE, State.RINGING):
            status.idle_since = None
        status.wrap_up_until = now + dt.timedelta(seconds=wrap_up_s) if target == State.WRAP_UP \
            else None
        if call is not None:
            status.call = call
        elif target not in (State.RINGING, State.TALKING, State.WRAP_UP):
            status.call = None
        if target == State.SIGNED_OUT:
            status.extension = None
        status.save()
        call_pk = call.pk if call is not None else on_call
        StateChange.objects.create(agent_id=agent_id, at=now, action=action, from_state=before,
                                   to_state=target, reason=stored_reason, call_id=call_pk,
                                   actor=actor)
        events.publish(events.Kind.AGENT_STATE, agent_id=agent_id, call_id=call_pk, at=now,
                       state=target, reason=stored_reason, action=action,
                       wrap_up_until=status.wrap_up_until.isoformat()
                       if status.wrap_up_until else None)
        return status


def _target_agent(actor: User, agent: User | None) -> User:
    if agent is None or agent.pk == actor.pk:
        if actor.role not in DESK_ROLES:
            raise Forbidden(gettext_noop("only agents and shift monitors take calls"))
        return actor
    if actor.role not in FORCE_ROLES:
        raise Forbidden("only a shift monitor may change another agent's state")
    return agent


def do_sign_in(actor: User, *, extension: str = "", now: dt.datetime | None = None) -> AgentStatus:
    """签入, on the agent's own extension (or the one given, if it is theirs)."""
    agent = _target_agent(actor, None)
    ext = SipExtension.objects.filter(agent=agent, enabled=True)
    if extension:
        ext = ext.filter(number=extension)
    phone = ext.first()
    if extension and phone is None:
        raise InvalidInput(gettext_noop("this extension is not yours or is disabled"), "extension")
    with transaction.atomic():
        status = _apply(agent.pk, AgentAction.SIGN_IN, _now(now), actor=actor)
        if phone is not None:
            AgentStatus.objects.filter(pk=agent.pk).update(extension=phone)
            status.extension = phone
    return status


def do_sign_out(actor: User, *, agent: User | None = None,
                now: dt.datetime | None = None) -> AgentStatus:
    """签出 (a monitor may sign out someone who left; never in the middle of a call); the
    desk's softphone, if any, is unregistered with it."""
    target = _target_agent(actor, agent)
    with transaction.atomic():
        status = _apply(target.pk, AgentAction.SIGN_OUT, _now(now), actor=actor)
        SoftphoneSession.objects.filter(agent_id=target.pk, state__in=SOFTPHONE_OPEN).update(
            state=SoftphoneState.CLOSED, reason="signed out", updated_at=_now(now))
    return status


def do_set_state(actor: User, action: str, *, reason: str = "", agent: User | None = None,
                 now: dt.datetime | None = None) -> AgentStatus:
    """示闲 (``ready``) or 示忙 (``not_ready`` with a reason code), by the agent or a monitor."""
    if action not in (AgentAction.READY, AgentAction.NOT_READY):
        raise InvalidInput("the desk can only set ready or not ready", "action")
    return _apply(_target_agent(actor, agent).pk, AgentAction(action), _now(now), reason=reason,
                  actor=actor)


def do_expire_wrap_ups(now: dt.datetime | None = None) -> list[int]:
    """Agents whose wrap-up time is over become ready (the scheduler and the ACD call this)."""
    when = _now(now)
    done = []
    for agent_id in AgentStatus.objects.filter(state=State.WRAP_UP, wrap_up_until__lte=when) \
            .values_list("agent_id", flat=True):
        try:
            _apply(agent_id, AgentAction.WRAP_UP_END, when, by_system=True)
        except Conflict:
            continue  # the agent pressed ready or busy meanwhile
        done.append(agent_id)
    return done


def do_set_extension_password(extension: SipExtension, password: str) -> None:
    """Store the digest password as HA1 only (MD5 and SHA-256); the password itself is gone."""
    if len(password) < 8:
        raise InvalidInput("the password needs at least 8 characters", "password")
    extension.ha1_md5 = ha1(extension.number, extension.realm, password, "MD5")
    extension.ha1_sha256 = ha1(extension.number, extension.realm, password, "SHA-256")
    extension.save(update_fields=["ha1_md5", "ha1_sha256"])


# --- queued calls --------------------------------------------------------------------------

def do_enqueue_call(queue: Queue, *, call_ref: str, caller: str = "",
                    citizen: Citizen | None = None, now: dt.datetime | None = None,
                    gateway: str = "", contact_id: int | None = None) -> QueuedCall:
    """A caller joins a queue: priority from the citizen's tags, the sticky agent from their
    newest open order created by an agent."""
    when = _now(now)
    if citizen is None and caller:
        citizen = Citizen.objects.filter(phone=caller).first()
    priority, sticky = routing.NORMAL, None
    if citizen is not None:
        priority = routing.priority_for_tags(citizen.tags or [])
        sticky = (Order.objects.filter(citizen=citizen, state__in=[s.value for s in OPEN],
                                       created_by__role__in=list(DESK_ROLES))
                  .order_by("-created_at").values_list("created_by_id", flat=True).first())
    with transaction.atomic():
        call = QueuedCall.objects.create(call_ref=call_ref, queue=queue, caller=caller[:32],
                                         citizen=citizen, priority=priority,
                                         sticky_agent_id=sticky, queued_at=when, entered_at=when,
                                         gateway=gateway[:64], contact_id=contact_id)
        events.publish(events.Kind.QUEUE_CHANGED, call_id=call.pk, at=when, queue=queue.pk,
                       change="joined")
    return call


def do_offer_call(call: QueuedCall, agent_id: int, now: dt.datetime | None = None) -> bool:
    """Ring ``agent_id`` for ``call`` if, and only if, the agent is still idle and the call still
    waiting: one conditional UPDATE each, in one transaction. False when someone was faster."""
    when = _now(now)
    with transaction.atomic():
        claimed = AgentStatus.objects.filter(pk=agent_id, state=State.IDLE).update(
            state=State.RINGING, since=when, call=call, reason="", wrap_up_until=None)
        if not claimed:
            return False
        taken = QueuedCall.objects.filter(pk=call.pk, outcome=CallOutcome.WAITING).update(
            outcome=CallOutcome.RINGING, agent_id=agent_id, offered_at=when)
        if not taken:
            transaction.set_rollback(True)  # the caller left or another router took the call
            return False
        StateChange.objects.create(agent_id=agent_id, at=when, action=AgentAction.OFFER,
                                   from_state=State.IDLE, to_state=State.RINGING, call=call)
        events.publish(events.Kind.CALL_OFFERED, agent_id=agent_id, call_id=call.pk, at=when,
                       state=State.RINGING)
    call.outcome, call.agent_id, call.offered_at = CallOutcome.RINGING, agent_id, when
    return True


@dataclass(frozen=True)
class RoutingResult:
    offers: list[routing.Offer]
    overflows: list[routing.Overflow]
    lost_claims: int  # offers another router won first (then routed again)


def do_route(now: dt.datetime | None = None, *, queue_ids: list[int] | None = None,
             gateway: str | None = None) -> RoutingResult:
    """Apply due overflow rules, then offer waiting calls to idle agents until no offer is left.
    Safe to run in several processes at once: every claim is atomic, a lost claim routes again.
    A gateway routes only the calls it holds (``gateway``): it rings the offered agent itself."""
    when = _now(now)
    t = when.timestamp()
    rules: dict[str, routing.QueueRules] | None = None
    offers: list[routing.Offer] = []
    overflows: list[routing.Overflow] = []
    lost = 0
    for _ in range(MAX_ROUTING_ROUNDS):
        calls = waiting_calls(queue_ids, gateway=gateway)
        if not calls:
            break
        rules = rules or queue_rules()
        agents = agent_views()
        due = routing.due_overflows(calls, agents, rules, t)
        if due:
            for overflow in due:
                if _overflow(overflow, when):
                    overflows.append(overflow)
            continue  # snapshot again: calls moved between queues
        proposed = routing.select_offers(calls, agents, rules, t)
        if not proposed:
            break
        round_lost = 0
        for offer in proposed:
            if do_offer_call(QueuedCall(pk=offer.call), offer.agent, when):
                offers.append(offer)
            else:
                round_lost += 1
        lost += round_lost
        if not round_lost:
            break  # the selection was maximal and all of it is claimed
    return RoutingResult(offers, overflows, lost)


def _overflow(overflow: routing.Overflow, when: dt.datetime) -> bool:
    """Move a waiting call on by its queue's rule; False if it was no longer waiting."""
    rule = overflow.rule
    with transaction.atomic():
        calls = QueuedCall.objects.filter(pk=overflow.call, outcome=CallOutcome.WAITING,
                                          overflow_step=overflow.step)
        if rule.action == routing.OverflowAction.QUEUE:
            moved = bool(calls.update(queue_id=int(rule.target_queue), entered_at=when,
                                      overflow_step=0, overflowed_at=when,
                                      overflow_action=rule.action))
        else:
            call = calls.first()
            moved = call is not None and bool(calls.update(
                outcome=CallOutcome.OVERFLOWED, overflowed_at=when, overflow_action=rule.action,
                wait_s=(when - call.queued_at).total_seconds()))
        if moved:
            events.publish(events.Kind.QUEUE_CHANGED, call_id=overflow.call, at=when,
                           change="overflowed", action=rule.action,
                           target_queue=rule.target_queue or None)
        return moved


def _call(call_id: int, *outcomes: str) -> QueuedCall:
    call = QueuedCall.objects.select_for_update().filter(pk=call_id).first()
    if call is None:
        raise NotFound("no such queued call", "call")
    if call.outcome not in outcomes:
        raise Conflict(f"the call is {call.outcome}", "call")
    return call


def do_call_answered(call_id: int, now: dt.datetime | None = None) -> QueuedCall:
    """The agent's phone answered: the caller's wait ends here."""
    when = _now(now)
    with transaction.atomic():
        call = _call(call_id, CallOutcome.RINGING)
        assert call.agent_id is not None
        call.outcome, call.answered_at = CallOutcome.TALKING, when
        call.wait_s = (when - call.queued_at).total_seconds()
        call.save(update_fields=["outcome", "answered_at", "wait_s"])
        _apply(call.agent_id, AgentAction.ANSWER, when, call=call, by_system=True)
        events.publish(events.Kind.CALL_ANSWERED, agent_id=call.agent_id, call_id=call.pk,
                       at=when, wait_s=call.wait_s)
    return call


def do_call_ended(call_id: int, now: dt.datetime | None = None) -> QueuedCall:
    """Either side hung up: the agent goes to wrap-up for the queue's wrap-up time."""
    when = _now(now)
    with transaction.atomic():
        call = _call(call_id, CallOutcome.TALKING)
        assert call.agent_id is not None
        call.outcome, call.ended_at = CallOutcome.COMPLETED, when
        if call.held_at is not None:  # hung up on hold: the hold time ends with the call
            call.hold_s += max(0.0, (when - call.held_at).total_seconds())
            call.held_at = None  # (on_hold stays: it says how the call was left)
        call.save(update_fields=["outcome", "ended_at", "hold_s", "held_at"])
        wrap_up = Queue.objects.values_list("wrap_up_s", flat=True).get(pk=call.queue_id)
        _apply(call.agent_id, AgentAction.HANG_UP, when, call=call, by_system=True,
               wrap_up_s=wrap_up)
        events.publish(events.Kind.CALL_ENDED, agent_id=call.agent_id, call_id=call.pk,
                       at=when, outcome=call.outcome)
    return call


def do_ring_timeout(call_id: int, now: dt.datetime | None = None) -> QueuedCall:
    """Nobody picked up: the agent is made busy (未接) and the call waits again in its place."""
    when = _now(now)
    with transaction.atomic():
        call = _call(call_id, CallOutcome.RINGING)
        assert call.agent_id is not None
        agent_id = call.agent_id
        call.outcome, call.agent_id, call.offered_at = CallOutcome.WAITING, None, None
        call.unanswered_offers += 1
        call.save(update_fields=["outcome", "agent", "offered_at", "unanswered_offers"])
        _apply(agent_id, AgentAction.NO_ANSWER, when, call=call, by_system=True)
    return call


def do_call_abandoned(call_id: int, now: dt.datetime | None = None) -> QueuedCall:
    """The caller hung up before an agent answered; recorded with the wait."""
    when = _now(now)
    with transaction.atomic():
        call = _call(call_id, CallOutcome.WAITING, CallOutcome.RINGING)
        ringing = call.agent_id if call.outcome == CallOutcome.RINGING else None
        call.outcome, call.abandoned_at = CallOutcome.ABANDONED, when
        call.wait_s = (when - call.queued_at).total_seconds()
        call.save(update_fields=["outcome", "abandoned_at", "wait_s"])
        if ringing is not None:
            _apply(ringing, AgentAction.CALLER_GONE, when, call=call, by_system=True)
        events.publish(events.Kind.QUEUE_CHANGED, agent_id=ringing, call_id=call.pk, at=when,
                       queue=call.queue_id, change="abandoned", wait_s=call.wait_s)
    return call


def do_withdraw_offer(call_id: int, now: dt.datetime | None = None) -> QueuedCall:
    """An offer made for a transfer or consultation to one agent was not answered: the entry is
    withdrawn (not an abandoned caller) and the agent, who was only rung, is ready again."""
    when = _now(now)
    with transaction.atomic():
        call = _call(call_id, CallOutcome.RINGING, CallOutcome.WAITING)
        ringing = call.agent_id if call.outcome == CallOutcome.RINGING else None
        call.outcome, call.ended_at = CallOutcome.WITHDRAWN, when
        call.save(update_fields=["outcome", "ended_at"])
        if ringing is not None:
            _apply(ringing, AgentAction.CALLER_GONE, when, call=call, by_system=True)
    return call


def announcement(call_id: int) -> tuple[int, int | None] | None:
    """(position in queue, expected wait in whole minutes or None) for a waiting call."""
    call = QueuedCall.objects.filter(pk=call_id, outcome=CallOutcome.WAITING).first()
    if call is None:
        return None
    rules = queue_rules().get(str(call.queue_id))
    if rules is None:
        return None
    position = routing.positions(waiting_calls([call.queue_id]))[call.pk]
    serving = routing.serving(rules, agent_views())
    return position, routing.announced_minutes(
        routing.expected_wait_s(position, serving, rules.aht_s))


def next_timer(now: dt.datetime | None = None) -> dt.datetime | None:
    """When the ACD loop must next run without any event: a wrap-up ends, a sticky window
    closes or an overflow rule comes due. The gateway's routing loop sleeps until then."""
    when = _now(now)
    wrap = (AgentStatus.objects.filter(state=State.WRAP_UP, wrap_up_until__isnull=False)
            .order_by("wrap_up_until").values_list("wrap_up_until", flat=True).first())
    wake = routing.next_wakeup(waiting_calls(), queue_rules(), when.timestamp())
    times = [t for t in (wrap, dt.datetime.fromtimestamp(wake, dt.UTC) if wake else None) if t]
    return min(times) if times else None
