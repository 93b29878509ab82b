"""The fast paths of the busy pages give what the plain per-order logic gives, on a seeded set
of orders in every state a unit works in: the workbench's row actions computed for the page at
once, its in-progress tab listed from the unit, the returns queue sorted by the order's own
return time, and a phone's last digits found through the reversed-phone index."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from hotline.core.errors import ServiceError
from hotline.directory.calendar_service import current_calendar
from hotline.directory.models import User
from hotline.orders import lifecycle
from hotline.orders.actions import check_actor_may
from hotline.orders.lifecycle import Action, State
from hotline.orders.models import Assignment, Citizen, Order, OrderEvent, OrderLink
from hotline.orders.phone_tail import citizens_with_phone_ending
from hotline.orders.scope import visible_orders
from hotline.orders.services import do_action
from hotline.portal import work_queues, workbench_queries
from hotline.portal.order_access import ELSEWHERE, WORKER_ONLY, actions_by_order, actions_for
from hotline.portal.queries import overdue_q
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db


def _seeded(city: City) -> list[Order]:
    """Orders of water (lead) and housing (co) in each state, two of them linked, one returned
    twice (to two units), one led by housing with water co-handling."""
    start = timezone.now() - dt.timedelta(days=3)
    phones = iter(f"1381234{n:04d}" for n in range(100))

    def dispatched(minutes: int, **extra: str) -> Order:
        order = new_order(city, citizen_phone=next(phones), **extra)
        return do_action(city.agent, order.number, "dispatch",
                         now=start + dt.timedelta(minutes=minutes))

    orders = [dispatched(n) for n in range(8)]
    at = start + dt.timedelta(hours=1)
    n = [o.number for o in orders]
    for number in n[1:5]:
        do_action(city.handler, number, "sign", now=at)
    do_action(city.handler, n[2], "suspend", {"reason": "等市民"}, now=at)
    do_action(city.handler, n[3], "reply", {"reply": "已修复"}, now=at)
    do_action(city.agent, n[4], "link", {"other": n[1]}, now=at)
    do_action(city.handler, n[5], "return", {"reason": "不属于本单位"}, now=at)
    do_action(city.handler, n[6], "return", {"reason": "不属于本单位"}, now=at)
    do_action(city.monitor, n[6], "approve_return", {"unit": "housing"},
              now=at + dt.timedelta(minutes=1))
    do_action(city.housing_handler, n[6], "return", {"reason": "也不属于我们"},
              now=at + dt.timedelta(minutes=2))
    do_action(city.handler, n[7], "return", {"reason": "不属于本单位"},
              now=at - dt.timedelta(minutes=30))
    # Housing leads this one and water supports it.
    other = new_order(city, citizen_phone=next(phones))
    do_action(city.agent, other.number, "dispatch", {"unit": "housing", "co_units": ["water"]},
              now=start)
    do_action(city.housing_handler, other.number, "sign", now=at)
    return list(Order.objects.filter(pk__in=[o.pk for o in [*orders, other]]).order_by("pk"))


def _plain_actions(user: User, order: Order) -> list[Action]:
    """The row actions as the page computed them before: every test per order and action."""
    found = []
    for action in lifecycle.allowed_actions(order.state):
        if action in WORKER_ONLY or action in ELSEWHERE:
            continue
        if not user.is_superuser and user.role not in lifecycle.ACTION_ROLES[action]:
            continue
        if action == Action.CONFIRM_ESCALATION and not order.major_event:
            continue
        if action in (Action.APPROVE_EXTENSION, Action.DENY_EXTENSION) and \
                not order.extension_pending_days:
            continue
        if action == Action.REQUEST_EXTENSION and order.extension_pending_days:
            continue
        if action == Action.UNLINK and not OrderLink.objects.filter(
                Q(order=order) | Q(linked=order)).exists():
            continue
        try:
            check_actor_may(user, order, action)
        except ServiceError:
            continue
        found.append(action)
    return found


def test_row_actions_for_the_page_match_the_per_order_checks(city: City) -> None:
    orders = _seeded(city)
    superuser = User.objects.create_superuser(username="root", password="pw-root")
    users = [city.handler, city.dept_admin, city.housing_handler, city.env_handler,
             city.street_handler, city.agent, city.monitor, city.admin, city.leader, superuser]
    offered = set()
    for user in users:
        batch = actions_by_order(user, orders)
        for order in orders:
            assert batch[order.pk] == _plain_actions(user, order), (user.username, order.state)
            assert actions_for(user, order) == batch[order.pk]
            offered.update(batch[order.pk])
    # The set exercises the scope tests and the link test, not only empty lists.
    assert {Action.SIGN, Action.REPLY, Action.CO_REPLY, Action.UNLINK, Action.RESUME} <= offered


def test_row_actions_take_a_few_queries_for_the_whole_page(
        city: City, django_assert_max_num_queries: object) -> None:
    orders = _seeded(city)
    with django_assert_max_num_queries(4):  # type: ignore[operator]
        actions_by_order(city.handler, orders)


def _plain_tabs(user: User, now: dt.datetime) -> dict[str, set[str]]:
    """The in-progress, due-soon and overdue tabs as filters over every held order."""
    unit_ids = user.unit.descendant_ids() if user.unit is not None else []
    held = Assignment.objects.filter(unit_id__in=unit_ids, active=True)
    supporting = Exists(held.filter(order=OuterRef("pk"),
                                    role__in=(Assignment.Role.CO, Assignment.Role.LINKAGE)))
    orders = visible_orders(user).filter(pk__in=held.values("order_id"))
    working = orders.filter(state__in=workbench_queries.WORKING)
    soon = current_calendar().add_working_days(now, 1)
    found = {
        "handling": orders.filter(Q(state__in=[State.HANDLING, State.SUSPENDED])
                                  | Q(supporting, state=State.DISPATCHED)),
        "due_soon": working.filter(overdue_at__isnull=True).filter(
            Q(state=State.DISPATCHED, sign_due__gte=now, sign_due__lte=soon)
            | Q(state=State.HANDLING, handle_due__gte=now, handle_due__lte=soon)),
        "overdue": working.filter(overdue_q(now)),
        "returned": orders.filter(Exists(held.filter(order=OuterRef("pk"),
                                                     role=Assignment.Role.LEAD)))
        .annotate(last_move=Subquery(OrderEvent.objects.filter(order=OuterRef("pk"))
                                     .exclude(from_state=F("to_state")).order_by("-seq")
                                     .values("action")[:1]))
        .filter(Q(state=State.RETURNED) | Q(state__in=[State.DISPATCHED, State.HANDLING],
                                            last_move__in=workbench_queries.SENT_BACK)),
    }
    return {key: set(qs.values_list("number", flat=True)) for key, qs in found.items()}


def test_tabs_from_the_unit_match_the_plain_filters(city: City) -> None:
    _seeded(city)
    for days in (0, 2, 9):  # nothing due yet, due soon, overdue
        now = timezone.now() + dt.timedelta(days=days)
        for user in [city.handler, city.dept_admin, city.housing_handler, city.env_handler]:
            tabs = {t.key: t for t in workbench_queries.workbench_tabs(user, now)}
            plain = _plain_tabs(user, now)
            for key, expected in plain.items():
                listed = list(tabs[key].orders.values_list("number", flat=True))
                assert len(listed) == len(set(listed))
                assert set(listed) == expected, (user.username, key, days)
    assert len(_plain_tabs(city.handler, timezone.now())["handling"]) >= 3  # led, supported
    assert _plain_tabs(city.handler, timezone.now() + dt.timedelta(days=9))["overdue"]
    assert _plain_tabs(city.handler, timezone.now())["returned"]


def test_a_tab_paged_from_its_keys_is_the_tab_in_its_order(city: City) -> None:
    """The in-progress tab is counted and paged from its (handle_due, id) keys and its page's
    orders read by id: the same orders in the same order as its plain queryset, every page."""
    _seeded(city)
    # Deadlines out of id order, one missing, so the sort is tested (NULLs last, ties by id).
    for i, order in enumerate(Order.objects.order_by("pk")):
        Order.objects.filter(pk=order.pk).update(
            handle_due=None if i == 2 else timezone.now() + dt.timedelta(hours=(7 * i) % 5))
    keyed = 0
    for user in [city.handler, city.dept_admin, city.housing_handler, city.env_handler,
                 city.street_handler, city.security_admin]:
        for text in ("", "停水", "nothing like it"):
            for tab in workbench_queries.workbench_tabs(user, timezone.now(), text):
                plain = list(tab.orders.values_list("number", flat=True))
                if tab.keys is not None:
                    keyed += 1
                    assert [k[-1] for k in tab.keys] == list(tab.orders.values_list("pk", flat=True))
                assert workbench_queries.tab_count(tab) == len(plain)
                for per_page in (1, 2, 25):
                    paged = []
                    for number in range(1, len(plain) + 2):
                        page = workbench_queries.capped_page(tab, str(number), per_page, cap=2)
                        if page.number < number:  # past the end: the last page again
                            break
                        paged += [o.number for o in page]
                    assert paged == plain, (user.username, tab.key, text, per_page)
    assert keyed and len(list(workbench_queries.workbench_tabs(city.handler, timezone.now())[2]
                              .orders)) >= 3


def test_every_tab_but_all_lists_only_orders_the_user_may_see(city: City) -> None:
    """The tabs leave the scope's own test out (each requires the unit's active assignment):
    what they list is what they listed with it, and nothing outside ``visible_orders``."""
    _seeded(city)
    for days in (0, 2, 9):
        now = timezone.now() + dt.timedelta(days=days)
        for user in [city.handler, city.dept_admin, city.housing_handler, city.env_handler,
                     city.street_handler]:
            visible = set(visible_orders(user).values_list("pk", flat=True))
            for tab in workbench_queries.workbench_tabs(user, now):
                listed = set(tab.orders.values_list("pk", flat=True))
                assert listed <= visible, (user.username, tab.key, days)
                scoped = set(tab.orders.filter(pk__in=visible_orders(user).values("pk"))
                             .values_list("pk", flat=True))
                assert listed == scoped, (user.username, tab.key, days)
    # Whoever sees no order has empty tabs, whatever their unit holds.
    for user in [city.security_admin, city.audit_admin]:
        assert all(not t.orders.exists()
                   for t in workbench_queries.workbench_tabs(user, timezone.now()))


def test_returns_queue_sorts_by_the_last_return_event(city: City) -> None:
    _seeded(city)
    returns = work_queues.order_queues(city.monitor)["returns"]
    last_return = Subquery(OrderEvent.objects.filter(order=OuterRef("pk"), action=Action.RETURN)
                           .order_by("-seq").values("created_at")[:1])
    plain = (visible_orders(city.monitor).filter(state=State.RETURNED)
             .annotate(since=last_return).order_by("since", "pk"))
    got = [(o.number, o.__dict__["since"]) for o in returns]  # the page reads the annotation
    assert got == list(plain.values_list("number", "since"))
    assert len(got) == 3 and all(since is not None for _, since in got)


@pytest.mark.parametrize("digits", ["0003", "0013", "12340005", "9999", "0000", "1234", "13"])
def test_phone_tail_matches_ends_with(city: City, digits: str) -> None:
    for phone in ["13812340003", "13812340013", "+8613812340005", "059112349999", "0000",
                  "13900001234", ""]:
        Citizen.objects.get_or_create(phone=phone, defaults={"name": "x"}) if phone \
            else Citizen.objects.create(phone="", name="y")
    expected = set(Citizen.objects.filter(phone__endswith=digits).values_list("pk", flat=True))
    assert set(citizens_with_phone_ending(digits).values_list("pk", flat=True)) == expected


def test_phone_tail_refuses_anything_but_digits() -> None:
    with pytest.raises(ValueError):
        citizens_with_phone_ending("12%4")
