"""Fast bulk loading of synthetic work orders, for benchmarks, demos and capacity tests.

``load_orders(n)`` writes n orders with everything a real order has: the citizen (a quarter of
the orders come from a repeat caller), the contact it came in by and its link to the order, the
units' assignments and a hash-chained history hashed with ``history.event_hash`` exactly as
``history.build_event`` does (tests compare the two), so ``history.verify_order`` accepts every
loaded order. Each order follows a prefix of a real
lifecycle path (accept → dispatch → sign → reply → approve → call back → archive, or a direct
answer, a refusal, a return, a suspension) cut off at "now", so old orders are mostly finished
and recent ones still in progress, and each order's fields agree with its last event (closed
orders have ``closed_at``, dispatched ones a lead unit with an active lead assignment, ...).

Why not the service functions: ``do_create_order`` plus five ``do_action`` calls cost a few
milliseconds per order; loading millions of orders that way takes hours. Here each batch is one
transaction: PostgreSQL gets the rows through COPY, SQLite through ``executemany``.

Correctness with concurrent writers (the API may be taking orders while this runs):
- acceptance numbers come from the same counter as the services: on PostgreSQL one
  ``nextval`` per order from ``orders_acceptance_number_seq`` in a single query, on SQLite the
  ``NumberCounter`` row bumped by n inside the batch's write transaction;
- primary keys are reserved the same way (``nextval`` of each table's identity sequence on
  PostgreSQL, so values are unique even if another session inserts meanwhile; on SQLite the
  write transaction holds the database lock while ids above the current maximum are used).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Model
from django.utils import timezone

from hotline.core.roles import Role
from hotline.directory.calendar_service import current_calendar
from hotline.directory.models import Category, CategoryRoute, District, OrderType, Unit, UnitKind, User
from hotline.directory.workcalendar import WorkCalendar
from hotline.orders import deadlines, numbering
from hotline.orders.history import GENESIS_HASH, event_hash
from hotline.orders.lifecycle import Action, State
from hotline.orders.models import (
    Assignment,
    Channel,
    Citizen,
    CitizenTag,
    Contact,
    NumberCounter,
    Order,
    OrderEvent,
    Satisfaction,
    Urgency,
)
from hotline.orders.services import PG_SEQUENCE, next_counter, number_key

DEFAULT_BATCH = 50_000
DEFAULT_SPAN_DAYS = 365
# Synthetic citizens get phone numbers 199 + their id in eight digits, so they never collide with
# each other; a number somebody real already has makes that citizen the caller instead.
PHONE_PREFIX = "199"

Progress = Callable[[int, float], None]


class DirectoryMissing(RuntimeError):
    """Raised when there is no district, dispatchable unit or active category to refer to."""


@dataclass(frozen=True)
class LoadStats:
    orders: int
    rows: int  # rows written across every table
    seconds: float

    @property
    def orders_per_s(self) -> float:
        return self.orders / self.seconds if self.seconds > 0 else 0.0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


# --- the directory the orders refer to -------------------------------------------------------

@dataclass
class _Route:
    lead: Unit
    co: list[Unit]


@dataclass
class _Directory:
    districts: list[District]
    categories: list[Category]
    units: list[Unit]
    agent: User | None
    monitor: User | None
    unit_staff: dict[int, User]
    routes: dict[tuple[int, int | None], _Route]
    limits: dict[int, deadlines.Limits]
    calendar: WorkCalendar

    def route(self, category: Category, district: District, rng: random.Random) -> _Route:
        found = self.routes.get((category.pk, district.pk)) or self.routes.get((category.pk, None))
        return found or _Route(lead=rng.choice(self.units), co=[])


def _first_user(**filters: Any) -> User | None:
    return User.objects.filter(is_active=True, **filters).order_by("pk").first()


def _load_directory() -> _Directory:
    districts = list(District.objects.order_by("pk"))
    units = list(Unit.objects.filter(active=True).exclude(kind=UnitKind.CENTRE).order_by("pk"))
    # Leaves of the catalogue (categories nobody hangs a child on), as agents pick them.
    categories = list(
        Category.objects.filter(active=True, children__isnull=True)
        .select_related("parent__parent")
        .order_by("pk")
    )
    if not (districts and units and categories):
        raise DirectoryMissing(
            "bulk loading needs at least one district, one active non-centre unit and one active "
            "category (load the demo data, or call ensure_minimal_directory())"
        )
    routes: dict[tuple[int, int | None], _Route] = {}
    for route in CategoryRoute.objects.select_related("lead_unit").prefetch_related("co_units"):
        routes[(route.category_id, route.district_id)] = _Route(
            lead=route.lead_unit, co=[u for u in route.co_units.all() if u.active]
        )
    unit_staff: dict[int, User] = {}
    for user in User.objects.filter(
        is_active=True, role__in=[Role.DEPT_HANDLER, Role.DEPT_ADMIN], unit__isnull=False
    ).order_by("-role", "pk"):  # handlers before admins
        assert user.unit_id is not None
        unit_staff.setdefault(user.unit_id, user)
    calendar = current_calendar()
    return _Directory(
        districts=districts,
        categories=categories,
        units=units,
        agent=_first_user(role=Role.AGENT, unit__kind=UnitKind.CENTRE) or _first_user(
            role=Role.AGENT
        ),
        monitor=_first_user(role=Role.MONITOR) or _first_user(role=Role.CENTRE_ADMIN),
        unit_staff=unit_staff,
        routes=routes,
        limits={c.pk: deadlines.limits_for(c, calendar) for c in categories},
        calendar=calendar,
    )


def ensure_minimal_directory() -> None:
    """Create a tiny directory (a district, a centre, two departments, a routed category, an
    agent, a monitor and a handler) when the database has nothing to refer orders to. Does
    nothing when a district, a dispatchable unit and an active category already exist."""
    has_units = Unit.objects.filter(active=True).exclude(kind=UnitKind.CENTRE).exists()
    has_categories = Category.objects.filter(active=True).exists()
    if District.objects.exists() and has_units and has_categories:
        return
    with transaction.atomic():
        District.objects.get_or_create(code="bulk-district", defaults={"name": "示例区"})
        centre = Unit.objects.filter(kind=UnitKind.CENTRE).order_by("pk").first()
        if centre is None:
            centre = Unit.objects.create(code="bulk-centre", name="示例热线中心",
                                         kind=UnitKind.CENTRE)
        lead, _ = Unit.objects.get_or_create(
            code="bulk-water", defaults={"name": "示例水务局", "kind": UnitKind.DEPARTMENT,
                                         "parent": centre}
        )
        co, _ = Unit.objects.get_or_create(
            code="bulk-housing", defaults={"name": "示例住建局", "kind": UnitKind.DEPARTMENT,
                                           "parent": centre}
        )
        top, _ = Category.objects.get_or_create(code="bulk-10", defaults={"name": "城乡建设",
                                                                          "level": 1})
        leaf, _ = Category.objects.get_or_create(
            code="bulk-1001", defaults={"name": "供水", "level": 2, "parent": top,
                                        "sign_limit_hours": 8, "handle_limit_days": 5}
        )
        route, created = CategoryRoute.objects.get_or_create(
            category=leaf, district=None, defaults={"lead_unit": lead}
        )
        if created:
            route.co_units.add(co)
        for username, role, unit, name in (
            ("bulk-agent", Role.AGENT, centre, "示例坐席"),
            ("bulk-monitor", Role.MONITOR, centre, "示例班长"),
            ("bulk-handler", Role.DEPT_HANDLER, lead, "示例承办人"),
        ):
            if not User.objects.filter(username=username).exists():
                User.objects.create_user(username=username, password=None, role=role, unit=unit,
                                         display_name=name)


# --- synthetic content -------------------------------------------------------------------------

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "霞"]
_PLACES = ["幸福小区", "东街口", "滨江花园", "五一广场", "南门菜市场", "和平路", "阳光新村",
           "湖东路", "金山公园", "火车站北广场", "工业路", "实验小学门口"]
_ROADS = ["和平路", "湖东路", "工业路", "五四路", "温泉路", "杨桥路", "六一路", "华林路"]
# (title, text, reply) templates; {place} and {district} are filled in per order.
_TEMPLATES = [
    ("{place}停水", "{district}{place}从昨天晚上开始停水，没有任何通知，居民生活受到很大影响，"
     "请尽快恢复供水。", "经核实为管网抢修，已于当日恢复供水，并在小区张贴停水通知。"),
    ("{place}夜间施工噪音扰民", "{district}{place}附近工地每天晚上十一点以后还在施工，噪音很大，"
     "影响休息，请相关部门处理。", "已责令施工单位停止夜间施工，并办理夜间施工许可公示。"),
    ("{place}路灯不亮", "{district}{place}一带路灯已经坏了一个多星期，晚上出行不安全，"
     "请尽快维修。", "已安排维修人员更换灯具，路灯恢复正常照明。"),
    ("咨询{district}社保卡办理", "市民来电咨询在{district}办理社保卡需要带哪些材料，"
     "可以在哪里办理。", "已告知市民办理所需材料及{district}政务服务中心地址。"),
    ("{place}垃圾清运不及时", "{district}{place}垃圾桶满了好几天没人清运，气味很大，"
     "夏天容易滋生蚊蝇。", "已通知环卫公司加密清运频次，现场已清理完毕。"),
    ("{place}占道经营", "{district}{place}有流动摊贩长期占道经营，影响通行，请城管部门处理。",
     "城管中队已到场劝离并加强巡查。"),
    ("{place}公交站台损坏", "{district}{place}公交站台顶棚损坏，下雨天候车乘客无处避雨。",
     "公交公司已完成站台维修。"),
    ("建议{place}增设停车位", "市民建议在{district}{place}周边增设公共停车位，缓解停车难问题。",
     "建议已转交规划部门研究，将结合片区改造统筹考虑。"),
]
_REFUSALS = ["不属于热线受理范围", "诉求内容不明确，多次联系未果", "属于司法程序处理事项"]
_RETURN_REASONS = ["不属于本单位职责，建议派往属地街道", "诉求地址不在本辖区"]
_SUSPEND_REASONS = ["等待市民提供补充材料", "需等待天气好转后施工"]

_CHANNEL_WEIGHTS = [
    (Channel.PHONE, 70), (Channel.WEB, 10), (Channel.SMS, 5), (Channel.CHAT, 5),
    (Channel.EMAIL, 3), (Channel.VOICEMAIL, 3), (Channel.OPEN311, 2), (Channel.API, 2),
]
_TYPE_WEIGHTS = {
    OrderType.CONSULTATION: 30, OrderType.COMPLAINT: 35, OrderType.HELP: 18,
    OrderType.SUGGESTION: 8, OrderType.REPORT: 4, OrderType.PRAISE: 3, OrderType.OTHER: 2,
}

# Lifecycle paths an order may follow, with their weights and the (min, max) seconds each step
# takes after the previous one. Every prefix of a path is a valid lifecycle too.
_MIN, _HOUR, _DAY = 60, 3600, 86400
_FULL = [
    (Action.DISPATCH, 5 * _MIN, _HOUR), (Action.SIGN, 30 * _MIN, 8 * _HOUR),
    (Action.REPLY, _DAY, 10 * _DAY), (Action.APPROVE_REPLY, _HOUR, _DAY),
    (Action.CALLBACK, _DAY, 3 * _DAY),
]
_PATHS: list[tuple[int, list[tuple[Action, int, int]]]] = [
    (28, [(Action.ANSWER, 3 * _MIN, 20 * _MIN)]),
    (2, [(Action.REJECT, _HOUR, _DAY)]),
    (52, [*_FULL, (Action.ARCHIVE, 7 * _DAY, 30 * _DAY)]),
    (12, _FULL),
    (3, [*_FULL[:2], (Action.SUSPEND, _DAY, 5 * _DAY)]),
    (3, [_FULL[0], (Action.RETURN, _HOUR, 8 * _HOUR)]),
]
_PATH_WEIGHTS = [w for w, _ in _PATHS]


# --- rows ------------------------------------------------------------------------------------

def _columns(model: type[Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def _defaults(model: type[Model]) -> dict[str, Any]:
    """Each column's value when the loader does not set it: the field default, NULL or ''."""
    values: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.has_default():
            values[f.attname] = f.get_default()
        elif f.null:
            values[f.attname] = None
        elif f.get_internal_type() in ("CharField", "TextField"):
            values[f.attname] = ""
    return values


