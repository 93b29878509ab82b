"""Call-back work (回访 and 未接来电回拨) as tasks agents take from the desk.

- A return visit: every order the centre moved to 待回访 (approve_reply) gets one task per
  round (``do_queue_visits``, periodic and idempotent: orders knows nothing of outreach), due
  ``visit_hours`` working hours after the reply was accepted.
- A missed call: ``missed_calls.do_collect_missed`` makes one open task per number.
- The agent clicks "call": ``do_start_call`` takes the task with one conditional UPDATE (two
  agents clicking: one wins) and queues a preview-dial ``OutboundCall`` (mode agent: the
  gateway rings the agent's own extension, then dials the citizen and bridges). An agent who
  is 示闲 becomes 示忙 (外呼回访) first, so the ACD offers no inbound call to that phone.
- The gateway finishes the call; ``calls.tell_owner`` calls ``on_call_finished`` here once.
  Not reached: the try is counted (and written into the order's history); after
  ``max_tries`` the centre's rule runs (ask for the rating by SMS, or close as 联系不上 with
  the reason). Reached: a missed-call task is done; for a return visit the agent records
  resolved/satisfied and the citizen's words (``do_record_visit``): satisfied closes the order
  through Action.CALLBACK, anything else reopens it to the department (重办) with the words.

Texts written into the order's history are in the centre's language (LANGUAGE_CODE).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hotline.contactcentre.models import AgentStatus, Reason, SipExtension
from hotline.contactcentre.models import State as AgentState
from hotline.contactcentre.services import DESK_ROLES, do_set_state
from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from hotline.core.roles import Role
from hotline.directory.calendar_service import current_calendar
from hotline.directory.models import User
from hotline.orders.contacts import do_link_contact
from hotline.orders.lifecycle import Action, State
from hotline.orders.models import Contact, Order, OrderEvent, Satisfaction
from hotline.orders.scope import visible_orders
from hotline.orders.services import do_action
from hotline.orders.sweeps import system_user
from hotline.outreach import calls
from hotline.outreach.models import OutboundCall, Outcome, Purpose
from hotline.outreach.models_callbacks import (
    OPEN_STATES,
    CallbackRules,
    CallbackTask,
    TaskKind,
    TaskResult,
    TaskState,
    UnreachableRule,
)

log = logging.getLogger(__name__)

# The surveys' entry point for "ask for the rating by SMS" (a dotted path: the surveys module
# is its own owner's, and this one must not need it to import).
SMS_SURVEY = "hotline.outreach.surveys.start_sms_survey"
REF_PREFIX = "callback-task:"
STALE_AFTER = dt.timedelta(hours=2)  # a reached call nobody recorded: back to the list
WORDS_CHARS = 2000
BUSY_ON_PHONE = (AgentState.RINGING, AgentState.TALKING)  # the agent's phone cannot ring now


def current_rules() -> CallbackRules:
    """The centre's rules (the saved row, else the defaults)."""
    return CallbackRules.objects.filter(pk=1).first() or CallbackRules(pk=1)


def _centre_text(message: str, **values: object) -> str:
    """A history note in the centre's language, whoever's request wrote it."""
    with translation.override(settings.LANGUAGE_CODE):
        return _(message) % values if values else _(message)


# --- making return-visit tasks ----------------------------------------------------------------

def _accepted_at(order: Order, fallback: dt.datetime) -> dt.datetime:
    at = (OrderEvent.objects.filter(order=order, action=Action.APPROVE_REPLY)
          .order_by("-seq").values_list("created_at", flat=True).first())
    return at or fallback


def _survey_asks(order: Order, accepted: dt.datetime, when: dt.datetime) -> bool:
    """Whether an automated survey asks this round instead of an agent (the order type's
    survey policy, ``outreach.surveys``). A survey of this round that an agent must take over
    (the policy's next way is a person, or every way went unanswered) gives the agent's task."""
    from hotline.outreach import surveys
    from hotline.outreach.models_surveys import Survey

    this_round = Survey.objects.filter(order=order, created_at__gte=accepted)
    if this_round.filter(state__in=(Survey.State.AGENT, Survey.State.UNANSWERED)).exists():
        return False
    if this_round.exists():
        return True  # answered or cancelled: the order leaves 待回访 by itself
    return surveys.start_survey(order, now=when) is not None


