"""A new work order's rows in one statement on PostgreSQL.

Registering an order writes the order, its contact (unless a call's contact already exists),
the contact-order link, the first history event and the idempotency key. Through the ORM that
was five INSERTs and a ``SELECT`` that the acceptance number is free, each built by Django's
SQL compiler (most of the server's CPU per order, measured by bench/intake.py). Here they are
one ``INSERT ... RETURNING`` with data-modifying CTEs (a prepared statement): the later rows
take the order's id from the first CTE, and the order row is only written ``WHERE NOT EXISTS``
an order with the same number (so no row back means "number taken: draw the next one").

The column values come from the unsaved model instances, through each field's own
``pre_save`` and ``get_db_prep_save`` as the ORM's ``save`` does; the column lists are built
once per model. The statement is atomic on its own and runs inside the caller's transaction.
SQLite keeps the ORM path (``services._create``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

from hotline.orders.models import (
    Citizen,
    CitizenIdentity,
    Contact,
    IdempotencyKey,
    IdentityKind,
    Order,
    OrderEvent,
)

_LINK_TABLE = Contact.orders.through._meta.db_table


@cache
def _fields(model: type[models.Model], skip: tuple[str, ...]) -> tuple[list[Any], str]:
    fields = [f for f in model._meta.local_concrete_fields
              if not f.primary_key and f.attname not in skip]
    quote = connection.ops.quote_name
    return fields, ", ".join(quote(f.column) for f in fields)


def _values(obj: models.Model, skip: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    fields, columns = _fields(type(obj), skip)
    return columns, [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def _placeholders(values: list[Any]) -> str:
    return ", ".join(["%s"] * len(values))


@cache
def _prepared_cursor() -> type[Any]:
    import psycopg

    class Prepared(psycopg.RawCursor[Any]):
        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                    binary: bool | None = None) -> Any:
            if settings.HOTLINE_DB_PREPARED_INSERTS:
                prepare = True
            return super().execute(query, params, prepare=prepare, binary=binary)

    return Prepared


@lru_cache(maxsize=64)
def _numbered(sql: str) -> str:
    """``%s`` placeholders as PostgreSQL's own ``$1, $2, ...``, once per statement text. A raw
    cursor sends them as they are: psycopg's own conversion re-parsed these texts on every
    execution (it caches none with more than 50 parameters), 13% of a worker's CPU."""
    parts = sql.split("%s")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], 1)) + parts[-1]


class _DebugWrapper(CursorDebugWrapper):
    """Django's query logging (DEBUG, ``CaptureQueriesContext``) with the statement's own text:
    Django would re-compose it client side with %s placeholders, which this text has not."""

    def debug_sql(self, sql: Any = None, params: Any = None,
                  use_last_executed_query: bool = False, many: bool = False) -> Any:
        return super().debug_sql(sql, params, use_last_executed_query=False, many=many)