@dataclass
class _Table:
    """Rows for one table, collected as dicts and written in the model's column order."""

    model: type[Model]
    rows: list[dict[str, Any]] = field(default_factory=list)
    with_id: bool = True

    def columns(self) -> list[str]:
        names = _columns(self.model)
        return names if self.with_id else [n for n in names if n != "id"]


class _Batch:
    def __init__(self) -> None:
        self.citizens = _Table(Citizen)
        self.orders = _Table(Order)
        self.contacts = _Table(Contact)
        self.links = _Table(Contact.orders.through, with_id=False)
        self.assignments = _Table(Assignment, with_id=False)
        self.events = _Table(OrderEvent, with_id=False)

    def tables(self) -> list[_Table]:  # in foreign-key order
        return [self.citizens, self.orders, self.contacts, self.links, self.assignments,
                self.events]

    def row_count(self) -> int:
        return sum(len(t.rows) for t in self.tables())


@dataclass
class _Ids:
    """Reserved primary keys and acceptance numbers for one batch."""

    citizens: list[int]
    orders: list[int]
    contacts: list[int]
    numbers: list[str]


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _event(order: dict[str, Any], seq: int, prev_hash: str, action: str, from_state: str,
           to_state: str, actor: User | None, note: str, data: dict[str, Any],
           when: dt.datetime) -> dict[str, Any]:
    """One history event as a row. The same fields and hash as ``history.build_event`` gives
    (tests compare the two), without building a model instance per event: that instance cost
    more than the rest of an order's synthesis together."""
    actor_name = (actor.display_name or actor.username) if actor is not None else "system"
    actor_id = actor.pk if actor is not None else None
    unit_id = actor.unit_id if actor is not None else None
    digest = event_hash(
        number=order["number"], seq=seq, action=action, from_state=from_state,
        to_state=to_state, actor_id=actor_id, actor_name=actor_name, unit_id=unit_id, note=note,
        data=data, created_at=when, prev_hash=prev_hash,
    )
    return {
        "order_id": order["id"], "seq": seq, "action": action, "from_state": from_state,
        "to_state": to_state, "actor_id": actor_id, "actor_name": actor_name,
        "unit_id": unit_id, "note": note, "data": data, "created_at": when,
        "prev_hash": prev_hash, "hash": digest,
    }


