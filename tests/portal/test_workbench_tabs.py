"""The department workbench: tabs through the whole loop, search, the masked preview, signing
for several at once, assigning handlers and the administrator's load view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hotline.directory.models import User
from hotline.orders.models import Order
from hotline.orders.services import do_action
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]


def tab(client: Client, key: str, **extra: str) -> set[str]:
    response = client.get(reverse("portal:workbench"), {"tab": key, **extra})
    assert response.status_code == 200
    return {row["order"].number for row in response.context["rows"]}


def counts(client: Client, **extra: str) -> dict[str, int]:
    """The tab counts, as the page asks for them once it is shown."""
    response = client.get(reverse("portal:workbench_counts"), extra)
    assert response.status_code == 200
    return {t.key: n for t, n in response.context["tabs"]}


def test_tabs_follow_the_loop(city: City, login: Login, dispatched: Order) -> None:
    n = dispatched.number
    client = login(city.handler)
    do_action(city.handler, n, "sign")
    assert tab(client, "handling") == {n} and tab(client, "mine") == set()
    html = client.get(reverse("portal:workbench"), {"tab": "handling"}).content.decode()
    assert 'type="hidden" name="assign-handler" value="hank"' in html  # "take it"
    client.post(reverse("portal:order_action", args=[n, "assign"]),
                {"assign-handler": "hank", "next": "/workbench/"})
    assert Order.objects.get(pk=dispatched.pk).handler == city.handler
    assert tab(client, "mine") == {n}
    do_action(city.handler, n, "reply", {"reply": "已修复"})
    assert tab(client, "replied") == {n} and tab(client, "mine") == set()
    do_action(city.agent, n, "deny_reply", {"reason": "没有说明原因"})
    assert tab(client, "returned") == {n} and tab(client, "mine") == {n}
    do_action(city.handler, n, "reply", {"reply": "管道老化，已更换"})
    assert tab(client, "returned") == set()
    do_action(city.agent, n, "approve_reply")
    assert tab(client, "replied") == {n}
    do_action(city.agent, n, "callback", {"resolved": True, "satisfaction": "satisfied"})
    assert tab(client, "closed") == {n} and tab(client, "all") == {n}
    assert counts(client)["closed"] == 1


def test_our_return_waits_then_a_refusal_is_sent_back(city: City, login: Login,
                                                     dispatched: Order) -> None:
    n = dispatched.number
    client = login(city.handler)
    do_action(city.handler, n, "return", {"reason": "不属于本单位"})
    assert tab(client, "returned") == {n} and tab(client, "to_sign") == set()
    do_action(city.monitor, n, "deny_return", {"reason": "属于供水问题"})
    assert tab(client, "returned") == {n} and tab(client, "to_sign") == {n}
    do_action(city.handler, n, "sign")
    assert tab(client, "returned") == set()


def test_another_unit_never_sees_the_order(city: City, login: Login, dispatched: Order) -> None:
    client = login(city.env_handler)
    assert all(n == 0 for n in counts(client).values())
    assert dispatched.number not in client.get(reverse("portal:workbench"),
                                               {"tab": "all"}).content.decode()


def test_search_by_number_text_and_address(city: City, login: Login, dispatched: Order) -> None:
    other = new_order(city, title="水压低", text="楼顶水压不足", address="东街1号")
    do_action(city.agent, other.number, "dispatch")
    client = login(city.handler)
    assert tab(client, "all", q=dispatched.number) == {dispatched.number}
    assert tab(client, "all", q="水压不足") == {other.number}
    assert tab(client, "all", q="东街1号") == {other.number}
    assert counts(client, q="东街1号")["to_sign"] == 1
    assert tab(client, "all", q="13812341234") == set()  # the citizen is never searched


def test_a_report_neither_shows_nor_finds_its_reporter(city: City, login: Login) -> None:
    report = new_order(city, type="report", title="举报违建", citizen_name="李四清",
                       citizen_phone="13900001111",
                       text="我是李四清，电话13900001111，举报东街某处违建")
    do_action(city.agent, report.number, "dispatch")
    client = login(city.handler)
    html = client.get(reverse("portal:workbench"), {"tab": "to_sign"}).content.decode()
    assert "违建" in html and "李四清" not in html and "13900001111" not in html
    for probe in ("李四清", "李四", "四清", "13900001111", "我是李四清"):
        assert tab(client, "all", q=probe) == set(), probe
    assert tab(client, "all", q="违建") == {report.number}


def test_sign_several_at_once_reports_the_failures(city: City, login: Login,
                                                  dispatched: Order) -> None:
    second = new_order(city, title="又停水")
    do_action(city.agent, second.number, "dispatch")
    noise = new_order(city, title="噪声", category="100201", district="taijiang")
    do_action(city.agent, noise.number, "dispatch")
    client = login(city.handler)
    html = client.get(reverse("portal:workbench"), {"tab": "to_sign"}).content.decode()
    assert f'value="{dispatched.number}" form="bulk-sign"' in html
    response = client.post(reverse("portal:workbench_sign"), {
        "orders": [dispatched.number, second.number, noise.number, "99999999"],
        "next": "/workbench/?tab=to_sign"}, follow=True)
    assert response.status_code == 200
    assert Order.objects.get(pk=dispatched.pk).state == "handling"
    assert Order.objects.get(pk=second.pk).state == "handling"
    assert Order.objects.get(pk=noise.pk).state == "dispatched"
    text = " ".join(str(m) for m in response.context["messages"])
    assert "Signed for 2 orders" in text and noise.number in text and "99999999" in text
    assert client.post(reverse("portal:workbench_sign"), {"orders": []}).status_code == 302
    assert client.get(reverse("portal:workbench_sign")).status_code == 405


def test_assign_through_the_page_is_checked_by_the_service(city: City, login: Login,
                                                          dispatched: Order) -> None:
    do_action(city.handler, dispatched.number, "sign")
    User.objects.create_user(username="wendy", password="x", role="dept_handler", unit=city.water)
    admin = login(city.dept_admin)
    html = admin.get(reverse("portal:workbench"), {"tab": "handling"}).content.decode()
    assert '<select id="assign-' in html and "wendy" in html and "hugo" not in html
    do_action(city.dept_admin, dispatched.number, "assign", {"handler": "hank"})
    html = admin.get(reverse("portal:workbench"), {"tab": "handling"}).content.decode()
    # Reassigning: a choice of the others (the administrator too), never a "take it" button.
    assert "Reassign to" in html and 'type="hidden" name="assign-handler"' not in html
    bad = admin.post(reverse("portal:order_action", args=[dispatched.number, "assign"]),
                     {"assign-handler": "hugo"})
    assert bad.status_code == 422
    ok = admin.post(reverse("portal:order_action", args=[dispatched.number, "assign"]),
                    {"assign-handler": "wendy"})
    assert ok.status_code == 302
    assert Order.objects.get(pk=dispatched.pk).handler.username == "wendy"  # type: ignore[union-attr]
    page = admin.get(reverse("portal:order_detail", args=[dispatched.number])).content.decode()
    assert "Assign handler" in page and '<dd id="order-handler">wendy</dd>' in page


def test_load_view_counts_each_handlers_orders(city: City, login: Login, dispatched: Order) -> None:
    do_action(city.handler, dispatched.number, "sign")
    do_action(city.dept_admin, dispatched.number, "assign", {"handler": "hank"})
    late = new_order(city, title="晚了")
    do_action(city.agent, late.number, "dispatch")
    do_action(city.handler, late.number, "sign")
    do_action(city.dept_admin, late.number, "assign", {"handler": "hank"})
    Order.objects.filter(pk=late.pk).update(handle_due=timezone.now() - dt.timedelta(hours=1))
    free = new_order(city, title="没人管")
    do_action(city.agent, free.number, "dispatch")
    do_action(city.handler, free.number, "sign")
    response = login(city.dept_admin).get(reverse("portal:workbench_load"))
    assert response.status_code == 200
    rows = {(r.handler.username if r.handler else None): (r.open, r.overdue)
            for r in response.context["rows"]}
    assert rows["hank"] == (2, 1) and rows["dora"] == (0, 0) and rows[None] == (1, 0)
    assert "hugo" not in rows
    assert login(city.handler).get(reverse("portal:workbench_load")).status_code == 403


@pytest.mark.parametrize("who", ["agent", "leader", "auditor", "security_admin"])
def test_other_roles_may_not_use_the_workbench(city: City, login: Login, who: str) -> None:
    client = login(getattr(city, who))
    assert client.get(reverse("portal:workbench")).status_code == 403
    assert client.post(reverse("portal:workbench_sign"), {"orders": ["1"]}).status_code == 403
    assert client.get(reverse("portal:workbench_load")).status_code == 403


def test_anonymous_is_sent_to_login(client: Client) -> None:
    for name in ("portal:workbench", "portal:workbench_load"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"]


def test_pending_extension_is_on_the_row(city: City, login: Login, dispatched: Order) -> None:
    do_action(city.handler, dispatched.number, "sign")
    do_action(city.handler, dispatched.number, "request_extension", {"days": 3, "reason": "等材料"})
    client = login(city.handler)
    html = client.get(reverse("portal:workbench"), {"tab": "handling"}).content.decode()
    assert f'id="ext-pending-{dispatched.number}"' in html
    do_action(city.monitor, dispatched.number, "deny_extension", {"reason": "不必"})
    html = client.get(reverse("portal:workbench"), {"tab": "handling"}).content.decode()
    assert f'id="ext-pending-{dispatched.number}"' not in html


def test_a_tab_count_stops_at_the_cap(city: City, login: Login,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.portal import workbench_queries

    monkeypatch.setattr(workbench_queries, "TAB_COUNT_CAP", 2)
    numbers = {new_order(city, title=f"停水{i}").number for i in range(3)}
    for number in numbers:
        do_action(city.agent, number, "dispatch")
    client = login(city.handler)
    html = client.get(reverse("portal:workbench_counts")).content.decode()
    assert '<span class="count">2+</span>' in html  # three to sign for, shown above the cap
    assert tab(client, "to_sign") == numbers  # the list itself is whole
    do_action(city.handler, numbers.pop(), "sign")
    html = client.get(reverse("portal:workbench_counts")).content.decode()
    assert '<span class="count">2</span>' in html


def test_the_counts_are_the_users_own_and_only_for_department_staff(
        city: City, login: Login, client: Client, dispatched: Order) -> None:
    assert counts(login(city.handler))["to_sign"] == 1
    assert all(n == 0 for n in counts(login(city.env_handler)).values())
    assert counts(login(city.handler), tab="bogus") == counts(login(city.handler))
    assert counts(login(city.handler), q="x" * 500)["to_sign"] == 1  # too long: not searched
    client.logout()
    assert client.get(reverse("portal:workbench_counts")).status_code == 302  # to log in
    assert login(city.agent).get(reverse("portal:workbench_counts")).status_code == 403


def test_a_tab_is_paged_with_a_capped_count(city: City, login: Login,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.portal import workbench_queries, workbench_views

    monkeypatch.setattr(workbench_views, "PAGE_SIZE", 2)
    monkeypatch.setattr(workbench_queries, "PAGE_COUNT_CAP", 4)
    numbers = []
    for i in range(7):
        order = new_order(city, title=f"停水{i}")
        do_action(city.agent, order.number, "dispatch", now=timezone.now() + dt.timedelta(minutes=i))
        numbers.append(order.number)
    client = login(city.handler)

    def page(value: str) -> tuple[list[str], Any]:
        response = client.get(reverse("portal:workbench"), {"tab": "to_sign", "page": value})
        assert response.status_code == 200
        return [row["order"].number for row in response.context["rows"]], response

    seen: list[str] = []
    first, response = page("1")
    assert response.context["page"].more and response.context["page"].num_pages == 2
    assert "Page 1 of 2+" in response.content.decode() and "page=2" in response.content.decode()
    seen += first
    for n in ("2", "3"):  # past the cap: counted to the end of the page asked for
        rows, response = page(n)
        seen += rows
        assert response.context["page"].has_next()
    rows, response = page("4")
    seen += rows
    assert seen == numbers  # in sign-by order, every order once
    assert not response.context["page"].more and not response.context["page"].has_next()
    assert "Page 4 of 4" in response.content.decode()
    # Past the end: the last page; not a number: the first; never an error.
    assert page("9")[0] == numbers[6:] and page("9")[1].context["page"].number == 4
    for bad in ("x", "-3", "0", "", "99999999999999999999999"):
        assert page(bad)[1].context["page"].number in (1, 4), bad
    # Nothing in the tab: one empty page.
    empty = workbench_queries.capped_page(Order.objects.none(), "3", 2)
    assert list(empty) == [] and empty.number == 1 and empty.num_pages == 1
    assert not empty.has_next() and not empty.has_previous()
