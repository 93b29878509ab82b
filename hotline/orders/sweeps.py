"""The deadline sweep the background worker runs every few minutes (``tasks.sweep_deadlines_task``).

For orders waiting for the department (dispatched: the sign-for deadline; handling: the handling
deadline) it
- reminds the unit when the deadline is within ``HOTLINE_REMIND_BEFORE_HOURS`` working hours
  (urgent orders, whose limits are counted in clock hours: within
  ``HOTLINE_URGENT_REMIND_BEFORE_MINUTES`` minutes),
- marks the order overdue once the deadline has passed,
- escalates it to the centre's leaders when it has been overdue for
  ``HOTLINE_ESCALATE_AFTER_DAYS`` working days.
Suspended orders wait for the citizen and are not swept.

Every change goes through ``services.do_action`` as the platform's system user, one order per
transaction: the order row is locked and the condition checked again inside that transaction, so
two sweeps running at once (two workers, a slow run overlapping the next) never act twice, and a
failing order is logged and skipped without stopping the sweep.

``reminded_at``, ``overdue_at`` and ``overdue_escalated_at`` concern the deadline being watched
now: signing for the order (and every new deadline) clears them, and the history keeps the old
marks.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.core.roles import Role
from hotline.directory.calendar_service import current_calendar
from hotline.directory.models import User
from hotline.directory.workcalendar import WorkCalendar
from hotline.orders import services
from hotline.orders.lifecycle import Action, State
from hotline.orders.models import Order, Urgency

log = logging.getLogger(__name__)

SYSTEM_USERNAME = "system"

ESCALATION_ACTION = Action.ESCALATE_OVERDUE


class Deadline(models.TextChoices):
    """Which deadline a reminder or overdue mark is about (the events' ``data["deadline"]``)."""

    SIGN = "sign", gettext_lazy("sign-for")
    HANDLE = "handle", gettext_lazy("handling")


@dataclass
class SweepReport:
    reminded: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"reminded": self.reminded, "overdue": self.overdue,
                "escalated": self.escalated, "failed": self.failed}


def system_user() -> User:
    """The platform's own actor: created on first use, never able to log in."""
    user, _created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"role": Role.SYSTEM, "password": make_password(None)},
    )
    if user.role != Role.SYSTEM:
        raise ImproperlyConfigured(
            f"user {SYSTEM_USERNAME!r} exists with role {user.role!r}; it must have role 'system'"
        )
    return user


# --- which orders are due ------------------------------------------------------------------

def _remind_sign(now: dt.datetime, horizon: dt.datetime, urgent_horizon: dt.datetime) -> Q:
    return Q(state=State.DISPATCHED, sign_due__gt=now, reminded_at__isnull=True) & _within(
        "sign_due", horizon, urgent_horizon
    )


def _remind_handle(now: dt.datetime, horizon: dt.datetime, urgent_horizon: dt.datetime) -> Q:
    return Q(state=State.HANDLING, handle_due__gt=now, reminded_at__isnull=True) & _within(
        "handle_due", horizon, urgent_horizon
    )


def _within(due: str, horizon: dt.datetime, urgent_horizon: dt.datetime) -> Q:
    """Normal orders are reminded a few working hours ahead; urgent ones (an hour to sign for)
    only minutes ahead, or the first sweep after dispatch would already remind them."""
    return Q(urgency=Urgency.NORMAL, **{f"{due}__lte": horizon}) | Q(
        urgency=Urgency.URGENT, **{f"{due}__lte": urgent_horizon}
    )


def _overdue_sign(now: dt.datetime) -> Q:
    return Q(state=State.DISPATCHED, sign_due__lte=now, overdue_at__isnull=True)


def _overdue_handle(now: dt.datetime) -> Q:
    return Q(state=State.HANDLING, handle_due__lte=now, overdue_at__isnull=True)


def _escalate_sign(cutoff: dt.datetime) -> Q:
    return Q(state=State.DISPATCHED, sign_due__lte=cutoff, overdue_at__isnull=False,
             overdue_escalated_at__isnull=True)


def _escalate_handle(cutoff: dt.datetime) -> Q:
    return Q(state=State.HANDLING, handle_due__lte=cutoff, overdue_at__isnull=False,
             overdue_escalated_at__isnull=True)


def _due_of(order: Order) -> dt.datetime | None:
    return order.sign_due if order.state == State.DISPATCHED else order.handle_due


# --- applying one action -------------------------------------------------------------------

