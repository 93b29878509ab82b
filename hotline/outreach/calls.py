"""Outbound calls as rows that gateways claim.

``do_queue_call`` writes an ``OutboundCall`` (refused for a number on the do-not-call list;
moved out of quiet hours). A gateway with a trunk claims the oldest due row with one
conditional UPDATE (``claim_call``), so several gateways share the work and none dials a
number twice; the claim skips numbers that reached their daily cap or are in quiet hours.
``do_finish_attempt`` records the attempt (``CallAttempt``) and either queues the next one by
the rules (``policy.after_attempt``) or finishes the call; then the call's owner is told
(``FINISHERS`` by purpose: the call-back task, the survey, the campaign ...), once, after the
commit and again by the periodic job for any owner not told yet (a crash between the two).
A gateway that died mid-call leaves a row in "dialling": ``do_recover_calls`` requeues it.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

from hotline.core.errors import InvalidInput
from hotline.core.phones import normalise_phone
from hotline.directory.models import User
from hotline.orders.models import Citizen, Order
from hotline.orders.sweeps import system_user
from hotline.outreach import policy
from hotline.outreach.models import CallAttempt, DoNotCall, OutboundCall, Outcome, Purpose

log = logging.getLogger(__name__)

STUCK_AFTER = dt.timedelta(minutes=20)  # no outbound call lasts this long unnoticed

# Who is told when an outbound call of a purpose is finished: a function taking the call.
# Dotted paths, so that this module imports none of its owners.
FINISHERS: dict[str, str] = {
    Purpose.CALLBACK: "hotline.outreach.callbacks.on_call_finished",
    Purpose.MISSED: "hotline.outreach.callbacks.on_call_finished",
    Purpose.SURVEY: "hotline.outreach.surveys.on_call_finished",
    Purpose.CAMPAIGN: "hotline.outreach.campaigns.on_call_finished",
    Purpose.POLL: "hotline.outreach.polls.on_call_finished",
    Purpose.REMINDER: "hotline.outreach.appointments.on_call_finished",
}


def calling_rules() -> policy.CallingRules:
    return policy.CallingRules(
        quiet_start=settings.HOTLINE_OUTREACH_QUIET_START,
        quiet_end=settings.HOTLINE_OUTREACH_QUIET_END,
        daily_cap=settings.HOTLINE_OUTREACH_DAILY_CAP,
        max_attempts=settings.HOTLINE_OUTREACH_MAX_ATTEMPTS,
    )


def local_zone(citizen: Citizen | None = None) -> zoneinfo.ZoneInfo:
    """The citizen's time zone: the centre's (a city hotline calls its own city)."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def is_blocked(number: str) -> bool:
    return DoNotCall.objects.filter(phone=number).exists()


@dataclass(frozen=True)
class CallJob:
    """What a gateway needs to make one attempt."""

    id: int
    number: str
    purpose: str
    mode: str
    agent_extension: str
    flow: Any  # the IVR flow as data (mode ivr), else None
    variables: dict[str, Any]
    attempt: int  # 1 for the first


