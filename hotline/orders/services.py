"""Every write to work orders goes through here (``do_*``); ``check_*`` validate and authorise.

Creating an order registers the citizen (one per phone number across channels), the contact it
came from, the acceptance number and the first history event, in one transaction. Lifecycle
actions go through ``do_action``: it locks the order row, asks the lifecycle table for the next
state, checks the caller's role and scope, runs the action's handler (``actions.py``) and writes
the history event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.core.phones import is_plausible_phone, normalise_phone
from hotline.directory.lookups import active_category_by_code, district_by_code
from hotline.directory.models import Category, District, OrderType, User
from hotline.orders import lifecycle, numbering
from hotline.orders.citizens import find_or_register_citizen, record_additions
from hotline.orders.history import GENESIS_HASH, append_event, build_event
from hotline.orders.inserts import insert_new_order, look_up_before_create, register_citizen
from hotline.orders.lifecycle import Action, State, TransitionError
from hotline.orders.models import (
    Channel,
    Citizen,
    CitizenTag,
    Contact,
    IdempotencyKey,
    NumberCounter,
    Order,
    OrderEvent,
    Urgency,
)
from hotline.orders.scope import can_see_order, visible_contacts

PG_SEQUENCE = "orders_acceptance_number_seq"


@dataclass
class NewOrder:
    """What intake knows about a new request; validated by ``check_new_order``."""

    type: str
    channel: str
    title: str
    text: str
    citizen_phone: str = ""
    citizen_name: str = ""
    citizen_email: str = ""
    citizen_tags: list[str] = field(default_factory=list)
    confidential: bool = False
    address: str = ""
    district: str = ""  # district code
    category: str = ""  # category code
    urgency: str = Urgency.NORMAL
    contact_id: int | None = None  # an existing contact (a call in progress) to link
    contact_summary: str = ""
    external_id: str = ""
    citizen_identities: list[tuple[str, str]] = field(default_factory=list)  # (IdentityKind, value)


def check_phone(raw: str) -> str:
    """The normalised phone number; InvalidInput when one was given without 5 to 20 digits."""
    phone = normalise_phone(raw)
    if raw and not is_plausible_phone(phone):
        raise InvalidInput("phone number must have 5 to 20 digits", field="citizen_phone")
    return phone


# Django builds a Choices' ``values`` list anew on every access: once here, for every create.
_ORDER_TYPES = frozenset(OrderType.values)
_CHANNELS = frozenset(Channel.values)
_URGENCIES = frozenset(Urgency.values)
_CITIZEN_TAGS = frozenset(CitizenTag.values)


def check_new_order(data: NewOrder) -> tuple[District | None, Category | None]:
    if data.type not in _ORDER_TYPES:
        raise InvalidInput(f"unknown order type {data.type!r}", field="type")
    if data.channel not in _CHANNELS:
        raise InvalidInput(f"unknown channel {data.channel!r}", field="channel")
    if data.urgency not in _URGENCIES:
        raise InvalidInput(f"unknown urgency {data.urgency!r}", field="urgency")
    if not data.title.strip():
        raise InvalidInput("title must not be empty", field="title")
    if not data.text.strip():
        raise InvalidInput("text must not be empty", field="text")
    unknown_tags = set(data.citizen_tags) - _CITIZEN_TAGS
    if unknown_tags:
        raise InvalidInput(f"unknown citizen tags {sorted(unknown_tags)}", field="citizen_tags")
    data.citizen_phone = check_phone(data.citizen_phone)
    district = None
    if data.district:
        district = district_by_code(data.district)
        if district is None:
            raise InvalidInput(f"unknown district {data.district!r}", field="district")
    category = None
    if data.category:
        category = active_category_by_code(data.category)
        if category is None:
            raise InvalidInput(f"unknown category {data.category!r}", field="category")
        if data.type not in category.accepted_types:
            raise InvalidInput(
                f"category {category.name} does not accept type {data.type!r}", field="category"
            )
    return district, category


def next_counter() -> int:
    """The next acceptance-number counter value. PostgreSQL's sequence never hands a value out
    twice, even across rolled-back transactions; on SQLite the counter row is updated inside the
    caller's transaction, which holds the database's single write lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [PG_SEQUENCE])
            return int(cursor.fetchone()[0])
    updated = NumberCounter.objects.filter(name="order").update(value=F("value") + 1)
    if not updated:
        NumberCounter.objects.create(name="order", value=1)
    return NumberCounter.objects.get(name="order").value