def _execute(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    """One row of ``sql``, with server-side binding (the parameters travel apart from the text
    instead of being quoted into it) and, with ``HOTLINE_DB_PREPARED_INSERTS``, as a prepared
    statement: the text is the same for every order, so PostgreSQL parses and plans it once per
    connection. Django's own cursors bind on the client and prepare nothing. The cursor is
    wrapped as Django wraps its own (error translation, query logging, execute wrappers)."""
    connection.ensure_connection()
    wrapper = _DebugWrapper if connection.queries_logged else CursorWrapper
    with wrapper(_prepared_cursor()(connection.connection), connection) as cursor:
        cursor.execute(_numbered(sql), params)
        return cursor.fetchone()


def insert_new_order(order: Order, contact: Contact | None, existing_contact_id: int | None,
                     event: OrderEvent, key: IdempotencyKey | None) -> bool:
    """Write the rows; False (nothing written) when ``order.number`` is already taken. On
    success the instances get their primary keys and count as saved."""
    quote = connection.ops.quote_name
    order_columns, order_params = _values(order)
    event_columns, event_params = _values(event, ("order_id",))
    params: list[Any] = [*order_params, order.number]
    parts = [
        # Only the models' own table and column names go into the text (noqa S608 below).
        f"o AS (INSERT INTO {quote(Order._meta.db_table)} ({order_columns}) "  # noqa: S608
        f"SELECT {_placeholders(order_params)} WHERE NOT EXISTS (SELECT 1 FROM "
        f"{quote(Order._meta.db_table)} WHERE {quote('number')} = %s) RETURNING id)",
    ]
    if contact is not None:
        contact_columns, contact_params = _values(contact)
        parts.append(f"c AS (INSERT INTO {quote(Contact._meta.db_table)} "  # noqa: S608
                     f"({contact_columns}) SELECT {_placeholders(contact_params)} FROM o RETURNING id)")
        params += contact_params
        link_source = "SELECT c.id, o.id FROM c, o"
    else:
        link_source = "SELECT %s, o.id FROM o"
        params.append(existing_contact_id)
    parts.append(f"l AS (INSERT INTO {quote(_LINK_TABLE)} (contact_id, order_id) {link_source})")
    parts.append(f"e AS (INSERT INTO {quote(OrderEvent._meta.db_table)} (order_id, "  # noqa: S608
                 f"{event_columns}) SELECT o.id, {_placeholders(event_params)} FROM o "
                 f"RETURNING id)")
    params += event_params
    returning = ["o.id", "e.id"]
    sources = ["o", "e"]
    if key is not None:
        key_columns, key_params = _values(key, ("order_id",))
        parts.append(f"k AS (INSERT INTO {quote(IdempotencyKey._meta.db_table)} "  # noqa: S608
                     f"(order_id, "
                     f"{key_columns}) SELECT o.id, {_placeholders(key_params)} FROM o "
                     f"RETURNING id)")
        params += key_params
        returning.append("k.id")
        sources.append("k")
    if contact is not None:
        returning.append("c.id")
        sources.append("c")
    sql = f"WITH {', '.join(parts)} SELECT {', '.join(returning)} FROM {', '.join(sources)}"  # noqa: S608
    row = _execute(sql, params)
    if row is None:
        return False
    saved: list[models.Model] = [order, event]
    if key is not None:
        saved.append(key)
    if contact is not None:
        saved.append(contact)
    for obj, pk in zip(saved, row, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    event.order_id = order.pk
    if key is not None:
        key.order_id = order.pk
    return True


@dataclass
class BeforeCreate:
    """What one statement before a create found: a replay (the key's request hash and order),
    else the counter value for the new order's number and the caller's citizen by phone."""

    key_hash: str | None
    key_order_id: int | None
    counter: int | None
    citizen: Citizen | None


@cache
def _lookup_sql() -> tuple[str, list[Any]]:
    quote = connection.ops.quote_name
    fields = list(Citizen._meta.concrete_fields)
    columns = ", ".join(quote(f.column) for f in fields)
    prefixed = ", ".join(f"c.{quote(f.column)}" for f in fields)
    citizen = quote(Citizen._meta.db_table)
    identity = quote(CitizenIdentity._meta.db_table)
    keys = quote(IdempotencyKey._meta.db_table)
    # The counter is drawn only when the key is not a replay (CASE evaluates nextval() only
    # when its branch is taken): the number space is finite. The citizen is the phone's own
    # record, else the one a merge kept the phone on (``citizens.find_citizen``).
    sql = (
        "SELECT k.request_hash, k.order_id, "  # noqa: S608 - the models' own names only
        "CASE WHEN k.order_id IS NULL THEN nextval(%s) END, "
        f"{', '.join(f'f.{quote(f.column)}' for f in fields)} "
        "FROM (SELECT 1) AS one "
        f"LEFT JOIN {keys} k ON k.user_id = %s AND k.key = %s "
        "LEFT JOIN LATERAL ("
        f"SELECT 0 AS pri, {columns} FROM {citizen} WHERE phone = %s AND %s <> '' "
        f"UNION ALL SELECT 1, {prefixed} FROM {identity} i JOIN {citizen} c "
        "ON c.id = i.citizen_id WHERE i.kind = %s AND i.value = %s AND %s <> '' "
        "ORDER BY pri LIMIT 1) f ON true"
    )
    return sql, fields


def look_up_before_create(sequence: str, user_id: int | None, key: str | None,
                          phone: str) -> BeforeCreate:
    """One round trip before a create on PostgreSQL, outside any transaction: the
    Idempotency-Key (``key`` None: none), the next counter value unless it is a replay, and the
    citizen with this phone (``phone`` empty: none looked for). Read committed, as the ORM's
    separate look-ups were."""
    sql, fields = _lookup_sql()
    row = _execute(sql, [sequence, user_id if key else None, key or "", phone, phone,
                         IdentityKind.PHONE, phone, phone])
    assert row is not None  # FROM (SELECT 1): always one row
    key_hash, key_order_id, counter, *values = row
    citizen = None
    if values[0] is not None:
        loaded = [f.from_db_value(v, None, connection)
                  if isinstance(v, str) and hasattr(f, "from_db_value") else v
                  for f, v in zip(fields, values, strict=True)]
        citizen = Citizen.from_db(connection.alias, [f.attname for f in fields], loaded)
    return BeforeCreate(key_hash, key_order_id, counter, citizen)


def register_citizen(citizen: Citizen) -> bool:
    """Insert a new citizen by phone (no identities), False when another writer registered the
    phone first (the caller looks again). ``ON CONFLICT DO NOTHING`` instead of a savepoint
    around the INSERT: no error, so nothing to roll back inside the caller's transaction."""
    quote = connection.ops.quote_name
    columns, params = _values(citizen)
    row = _execute(
        f"INSERT INTO {quote(Citizen._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({_placeholders(params)}) ON CONFLICT (phone) WHERE NOT (phone = '') DO NOTHING "
        "RETURNING id", params)
    if row is None:
        return False
    citizen.pk = row[0]
    citizen._state.adding = False
    citizen._state.db = connection.alias
    return True