def do_queue_call(number: str, purpose: str, mode: str, *, actor: User | None = None,
                  order: Order | None = None, citizen: Citizen | None = None,
                  agent: User | None = None, agent_extension: str = "",
                  flow: Any = None, variables: dict[str, Any] | None = None, ref: str = "",
                  max_attempts: int | None = None, not_before: dt.datetime | None = None,
                  not_after: dt.datetime | None = None,
                  now: dt.datetime | None = None) -> OutboundCall:
    """Queue a call. A number on the do-not-call list gives a row in state "blocked" (so the
    owner sees why nobody was called) instead of an error."""
    digits = normalise_phone(number)
    if not 5 <= len(digits.lstrip("+")) <= 20:
        raise InvalidInput(gettext_noop("Enter the number: 5 to 20 digits."), field="number")
    if purpose not in Purpose.values:
        raise InvalidInput(gettext_noop("Unknown call purpose."), field="purpose")
    if mode not in OutboundCall.Mode.values:
        raise InvalidInput(gettext_noop("Unknown call mode."), field="mode")
    if mode == OutboundCall.Mode.AGENT and not agent_extension:
        raise InvalidInput(gettext_noop("A call bridged to an agent needs the agent's phone."),
                           field="agent_extension")
    if mode == OutboundCall.Mode.IVR and not flow:
        raise InvalidInput(gettext_noop("An automated call needs its IVR flow."), field="flow")
    when = now or timezone.now()
    rules = calling_rules()
    start = max(when, not_before or when)
    first = rules.next_allowed(start.astimezone(local_zone(citizen)))
    blocked = is_blocked(digits)
    return OutboundCall.objects.create(
        number=digits, purpose=purpose, mode=mode, ref=ref[:64], order=order, citizen=citizen,
        agent=agent, agent_extension=agent_extension, flow=flow, variables=variables or {},
        max_attempts=max_attempts or rules.max_attempts, next_try_at=first, not_after=not_after,
        state=OutboundCall.State.BLOCKED if blocked else OutboundCall.State.QUEUED,
        error="do-not-call" if blocked else "", handled=False,
        created_by=actor or system_user(), created_at=when)


def _attempts_today(number: str, local_now: dt.datetime) -> int:
    day_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    return CallAttempt.objects.filter(number=number, started_at__gte=day_start).count()


def claim_call(gateway: str, now: dt.datetime | None = None, *,
               purposes: frozenset[str] | None = None) -> CallJob | None:
    """The oldest due call this gateway may make now, now its own; None when there is none.

    A call in quiet hours, past its daily cap or on the do-not-call list is not dialled: its
    next try moves to when it is allowed (or it is blocked), so the next claim looks further."""
    when = now or timezone.now()
    rules = calling_rules()
    due = OutboundCall.objects.filter(state=OutboundCall.State.QUEUED, next_try_at__lte=when)
    if purposes is not None:
        due = due.filter(purpose__in=purposes)
    for pk, number, not_after in (
            due.order_by("next_try_at", "pk").values_list("pk", "number", "not_after")[:20]):
        local = when.astimezone(local_zone())
        if not_after is not None and when > not_after:
            _give_up(pk, when, "expired")
            continue
        if is_blocked(number):
            OutboundCall.objects.filter(pk=pk, state=OutboundCall.State.QUEUED).update(
                state=OutboundCall.State.BLOCKED, error="do-not-call", finished_at=when)
            continue
        if rules.in_quiet_hours(local):
            OutboundCall.objects.filter(pk=pk, state=OutboundCall.State.QUEUED).update(
                next_try_at=rules.next_allowed(local))
            continue
        if _attempts_today(number, local) >= rules.daily_cap:
            tomorrow = (local + dt.timedelta(days=1)).replace(
                hour=rules.quiet_end.hour, minute=rules.quiet_end.minute, second=0,
                microsecond=0)
            OutboundCall.objects.filter(pk=pk, state=OutboundCall.State.QUEUED).update(
                next_try_at=rules.next_allowed(tomorrow))
            continue
        claimed = OutboundCall.objects.filter(pk=pk, state=OutboundCall.State.QUEUED).update(
            state=OutboundCall.State.DIALLING, gateway=gateway[:64], claimed_at=when)
        if claimed:
            call = OutboundCall.objects.get(pk=pk)
            return CallJob(call.pk, call.number, call.purpose, call.mode, call.agent_extension,
                           call.flow, dict(call.variables), call.attempts + 1)
    return None


def _give_up(pk: int, when: dt.datetime, reason: str) -> None:
    with transaction.atomic():
        n = OutboundCall.objects.filter(pk=pk, state=OutboundCall.State.QUEUED).update(
            state=OutboundCall.State.DONE, error=reason, finished_at=when, handled=False)
        if n:
            transaction.on_commit(lambda: tell_owner(pk))


