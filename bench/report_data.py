"""Orders at the report benchmark's scale (10 million) in the time a benchmark has.

The demo bulk loader (``hotline/demo/bulk.py``) writes every order the way the services would:
citizen, contact, assignments and a hash-chained history, about ten rows an order through COPY.
On this shared 2-core machine it runs at 200-1,800 orders/s, so ten million orders would take
2-13 hours. The reports read only the orders and their history, so the benchmark writes a
*seed* (``--seed-orders``, default 250,000) with the bulk loader and then copies the seed
inside PostgreSQL (``INSERT ... SELECT``: no row crosses the wire) until the target is reached:

- each copy ``k`` gives every seed order a new id (``id + k * stride``), a new acceptance
  number (``C`` + seven hex digits of the id: never a real number, which is eight digits) and
  moves every one of its timestamps (created, dispatched, deadlines, ... and its history's)
  back by the same amount, 0-30 days drawn from (id, k); so the copies fall on other days,
  mix with other orders there and make the rollups as wide as real data would (a copy without
  the move would only repeat the seed's combinations day by day);
- the history events are copied with the order (same actions, same order of steps), so every
  measure of a copy is its seed's measure on another day;
- the copies' hash chains are the seed's (``history.verify_order`` rejects them: the hash
  covers the order's number); the contacts and assignments are not copied (no report reads
  them).

The call records are made the same way (``load_calls_at_scale``): a seed through
``bench/call_data.load_call_records`` (``--seed-calls``, default 1,000,000: a working-day
profile, waits, talk, holds), then copies inside PostgreSQL, each call moved by a whole number
of days drawn from (id, k) and wrapped around the seed's year, so the hour of the day and the
year's span stay as the seed made them; a copy's ``call_ref`` gets ``-k`` (every copy is a
caller's first queue entry, as the seed's are). The copies' agents may overlap in time (no
agent-state log is loaded; the agents' time report reads that log, not the calls).

While copying, the tables' secondary indexes and unique constraints are dropped and built again
at the end (``without_indexes``: one sort per index instead of millions of index insertions,
several times faster on this machine); their definitions are saved to a file first, so a load
cut short puts them back on the next run.

Foreign-key checks are off while copying (superuser, ``session_replication_role``): every
reference is the seed's. Each chunk is one transaction, so an interrupted load resumes where it
stopped. The sequences are moved past the copies, so later loads (the incremental step) get
fresh ids.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, models, transaction

Progress = Callable[[int, float], None]
CHUNK = 100_000  # seed orders per INSERT ... SELECT
SHIFT_S = 30 * 86_400


@dataclass(frozen=True)
class Scaled:
    seeded: int
    copied: int
    seconds: float


def _stride(max_id: int) -> int:
    return 10 ** max(1, math.ceil(math.log10(max_id + 1)))


def _shift(order_id: str) -> str:
    # The same move for an order and its history: drawn from the seed order's id and the copy.
    return f"make_interval(secs => mod({order_id} * 7919 + %(k)s * 104729, {SHIFT_S}))"


def _select_list(model: type[models.Model], *, order_col: str) -> tuple[str, str]:
    """Column list and SELECT list copying ``model``'s rows as copy ``k``."""
    cols, exprs = [], []
    for f in model._meta.concrete_fields:
        col = connection.ops.quote_name(f.column)
        cols.append(col)
        if f.primary_key:
            exprs.append(f"s.{col} + %(id_off)s")
        elif f.column == "number":
            exprs.append("'C' || lpad(to_hex(s.id + %(order_off)s), 7, '0')")
        elif f.column == "order_id" or f.column == "merged_into_id":
            exprs.append(f"s.{col} + %(order_off)s")
        elif isinstance(f, models.DateTimeField):
            exprs.append(f"s.{col} - {_shift('s.' + order_col)}")
        else:
            exprs.append(f"s.{col}")
    return ", ".join(cols), ", ".join(exprs)