def do_queue_visits(now: dt.datetime | None = None, limit: int = 500) -> int:
    """One return-visit task for each order in 待回访 that has none for this round."""
    when = now or timezone.now()
    rules = current_rules()
    cal = current_calendar()
    has_task = CallbackTask.objects.filter(order=OuterRef("pk"), kind=TaskKind.VISIT,
                                           cycle=OuterRef("reopen_count"))
    from hotline.outreach.models_surveys import Survey

    asking = Survey.objects.filter(order=OuterRef("pk"), state=Survey.State.ASKING)
    made = 0
    for order in (Order.objects.filter(state=State.CALLBACK).filter(~Exists(has_task))
                  .filter(~Exists(asking)).select_related("citizen").order_by("pk")[:limit]):
        accepted = _accepted_at(order, when)
        try:
            if _survey_asks(order, accepted, when):
                continue
        except Exception:
            log.exception("order %s: its survey could not start; an agent calls back instead",
                          order.number)
        due = cal.add_working_hours(accepted, rules.visit_hours)
        phone = order.citizen.phone if order.citizen_id else ""
        try:
            with transaction.atomic():
                task = CallbackTask.objects.create(
                    kind=TaskKind.VISIT, order=order, cycle=order.reopen_count, phone=phone,
                    citizen=order.citizen, due_at=due, created_at=when)
                if not phone:
                    # Nobody to call: the rule decides at once (an SMS survey may find another
                    # way to the citizen). In the same transaction: if the rule fails, no task
                    # is left behind and the next sweep tries again.
                    _unreachable(task, _centre_text(gettext_noop(
                        "The citizen left no phone number to call back.")), when)
        except IntegrityError:
            continue  # made meanwhile by another sweep
        except Exception:
            log.exception("order %s: its return visit could not be settled; tried again later",
                          order.number)
            continue
        made += 1
    return made


def do_close_obsolete(now: dt.datetime | None = None) -> int:
    """Return visits whose order left 待回访 another way (rated on the portal, closed on the
    order page): done, their queued call cancelled."""
    when = now or timezone.now()
    closed = 0
    stale = (CallbackTask.objects.filter(kind=TaskKind.VISIT, state__in=OPEN_STATES)
             .exclude(order__state=State.CALLBACK))
    for pk, call_id in stale.values_list("pk", "call_id")[:500]:
        if call_id is not None:
            calls.do_cancel_call(call_id, when)
        closed += CallbackTask.objects.filter(pk=pk, state__in=OPEN_STATES).update(
            state=TaskState.DONE, result=TaskResult.OBSOLETE, done_at=when)
    return closed


def do_release_stale(now: dt.datetime | None = None) -> int:
    """Tasks an agent took and left: their call was cancelled, or was answered long ago and
    nobody recorded it. They go back to the due list (no try counted)."""
    when = now or timezone.now()
    left = CallbackTask.objects.filter(state=TaskState.CALLING).filter(
        Q(call__isnull=True)
        | Q(call__state=OutboundCall.State.CANCELLED)
        | Q(call__state=OutboundCall.State.DONE, call__outcome=Outcome.ANSWERED,
            call__finished_at__lt=when - STALE_AFTER))
    return left.update(state=TaskState.OPEN, agent=None, call=None, claimed_at=None)


# --- the desk ---------------------------------------------------------------------------------

def check_may_work(actor: User) -> None:
    if actor.role not in DESK_ROLES and not actor.is_superuser:
        raise Forbidden(gettext_noop("only agents and shift monitors make call backs"))


def _in_scope(actor: User) -> QuerySet[CallbackTask]:
    """Missed calls are the centre's; a return visit is seen with its order."""
    return CallbackTask.objects.filter(
        Q(kind=TaskKind.MISSED) | Q(order__in=visible_orders(actor).values("pk")))


