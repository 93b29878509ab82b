"""Many orders fast, for the search benchmark: in-database copies of a bulk-loaded seed.

The bulk loader (``hotline.demo.bulk``) writes complete orders (citizen, contact, history,
assignments) but makes ~1,400 orders/s on PostgreSQL at best and ~600/s on SQLite, so a million
orders take 12 to 30 minutes on an idle machine and hours on a loaded one. Search only reads an
order's text, its district and its units' assignments, so above a seed of bulk-loaded (and
indexed) orders each further block is a copy of the seed made inside the database by one
INSERT ... SELECT per table: the orders (new ids above the current highest, acceptance numbers
"Z" + the id in hex, so they stay unique and never look like a real one), their assignments
(same units and roles: every unit holds the same share of the copies as of the seed) and their
full-text index rows (the text is the same, so the tokens are too; nothing is segmented again).
What the copies do not get: contacts and history events (no search reads them).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connection, transaction

from hotline.orders.models import Assignment, Order
from hotline.orders.search import ORDER_INDEX

# Units the benchmark gives its own assignments after loading (a narrow street office, a
# sub-centre's street): their rows are not copied, so their share stays what it is set to.
BENCH_UNIT_PREFIX = "bench-"

Progress = Callable[[int, float], None]


def _columns(model: type[Order] | type[Assignment]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _number_sql(id_sql: str) -> str:
    if connection.vendor == "postgresql":
        return f"'Z' || lpad(to_hex({id_sql}), 7, '0')"
    # %% because the query is formatted with its parameters.
    return f"printf('Z%%07X', {id_sql})"


def _copy_block(low: int, high: int, offset: int) -> None:
    """Copy the orders with ids in [low, high], their assignments and index rows, at
    id + offset."""
    order_cols = _columns(Order)
    chosen = []
    for col in order_cols:
        if col == "id":
            chosen.append("id + %(offset)s")
        elif col == "number":
            chosen.append(_number_sql("id + %(offset)s"))
        elif col == "merged_into_id":
            chosen.append("merged_into_id + %(offset)s")
        else:
            chosen.append(col)
    order_table = Order._meta.db_table
    assignment_table = Assignment._meta.db_table
    assignment_cols = [c for c in _columns(Assignment) if c != "id"]
    assignment_select = ["order_id + %(offset)s" if c == "order_id" else f"a.{c}"
                         for c in assignment_cols]
    params: dict[str, int | str] = {"low": low, "high": high, "offset": offset,
                                    "bench": BENCH_UNIT_PREFIX + "%"}
    statements = [
        f"INSERT INTO {order_table} ({', '.join(order_cols)}) "
        f"SELECT {', '.join(chosen)} FROM {order_table} WHERE id BETWEEN %(low)s AND %(high)s",
        f"INSERT INTO {assignment_table} ({', '.join(assignment_cols)}) "
        f"SELECT {', '.join(assignment_select)} FROM {assignment_table} a "
        "JOIN directory_unit u ON u.id = a.unit_id "
        "WHERE a.order_id BETWEEN %(low)s AND %(high)s AND u.code NOT LIKE %(bench)s",
    ]
    if connection.vendor == "postgresql":
        statements.append(
            f"INSERT INTO {ORDER_INDEX.pg_table} (id, document) "
            f"SELECT id + %(offset)s, document FROM {ORDER_INDEX.pg_table} "
            "WHERE id BETWEEN %(low)s AND %(high)s")
    else:
        statements.append(
            f"INSERT INTO {ORDER_INDEX.fts_table} (rowid, title, text) "
            f"SELECT rowid + %(offset)s, title, text FROM {ORDER_INDEX.fts_table} "
            "WHERE rowid BETWEEN %(low)s AND %(high)s")
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The copies refer only to rows that exist (the seed's own references).
            cursor.execute("SET LOCAL session_replication_role = replica")
        for sql in statements:
            cursor.execute(sql, params)


def seed_bounds() -> tuple[int, int] | None:
    """The lowest and highest id of the bulk-loaded orders (the copies' numbers start
    with Z); None without orders."""
    seed = Order.objects.exclude(number__startswith="Z").order_by("pk").values_list("pk", flat=True)
    low, high = seed.first(), seed.last()
    return None if low is None or high is None else (low, high)


def copy_seed(target: int, block: int = 50_000, progress: Progress | None = None,
              between_blocks: Callable[[], None] | None = None) -> int:
    """Copy the seed orders (bulk-loaded and indexed) until there are ``target`` orders;
    returns how many were added. Copy k of the seed lies at the seed's ids + k * its id span,
    so a run that stopped half-way resumes where it was. ``between_blocks`` runs after each
    committed block (the benchmark releases its lock there so that others may measure)."""
    bounds = seed_bounds()
    if bounds is None:
        return 0
    seed_low, seed_high = bounds
    span = seed_high - seed_low + 1
    started = time.perf_counter()
    added = 0
    # The next id to fill; a block of the seed that is all gaps still moves it on.
    following = 0
    while (count := Order.objects.count()) < target:
        highest = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        following = max(following, highest + 1)
        copy, position = divmod(following - seed_low, span)
        low = seed_low + position
        high = min(low + block - 1, seed_high, low + target - count - 1)
        _copy_block(low, high, copy * span)
        following = high + 1 + copy * span
        added += Order.objects.count() - count
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{Order._meta.db_table}', 'id'), "
                    f"(SELECT max(id) FROM {Order._meta.db_table}))")
        if progress is not None:
            progress(added, time.perf_counter() - started)
        if between_blocks is not None:
            between_blocks()
    return added