class _Synthesiser:
    def __init__(self, directory: _Directory, rng: random.Random, now: dt.datetime,
                 span: dt.timedelta) -> None:
        self.d = directory
        self.rng = rng
        self.now = now
        self.span_seconds = span.total_seconds()
        self.order_defaults = _defaults(Order)
        self.assignment_defaults = _defaults(Assignment)

    def _citizen(self, batch: _Batch, ids: _Ids, created_at: dt.datetime) -> int:
        rng = self.rng
        if batch.citizens.rows and rng.random() < 0.25:  # a repeat caller of this batch
            return int(rng.choice(batch.citizens.rows)["id"])
        citizen_id = ids.citizens.pop()
        tags = [CitizenTag.ELDERLY.value] if rng.random() < 0.03 else []
        batch.citizens.rows.append({
            "id": citizen_id,
            "name": rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(("", *_GIVEN)),
            "phone": f"{PHONE_PREFIX}{citizen_id:08d}", "email": "", "tags": tags,
            "confidential": False, "created_at": created_at,
        })
        return citizen_id

    def add_order(self, batch: _Batch, ids: _Ids) -> None:
        rng, d = self.rng, self.d
        created_at = self.now - dt.timedelta(seconds=rng.random() * self.span_seconds)
        category = rng.choice(d.categories)
        district = rng.choice(d.districts)
        types = [t for t in _TYPE_WEIGHTS if t in category.accepted_types] or list(_TYPE_WEIGHTS)
        order_type = rng.choices(types, weights=[_TYPE_WEIGHTS[t] for t in types])[0]
        channel = _pick(rng, _CHANNEL_WEIGHTS)
        urgency = Urgency.URGENT if rng.random() < 0.05 else Urgency.NORMAL
        title, text, reply = rng.choice(_TEMPLATES)
        place = rng.choice(_PLACES)
        fill = {"place": place, "district": district.name}
        order_id = ids.orders.pop()
        number = ids.numbers.pop()
        citizen_id = self._citizen(batch, ids, created_at)
        order: dict[str, Any] = {
            "id": order_id, "number": number, "type": order_type, "channel": channel,
            "urgency": urgency, "state": State.ACCEPTED, "citizen_id": citizen_id,
            "confidential": order_type == OrderType.REPORT, "title": title.format(**fill),
            "text": text.format(**fill),
            "address": f"{district.name}{rng.choice(_ROADS)}{rng.randint(1, 300)}号",
            "district_id": district.pk, "category_id": category.pk,
            "created_by_id": d.agent.pk if d.agent else None,
            "created_at": created_at, "updated_at": created_at,
        }
        contact_id = ids.contacts.pop()
        batch.contacts.rows.append({
            "id": contact_id, "citizen_id": citizen_id, "channel": channel,
            "direction": Contact.Direction.INBOUND, "occurred_at": created_at,
            "summary": order["title"], "external_id": "",
            "called_number": "12345" if channel == Channel.PHONE else "",
            "agent_id": d.agent.pk if d.agent and channel == Channel.PHONE else None,
        })
        batch.links.rows.append({"contact_id": contact_id, "order_id": order_id})
        self._history(batch, order, category, district, reply.format(**fill))
        batch.orders.rows.append(order)

    def _history(self, batch: _Batch, order: dict[str, Any], category: Category,
                 district: District, reply_text: str) -> None:
        """Walk a lifecycle path up to now, applying each step to the order's fields and
        recording it as a chained event."""
        rng, d = self.rng, self.d
        path = rng.choices(_PATHS, weights=_PATH_WEIGHTS)[0][1]
        events = batch.events.rows
        event = _event(order, 1, GENESIS_HASH, Action.CREATE, State.NEW, State.ACCEPTED,
                       d.agent, "", {"channel": order["channel"], "type": order["type"]},
                       order["created_at"])
        events.append(event)
        when: dt.datetime = order["created_at"]
        lead: dict[str, Any] | None = None
        lead_code = ""
        for action, low, high in path:
            when = when + dt.timedelta(seconds=rng.uniform(low, high))
            if when > self.now:
                break
            from_state = order["state"]
            actor = d.agent
            note = ""
            data: dict[str, Any] = {}
            if action == Action.ANSWER:
                order.update(state=State.CLOSED, reply_text=reply_text, answered_directly=True,
                             closed_at=when)
                note = reply_text
            elif action == Action.REJECT:
                order.update(state=State.REJECTED, closed_at=when)
                actor, note = d.monitor, rng.choice(_REFUSALS)
            elif action == Action.DISPATCH:
                route = d.route(category, district, rng)
                limits = d.limits[category.pk]
                sign_due = deadlines.sign_due(when, order["urgency"], limits, d.calendar)
                handle_due = deadlines.handle_due(when, order["urgency"], limits, d.calendar)
                order.update(state=State.DISPATCHED, lead_unit_id=route.lead.pk,
                             dispatched_at=when, sign_due=sign_due, handle_due=handle_due)
                lead = {"order_id": order["id"], "unit_id": route.lead.pk,
                        "role": Assignment.Role.LEAD, "active": True, "assigned_at": when}
                batch.assignments.rows.append(lead)
                lead_code = route.lead.code
                co_codes = []
                for unit in route.co:
                    if unit.pk != route.lead.pk:
                        batch.assignments.rows.append({
                            "order_id": order["id"], "unit_id": unit.pk,
                            "role": Assignment.Role.CO, "active": True, "assigned_at": when,
                        })
                        co_codes.append(unit.code)
                data = {"unit": route.lead.code, "co_units": co_codes, "category": category.code,
                        "sign_due": sign_due.isoformat(), "handle_due": handle_due.isoformat()}
            elif action == Action.SIGN:
                assert lead is not None
                order.update(state=State.HANDLING, signed_at=when)
                lead["signed_at"] = when
                actor = d.unit_staff.get(lead["unit_id"])
                data = {"late": when > order["sign_due"]}
            elif action == Action.REPLY:
                assert lead is not None
                order.update(state=State.REPLIED, reply_text=reply_text, replied_at=when)
                lead.update(replied_at=when, reply_text=reply_text)
                actor, note = d.unit_staff.get(lead["unit_id"]), reply_text
                data = {"late": when > order["handle_due"]}
            elif action == Action.APPROVE_REPLY:
                order["state"] = State.CALLBACK
            elif action == Action.CALLBACK:
                resolved = rng.random() < 0.9
                satisfaction = _pick(rng, [(Satisfaction.SATISFIED, 75), (Satisfaction.BASIC, 17),
                                           (Satisfaction.UNSATISFIED, 8)])
                order.update(state=State.CLOSED, resolved=resolved, satisfaction=satisfaction,
                             closed_at=when)
                data = {"resolved": resolved, "satisfaction": satisfaction}
            elif action == Action.ARCHIVE:
                order["state"] = State.ARCHIVED
                actor = None
            elif action == Action.SUSPEND:
                assert lead is not None
                order.update(state=State.SUSPENDED, suspended_at=when)
                actor, note = d.unit_staff.get(lead["unit_id"]), rng.choice(_SUSPEND_REASONS)
            elif action == Action.RETURN:
                assert lead is not None
                order.update(state=State.RETURNED, returned_at=when)
                actor, note = d.unit_staff.get(lead["unit_id"]), rng.choice(_RETURN_REASONS)
                data = {"unit": lead_code}
            order["updated_at"] = when
            event = _event(order, event["seq"] + 1, event["hash"], action, from_state,
                           order["state"], actor, note, data, when)
            events.append(event)

    def defaults_for(self, table: _Table) -> dict[str, Any]:
        if table.model is Order:
            return self.order_defaults
        if table.model is Assignment:
            return self.assignment_defaults
        return {}


