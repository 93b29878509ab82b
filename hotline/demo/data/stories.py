"""The demo's work orders. Each order's story (its steps, who takes them and how long after the
previous one) is planned first, squeezed into the time between its creation and now, then
played through the order services with ``now=`` at each step's moment. Stories end in every
lifecycle state; older orders are mostly closed or archived, recent ones still open.

Orders are created in time order, so acceptance numbers grow with time as they do for real.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from hotline.demo.data import people
from hotline.demo.data.catalogue import Leaf
from hotline.directory.models import User
from hotline.orders.lifecycle import OPEN
from hotline.orders.models import Assignment, Order
from hotline.orders.services import NewOrder, do_action, do_create_order

if TYPE_CHECKING:
    from hotline.demo.city import DemoDirectory

Params = dict[str, Any] | Callable[[Order], dict[str, Any]]

ACCEPTED, DISPATCHED, RETURNED, HANDLING = "accepted", "dispatched", "returned", "handling"
SUSPENDED, REPLIED, CALLBACK, CLOSED = "suspended", "replied", "callback", "closed"
DIRECT, REJECTED, MERGED, ARCHIVED = "closed_direct", "rejected", "merged", "archived"
# One story of each ending comes first, whatever the count, so every state (and every
# satisfaction level of a call back) is present. "closed:basic" is a closed story whose call
# back says "basically satisfied".
EVERY_ENDING = (ACCEPTED, DISPATCHED, RETURNED, HANDLING, SUSPENDED, REPLIED, CALLBACK,
                "closed:satisfied", "closed:basic", "closed:unsatisfied", DIRECT, REJECTED,
                MERGED, ARCHIVED)
# (orders younger than this many days, weights of the endings)
ENDINGS_BY_AGE: tuple[tuple[float, dict[str, int]], ...] = (
    # Hotlines answer about half of all requests at once (直接答复); the rest are dispatched.
    (1, {ACCEPTED: 15, DISPATCHED: 25, RETURNED: 3, HANDLING: 15, REPLIED: 3, DIRECT: 38,
         MERGED: 1}),
    (7, {DISPATCHED: 4, RETURNED: 2, HANDLING: 18, SUSPENDED: 2, REPLIED: 7, CALLBACK: 7,
         CLOSED: 16, DIRECT: 40, REJECTED: 2, MERGED: 2}),
    (30, {HANDLING: 6, SUSPENDED: 2, REPLIED: 2, CALLBACK: 2, CLOSED: 38, DIRECT: 42,
          REJECTED: 2, MERGED: 2, ARCHIVED: 4}),
    (1000, {HANDLING: 2, SUSPENDED: 1, CLOSED: 30, DIRECT: 40, REJECTED: 2, MERGED: 2,
            ARCHIVED: 23}),
)
CHANNELS = {"phone": 66, "web": 12, "voicemail": 4, "sms": 4, "email": 3, "chat": 8,
            "open311": 3}
SATISFACTION = {"satisfied": 72, "basic": 20, "unsatisfied": 8}
DEMO_DAYS = 90


@dataclass
class Step:
    hours: float  # after the previous step
    actor: str  # agent, monitor, leader, system, lead, sub, co (each co-handler), linkage
    action: str
    params: Params = field(default_factory=dict)


@dataclass
class Citizen:
    name: str
    phone: str
    tags: list[str]


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _citizens(rng: random.Random, count: int) -> list[Citizen]:
    pool: list[Citizen] = []
    phones: set[str] = set()
    while len(pool) < count:
        phone = "1" + rng.choice(("38", "39", "58", "59", "86", "87", "88", "35", "36", "37")) \
            + f"{rng.randrange(10**8):08d}"
        if phone in phones:
            continue
        phones.add(phone)
        tags = []
        if rng.random() < 0.08:
            tags.append("elderly")
        if rng.random() < 0.03:
            tags.append("disabled")
        name = rng.choice(people.SURNAMES) + rng.choice(people.GIVEN)
        pool.append(Citizen(name, phone, tags))
    return pool


def _created_at(rng: random.Random, age_days: float, now: dt.datetime) -> dt.datetime:
    """A moment ``age_days`` ago, moved to a plausible hour of that day (busiest 9-11, 14-17)."""
    local = timezone.localtime(now - dt.timedelta(days=age_days))
    hour = rng.choices(range(7, 23), weights=(2, 6, 10, 10, 9, 5, 6, 9, 9, 8, 6, 4, 4, 3, 2, 1))[0]
    moment = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
    latest = now - dt.timedelta(minutes=10)
    if moment > latest:
        moment = latest - dt.timedelta(minutes=rng.uniform(0, 180))
    return moment


def _texts(rng: random.Random, leaf: Leaf, district: str, district_name: str,
           order_type: str) -> tuple[str, str, str]:
    road = rng.choice(people.ROADS[district])
    place = rng.choice(people.COMPOUNDS)
    address = (f"{district_name}{road}{rng.randint(1, 300)}号" if rng.random() < 0.5 else
               f"{district_name}{place}{rng.randint(1, 30)}栋")
    values = {
        "addr": address, "place": place, "road": road, "shop": rng.choice(people.SHOPS),
        "company": rng.choice(people.COMPANIES), "school": rng.choice(people.SCHOOLS),
        "hospital": rng.choice(people.HOSPITALS), "line": rng.choice(people.BUS_LINES),
        "n": rng.randint(2, 9),
    }
    pick = rng.randrange(len(leaf.titles))  # titles and details are written in pairs
    title = leaf.titles[pick].format(**values)
    detail = leaf.details[min(pick, len(leaf.details) - 1)].format(**values)
    demand = rng.choice(people.DEMANDS.get(order_type, people.DEMANDS["other"]))
    opening = rng.choice(("市民来电反映：", "市民反映：", "来电人称：", ""))
    return title, f"{opening}{detail}。{demand}", address


def _reply(rng: random.Random) -> dict[str, Any]:
    return {"reply": rng.choice(people.REPLIES).format(n=rng.randint(3, 15))}


def _story(rng: random.Random, ending: str, urgent: bool, street_codes: list[str],
           major: bool, has_co: bool, forced: bool = False) -> list[Step]:
    """The steps after creation that lead to ``ending``; ``forced`` stories (the first ones)
    also show an extension request waiting for approval."""
    h = rng.uniform
    ending, _sep, satisfaction_wanted = ending.partition(":")
    steps: list[Step] = []
    add = steps.append
    if ending == ACCEPTED:
        return steps
    if ending == DIRECT:
        add(Step(h(0.02, 0.3), "agent", "answer", {"reply": rng.choice(people.ANSWERS)}))
        return steps
    if ending == REJECTED:
        add(Step(h(0.5, 8), "monitor", "reject", {"reason": rng.choice(people.REJECT_REASONS)}))
        return steps
    if ending == MERGED:
        add(Step(h(0.1, 6), "agent", "merge", {}))  # "into" is filled in when played
        return steps
    if ending == ARCHIVED:
        first = rng.choices((CLOSED, DIRECT, REJECTED), weights=(65, 25, 10))[0]
        steps = _story(rng, first, urgent, street_codes, major, has_co)
        steps.append(Step(h(72, 400), rng.choice(("system", "monitor")), "archive"))
        return steps
    add(Step(h(0.05, 0.3) if urgent else h(0.1, 2), "agent", "dispatch"))
    if major:
        add(Step(h(0.05, 0.3), "agent", "escalate", {
            "note": "疑似燃气泄漏，涉及居民安全，启动联动处置。",
            "linkage_units": ["emergency", "police"]}))
        add(Step(h(0.1, 0.5), "linkage", "confirm_escalation", {"note": "已收到，已派员赶赴现场。"}))
    if street_codes:
        add(Step(h(0.2, 3), "sub", "transfer", {"unit": rng.choice(street_codes),
                                                "note": "属地事项，请街道办理。"}))
    if ending == DISPATCHED:
        if rng.random() < 0.3:
            add(Step(h(2, 6), "agent", "urge", {"note": "请尽快签收。"}))
        return steps
    if ending == RETURNED or rng.random() < 0.07:
        add(Step(h(0.5, 6), "lead", "return", {"reason": rng.choice(people.RETURN_REASONS)}))
        if ending == RETURNED:
            return steps
        if rng.random() < 0.6:
            add(Step(h(0.5, 6), "monitor", "approve_return", _other_unit))
        else:
            add(Step(h(0.5, 6), "monitor", "deny_return",
                     {"reason": "经审核，该事项属于你单位职责，请按首问负责制办理。"}))
    add(Step(h(0.1, 0.8) if urgent else h(0.3, 8), "lead", "sign"))
    if has_co and (forced or rng.random() < 0.5):  # co-handlers often just phone the lead
        add(Step(h(2, 30), "co", "co_reply", {"reply": "我单位已配合主办单位开展现场核查，意见已反馈。"}))
    if rng.random() < 0.08:
        add(Step(h(2, 48), "agent", "urge", {"note": "市民再次来电催促，请加快办理。"}))
    if rng.random() < 0.05:
        add(Step(h(2, 48), "monitor", "supervise", {"note": "市民反映强烈，请加快办理。"}))
    if rng.random() < 0.03:
        add(Step(h(2, 48), "leader", "instruct", {"note": "请相关部门高度重视，限期解决并报结果。"}))
    extension = ending != SUSPENDED and (
        rng.random() < 0.12 or (forced and ending == HANDLING))
    if extension:
        add(Step(h(20, 80), "lead", "request_extension", {
            "days": rng.randint(3, 10), "reason": "需协调多个部门现场勘查，申请延期办理。"}))
        if ending != HANDLING or (not forced and rng.random() < 0.5):
            if rng.random() < 0.75:
                add(Step(h(1, 12), "monitor", "approve_extension", {"note": "同意延期。"}))
            else:
                add(Step(h(1, 12), "monitor", "deny_extension",
                         {"reason": "理由不充分，请按期办结。"}))
    if ending == SUSPENDED or rng.random() < 0.04:
        add(Step(h(4, 48), "lead", "suspend", {"reason": "等待市民补充材料。"}))
        if ending == SUSPENDED:
            return steps
        add(Step(h(24, 96), "lead", "resume", {"note": "市民已补充材料，恢复办理。"}))
    if ending == HANDLING:
        return steps
    add(Step(h(3, 20) if urgent else h(20, 200), "lead", "reply", _reply(rng)))
    if ending == REPLIED:
        return steps
    if rng.random() < 0.06:
        add(Step(h(1, 12), "agent", "deny_reply", {"reason": "答复内容未回应市民诉求，请补充办理情况。"}))
        add(Step(h(8, 72), "lead", "reply", _reply(rng)))
    add(Step(h(0.5, 12), "agent", "approve_reply"))
    if ending == CALLBACK:
        return steps
    if not satisfaction_wanted and rng.random() < 0.08:
        add(Step(h(2, 48), "agent", "callback_reopen", {
            "reason": "市民表示问题未解决，要求重新办理。", "resolved": False,
            "satisfaction": "unsatisfied"}))
        add(Step(h(20, 120), "lead", "reply", _reply(rng)))
        add(Step(h(0.5, 12), "agent", "approve_reply"))
    satisfaction = satisfaction_wanted or _weighted(rng, SATISFACTION)
    add(Step(h(2, 48), "agent", "callback", {
        "resolved": satisfaction != "unsatisfied" or rng.random() < 0.3,
        "satisfaction": satisfaction, "note": "已电话回访市民。"}))
    return steps


def _other_unit(order: Order) -> dict[str, Any]:
    """Re-dispatch after a return: the category's default department, or the water bureau."""
    route = order.category.routes.filter(district__isnull=True).first() if order.category else None
    code = route.lead_unit.code if route is not None else "urban"
    if order.lead_unit is not None and code == order.lead_unit.code:
        code = "urban" if code != "urban" else "housing"
    return {"unit": code, "note": "退单理由成立，改派。"}