def do_finish_attempt(call_id: int, outcome: str, *, sip_status: int = 0,
                      started_at: dt.datetime | None = None,
                      answered_at: dt.datetime | None = None, talk_seconds: int = 0,
                      result: dict[str, Any] | None = None, error: str = "",
                      contact_id: int | None = None,
                      now: dt.datetime | None = None) -> OutboundCall:
    """Record one attempt's end (a gateway reports it); queue the next or finish the call."""
    if outcome not in Outcome.values:
        raise InvalidInput(gettext_noop("Unknown call outcome."), field="outcome")
    when = now or timezone.now()
    with transaction.atomic():
        call = OutboundCall.objects.select_for_update().get(pk=call_id)
        if call.state != OutboundCall.State.DIALLING:
            return call  # recovered and claimed again meanwhile, or cancelled: not ours
        call.attempts += 1
        CallAttempt.objects.create(
            call=call, number=call.number, purpose=call.purpose, gateway=call.gateway,
            started_at=started_at or call.claimed_at or when, answered_at=answered_at,
            ended_at=when, sip_status=sip_status, outcome=outcome, talk_seconds=talk_seconds)
        call.outcome, call.error = outcome, error[:255]
        if answered_at is not None:
            call.answered_at = answered_at
        if result:
            call.result = {**call.result, **result}
        if contact_id is not None:
            call.contact_id = contact_id
        after = policy.after_attempt(calling_rules(), policy.Outcome(outcome), call.attempts,
                                     call.max_attempts, when.astimezone(local_zone()))
        if after.finished or (call.not_after is not None and after.next_try_at is not None
                              and after.next_try_at > call.not_after):
            call.state, call.finished_at, call.handled = OutboundCall.State.DONE, when, False
            transaction.on_commit(lambda: tell_owner(call_id))
        else:
            assert after.next_try_at is not None
            call.state, call.next_try_at = OutboundCall.State.QUEUED, after.next_try_at
        call.gateway = ""
        call.save()
    return call


def do_cancel_call(call_id: int, now: dt.datetime | None = None) -> bool:
    """Cancel a call not being dialled now; False when it is dialling or already ended."""
    when = now or timezone.now()
    return bool(OutboundCall.objects.filter(pk=call_id, state=OutboundCall.State.QUEUED).update(
        state=OutboundCall.State.CANCELLED, finished_at=when, handled=True))


def do_block_number(actor: User | None, number: str, reason: str = "",
                    now: dt.datetime | None = None) -> DoNotCall:
    digits = normalise_phone(number)
    if not 5 <= len(digits.lstrip("+")) <= 20:
        raise InvalidInput(gettext_noop("Enter the number: 5 to 20 digits."), field="number")
    row, _created = DoNotCall.objects.get_or_create(
        phone=digits, defaults={"reason": reason[:255], "added_by": actor,
                                "added_at": now or timezone.now()})
    return row


def do_recover_calls(now: dt.datetime | None = None) -> int:
    """Calls left in "dialling" by a gateway that died go back to the queue."""
    when = now or timezone.now()
    return OutboundCall.objects.filter(state=OutboundCall.State.DIALLING,
                                       claimed_at__lt=when - STUCK_AFTER).update(
        state=OutboundCall.State.QUEUED, gateway="", next_try_at=when)


def tell_owner(call_id: int) -> bool:
    """Tell the call's owner it is finished, once (``handled`` is claimed by an UPDATE)."""
    if not OutboundCall.objects.filter(pk=call_id, handled=False).exclude(
            state__in=(OutboundCall.State.QUEUED, OutboundCall.State.DIALLING)).update(
            handled=True):
        return False
    call = OutboundCall.objects.get(pk=call_id)
    path = FINISHERS.get(call.purpose)
    if path is None:
        return True
    try:
        with transaction.atomic():
            import_string(path)(call)
    except Exception:
        log.exception("outbound call %s: its owner %s failed; told again later", call_id, path)
        OutboundCall.objects.filter(pk=call_id).update(handled=False)
        return False
    return True


def do_tell_owners(limit: int = 200) -> int:
    """The periodic catch-up: owners not told of their finished calls (a crash, a failure)."""
    told = 0
    for pk in (OutboundCall.objects.filter(handled=False)
               .exclude(state__in=(OutboundCall.State.QUEUED, OutboundCall.State.DIALLING))
               .values_list("pk", flat=True)[:limit]):
        told += tell_owner(pk)
    return told