def due_tasks(actor: User, now: dt.datetime | None = None) -> list[CallbackTask]:
    """The actor's own calls in progress, then what is due now, the oldest deadline first
    (so the overdue come first)."""
    when = now or timezone.now()
    check_may_work(actor)
    rows = _in_scope(actor).select_related("order", "call", "agent")
    mine = list(rows.filter(state=TaskState.CALLING, agent=actor).order_by("due_at", "pk"))
    due = list(rows.filter(state=TaskState.OPEN)
               .filter(Q(next_try_at__isnull=True) | Q(next_try_at__lte=when))
               .order_by("due_at", "pk")[:100])
    return mine + due


def get_task_for(actor: User, task_id: int) -> CallbackTask:
    check_may_work(actor)
    task = _in_scope(actor).select_related("order", "call", "agent").filter(pk=task_id).first()
    if task is None:
        raise NotFound(gettext_noop("no such call-back task"), "task")
    return task


def agent_extension(actor: User) -> str:
    number = (SipExtension.objects.filter(agent=actor, enabled=True)
              .values_list("number", flat=True).first())
    if not number:
        raise Conflict(gettext_noop("you have no phone extension to take the call on"),
                       "extension")
    return number


def _citizen_called_in(task: CallbackTask) -> bool:
    from hotline.outreach.missed_calls import called_in_since

    return task.kind == TaskKind.MISSED and called_in_since(task)


def do_start_call(actor: User, task_id: int, *, now: dt.datetime | None = None) -> CallbackTask:
    """The agent's "call": the task becomes theirs (one conditional UPDATE) and a preview-dial
    call to the citizen is queued for the gateway, ringing the agent's extension first."""
    when = now or timezone.now()
    task = get_task_for(actor, task_id)
    extension = agent_extension(actor)
    if calls.calling_rules().in_quiet_hours(when.astimezone(calls.local_zone())):
        # The gateway would hold the call until morning with the agent's phone to ring then.
        raise Conflict(gettext_noop("citizens are not called in the quiet hours"), "task")
    if AgentStatus.objects.filter(pk=actor.pk, state__in=BUSY_ON_PHONE).exists():
        raise Conflict(gettext_noop("finish your current call first"), "task")
    if task.state == TaskState.OPEN:
        # Already settled another way: close it rather than call for nothing.
        if task.kind == TaskKind.VISIT and task.order and task.order.state != State.CALLBACK:
            do_close_obsolete(when)
            raise Conflict(gettext_noop("this order no longer waits for a call back"), "task")
        if _citizen_called_in(task):
            _finish_missed(task.pk, TaskResult.CALLED_IN, when)
            raise Conflict(gettext_noop("the citizen has called in again since"), "task")
    with transaction.atomic():
        made_busy = False
        if AgentStatus.objects.filter(pk=actor.pk, state=AgentState.IDLE).exists():
            # 示闲: the ACD would offer an inbound call to the very phone about to ring for
            # this call back. The agent is made 示忙 (外呼回访) first, in the same transaction
            # (if the task is lost to another agent the state stays as it was).
            try:
                do_set_state(actor, "not_ready", reason=Reason.OUTBOUND, now=when)
            except Conflict:  # the ACD offered a call meanwhile: the phone is ringing
                raise Conflict(gettext_noop("finish your current call first"), "task") from None
            made_busy = True
        taken = CallbackTask.objects.filter(pk=task.pk, state=TaskState.OPEN).update(
            state=TaskState.CALLING, agent=actor, claimed_at=when)
        if not taken:
            task.refresh_from_db()
            if task.state == TaskState.CALLING:
                raise Conflict(gettext_noop("another agent is calling this citizen"), "task")
            raise Conflict(gettext_noop("this call back is done"), "task")
        purpose = Purpose.CALLBACK if task.kind == TaskKind.VISIT else Purpose.MISSED
        call = calls.do_queue_call(
            task.phone, purpose, OutboundCall.Mode.AGENT, actor=actor, order=task.order,
            citizen=task.citizen, agent=actor, agent_extension=extension, ref=task.ref,
            max_attempts=1,  # each click is one try: the agent decides when to try again
            variables={"task": task.pk, "kind": task.kind, "made_busy": made_busy}, now=when)
        CallbackTask.objects.filter(pk=task.pk).update(call=call)
        if call.state == OutboundCall.State.BLOCKED:
            transaction.on_commit(lambda: calls.tell_owner(call.pk))
    task.refresh_from_db()
    return task