@dataclass
class Player:
    """Plays stories through the services and remembers which orders are still open."""

    city: DemoDirectory
    rng: random.Random
    now: dt.datetime
    open_by_category: dict[int, list[str]] = field(default_factory=dict)
    open_numbers: list[str] = field(default_factory=list)

    def actor(self, name: str, order: Order, district: str) -> User:
        city = self.city
        if name == "agent":
            return self.rng.choice(city.agents)
        if name == "lead":
            assert order.lead_unit_id is not None
            return city.handlers[order.lead_unit_id]
        if name == "sub":
            return city.sub_agents[district]
        user = {"monitor": city.monitor, "leader": city.leader, "system": city.system,
                "admin": city.admin}[name]
        assert user is not None
        return user

    def play(self, order: Order, steps: list[Step], district: str) -> Order:
        moments = self._moments(order.created_at, steps)
        for step, when in zip(steps, moments, strict=True):
            order = self._step(order, step, when, district)
        self._mark_deadlines(order, moments[-1] if moments else order.created_at)
        if order.state in OPEN:
            self.open_numbers.append(order.number)
            if order.category_id:
                self.open_by_category.setdefault(order.category_id, []).append(order.number)
        return order

    def _moments(self, start: dt.datetime, steps: list[Step]) -> list[dt.datetime]:
        """Step times; a story longer than the time since creation is squeezed to fit."""
        total = sum(step.hours for step in steps)
        room = (self.now - start).total_seconds() / 3600 * 0.9
        factor = min(1.0, room / total) if total else 1.0
        moments, t = [], start
        for step in steps:
            t = t + dt.timedelta(hours=step.hours * factor, seconds=1)
            moments.append(t)
        return moments

    def _step(self, order: Order, step: Step, when: dt.datetime, district: str) -> Order:
        params = step.params(order) if callable(step.params) else dict(step.params)
        if step.actor in ("co", "linkage"):
            role = Assignment.Role.CO if step.actor == "co" else Assignment.Role.LINKAGE
            units = Assignment.objects.filter(order=order, role=role, active=True).values_list(
                "unit_id", flat=True)
            for unit_id in units:
                order = do_action(self.city.handlers[unit_id], order.number, step.action,
                                  params, now=when)
            return order
        action = step.action
        if action == "callback_reopen":
            action = "reopen"
        if action == "merge":
            params["into"] = self._merge_target(order)
        return do_action(self.actor(step.actor, order, district), order.number, action,
                         params, now=when)

    def _merge_target(self, order: Order) -> str:
        same = self.open_by_category.get(order.category_id or 0) or self.open_numbers
        return same[-1]

    def _mark_deadlines(self, order: Order, last: dt.datetime) -> None:
        """What the deadline worker would have done: remind before, mark overdue after."""
        due = {"dispatched": order.sign_due, "handling": order.handle_due}.get(order.state)
        if due is None or due >= self.now or order.overdue_at is not None:
            return
        system = self.city.system
        assert system is not None
        remind_at = due - dt.timedelta(hours=self.rng.uniform(0.5, 3))
        if remind_at > last:
            do_action(system, order.number, "remind", {"deadline": order.state}, now=remind_at)
            last = remind_at
        overdue_at = max(due, last) + dt.timedelta(minutes=self.rng.uniform(1, 90))
        if overdue_at < self.now:
            do_action(system, order.number, "mark_overdue", {"deadline": order.state},
                      now=overdue_at)


