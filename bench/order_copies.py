"""Many orders fast, for the search and intake benchmarks: in-database copies of a seed.

The bulk loader (``hotline.demo.bulk``) writes complete orders (citizen, contact, history,
assignments) but makes ~1,400-2,250 orders/s on PostgreSQL at best and ~600/s on SQLite, so a
million orders take 8 to 30 minutes on an idle machine and hours on a loaded one, and 10 million
more than an hour of both cores. Above a seed of bulk-loaded orders each further block is a
copy of the seed made inside the database by one INSERT ... SELECT per table: the orders (new
ids above the current highest, their assignments (same units and roles: every unit holds the
same share of the copies as of the seed) and their full-text index rows when the seed is indexed
(the text is the same, so the tokens are too; nothing is segmented again).

Two kinds of copy:

- **search** (``complete=False``, bench/search.py): orders numbered "Z" + the id in hex (unique,
  never like a real one), assignments, index rows. No contacts or history (no search reads
  them).
- **complete** (``complete=True``, PostgreSQL, bench/intake.py): also every row the create
  path writes, so that an insert meets indexes of the full size: each order's contacts (new ids)
  and their links, its whole history (the events, order id moved, new ids) and one idempotency
  key (random-looking 32 hex digits under the order's creator, as an API client's keys would
  be: the key table keeps every key). Their acceptance numbers are seven digits spread over the
  whole range by a bijection of the id followed by a capital letter (``COMPLETE_NUMBER``):
  sorted among the real eight-digit numbers, so a new order's number lands anywhere in the
  full-size unique index (the "Z" numbers would all sort after them and leave the real ones'
  part of the index small and hot), while never equal to a number the services issue (those
  are eight digits). What these copies are not: their history chains are not re-hashed (the
  events keep the seed's hashes, which cover the seed's number, so ``history.verify_order``
  fails on a copy), their citizens are the seed's (a copy's caller is the seed order's caller),
  and their numbers are not valid acceptance numbers (no check digit).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models import Q

from hotline.orders.models import Assignment, Contact, IdempotencyKey, Order, OrderEvent
from hotline.orders.search import ORDER_INDEX

# Units the benchmark gives its own assignments after loading (a narrow street office, a
# sub-centre's street): their rows are not copied, so their share stays what it is set to.
BENCH_UNIT_PREFIX = "bench-"

# A complete copy's number: 7 digits, a bijection of the id modulo 10**7 (a multiplier prime to
# 10), then a letter for the id's multiple of 10**7 (A below 10 million, B up to 20 million...).
_SPREAD = 7_654_321
COMPLETE_NUMBER_RE = r"^[0-9]{7}[A-Z]$"

Progress = Callable[[int, float], None]


def _columns(model: type[Order] | type[Assignment] | type[Contact] | type[OrderEvent]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _number_sql(id_sql: str, complete: bool = False) -> str:
    if complete:
        return (f"lpad(((({id_sql}) %% 10000000) * {_SPREAD} %% 10000000)::text, 7, '0') "
                f"|| chr(65 + (({id_sql}) / 10000000)::int)")
    if connection.vendor == "postgresql":
        return f"'Z' || lpad(to_hex({id_sql}), 7, '0')"
    # %% because the query is formatted with its parameters.
    return f"printf('Z%%07X', {id_sql})"


def is_copy() -> Q:
    """Orders made here rather than by the bulk loader or the services."""
    return Q(number__startswith="Z") | Q(number__regex=COMPLETE_NUMBER_RE)


def _complete_statements(order_table: str) -> list[str]:
    """Contacts with their links, history events and idempotency keys of the orders in
    [low, high], for their copies at id + offset (PostgreSQL)."""
    contact_table = Contact._meta.db_table
    link_table = Contact.orders.through._meta.db_table
    event_table = OrderEvent._meta.db_table
    key_table = IdempotencyKey._meta.db_table
    contact_cols = [c for c in _columns(Contact) if c != "id"]
    event_cols = [c for c in _columns(OrderEvent) if c != "id"]
    event_select = ["order_id + %(offset)s" if c == "order_id" else c for c in event_cols]
    return [
        # One new contact per link (a contact of two seed orders is copied once per order),
        # its id drawn from the contacts' sequence once (the CTE is materialised) and used by
        # both the contact and its link.
        f"WITH src AS MATERIALIZED (SELECT nextval(pg_get_serial_sequence('{contact_table}', "
        f"'id')) AS new_id, l.order_id + %(offset)s AS new_order, "
        f"{', '.join('c.' + c for c in contact_cols)} FROM {link_table} l "
        f"JOIN {contact_table} c ON c.id = l.contact_id "
        "WHERE l.order_id BETWEEN %(low)s AND %(high)s), "
        f"made AS (INSERT INTO {contact_table} (id, {', '.join(contact_cols)}) "
        f"SELECT new_id, {', '.join(contact_cols)} FROM src) "
        f"INSERT INTO {link_table} (contact_id, order_id) SELECT new_id, new_order FROM src",
        f"INSERT INTO {event_table} ({', '.join(event_cols)}) "
        f"SELECT {', '.join(event_select)} FROM {event_table} "
        "WHERE order_id BETWEEN %(low)s AND %(high)s",
        f"INSERT INTO {key_table} (user_id, key, request_hash, order_id, created_at) "
        "SELECT created_by_id, md5('copy' || (id + %(offset)s)), "
        "md5('request' || (id + %(offset)s)) || md5('body' || (id + %(offset)s)), "
        f"id + %(offset)s, created_at FROM {order_table} "
        "WHERE id BETWEEN %(low)s AND %(high)s AND created_by_id IS NOT NULL",
    ]


def _copy_block(low: int, high: int, offset: int, complete: bool = False) -> int:
    """Copy the orders with ids in [low, high], their assignments and index rows (and with
    ``complete`` their contacts, links, history and keys), at id + offset; returns how many
    orders were written."""
    order_cols = _columns(Order)
    chosen = []
    for col in order_cols:
        if col == "id":
            chosen.append("id + %(offset)s")
        elif col == "number":
            chosen.append(_number_sql("id + %(offset)s", complete))
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
    if complete:
        if connection.vendor != "postgresql":
            raise NotImplementedError("complete copies are made on PostgreSQL only")
        statements += _complete_statements(order_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The copies refer only to rows that exist (the seed's own references).
            cursor.execute("SET LOCAL session_replication_role = replica")
        written = 0
        for index, sql in enumerate(statements):
            cursor.execute(sql, params)
            if index == 0:
                written = cursor.rowcount
    return written


def seed_bounds() -> tuple[int, int] | None:
    """The lowest and highest id of the seed: the orders below the first copy that are not
    copies themselves (orders the API made after the copies are not part of it, so a later
    top-up copies the same seed to the same places); None without orders."""
    originals = Order.objects.exclude(is_copy()).order_by("pk").values_list("pk", flat=True)
    low = originals.first()
    if low is None:
        return None
    first_copy = Order.objects.filter(is_copy(), pk__gt=low).order_by("pk") \
        .values_list("pk", flat=True).first()
    if first_copy is not None:
        originals = originals.filter(pk__lt=first_copy)
    high = originals.last()
    return None if high is None else (low, high)


def copy_seed(target: int, block: int = 50_000, progress: Progress | None = None,
              between_blocks: Callable[[], None] | None = None, complete: bool = False) -> int:
    """Copy the seed orders (bulk-loaded, and indexed for search) until there are ``target``
    orders; returns how many were added. Copy k of the seed lies at the seed's ids + k * its id
    span, so a run that stopped half-way resumes where it was. ``between_blocks`` runs after
    each committed block (the benchmark releases its lock there so that others may measure).
    ``complete``: with every row the create path writes (see the module's docstring)."""
    bounds = seed_bounds()
    if bounds is None:
        return 0
    seed_low, seed_high = bounds
    span = seed_high - seed_low + 1
    started = time.perf_counter()
    added = 0
    # The next id to fill; a block of the seed that is all gaps still moves it on.
    following = 0
    # Counted once: at 10 million orders a count(*) takes seconds, and it was asked twice per
    # block; the INSERT's row count says how many each block added.
    count = Order.objects.count()
    while count < target:
        highest = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        following = max(following, highest + 1)
        copy, position = divmod(following - seed_low, span)
        low = seed_low + position
        high = min(low + block - 1, seed_high, low + target - count - 1)
        written = _copy_block(low, high, copy * span, complete)
        following = high + 1 + copy * span
        added += written
        count += written
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
