"""The centre's work queues: what lands in each, counts, oldest first, deadline colours, scope
(a sub-centre sees its district only) and who may open the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hotline.directory.models import User
from hotline.orders.models import Order
from hotline.orders.services import do_action
from hotline.outreach.callbacks import do_queue_visits
from tests.outreach.callback_policy import agents_call_back  # noqa: F401 - autouse
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db
Login = Callable[[User], Client]
URL = "/queues/"


def queue(client: Client, key: str) -> list[str]:
    response = client.get(reverse("portal:work_queues"), {"queue": key})
    assert response.status_code == 200
    return [row.order.number for row in response.context["rows"] if row.order is not None]


def counts(client: Client) -> dict[str, int]:
    response = client.get(reverse("portal:work_queues"), {"counts": "1"})
    assert response.status_code == 200
    return dict(response.json()["counts"])


def _dispatched(city: City, **kw: str) -> Order:
    order = new_order(city, **kw)
    return do_action(city.agent, order.number, "dispatch")


def test_each_queue_fills_and_empties_with_the_loop(city: City, login: Login) -> None:
    one, two = _dispatched(city, title="一"), _dispatched(city, title="二")
    client = login(city.monitor)
    assert counts(client) == {"returns": 0, "extensions": 0, "replies": 0, "callbacks": 0,
                              "escalations": 0}
    t0 = timezone.now()
    do_action(city.handler, two.number, "return", {"reason": "不归我们"}, now=t0)
    do_action(city.handler, one.number, "return", {"reason": "也不归"}, now=t0 + dt.timedelta(1))
    assert queue(client, "returns") == [two.number, one.number]  # the oldest return first
    do_action(city.monitor, two.number, "deny_return", {"reason": "归你们"})
    do_action(city.handler, two.number, "sign")
    do_action(city.handler, two.number, "request_extension", {"days": 2, "reason": "等配件"})
    assert queue(client, "returns") == [one.number] and queue(client, "extensions") == [two.number]
    do_action(city.monitor, two.number, "approve_extension")
    do_action(city.handler, two.number, "reply", {"reply": "修好了"})
    assert queue(client, "extensions") == [] and queue(client, "replies") == [two.number]
    do_action(city.agent, two.number, "approve_reply")
    do_queue_visits()
    assert queue(client, "replies") == [] and queue(client, "callbacks") == [two.number]
    do_action(city.agent, one.number, "escalate",
              {"linkage_units": ["env"], "note": "大面积停水"})
    assert queue(client, "escalations") == [one.number]
    do_action(city.env_handler, one.number, "confirm_escalation")
    assert counts(client) == {"returns": 1, "extensions": 0, "replies": 0, "callbacks": 1,
                              "escalations": 0}


def test_rows_are_coloured_by_the_orders_deadline(city: City, login: Login) -> None:
    late, soon, fine = (_dispatched(city, title=t) for t in ("晚", "急", "早"))
    now = timezone.now()
    for order, due in ((late, now - dt.timedelta(hours=2)), (soon, now + dt.timedelta(hours=1)),
                       (fine, now + dt.timedelta(days=20))):
        do_action(city.handler, order.number, "sign")
        do_action(city.handler, order.number, "reply", {"reply": "好了"})
        Order.objects.filter(pk=order.pk).update(handle_due=due)
    response = login(city.agent).get(URL, {"queue": "replies"})
    levels = {row.order.number: row.level for row in response.context["rows"]}
    assert levels == {late.number: "late", soon.number: "soon", fine.number: "ok"}
    html = response.content.decode()
    assert f'class="due-late" id="queue-row-{late.number}"' in html
    assert f'href="/orders/{late.number}/"' in html


def test_a_subcentre_sees_its_district_only(city: City, login: Login) -> None:
    ours = _dispatched(city, title="鼓楼", district="gulou")
    theirs = _dispatched(city, title="台江", district="taijiang")
    for order in (ours, theirs):
        do_action(city.handler, order.number, "return", {"reason": "不归我们"})
    assert queue(login(city.sub_agent), "returns") == [ours.number]
    assert set(queue(login(city.agent), "returns")) == {ours.number, theirs.number}


def test_without_javascript_the_page_is_complete(city: City, login: Login) -> None:
    order = _dispatched(city)
    do_action(city.handler, order.number, "return", {"reason": "不归我们"})
    html = login(city.monitor).get(URL).content.decode()
    # Opens on the first queue with work; every tab is a plain link with its count.
    assert 'href="?queue=returns"' in html and 'data-queue-count="returns">1<' in html
    assert order.number in html and 'id="nav-queues"' in html


def test_admin_has_no_callback_queue(city: City, login: Login) -> None:
    assert "callbacks" not in counts(login(city.admin))


@pytest.mark.parametrize("who", ["handler", "dept_admin", "leader", "auditor", "security_admin",
                                 "street_handler"])
def test_other_roles_are_refused(city: City, login: Login, who: str) -> None:
    client = login(getattr(city, who))
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"counts": "1"}).status_code == 403
    assert 'id="nav-queues"' not in client.get("/orders/").content.decode()


def test_anonymous_goes_to_login(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_unknown_queue_falls_back(city: City, login: Login) -> None:
    response = login(city.agent).get(URL, {"queue": "<script>"})
    assert response.status_code == 200 and response.context["current"] == "returns"
