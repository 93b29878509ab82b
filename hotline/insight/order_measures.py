"""The order measures as data: what each one counts, written once as a database expression over
an order and its history, used for the per-order facts (``rollups``), the drill-down and the
benchmark's full recount alike, so the figures cannot drift apart.

Every measure is a count per order: 1 when the order has the property, 0 otherwise (the
extensions count how many were granted). Rates are one measure over another (``RATES``).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    Expression,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hotline.orders.lifecycle import Action, State
from hotline.orders.models import Order, OrderEvent, Satisfaction


@dataclass(frozen=True)
class Measure:
    key: str  # a column of OrderFact and OrderDailyRollup
    label: str | Promise
    definition: str | Promise  # shown under the reports and in the API's list


@dataclass(frozen=True)
class Rate:
    key: str
    label: str | Promise
    numerator: str
    denominator: str
    definition: str | Promise


MEASURES: tuple[Measure, ...] = (
    Measure("received", _("Orders"), _("Orders accepted on the day (every channel and type).")),
    Measure("direct", _("Answered directly"),
            _("Answered and closed by the centre without being dispatched (直接答复).")),
    Measure("dispatched", _("Dispatched"), _("Dispatched to a unit at least once.")),
    Measure("signed", _("Signed for"), _("Signed for by the lead unit.")),
    Measure("signed_on_time", _("Signed for in time"),
            _("Signed for no later than the sign-for deadline (及时签收).")),
    Measure("finished", _("Finished"), _("Dispatched orders replied to or closed.")),
    Measure("finished_on_time", _("Finished on time"),
            _("Replied to (or closed) no later than the handling deadline (按时办结).")),
    Measure("closed", _("Closed"), _("Closed or archived.")),
    Measure("called_back", _("Called back"),
            _("Closed orders whose citizen was called back (回访) before closing.")),
    Measure("returned", _("Returned"), _("Returned by a unit at least once (退单).")),
    Measure("reopened", _("Reopened"), _("Reopened at least once after closing (重办).")),
    Measure("extensions", _("Extensions"), _("Extensions granted (延期), counted one by one.")),
    Measure("overdue", _("Overdue"),
            _("Marked overdue at least once: a deadline passed before the step was done.")),
    Measure("rated", _("Rated"), _("The citizen gave a satisfaction rating.")),
    Measure("satisfied", _("Satisfied"), _("Rated satisfied or basically satisfied.")),
)
MEASURE_KEYS: tuple[str, ...] = tuple(m.key for m in MEASURES)
MEASURE_BY_KEY = {m.key: m for m in MEASURES}

RATES: tuple[Rate, ...] = (
    Rate("direct_rate", _("Direct resolution rate"), "direct", "received",
         _("Answered directly / orders (直接答复率).")),
    Rate("sign_rate", _("Timely sign-for rate"), "signed_on_time", "dispatched",
         _("Signed for in time / dispatched (及时签收率).")),
    Rate("on_time_rate", _("On-time completion rate"), "finished_on_time", "finished",
         _("Finished on time / finished (按时办结率).")),
    Rate("callback_rate", _("Call-back rate"), "called_back", "closed",
         _("Called back / closed (回访率).")),
    Rate("return_rate", _("Return rate"), "returned", "dispatched",
         _("Returned / dispatched (退单率).")),
    Rate("reopen_rate", _("Reopen rate"), "reopened", "closed", _("Reopened / closed (重办率).")),
    Rate("satisfaction_rate", _("Satisfaction rate"), "satisfied", "rated",
         _("Satisfied or basically satisfied / rated (满意率).")),
)
RATE_BY_KEY = {r.key: r for r in RATES}

# The dimensions of a fact and of a rollup row (the unique key of a rollup row with ``day``).
DIMENSIONS: tuple[str, ...] = ("unit_id", "district_id", "category_id", "type", "channel")
# The rollup's grains: the dimensions each keeps (the others are 0 or ""), smallest first. A
# query reads the first grain holding every dimension it groups or filters by (and the
# scope's: unit and district), so most reports sum a few hundred rows a day; "full" holds
# every combination (at ten million orders a year, ~10,000 rows a day: only a report grouped
# or filtered by unit and category together, or category and channel, has to read it).
# "unit_type" and "category_type" serve the reports by unit or category of one order type,
# the commonest question after the plain ones (measured in bench/reports.py).
GRAINS: dict[str, tuple[str, ...]] = {
    "day": (),
    "unit": ("unit_id", "district_id"),
    "category": ("category_id", "district_id"),
    "kind": ("type", "channel", "district_id"),
    "unit_type": ("unit_id", "district_id", "type"),
    "category_type": ("category_id", "district_id", "type"),
    "full": DIMENSIONS,
}
PERIODS: tuple[str, ...] = ("day", "month")  # OrderDailyRollup.Period
BLANK: dict[str, Any] = {"unit_id": 0, "district_id": 0, "category_id": 0, "type": "",
                         "channel": ""}


def grain_for(dimensions: set[str]) -> str:
    """The smallest grain that holds every one of ``dimensions``."""
    for name, kept in GRAINS.items():
        if dimensions <= set(kept):
            return name
    return "full"


def rate(numerator: int, denominator: int) -> float | None:
    """None when nothing was there to count (shown as "—", never as 0 %)."""
    return numerator / denominator if denominator else None


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _has_event(action: str) -> Exists:
    return Exists(OrderEvent.objects.filter(order_id=OuterRef("pk"), action=action))


def measure_expressions() -> dict[str, Expression]:
    """One expression per measure, over ``Order`` (read the definitions above)."""
    dispatched = Q(dispatched_at__isnull=False)
    finished = dispatched & (Q(replied_at__isnull=False) | Q(closed_at__isnull=False))
    finished_on_time = dispatched & Q(handle_due__isnull=False) & (
        Q(replied_at__isnull=False, replied_at__lte=F("handle_due"))
        | Q(replied_at__isnull=True, closed_at__isnull=False, closed_at__lte=F("handle_due")))
    closed = Q(state__in=[State.CLOSED.value, State.ARCHIVED.value])
    extensions = Subquery(
        OrderEvent.objects.filter(order_id=OuterRef("pk"), action=Action.APPROVE_EXTENSION.value)
        .values("order_id").annotate(n=Count("pk")).values("n"), output_field=IntegerField())
    return {
        "received": Value(1, output_field=IntegerField()),
        "direct": _flag(Q(answered_directly=True)),
        "dispatched": _flag(dispatched),
        "signed": _flag(Q(signed_at__isnull=False)),
        "signed_on_time": _flag(Q(signed_at__isnull=False, sign_due__isnull=False,
                                  signed_at__lte=F("sign_due"))),
        "finished": _flag(finished),
        "finished_on_time": _flag(finished_on_time),
        "closed": _flag(closed),
        "called_back": _flag(closed & Q(_has_event(Action.CALLBACK.value))),
        "returned": _flag(Q(_has_event(Action.RETURN.value))),
        "reopened": _flag(Q(reopen_count__gt=0)),
        "extensions": Coalesce(extensions, Value(0), output_field=IntegerField()),
        "overdue": _flag(Q(overdue_at__isnull=False) | Q(_has_event(Action.MARK_OVERDUE.value))),
        "rated": _flag(~Q(satisfaction="")),
        "satisfied": _flag(Q(satisfaction__in=[Satisfaction.SATISFIED.value,
                                               Satisfaction.BASIC.value])),
    }


def centre_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def dimension_expressions() -> dict[str, Any]:
    zero = Value(0, output_field=IntegerField())
    return {
        "day": TruncDate("created_at", tzinfo=centre_zone()),
        "unit_id": Coalesce("lead_unit_id", zero, output_field=IntegerField()),
        "district_id": Coalesce("district_id", zero, output_field=IntegerField()),
        "category_id": Coalesce("category_id", zero, output_field=IntegerField()),
        "type": F("type"),
        "channel": F("channel"),
    }


FACT_COLUMNS: tuple[str, ...] = ("order_id", "day", *DIMENSIONS, *MEASURE_KEYS)


def fact_rows(orders: QuerySet[Order]) -> QuerySet[Order, dict[str, Any]]:
    """``orders`` as rows of facts: ``values()`` keyed ``f_<column>`` in FACT_COLUMNS order (the
    prefix keeps the annotations apart from the order's own fields of the same name)."""
    exprs: dict[str, Any] = {"f_order_id": F("pk")}
    exprs.update({f"f_{k}": v for k, v in dimension_expressions().items()})
    exprs.update({f"f_{k}": v for k, v in measure_expressions().items()})
    return orders.order_by().annotate(**exprs).values(*exprs)