# --- writing ---------------------------------------------------------------------------------

def _json_columns(model: type[Model]) -> set[str]:
    return {f.attname for f in model._meta.concrete_fields
            if f.get_internal_type() == "JSONField"}


def _datetime_columns(model: type[Model]) -> set[str]:
    return {f.attname for f in model._meta.concrete_fields
            if f.get_internal_type() == "DateTimeField"}


def _tuples(table: _Table, defaults: dict[str, Any]) -> Iterable[list[Any]]:
    """The table's rows in column order, in the form the database driver takes."""
    columns = table.columns()
    json_cols = _json_columns(table.model)
    time_cols = _datetime_columns(table.model) if connection.vendor == "sqlite" else set()
    json_at = [i for i, name in enumerate(columns) if name in json_cols]
    time_at = [i for i, name in enumerate(columns) if name in time_cols]
    adapt_time = connection.ops.adapt_datetimefield_value
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    for row in table.rows:
        values = [row[name] if name in row else defaults[name] for name in columns]
        for i in json_at:
            values[i] = dumps(values[i])
        for i in time_at:
            if values[i] is not None:
                values[i] = adapt_time(values[i])
        yield values


def _reserve_pg(count: int, citizens: int) -> _Ids:
    """One query per sequence: ``nextval`` never hands a value out twice, so the values are
    ours even while other sessions insert (they may interleave: gaps are harmless)."""
    def take(sequence: str, n: int) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                           [sequence, n])
            return [int(r[0]) for r in cursor.fetchall()]

    def id_sequence(model: type[Model]) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
            return str(cursor.fetchone()[0])

    return _Ids(
        citizens=take(id_sequence(Citizen), citizens),
        orders=take(id_sequence(Order), count),
        contacts=take(id_sequence(Contact), count),
        numbers=_free_numbers(take(PG_SEQUENCE, count)),
    )


