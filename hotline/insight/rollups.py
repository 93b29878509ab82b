"""The order rollups: one row per day (and one per month) and (unit, district, category, type,
channel) with the sum of every order measure, kept up to date from the order history.

Incremental (``refresh_order_rollups``, the worker's "order-rollups" job): the history events
written since the watermark name the orders that changed; each such order is counted again
(``order_measures.fact_rows``) and its previous contribution (``OrderFact``) is replaced by the
new one in the rollup as a delta. Counting an order again changes nothing when nothing changed,
so a run may read an event twice. That is what makes it safe:

- the watermark's row is locked for the run, so two runs never interleave;
- an event id below the watermark can still commit after it (ids are handed out before
  commit), so the watermark only moves past events older than ``SETTLE`` seconds; younger
  ones are read again by the next run (harmless, see above).

``rebuild_order_rollups`` (``manage.py rebuild_rollups --orders``) recounts everything from the
orders table set-based: the facts in one INSERT ... SELECT, each grain's day rows from the
facts, each grain's month rows from its day rows (a few million rows, not ten million), all
written in key order so that a report's range lies in neighbouring pages.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from hotline.insight.models import OrderDailyRollup, OrderFact, RollupWatermark
from hotline.insight.order_measures import (
    BLANK,
    DIMENSIONS,
    FACT_COLUMNS,
    GRAINS,
    MEASURE_KEYS,
    fact_rows,
)
from hotline.orders.models import Order, OrderEvent

ORDERS_WATERMARK = "orders"
SETTLE = dt.timedelta(seconds=120)
BATCH_EVENTS = 20_000
CHUNK = 500  # ids per IN (...) list: well under SQLite's variable limit

Key = tuple[Any, ...]  # (grain, period, day, *DIMENSIONS)


@dataclass(frozen=True)
class RefreshStats:
    events: int
    orders: int
    watermark: int


def _fact_from_row(row: dict[str, Any]) -> dict[str, Any]:
    return {col: row[f"f_{col}"] for col in FACT_COLUMNS}


def _keys(fact: dict[str, Any]) -> list[Key]:
    """The rollup rows ``fact`` counts in: per grain its day's and its month's,
    (grain, period, day, *DIMENSIONS)."""
    day = fact["day"]
    out = []
    for grain, kept in GRAINS.items():
        dims = tuple(fact[d] if d in kept else BLANK[d] for d in DIMENSIONS)
        out.append((grain, "day", day, *dims))
        out.append((grain, "month", day.replace(day=1), *dims))
    return out


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _locked_watermark() -> RollupWatermark:
    RollupWatermark.objects.get_or_create(name=ORDERS_WATERMARK)
    return RollupWatermark.objects.select_for_update().get(name=ORDERS_WATERMARK)


def recount_orders(order_ids: Iterable[int]) -> int:
    """Count ``order_ids`` again and move the rollup by the difference. Call inside a
    transaction holding the watermark's lock."""
    ids = sorted(set(order_ids))
    deltas: dict[Key, list[int]] = defaultdict(lambda: [0] * len(MEASURE_KEYS))
    for chunk in _chunks(ids):
        new = {row["f_order_id"]: _fact_from_row(row)
               for row in fact_rows(Order.objects.filter(pk__in=chunk))}
        old = {f["order_id"]: f for f in OrderFact.objects.filter(order_id__in=chunk)
               .values(*FACT_COLUMNS)}
        for oid in chunk:
            before, after = old.get(oid), new.get(oid)
            if before == after:
                continue
            if before is not None:
                for key in _keys(before):
                    d = deltas[key]
                    for i, m in enumerate(MEASURE_KEYS):
                        d[i] -= before[m]
            if after is not None:
                for key in _keys(after):
                    d = deltas[key]
                    for i, m in enumerate(MEASURE_KEYS):
                        d[i] += after[m]
        changed = [oid for oid in chunk if old.get(oid) != new.get(oid)]
        OrderFact.objects.filter(order_id__in=changed).delete()
        OrderFact.objects.bulk_create([OrderFact(**new[oid]) for oid in changed if oid in new])
    _apply(deltas)
    return len(ids)


def _apply(deltas: dict[Key, list[int]]) -> None:
    """Add each delta to its rollup row (created at zero if missing), then drop rows that no
    order contributes to any more."""
    changes = {k: v for k, v in deltas.items() if any(v)}
    if not changes:
        return
    table = connection.ops.quote_name(OrderDailyRollup._meta.db_table)
    key_cols = ("grain", "period", "day", *DIMENSIONS)
    cols = (*key_cols, *MEASURE_KEYS)
    updates = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in MEASURE_KEYS)
    # Table and column names come from the model and MEASURE_KEYS; values are parameters.
    sql = (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "  # noqa: S608
           f"ON CONFLICT ({', '.join(key_cols)}) DO UPDATE SET {updates}")
    adapt = connection.ops.adapt_datefield_value
    params = [(k[0], k[1], adapt(k[2]), *k[3:], *v) for k, v in sorted(changes.items(), key=str)]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    days = sorted({k[2] for k in changes})  # days and firsts of months
    OrderDailyRollup.objects.filter(day__in=days, received__lte=0).delete()