def number_key() -> bytes:
    """The secret that keys acceptance numbers: HOTLINE_NUMBER_KEY, or one derived from the
    SECRET_KEY (under its own label, so the number key reveals nothing about the secret key).
    Changing it changes every future number; numbers already issued stay as they are."""
    configured = settings.HOTLINE_NUMBER_KEY
    if configured:
        return configured.encode()
    return hmac.digest(settings.SECRET_KEY.encode(), b"hotline acceptance numbers", "sha256")


def next_number() -> str:
    """The acceptance number for a new order. A number is never issued twice: when the keyed
    number of this counter value is already on an order (issued by the affine scheme used
    before, or under an earlier key), the counter value is skipped. Such numbers were issued
    before this key was in use, so they are committed and the check cannot race with another
    writer; two counter values never share a number under one key (a bijection)."""
    key = number_key()
    while True:
        number = numbering.number_for(next_counter(), key)
        if not Order.objects.filter(number=number).exists():
            return number


def _request_hash(data: NewOrder) -> str:
    return hashlib.sha256(
        json.dumps(asdict(data), sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def _citizen_for(data: NewOrder) -> Citizen:
    citizen = find_or_register_citizen(
        phone=data.citizen_phone, email=data.citizen_email, name=data.citizen_name,
        identities=data.citizen_identities, tags=data.citizen_tags,
        confidential=data.confidential, anonymous=True,
    )
    assert citizen is not None  # anonymous=True always gives one
    return citizen


def get_contact_for(actor: User, contact_id: int) -> Contact:
    """The contact with this id if the actor may see it; NotFound otherwise, with the same
    message for an id outside the actor's scope as for one that does not exist."""
    contact = visible_contacts(actor).filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(f"no contact {contact_id}", field="contact_id")
    return contact


def check_can_create(actor: User) -> None:
    if actor.role not in lifecycle.ACTION_ROLES[Action.CREATE] and not actor.is_superuser:
        raise Forbidden("your role may not register work orders")


def do_create_order(
    actor: User,
    data: NewOrder,
    *,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[Order, bool]:
    """Register a request as a work order. Returns (order, created); a retry with the same
    idempotency key returns the first order with created=False."""
    check_can_create(actor)
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 128):
        raise InvalidInput("Idempotency-Key must be 1 to 128 characters", field="Idempotency-Key")
    district, category = check_new_order(data)
    contact = get_contact_for(actor, data.contact_id) if data.contact_id is not None else None
    request_hash = _request_hash(data)
    if connection.vendor == "postgresql":
        return _create_on_postgresql(actor, data, district, category, contact,
                                     idempotency_key, request_hash, now)
    if idempotency_key:
        existing = _replayed(actor, idempotency_key, request_hash)
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            when = now or timezone.now()
            key = IdempotencyKey(
                user=actor, key=idempotency_key, request_hash=request_hash, created_at=when,
            ) if idempotency_key else None
            order = _create(actor, data, district, category, contact, when)
            if key is not None:
                key.order = order
                key.save(force_insert=True)
    except IntegrityError:
        if (winner := _key_race_winner(actor, idempotency_key, request_hash)) is not None:
            return winner, False
        raise
    return order, True


def _create_on_postgresql(
    actor: User,
    data: NewOrder,
    district: District | None,
    category: Category | None,
    contact: Contact | None,
    idempotency_key: str | None,
    request_hash: str,
    now: dt.datetime | None,
) -> tuple[Order, bool]:
    """PostgreSQL's create, in as few round trips as the request allows.

    One statement first, outside any transaction (``inserts.look_up_before_create``): the
    Idempotency-Key, the counter value for the number and the caller's citizen by phone. A
    returning citizen with nothing to add to their record (the common case), and no call
    contact to attach: the order's rows are then one INSERT, which commits on its own in
    autocommit mode: two statements in all, one transaction, and the answer leaves only after
    the commit. Anything else (a new citizen, blanks to fill, identities, a call's contact)
    goes through one transaction as before, with a new phone-only citizen registered by
    ``INSERT ... ON CONFLICT DO NOTHING`` instead of under a savepoint.

    A concurrent create with the same key loses on the key's unique constraint: its statement
    (or transaction) is rolled back whole and it answers with the winner's order."""
    found = look_up_before_create(PG_SEQUENCE, actor.pk, idempotency_key, data.citizen_phone)
    if idempotency_key and found.key_order_id is not None:
        return _replay(found.key_hash, found.key_order_id, request_hash), False
    assert found.counter is not None
    when = now or timezone.now()
    key = IdempotencyKey(
        user=actor, key=idempotency_key, request_hash=request_hash, created_at=when,
    ) if idempotency_key else None
    citizen = found.citizen
    try:
        # Inside a caller's transaction the rows go under a savepoint (atomic below), so that
        # a lost race on the key leaves the caller's transaction usable.
        if (citizen is not None and contact is None and not data.citizen_identities
                and not _adds_to_record(citizen, data) and not connection.in_atomic_block):
            order = _insert_order(actor, data, district, category, None, when, key, citizen,
                                  found.counter)
        else:
            with transaction.atomic():
                if citizen is None and data.citizen_phone and not data.citizen_identities:
                    citizen = _register_by_phone(data)
                if citizen is None or contact is not None or data.citizen_identities:
                    citizen = _citizen_for(data)  # the registry's general path
                elif _adds_to_record(citizen, data):
                    citizen = _citizen_for(data)  # fills the blanks, under the transaction
                if contact is not None and contact.citizen_id is None:
                    contact.citizen = citizen
                    contact.save(update_fields=["citizen"])
                order = _insert_order(actor, data, district, category, contact, when, key,
                                      citizen, found.counter)
    except IntegrityError:
        if (winner := _key_race_winner(actor, idempotency_key, request_hash)) is not None:
            return winner, False
        raise
    return order, True


def _key_race_winner(actor: User, idempotency_key: str | None,
                     request_hash: str) -> Order | None:
    """After a create failed on a unique constraint: the order of a concurrent retry with the
    same key that won the race (its order stands, ours is gone), or None (another cause)."""
    return _replayed(actor, idempotency_key, request_hash) if idempotency_key else None


def _adds_to_record(citizen: Citizen, data: NewOrder) -> bool:
    """Whether the registry would add to this returning citizen's record."""
    return bool(record_additions(citizen, data.citizen_name, data.citizen_email.strip(),
                                 data.citizen_tags))


def _register_by_phone(data: NewOrder) -> Citizen | None:
    """A new citizen known by phone only, or None when another writer registered the phone
    since the look-up (the registry's general path then finds theirs)."""
    citizen = Citizen(phone=data.citizen_phone, email=data.citizen_email.strip(),
                      name=data.citizen_name, tags=list(data.citizen_tags),
                      confidential=data.confidential)
    return citizen if register_citizen(citizen) else None


def _insert_order(
    actor: User,
    data: NewOrder,
    district: District | None,
    category: Category | None,
    contact: Contact | None,
    now: dt.datetime,
    key: IdempotencyKey | None,
    citizen: Citizen,
    counter: int,
) -> Order:
    """The order's rows in one statement (``inserts.insert_new_order``); a counter value whose
    keyed number is already on an older order is skipped (as ``next_number`` does)."""
    key_fn = number_key()
    while True:
        order = _new_order_row(actor, data, district, category, citizen,
                               numbering.number_for(counter, key_fn), now)
        event = _first_event(order, actor, data, now)
        new_contact = _new_contact(actor, data, citizen, now) if contact is None else None
        if insert_new_order(order, new_contact, contact.pk if contact else None, event, key):
            if key is not None:
                key.order = order
            return order
        counter = next_counter()


def _replay(stored_hash: str | None, order_id: int, request_hash: str) -> Order:
    if stored_hash != request_hash:
        raise Conflict(
            "this Idempotency-Key was already used for a different request", field="Idempotency-Key"
        )
    return Order.objects.select_related("district", "category", "lead_unit").get(pk=order_id)


def _replayed(actor: User, key: str, request_hash: str) -> Order | None:
    # Every create with a key asks this: two columns by the unique (user, key), in plain SQL
    # (the ORM spent more CPU building this query than PostgreSQL spends answering it); the
    # order is loaded only on a replay.
    table = connection.ops.quote_name(IdempotencyKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT request_hash, order_id FROM {table} "  # noqa: S608 - the model's table
            "WHERE user_id = %s AND key = %s", [actor.pk, key],
        )
        found = cursor.fetchone()
    if found is None:
        return None
    return _replay(found[0], found[1], request_hash)


def _new_order_row(actor: User, data: NewOrder, district: District | None,
                   category: Category | None, citizen: Citizen, number: str,
                   now: dt.datetime) -> Order:
    confidential = data.confidential or citizen.confidential or data.type == OrderType.REPORT
    return Order(
        number=number,
        type=data.type, channel=data.channel, urgency=data.urgency, state=State.ACCEPTED,
        citizen=citizen, confidential=confidential, title=data.title.strip()[:200],
        text=data.text.strip(), address=data.address.strip(), district=district,
        category=category, created_by=actor if actor.pk else None, created_at=now, updated_at=now,
    )


def _first_event(order: Order, actor: User, data: NewOrder, now: dt.datetime) -> OrderEvent:
    # The first event of a new order: no need to look up a previous one.
    return build_event(
        order, seq=1, prev_hash=GENESIS_HASH, action=Action.CREATE, from_state=State.NEW,
        to_state=State.ACCEPTED, actor=actor, data={"channel": data.channel, "type": data.type},
        now=now,
    )


def _new_contact(actor: User, data: NewOrder, citizen: Citizen, now: dt.datetime) -> Contact:
    return Contact(
        citizen=citizen, channel=data.channel, occurred_at=now,
        summary=data.contact_summary or data.title, external_id=data.external_id,
        agent=actor if actor.role != "system" else None,
    )


def _create(
    actor: User,
    data: NewOrder,
    district: District | None,
    category: Category | None,
    contact: Contact | None,
    now: dt.datetime,
) -> Order:
    citizen = _citizen_for(data)
    order = _new_order_row(actor, data, district, category, citizen, next_number(), now)
    order.save(force_insert=True)
    if contact is not None:
        if contact.citizen_id is None:
            contact.citizen = citizen
            contact.save(update_fields=["citizen"])
    else:
        contact = _new_contact(actor, data, citizen, now)
        contact.save(force_insert=True)
    contact.orders.add(order)
    _first_event(order, actor, data, now).save()
    return order


def get_order_for(actor: User, number: str, *, lock: bool = False) -> Order:
    """The order with this number if the actor may see it; NotFound otherwise (an order
    outside one's scope is indistinguishable from one that does not exist)."""
    qs = Order.objects.select_related("citizen", "category", "district", "lead_unit")
    if lock:
        qs = qs.select_for_update(of=("self",)) if connection.vendor == "postgresql" else qs
    order = qs.filter(number=number).first()
    if order is None or not can_see_order(actor, order):
        raise NotFound(f"no work order {number}")
    return order


def do_action(
    actor: User,
    number: str,
    action: str,
    params: dict[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
) -> Order:
    """Apply one lifecycle action to an order, atomically, and record it in the history."""
    from hotline.orders.actions import HANDLERS, ActionContext, check_actor_may

    params = dict(params or {})
    try:
        act = Action(action)
    except ValueError:
        raise NotFound(f"unknown action {action!r}") from None
    if act == Action.CREATE:
        raise InvalidInput("use the create endpoint to register orders", field="action")
    with transaction.atomic():
        order = get_order_for(actor, number, lock=True)
        check_actor_may(actor, order, act)
        try:
            to_state = lifecycle.next_state(order.state, act)
        except TransitionError as exc:
            raise Conflict(
                f"cannot {act.value} an order that is {order.get_state_display()} ({order.state})"
            ) from exc
        when = now or timezone.now()
        ctx = ActionContext(actor=actor, order=order, params=params, now=when, to_state=to_state)
        from_state = order.state
        result = HANDLERS[act](ctx)
        order.state = ctx.to_state
        order.updated_at = when
        order.save()
        append_event(
            order, action=act, from_state=from_state, to_state=order.state, actor=actor,
            note=result.note, data=result.data, now=when,
        )
    return order