def _reserve_sqlite(count: int, citizens: int) -> _Ids:
    """Called inside the batch's write transaction, which holds SQLite's database lock."""
    def take(model: type[Model], n: int) -> list[int]:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
            highest = int(cursor.fetchone()[0])
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
            if cursor.fetchone():
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                found = cursor.fetchone()
                highest = max(highest, int(found[0]) if found else 0)
        return list(range(highest + 1, highest + n + 1))

    updated = NumberCounter.objects.filter(name="order").update(value=F("value") + count)
    if not updated:
        NumberCounter.objects.create(name="order", value=count)
    last = NumberCounter.objects.get(name="order").value
    return _Ids(
        citizens=take(Citizen, citizens), orders=take(Order, count),
        contacts=take(Contact, count),
        numbers=_free_numbers(list(range(last - count + 1, last + 1))),
    )


def _free_numbers(counters: list[int]) -> list[str]:
    """The keyed numbers of the reserved counter values, each one that is already on an order
    (issued by an earlier scheme or key) replaced by the number of a further counter value, as
    ``services.next_number`` does one at a time."""
    key = number_key()
    numbers = [numbering.number_for(c, key) for c in counters]
    fresh = numbers
    while fresh:
        taken = _taken_numbers(fresh)
        numbers = [n for n in numbers if n not in taken]
        fresh = [numbering.number_for(next_counter(), key) for _ in taken]
        numbers.extend(fresh)
    return numbers