def _apply(
    actor: User,
    pk: int,
    condition: Q,
    action: Action,
    params: dict[str, Any],
    now: dt.datetime,
    also: Callable[[Order], bool] | None = None,
) -> str | None:
    """Lock the order, check ``condition`` again under the lock, act. Returns the order's number
    when it acted, None when the order no longer qualifies; raises what ``do_action`` raised."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(condition, pk=pk).first()
        if order is None or (also is not None and not also(order)):
            return None
        services.do_action(actor, order.number, action, params, now=now)
        return order.number


def _sweep(
    report: list[str],
    failed: list[str],
    actor: User,
    condition: Q,
    action: Action,
    params: dict[str, Any],
    now: dt.datetime,
    order_by: str,
    also: Callable[[Order], bool] | None = None,
) -> None:
    candidates: QuerySet[Order] = Order.objects.filter(condition).order_by(order_by)
    for pk, number in list(candidates.values_list("pk", "number")):
        try:
            done = _apply(actor, pk, condition, action, params, now, also)
        except Exception:
            log.exception("deadline sweep: %s on order %s failed", action.value, number)
            failed.append(number)
            continue
        if done is not None:
            report.append(done)


def sweep_deadlines(now: dt.datetime | None = None) -> SweepReport:
    """One pass over the open orders' deadlines (see the module's docstring)."""
    now = now or timezone.now()
    actor = system_user()
    cal = current_calendar()
    report = SweepReport()

    # Overdue first: an order whose deadline passed while nobody swept gets marked, not reminded.
    for deadline, condition, order_by in (
        (Deadline.SIGN, _overdue_sign(now), "sign_due"),
        (Deadline.HANDLE, _overdue_handle(now), "handle_due"),
    ):
        _sweep(report.overdue, report.failed, actor, condition, Action.MARK_OVERDUE,
               {"deadline": deadline.value}, now, order_by)

    _escalate(report, actor, cal, now)

    horizon = cal.add_working_hours(now, settings.HOTLINE_REMIND_BEFORE_HOURS)
    urgent_horizon = now + dt.timedelta(minutes=settings.HOTLINE_URGENT_REMIND_BEFORE_MINUTES)
    for deadline, condition, order_by in (
        (Deadline.SIGN, _remind_sign(now, horizon, urgent_horizon), "sign_due"),
        (Deadline.HANDLE, _remind_handle(now, horizon, urgent_horizon), "handle_due"),
    ):
        _sweep(report.reminded, report.failed, actor, condition, Action.REMIND,
               {"deadline": deadline.value}, now, order_by)

    if report.reminded or report.overdue or report.escalated or report.failed:
        log.info("deadline sweep at %s: %d reminded, %d overdue, %d escalated, %d failed",
                 now.isoformat(), len(report.reminded), len(report.overdue),
                 len(report.escalated), len(report.failed))
    return report


def _escalate(report: SweepReport, actor: User, cal: WorkCalendar, now: dt.datetime) -> None:
    days = settings.HOTLINE_ESCALATE_AFTER_DAYS
    needed = days * cal.hours_per_day * 3600
    cutoff = working_moment_before(cal, now, needed)

    def long_overdue(order: Order) -> bool:  # the cutoff is exact; this guards it
        due = _due_of(order)
        return due is not None and cal.working_seconds_between(due, now) >= needed

    for deadline, condition, order_by in (
        (Deadline.SIGN, _escalate_sign(cutoff), "sign_due"),
        (Deadline.HANDLE, _escalate_handle(cutoff), "handle_due"),
    ):
        note = _(
            "Overdue: the %(deadline)s deadline passed more than %(days)d working days ago; "
            "escalated to the centre's leaders."
        ) % {"deadline": deadline.label, "days": days}
        _sweep(report.escalated, report.failed, actor, condition, ESCALATION_ACTION,
               {"note": note, "deadline": deadline.value}, now, order_by, also=long_overdue)


def working_moment_before(cal: WorkCalendar, end: dt.datetime, seconds: float) -> dt.datetime:
    """The latest moment from which ``seconds`` of working time have passed by ``end``: a
    deadline at or before it is at least that much working time in the past."""
    if seconds <= 0:
        return end
    local = end.astimezone(cal.tz)
    day = local.date()
    remaining = float(seconds)
    for _day in range(3660):
        if cal.is_workday(day):
            for p_start, p_end in reversed(cal.periods):
                lo = dt.datetime.combine(day, p_start, tzinfo=cal.tz)
                hi = min(local, dt.datetime.combine(day, p_end, tzinfo=cal.tz))
                if hi <= lo:
                    continue
                available = (hi - lo).total_seconds()
                if remaining <= available:
                    return hi - dt.timedelta(seconds=remaining)
                remaining -= available
        day -= dt.timedelta(days=1)
    raise RuntimeError("no working time within ten years: the calendar is misconfigured")