def refresh_order_rollups(*, batch: int = BATCH_EVENTS, now: dt.datetime | None = None) -> \
        RefreshStats:
    """Count again the orders of every event since the watermark; returns what it read."""
    cutoff = (now or timezone.now()) - SETTLE
    events = orders = 0
    with transaction.atomic():
        mark = _locked_watermark()
        cursor_id = mark.last_id
        settled = mark.last_id
        blocked = False  # an unsettled event was met: the watermark stops before it
        while True:
            rows = list(OrderEvent.objects.filter(pk__gt=cursor_id).order_by("pk")
                        .values_list("pk", "order_id", "created_at")[:batch])
            if not rows:
                break
            orders += recount_orders(order_id for _, order_id, _ in rows)
            events += len(rows)
            for pk, _, created_at in rows:
                if created_at > cutoff:
                    blocked = True
                if not blocked:
                    settled = pk
            cursor_id = rows[-1][0]
        if settled != mark.last_id or events:
            mark.last_id = settled
            mark.updated_at = timezone.now()
            mark.save(update_fields=["last_id", "updated_at"])
    return RefreshStats(events=events, orders=orders, watermark=settled)


def rebuild_order_rollups(*, now: dt.datetime | None = None) -> RefreshStats:
    """Throw the facts and rollups away and count every order again, set-based."""
    cutoff = (now or timezone.now()) - SETTLE
    fact_table = connection.ops.quote_name(OrderFact._meta.db_table)
    rollup_table = connection.ops.quote_name(OrderDailyRollup._meta.db_table)
    with transaction.atomic():
        mark = _locked_watermark()
        settled = (OrderEvent.objects.filter(created_at__lte=cutoff).order_by("-pk")
                   .values_list("pk", flat=True).first()) or 0
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The grouping of millions of facts sorts in memory, not in temporary files
                # (the server's default is 4 MB); for this transaction only.
                cursor.execute("SET LOCAL work_mem = '256MB'")
            # Names from the models and the measure constants; no value is spliced in.
            cursor.execute(f"DELETE FROM {rollup_table}")  # noqa: S608
            cursor.execute(f"DELETE FROM {fact_table}")  # noqa: S608
            select_sql, params = fact_rows(Order.objects.all()).query.sql_with_params()
            cursor.execute(f"INSERT INTO {fact_table} ({', '.join(FACT_COLUMNS)}) {select_sql}",
                           params)
            orders = cursor.rowcount
            sums = ", ".join(f"SUM({m})" for m in MEASURE_KEYS)
            columns = ", ".join(("grain", "period", "day", *DIMENSIONS, *MEASURE_KEYS))
            for grain, kept in GRAINS.items():
                values = ", ".join(d if d in kept else "%s" for d in DIMENSIONS)
                blanks = [BLANK[d] for d in DIMENSIONS if d not in kept]
                group = ", ".join(("day", *kept))
                cursor.execute(f"INSERT INTO {rollup_table} ({columns}) "  # noqa: S608
                               f"SELECT %s, 'day', day, {values}, {sums} FROM {fact_table} "
                               f"GROUP BY {group} ORDER BY {group}", [grain, *blanks])
            for grain in GRAINS:
                _insert_months(cursor, rollup_table, grain)
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {rollup_table}")
        mark.last_id = settled
        mark.updated_at = timezone.now()
        mark.save(update_fields=["last_id", "updated_at"])
    return RefreshStats(events=0, orders=max(orders, 0), watermark=settled)


def month_rows(grain: str) -> QuerySet[OrderDailyRollup, dict[str, Any]]:
    """``grain``'s day rows summed per calendar month: ``m`` (the first of the month), the
    dimensions and ``s_<measure>``."""
    return (OrderDailyRollup.objects.filter(grain=grain, period="day").order_by()
            .values(*DIMENSIONS, m=TruncMonth("day"))
            .annotate(**{f"s_{k}": Sum(k) for k in MEASURE_KEYS}))


def _insert_months(cursor: Any, rollup_table: str, grain: str) -> None:
    select_sql, params = month_rows(grain).query.sql_with_params()
    outer = ", ".join(("sub.m", *(f"sub.{d}" for d in DIMENSIONS),
                       *(f"sub.s_{k}" for k in MEASURE_KEYS)))
    columns = ", ".join(("grain", "period", "day", *DIMENSIONS, *MEASURE_KEYS))
    order = ", ".join(("sub.m", *(f"sub.{d}" for d in DIMENSIONS)))
    # Names from the model and the measure constants; values are parameters.
    cursor.execute(f"INSERT INTO {rollup_table} ({columns}) "  # noqa: S608
                   f"SELECT %s, 'month', {outer} FROM ({select_sql}) sub ORDER BY {order}",
                   [grain, *params])