def _taken_numbers(numbers: list[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(numbers), 900):  # SQLite's limit on query parameters
        taken.update(Order.objects.filter(
            number__in=numbers[start:start + 900]).values_list("number", flat=True))
    return taken


def _adopt_existing_citizens(batch: _Batch) -> None:
    """A synthetic phone number that already belongs to a citizen (registered by hand or by
    another tool) would break the unique phone constraint: that person becomes the caller."""
    phones = {row["phone"]: row["id"] for row in batch.citizens.rows}
    existing: dict[int, int] = {}
    numbers = list(phones)
    for start in range(0, len(numbers), 900):  # SQLite's limit on query parameters
        for phone, citizen_id in Citizen.objects.filter(
            phone__in=numbers[start:start + 900]
        ).values_list("phone", "pk"):
            existing[phones[phone]] = citizen_id
    if not existing:
        return
    batch.citizens.rows = [r for r in batch.citizens.rows if r["id"] not in existing]
    for row in (*batch.orders.rows, *batch.contacts.rows):
        row["citizen_id"] = existing.get(row["citizen_id"], row["citizen_id"])


def _write(batch: _Batch, synth: _Synthesiser) -> None:
    for table in batch.tables():
        if not table.rows:
            continue
        columns = table.columns()
        quoted = ", ".join(connection.ops.quote_name(c_) for c_ in _db_columns(table))
        name = connection.ops.quote_name(table.model._meta.db_table)
        rows = _tuples(table, synth.defaults_for(table))
        if connection.vendor == "postgresql":
            raw = connection.connection
            assert raw is not None
            with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {name} ({quoted}) VALUES ({marks})",  # noqa: S608
                                   list(rows))