def _task_held_by(actor: User, task_id: int) -> CallbackTask:
    """The task, locked, when the actor (or a shift monitor) holds it."""
    task = (CallbackTask.objects.select_for_update().filter(pk=task_id).first())
    if task is None:
        raise NotFound(gettext_noop("no such call-back task"), "task")
    get_task_for(actor, task_id)  # scope
    if task.state != TaskState.CALLING:
        raise Conflict(gettext_noop("this call back is not being made now"), "task")
    if task.agent_id != actor.pk and actor.role != Role.MONITOR:
        raise Conflict(gettext_noop("another agent is calling this citizen"), "task")
    call = (OutboundCall.objects.filter(pk=task.call_id).first()
            if task.call_id is not None else None)
    if call is None or call.state in (OutboundCall.State.QUEUED, OutboundCall.State.CANCELLED,
                                      OutboundCall.State.BLOCKED):
        raise Conflict(gettext_noop("the call has not been made yet"), "task")
    if not citizen_answered(call):
        # Still ringing: recording "satisfied" now would close an order for a citizen the
        # call may never reach.
        raise Conflict(gettext_noop("the citizen has not answered yet"), "task")
    return task


def citizen_answered(call: OutboundCall) -> bool:
    """The citizen picked up: the gateway writes ``answered_at`` when it bridges the agent to
    them (before the call ends), and the attempt's report has it too."""
    return call.answered_at is not None or call.outcome == Outcome.ANSWERED


def check_words(resolved: bool, satisfaction: str, words: str) -> str:
    if satisfaction not in Satisfaction.values:
        raise InvalidInput(gettext_noop("choose how satisfied the citizen is"), "satisfaction")
    words = (words or "").strip()
    if len(words) > WORDS_CHARS:
        raise InvalidInput(gettext_noop("the citizen's words are too long (2000 characters)"),
                           "words")
    if (not resolved or satisfaction == Satisfaction.UNSATISFIED) and not words:
        raise InvalidInput(gettext_noop(
            "write down what the citizen said: the department handles it again"), "words")
    return words


def do_record_visit(actor: User, task_id: int, *, resolved: bool, satisfaction: str,
                    words: str = "", now: dt.datetime | None = None) -> CallbackTask:
    """The agent reached the citizen: resolved and not unsatisfied closes the order through
    Action.CALLBACK; otherwise it is reopened to the department (重办) with the words."""
    when = now or timezone.now()
    words = check_words(resolved, satisfaction, words)
    with transaction.atomic():
        task = _task_held_by(actor, task_id)
        if task.kind != TaskKind.VISIT or task.order is None:
            raise InvalidInput(gettext_noop("this is not a return visit"), "task")
        if resolved and satisfaction != Satisfaction.UNSATISFIED:
            do_action(actor, task.order.number, Action.CALLBACK, {
                "resolved": True, "satisfaction": satisfaction, "note": words}, now=when)
            result = TaskResult.CLOSED
        else:
            reason = _centre_text(gettext_noop("Call back: %(words)s"), words=words)
            do_action(actor, task.order.number, Action.REOPEN, {
                "reason": reason, "resolved": resolved, "satisfaction": satisfaction},
                now=when)
            result = TaskResult.REOPENED
        task.state, task.result, task.words = TaskState.DONE, result, words
        task.done_at, task.done_by = when, actor
        task.save(update_fields=["state", "result", "words", "done_at", "done_by"])
        _back_to_ready(task.call_id, when)
    return task


