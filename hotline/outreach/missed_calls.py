"""Missed calls (未接来电) become call-back tasks: one open task per number.

Three sources, read from what the contact centre and the orders already record (no module of
theirs knows this one):
- a caller who hung up in the queue after waiting at least ``missed_min_wait_s``
  (``QueuedCall`` abandoned);
- a call-back request when the queue overflowed (``QueuedCall`` overflowed to "callback");
- a voicemail (mayor's mailbox: an order on channel voicemail) left outside the working
  hours of the centre's calendar, when the rules ask for it.

``do_collect_missed`` (periodic) takes each one once (``MissedCall.source_ref`` is unique)
into the number's open task, or a new one due ``missed_within_minutes`` after the first missed
call. A task is done when the citizen is reached: by its call back (``callbacks``), or because
they called in again and an agent answered (``do_close_called_in``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from hotline.contactcentre.models import CallOutcome, OverflowAction, QueuedCall
from hotline.core.phones import is_plausible_phone, normalise_phone
from hotline.directory.calendar_service import current_calendar
from hotline.directory.workcalendar import WorkCalendar
from hotline.orders.models import Channel, Order
from hotline.outreach.callbacks import current_rules
from hotline.outreach.models import DoNotCall
from hotline.outreach.models_callbacks import (
    CallbackTask,
    MissedCall,
    MissedSource,
    TaskKind,
    TaskResult,
    TaskState,
)


@dataclass(frozen=True)
class Missed:
    source: str
    ref: str
    caller: str  # as recorded
    at: dt.datetime
    citizen_id: int | None


def in_working_time(cal: WorkCalendar, moment: dt.datetime) -> bool:
    local = moment.astimezone(cal.tz)
    if not cal.is_workday(local.date()):
        return False
    t = local.time()
    return any(start <= t < end for start, end in cal.periods)


def missed_since(since: dt.datetime) -> list[Missed]:
    """Every missed call since ``since`` the rules count, oldest first."""
    rules = current_rules()
    found: list[Missed] = []
    abandoned = (QueuedCall.objects.filter(outcome=CallOutcome.ABANDONED, abandoned_at__gte=since,
                                           wait_s__gte=rules.missed_min_wait_s)
                 .exclude(caller="").values_list("pk", "caller", "abandoned_at", "citizen_id"))
    found += [Missed(MissedSource.ABANDONED, f"queued:{pk}", caller, at, citizen)
              for pk, caller, at, citizen in abandoned if at is not None]
    overflow = (QueuedCall.objects.filter(outcome=CallOutcome.OVERFLOWED,
                                          overflow_action=OverflowAction.CALLBACK,
                                          overflowed_at__gte=since)
                .exclude(caller="").values_list("pk", "caller", "overflowed_at", "citizen_id"))
    found += [Missed(MissedSource.OVERFLOW, f"queued:{pk}", caller, at, citizen)
              for pk, caller, at, citizen in overflow if at is not None]
    if rules.after_hours_voicemail:
        cal = current_calendar()
        voicemails = (Order.objects.filter(channel=Channel.VOICEMAIL, created_at__gte=since)
                      .exclude(citizen__phone="")
                      .values_list("pk", "citizen__phone", "created_at", "citizen_id"))
        found += [Missed(MissedSource.VOICEMAIL, f"order:{pk}", phone, at, citizen)
                  for pk, phone, at, citizen in voicemails if not in_working_time(cal, at)]
    return sorted(found, key=lambda m: (m.at, m.ref))


def _open_task(phone: str, missed: Missed, within: dt.timedelta,
               when: dt.datetime) -> CallbackTask:
    task = CallbackTask.objects.filter(kind=TaskKind.MISSED, phone=phone,
                                       state__in=(TaskState.OPEN, TaskState.CALLING)).first()
    if task is not None:
        return task
    try:
        with transaction.atomic():
            return CallbackTask.objects.create(
                kind=TaskKind.MISSED, phone=phone, citizen_id=missed.citizen_id,
                due_at=missed.at + within, created_at=when)
    except IntegrityError:  # another sweep made it first: one open task per number
        return CallbackTask.objects.get(kind=TaskKind.MISSED, phone=phone,
                                        state__in=(TaskState.OPEN, TaskState.CALLING))


def do_collect_missed(now: dt.datetime | None = None) -> int:
    """Take the missed calls not taken yet into their numbers' tasks; how many were taken."""
    when = now or timezone.now()
    rules = current_rules()
    since = when - dt.timedelta(hours=rules.missed_lookback_hours)
    within = dt.timedelta(minutes=rules.missed_within_minutes)
    missed = missed_since(since)
    taken_refs = set(MissedCall.objects.filter(source_ref__in=[m.ref for m in missed])
                     .values_list("source_ref", flat=True))
    blocked = set(DoNotCall.objects.values_list("phone", flat=True))
    taken = 0
    for m in missed:
        phone = normalise_phone(m.caller)
        if m.ref in taken_refs or not is_plausible_phone(phone) or phone in blocked:
            continue
        try:
            with transaction.atomic():
                task = _open_task(phone, m, within, when)
                MissedCall.objects.create(task=task, source=m.source, source_ref=m.ref,
                                          phone=m.caller, missed_at=m.at)
        except IntegrityError:
            continue  # taken meanwhile
        taken += 1
    return taken


def called_in_since(task: CallbackTask) -> bool:
    """An agent answered a call from this number after its last missed call."""
    last = task.missed_calls.order_by("-missed_at").values_list("missed_at", flat=True).first()
    if last is None:
        return False
    callers = {task.phone, *task.missed_calls.values_list("phone", flat=True)}
    return QueuedCall.objects.filter(caller__in=callers, answered_at__gt=last).exists()


def do_close_called_in(now: dt.datetime | None = None) -> int:
    """Open missed-call tasks whose citizen has since called in and been answered."""
    when = now or timezone.now()
    closed = 0
    for task in CallbackTask.objects.filter(kind=TaskKind.MISSED, state=TaskState.OPEN)[:1000]:
        if called_in_since(task):
            closed += CallbackTask.objects.filter(pk=task.pk, state=TaskState.OPEN).update(
                state=TaskState.DONE, result=TaskResult.CALLED_IN, done_at=when)
    return closed