def _db_columns(table: _Table) -> list[str]:
    by_attname = {f.attname: f.column for f in table.model._meta.concrete_fields}
    return [by_attname[name] for name in table.columns()]


def load_orders(
    count: int,
    *,
    batch_size: int = DEFAULT_BATCH,
    seed: int | None = None,
    now: dt.datetime | None = None,
    span_days: int = DEFAULT_SPAN_DAYS,
    progress: Progress | None = None,
    check_references: bool = True,
) -> LoadStats:
    """Insert ``count`` synthetic orders created over the ``span_days`` before ``now``, one
    transaction per batch of ``batch_size``. ``progress(orders_so_far, seconds)`` is called
    after each batch. Raises DirectoryMissing when there is nothing to refer orders to.

    ``check_references=False`` (PostgreSQL, superuser only) skips the foreign-key checks, which
    cost about as much as the COPY itself: every reference written here comes from the
    directory just read or from ids reserved by this batch. Only for preloading a benchmark.
    """
    if count < 0 or batch_size < 1:
        raise ValueError("count must be >= 0 and batch_size >= 1")
    if connection.vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"bulk loading supports PostgreSQL and SQLite, not "
                                  f"{connection.vendor}")
    started = time.perf_counter()
    directory = _load_directory()
    rng = random.Random(seed)
    synth = _Synthesiser(directory, rng, now or timezone.now(), dt.timedelta(days=span_days))
    postgres = connection.vendor == "postgresql"
    done = rows = 0
    while done < count:
        size = min(batch_size, count - done)
        if postgres:
            # Sequences need no transaction, so the batch is built before the write
            # transaction opens and the transaction lasts only as long as the COPYs.
            batch = _generate(synth, _reserve_pg(size, size), size)
            with transaction.atomic():
                _adopt_existing_citizens(batch)
                if check_references:
                    _write(batch, synth)
                else:
                    with _without_reference_checks():
                        _write(batch, synth)
        else:
            with transaction.atomic():  # holds SQLite's write lock from the reservation on
                batch = _generate(synth, _reserve_sqlite(size, size), size)
                _adopt_existing_citizens(batch)
                _write(batch, synth)
        done += size
        rows += batch.row_count()
        if progress is not None:
            progress(done, time.perf_counter() - started)
    return LoadStats(orders=done, rows=rows, seconds=time.perf_counter() - started)


@contextlib.contextmanager
def _without_reference_checks() -> Iterator[None]:
    """Replica mode skips the foreign-key triggers. Restored afterwards, because SET LOCAL
    would otherwise outlive this batch when the caller wraps the load in a transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        previous = cursor.fetchone()[0]
        cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            yield
        finally:
            cursor.execute("SELECT set_config('session_replication_role', %s, true)",
                           [previous])


def _generate(synth: _Synthesiser, ids: _Ids, size: int) -> _Batch:
    # A citizen id is reserved per order; repeat callers leave some unused (gaps are harmless).
    for reserved in (ids.citizens, ids.orders, ids.contacts, ids.numbers):
        reserved.reverse()  # pop() hands them out in ascending order
    batch = _Batch()
    for _ in range(size):
        synth.add_order(batch, ids)
    return batch