def do_record_reached(actor: User, task_id: int, *, note: str = "",
                      now: dt.datetime | None = None) -> CallbackTask:
    """A missed-call call back that reached the citizen, in the agent's words."""
    when = now or timezone.now()
    with transaction.atomic():
        task = _task_held_by(actor, task_id)
        if task.kind != TaskKind.MISSED:
            raise InvalidInput(gettext_noop("record a return visit's answer instead"), "task")
        task.state, task.result, task.note = TaskState.DONE, TaskResult.REACHED, note[:500]
        task.done_at, task.done_by = when, actor
        task.save(update_fields=["state", "result", "note", "done_at", "done_by"])
        _back_to_ready(task.call_id, when)
    return task


def do_record_not_reached(actor: User, task_id: int, *,
                          now: dt.datetime | None = None) -> CallbackTask:
    """The call was answered but not by the citizen (a wrong person, a voicemail box): a try
    that did not reach them, as if the call had gone unanswered."""
    when = now or timezone.now()
    with transaction.atomic():
        task = _task_held_by(actor, task_id)
        call_id = task.call_id
        _count_try(task, _centre_text(gettext_noop("answered, but not by the citizen")), when)
        _back_to_ready(call_id, when)
    return task


def do_release_task(actor: User, task_id: int, *, now: dt.datetime | None = None) -> CallbackTask:
    """The agent gives the task back before the gateway dialled: the queued call is cancelled."""
    when = now or timezone.now()
    get_task_for(actor, task_id)
    with transaction.atomic():
        task = CallbackTask.objects.select_for_update().get(pk=task_id)
        if task.state != TaskState.CALLING or (task.agent_id != actor.pk
                                               and actor.role != Role.MONITOR):
            raise Conflict(gettext_noop("this call back is not being made now"), "task")
        if task.call_id is not None and not calls.do_cancel_call(task.call_id, when):
            raise Conflict(gettext_noop("the call is under way: it cannot be cancelled now"),
                           "task")
        call_id = task.call_id
        task.state, task.agent, task.call, task.claimed_at = TaskState.OPEN, None, None, None
        task.save(update_fields=["state", "agent", "call", "claimed_at"])
        _back_to_ready(call_id, when)
    return task


def _back_to_ready(call_id: int | None, when: dt.datetime) -> None:
    """The agent a call back made 示忙 (外呼回访) from 示闲 is 示闲 again once the task's work is
    done (recorded, given back, or the citizen not reached), so inbound calls reach them
    again; an agent who chose another state meanwhile keeps it."""
    if call_id is None:
        return
    call = OutboundCall.objects.filter(pk=call_id).select_related("agent").first()
    if call is None or call.agent is None or not call.variables.get("made_busy"):
        return
    if not AgentStatus.objects.filter(pk=call.agent.pk, state=AgentState.BUSY,
                                      reason=Reason.OUTBOUND).exists():
        return
    try:
        do_set_state(call.agent, "ready", now=when)
    except Conflict:  # signed out or on a call meanwhile: leave the state as it is
        log.info("call back %s: agent %s not made ready", call_id, call.agent.pk)


# --- the gateway's news -----------------------------------------------------------------------

def task_of(call: OutboundCall) -> int | None:
    if not call.ref.startswith(REF_PREFIX):
        return None
    try:
        return int(call.ref[len(REF_PREFIX):])
    except ValueError:
        return None


def on_call_finished(call: OutboundCall) -> None:
    """Told once per finished call (``calls.FINISHERS``), inside a transaction."""
    task_id = task_of(call)
    if task_id is None:
        return
    when = call.finished_at or timezone.now()
    task = CallbackTask.objects.select_for_update().filter(pk=task_id).first()
    if task is None or task.state != TaskState.CALLING or task.call_id != call.pk:
        return  # done meanwhile (recorded, obsolete) or an older call: nothing to change
    if call.state == OutboundCall.State.DONE and call.outcome == Outcome.ANSWERED:
        if call.contact_id is not None and task.order is not None and call.agent is not None:
            contact = Contact.objects.filter(pk=call.contact_id).first()
            if contact is not None:
                try:
                    do_link_contact(call.agent, contact, task.order.number)
                except ServiceError:
                    log.warning("call %s: contact %s not linked to order %s", call.pk,
                                call.contact_id, task.order.number)
        if task.kind == TaskKind.MISSED:
            task.state, task.result, task.done_at = TaskState.DONE, TaskResult.REACHED, when
            task.done_by = call.agent
            task.save(update_fields=["state", "result", "done_at", "done_by"])
            _back_to_ready(call.pk, when)
        return  # a return visit: the agent records what the citizen said
    _count_try(task, _why_not(call), when,
               final=call.state == OutboundCall.State.BLOCKED)  # calling again is no use
    _back_to_ready(call.pk, when)