def _max_id(table: str, below: int | None = None) -> int:
    """The largest id (below ``below``); 0 for none."""
    with connection.cursor() as cursor:
        if below is None:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        else:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table} WHERE id < %s",
                           [below])
        return int(cursor.fetchone()[0])


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return int(cursor.fetchone()[0])


def _move_sequences() -> None:
    from hotline.orders.models import Order, OrderEvent

    with connection.cursor() as cursor:
        for model in (Order, OrderEvent):
            table = model._meta.db_table
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute(f"SELECT setval(%s, (SELECT max(id) FROM {table}))",
                           [sequence])


def _saved_path() -> Path:
    from django.conf import settings

    name = connection.settings_dict["NAME"]  # one file per database
    return Path(settings.BASE_DIR) / "var" / "bench" / "reports" / f"dropped_indexes-{name}.json"


def restore_indexes() -> int:
    """Build again the indexes a cut-short load dropped (none: nothing to do)."""
    path = _saved_path()
    if not path.exists():
        return 0
    statements = json.loads(path.read_text())
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    path.unlink()
    return len(statements)


@contextlib.contextmanager
def without_indexes(tables: Sequence[str]) -> Iterator[None]:
    """``tables`` without their secondary indexes and unique constraints (the primary keys
    stay) while the block runs; built again afterwards."""
    restore_indexes()
    drops, creates = [], []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'u'", [table])
            for name, definition in cursor.fetchall():
                drops.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                creates.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
                "AND i.indexname NOT IN (SELECT conname FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('p', 'u'))", [table, table])
            for name, definition in cursor.fetchall():
                drops.append(f'DROP INDEX "{name}"')
                creates.append(definition)
    path = _saved_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(creates))
    with connection.cursor() as cursor:
        for sql in drops:
            cursor.execute(sql)
    try:
        yield
    finally:
        restore_indexes()


def load_orders_at_scale(target: int, *, seed_orders: int, batch: int, seed: int,
                         progress: Progress | None = None) -> Scaled:
    """Bring ``orders_order`` to ``target`` rows: the seed through the bulk loader, the rest
    as moved copies of the seed (see the module doc). Returns what was written now."""
    from hotline.demo.bulk import load_orders
    from hotline.orders.models import Order, OrderEvent

    started = time.perf_counter()
    orders_t, events_t = Order._meta.db_table, OrderEvent._meta.db_table
    have = _count(orders_t)
    seeded = 0
    if have < min(seed_orders, target):
        seeded = min(seed_orders, target) - have
        load_orders(seeded, batch_size=batch, seed=seed, check_references=False,
                    progress=progress)
    have = _count(orders_t)
    if have >= target:
        return Scaled(seeded, 0, time.perf_counter() - started)
    # The seed is every order before the first copy (copies are numbered C...).
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id) FROM {orders_t} WHERE number LIKE 'C%%'")
        first_copy = cursor.fetchone()[0]
    seed_max = _max_id(orders_t, below=first_copy)
    stride = _stride(seed_max)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {events_t} "
                       "WHERE order_id <= %s", [seed_max])
        event_stride = _stride(int(cursor.fetchone()[0]))
    o_cols, o_sel = _select_list(Order, order_col="id")
    e_cols, e_sel = _select_list(OrderEvent, order_col="order_id")
    with without_indexes([orders_t, events_t]):
        copied = 0
        k = 1
        while have < target:
            done_k = _max_id(orders_t, below=(k + 1) * stride)  # resume inside copy k
            start = done_k - k * stride + 1 if done_k > k * stride else 1
            while start <= seed_max and have < target:
                end = min(seed_max + 1, start + CHUNK, start + (target - have))
                # The seed's events by the primary key (their ids lie below one stride):
                # the order index is gone while copying.
                params = {"k": k, "id_off": k * stride, "order_off": k * stride,
                          "lo": start, "hi": end, "seed_events": event_stride}
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SET LOCAL session_replication_role = replica")
                    cursor.execute(f"INSERT INTO {orders_t} ({o_cols}) SELECT {o_sel} "
                                   f"FROM {orders_t} s WHERE s.id >= %(lo)s AND s.id < %(hi)s",
                                   params)
                    n = cursor.rowcount
                    params["id_off"] = k * event_stride
                    cursor.execute(f"INSERT INTO {events_t} ({e_cols}) SELECT {e_sel} "
                                   f"FROM {events_t} s WHERE s.id < %(seed_events)s "
                                   "AND s.order_id >= %(lo)s AND s.order_id < %(hi)s",
                                   params)
                have += n
                copied += n
                start = end
                if progress is not None:
                    progress(have, time.perf_counter() - started)
            k += 1
            if k * event_stride >= 2**62:
                raise RuntimeError("the seed is too small for this target")
    _move_sequences()
    return Scaled(seeded, copied, time.perf_counter() - started)


