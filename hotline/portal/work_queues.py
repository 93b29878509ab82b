"""The centre's work queues: what waits for the centre's decision, oldest first, each row with
its order's deadline (the working-day deadlines already on the order) and how close it is.

- returns to review: orders a unit sent back (已退单), since the return;
- extension requests: a pending 延期申请, since it was asked;
- replies to check: 已回复, since the reply;
- call backs due: the call-back desk's due tasks (``outreach.callbacks.due_tasks``), by their
  due time (only for those who make call backs);
- escalations awaiting confirmation: major events a linkage unit has not confirmed yet.

Every order query starts from ``scope.visible_orders``: a sub-centre sees its district's orders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from hotline.directory.calendar_service import current_calendar
from hotline.directory.models import User
from hotline.orders.lifecycle import OPEN, Action, State
from hotline.orders.models import Assignment, Order, OrderEvent
from hotline.orders.scope import visible_orders
from hotline.outreach.callbacks import due_tasks
from hotline.outreach.models_callbacks import CallbackTask

ROWS_SHOWN = 200
KEYS = ("returns", "extensions", "replies", "callbacks", "escalations")
LABELS = {
    "returns": _("Returns to review"),
    "extensions": _("Extension requests"),
    "replies": _("Replies to check"),
    "callbacks": _("Call backs due"),
    "escalations": _("Escalations awaiting confirmation"),
}


@dataclass(frozen=True)
class Row:
    since: dt.datetime | None
    deadline: dt.datetime | None
    level: str  # late / soon / ok / none: the row's colour
    order: Order | None
    task: CallbackTask | None = None
    detail: str = ""


def _since(action: Action) -> Subquery:
    """When the order last had ``action`` (its latest return, its pending request)."""
    return Subquery(OrderEvent.objects.filter(order=OuterRef("pk"), action=action)
                    .order_by("-seq").values("created_at")[:1])


def _pending_linkage() -> Exists:
    return Exists(Assignment.objects.filter(order=OuterRef("pk"), role=Assignment.Role.LINKAGE,
                                            active=True, signed_at__isnull=True))


def order_queues(user: User) -> dict[str, QuerySet[Order]]:
    base = visible_orders(user).select_related("lead_unit", "district")
    return {
        "returns": base.filter(state=State.RETURNED).annotate(since=F("returned_at"))
                       .order_by("since", "pk"),
        "extensions": base.filter(state=State.HANDLING, extension_pending_days__isnull=False)
                          .annotate(since=_since(Action.REQUEST_EXTENSION)).order_by("since", "pk"),
        "replies": base.filter(state=State.REPLIED).order_by("replied_at", "pk"),
        "escalations": base.filter(Q(_pending_linkage()), major_event=True, state__in=OPEN)
                           .order_by("escalated_at", "pk"),
    }


def makes_callbacks(user: User) -> bool:
    from hotline.contactcentre.services import DESK_ROLES

    return bool(user.is_superuser or user.role in DESK_ROLES)


def counts(user: User) -> dict[str, int]:
    found = {key: qs.count() for key, qs in order_queues(user).items()}
    if makes_callbacks(user):
        found["callbacks"] = len(due_tasks(user))
    return {key: found[key] for key in KEYS if key in found}


def level(deadline: dt.datetime | None, now: dt.datetime, soon: dt.datetime) -> str:
    if deadline is None:
        return "none"
    if deadline < now:
        return "late"
    return "soon" if deadline <= soon else "ok"


def _order_deadline(order: Order) -> dt.datetime | None:
    return order.sign_due if order.state == State.DISPATCHED else order.handle_due


def rows(user: User, key: str, now: dt.datetime) -> list[Row]:
    soon = current_calendar().add_working_days(now, 1)
    if key == "callbacks":
        return [Row(task.created_at, task.due_at, level(task.due_at, now, soon), task.order, task)
                for task in due_tasks(user, now)[:ROWS_SHOWN]]
    out = []
    for order in order_queues(user)[key][:ROWS_SHOWN]:
        since: Any = {
            "returns": getattr(order, "since", None), "extensions": getattr(order, "since", None),
            "replies": order.replied_at, "escalations": order.escalated_at,
        }[key]
        deadline = _order_deadline(order)
        detail = ""
        if key == "extensions":
            detail = str(order.extension_pending_days)
        out.append(Row(since, deadline, level(deadline, now, soon), order, detail=detail))
    return out