def _why_not(call: OutboundCall) -> str:
    if call.state == OutboundCall.State.BLOCKED:
        return _centre_text(gettext_noop("the number is on the do-not-call list"))
    if call.error == "expired":
        return _centre_text(gettext_noop("the call could not be made in time"))
    labels = {Outcome.BUSY: gettext_noop("busy"), Outcome.NO_ANSWER: gettext_noop("no answer"),
              Outcome.REJECTED: gettext_noop("rejected"), Outcome.FAILED: gettext_noop("failed")}
    return _centre_text(labels.get(Outcome(call.outcome), gettext_noop("failed"))
                        if call.outcome else gettext_noop("failed"))


def _count_try(task: CallbackTask, why: str, when: dt.datetime, *, final: bool = False) -> None:
    """One more try that did not reach the citizen (the task row is locked)."""
    rules = current_rules()
    task.tries += 1
    last = final or task.tries >= rules.max_tries
    if task.kind == TaskKind.VISIT and task.order is not None \
            and task.order.state == State.CALLBACK:
        note = _centre_text(gettext_noop("Call back %(n)s of %(max)s did not reach the "
                                         "citizen: %(why)s"),
                            n=task.tries, max=rules.max_tries, why=why)
        do_action(system_user(), task.order.number, Action.CALLBACK_ATTEMPT, {"note": note},
                  now=when)
    if last:
        reason = _centre_text(gettext_noop("Not reached after %(n)s call backs (last: %(why)s)"),
                              n=task.tries, why=why)
        task.save(update_fields=["tries"])
        _unreachable(task, reason, when)
        return
    task.state, task.agent, task.call, task.claimed_at = TaskState.OPEN, None, None, None
    task.next_try_at = when + dt.timedelta(minutes=rules.retry_minutes)
    task.save(update_fields=["tries", "state", "agent", "call", "claimed_at", "next_try_at"])


def _unreachable(task: CallbackTask, reason: str, when: dt.datetime) -> None:
    """The centre's rule for a citizen the call backs do not reach (the task row is locked)."""
    rules = current_rules()
    order = task.order
    result = TaskResult.UNREACHABLE
    if task.kind == TaskKind.VISIT and order is not None and order.state == State.CALLBACK:
        if rules.unreachable_rule == UnreachableRule.SMS_SURVEY and task.phone:
            do_action(system_user(), order.number, Action.CALLBACK_ATTEMPT, {"note": _centre_text(
                gettext_noop("%(reason)s: the rating is asked by SMS"), reason=reason)},
                now=when)
            import_string(SMS_SURVEY)(Order.objects.get(pk=order.pk))
            result = TaskResult.SMS_SURVEY
        else:
            do_action(system_user(), order.number, Action.CALLBACK, {
                "unreachable": True,
                "note": _centre_text(gettext_noop("Unreachable (联系不上): %(reason)s"),
                                     reason=reason)}, now=when)
    task.state, task.result, task.note = TaskState.DONE, result, reason[:500]
    task.agent, task.claimed_at, task.done_at = None, None, when
    task.save(update_fields=["state", "result", "note", "agent", "claimed_at", "done_at"])


def _finish_missed(task_id: int, result: str, when: dt.datetime) -> bool:
    return bool(CallbackTask.objects.filter(pk=task_id, kind=TaskKind.MISSED,
                                            state=TaskState.OPEN).update(
        state=TaskState.DONE, result=result, done_at=when))