DAY_S = 86_400


def load_calls_at_scale(target: int, *, seed_calls: int, seed: int,
                        progress: Progress | None = None) -> Scaled:
    """Bring the queued calls to ``target`` rows: a seed through ``load_call_records``, the
    rest copies of it moved by whole days within the seed's year (see the module doc)."""
    from bench.call_data import load_call_records
    from hotline.contactcentre.models import QueuedCall

    started = time.perf_counter()
    table = QueuedCall._meta.db_table
    have = _count(table)
    seeded = 0
    if have < min(seed_calls, target):
        seeded = min(seed_calls, target) - have
        load_call_records(seeded, seed=seed, progress=progress)
    have = _count(table)
    if have >= target:
        return Scaled(seeded, 0, time.perf_counter() - started)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id) FROM {table} WHERE call_ref LIKE '%%-c%%'")
        first_copy = cursor.fetchone()[0]
        seed_max = _max_id(table, below=first_copy)
        cursor.execute(f"SELECT extract(epoch FROM min(queued_at)), "
                       f"extract(epoch FROM max(queued_at)) FROM {table} WHERE id <= %s",
                       [seed_max])
        lo_s, hi_s = (float(v) for v in cursor.fetchone())
    stride = _stride(seed_max)
    # Whole days inside the seed's span, so that no move lands after its last call.
    days = max(1, int((hi_s - lo_s) // DAY_S))
    top = lo_s + days * DAY_S
    cols, exprs = [], []
    # The move of one call: whole days forward, wrapped around the span.
    move = (f"(mod(floor((extract(epoch FROM s.queued_at) - {lo_s}) / {DAY_S})::bigint"
            f" + mod(s.id * 7919 + %(k)s * 104729, {days}), {days})"
            f" - floor((extract(epoch FROM s.queued_at) - {lo_s}) / {DAY_S})::bigint)"
            f" * interval '1 day'")
    for f in QueuedCall._meta.concrete_fields:
        col = connection.ops.quote_name(f.column)
        cols.append(col)
        if f.primary_key:
            exprs.append(f"s.{col} + %(off)s")
        elif f.column == "call_ref":
            exprs.append(f"s.{col} || '-c' || %(k)s")
        elif isinstance(f, models.DateTimeField):
            exprs.append(f"s.{col} + {move}")
        else:
            exprs.append(f"s.{col}")
    assert top > lo_s
    with without_indexes([table]):
        copied = 0
        k = 1
        chunk = 4 * CHUNK
        while have < target:
            done_k = _max_id(table, below=(k + 1) * stride)
            start = done_k - k * stride + 1 if done_k > k * stride else 1
            while start <= seed_max and have < target:
                end = min(seed_max + 1, start + chunk, start + (target - have))
                params = {"k": k, "off": k * stride, "lo": start, "hi": end}
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SET LOCAL session_replication_role = replica")
                    cursor.execute(f"INSERT INTO {table} ({', '.join(cols)}) "
                                   f"SELECT {', '.join(exprs)} FROM {table} s "
                                   "WHERE s.id >= %(lo)s AND s.id < %(hi)s", params)
                    n = cursor.rowcount
                have += n
                copied += n
                start = end
                if progress is not None:
                    progress(have, time.perf_counter() - started)
            k += 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute(f"SELECT setval(%s, (SELECT max(id) FROM {table}))",
                       [sequence])
    return Scaled(seeded, copied, time.perf_counter() - started)