@dataclass(frozen=True, order=True)
class Plan:
    """One order to make: when, its place in the plan (the first ones show every ending)."""

    created: dt.datetime
    index: int
    ending: str


def plan_orders(count: int, seed: int, now: dt.datetime) -> tuple[list[Citizen], list[Plan]]:
    """The callers and the orders' times and endings, in time order. Drawn from ``seed`` and
    ``now`` alone, so the background load replays the same plan chunk after chunk."""
    rng = random.Random(seed)
    citizens = _citizens(rng, max(20, count * 2 // 3))
    plans = []
    for index in range(count):
        if index < len(EVERY_ENDING):
            ending = EVERY_ENDING[index]
            # old enough for deadlines to pass; the merge comes after open orders exist
            age = {ACCEPTED: rng.uniform(0.2, 0.9), MERGED: rng.uniform(1, 5)}.get(
                ending, rng.uniform(25, 60))
        else:
            age = rng.uniform(0, DEMO_DAYS)
            weights = next(w for limit, w in ENDINGS_BY_AGE if age < limit)
            ending = _weighted(rng, weights)
        plans.append(Plan(_created_at(rng, age, now), index, ending))
    plans.sort()
    return citizens, plans


def generate_orders(city: DemoDirectory, count: int, seed: int,
                    progress: Callable[[str], None] | None = None,
                    now: dt.datetime | None = None) -> int:
    """Create ``count`` orders over the last 90 days at once; returns how many were made."""
    now = now or timezone.now()
    citizens, plans = plan_orders(count, seed, now)
    return play_orders(city, plans, citizens, random.Random(f"{seed}:0"), now,
                       progress=progress)


def open_orders_player(city: DemoDirectory, rng: random.Random, now: dt.datetime) -> Player:
    """A player that knows the orders already open (an earlier chunk's): merges join them."""
    player = Player(city, rng, now)
    for number, category_id in (Order.objects.filter(state__in=OPEN)
                                .order_by("created_at", "pk").values_list("number", "category_id")):
        player.open_numbers.append(number)
        if category_id:
            player.open_by_category.setdefault(category_id, []).append(number)
    return player


def play_orders(city: DemoDirectory, plans: list[Plan], citizens: list[Citizen],
                rng: random.Random, now: dt.datetime,
                progress: Callable[[str], None] | None = None) -> int:
    """Create and play the planned orders through the services; returns how many."""
    player = open_orders_player(city, rng, now)
    district_codes = list(city.districts)
    agents = city.agents
    for made, plan in enumerate(plans, start=1):
        created, index, ending = plan.created, plan.index, plan.ending
        category, leaf = rng.choice(city.leaves)
        district = rng.choice(district_codes)
        order_type = leaf.types[0] if rng.random() < 0.5 else rng.choice(leaf.types)
        urgent = rng.random() < leaf.urgent_share
        if ending == MERGED and not player.open_numbers:
            ending = DIRECT
        if ending == MERGED and player.open_by_category.get(category.pk) is None and (
                rng.random() < 0.7):
            # a merge joins callers about the same matter: reuse an open order's category
            number = rng.choice(player.open_numbers)
            target = Order.objects.select_related("category").get(number=number)
            if target.category is not None:
                found = next(((c, lf) for c, lf in city.leaves if c.pk == target.category_id),
                             None)
                if found is not None:
                    category, leaf = found
                    order_type = rng.choice(leaf.types)
        citizen = rng.choice(citizens[: max(5, len(citizens) // 3)] if rng.random() < 0.3
                             else citizens)
        title, text, address = _texts(rng, leaf, district, city.districts[district].name,
                                      order_type)
        order, _created = do_create_order(rng.choice(agents), NewOrder(
            type=order_type, channel=_weighted(rng, CHANNELS), title=title, text=text,
            citizen_phone=citizen.phone, citizen_name=citizen.name,
            citizen_tags=list(citizen.tags), confidential=rng.random() < 0.04,
            address=address, district=district, category=category.code,
            urgency="urgent" if urgent else "normal",
        ), now=created)
        major = urgent and leaf.name == "燃气泄漏" and rng.random() < 0.3
        street_codes = ([u.code for u in city.streets[district]]
                        if leaf.street and ending not in (DIRECT, REJECTED, MERGED) else [])
        has_co = bool(leaf.co) and not street_codes
        forced = index < len(EVERY_ENDING)
        story = _story(rng, ending, urgent, street_codes, major, has_co, forced)
        player.play(order, story, district)
        if progress and made % 500 == 0:
            progress(f"{made} orders")
    return len(plans)

