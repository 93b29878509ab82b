"""The new-order form's "possible duplicates" panel and the order page's linked, merged and
similar orders with their buttons."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse

from hotline.directory.models import User
from hotline.orders.models import Order, OrderLink
from hotline.orders.services import do_action
from hotline.triage import similar
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse

    from tests.conftest import City

pytestmark = pytest.mark.django_db

WATER = "幸福小区3号楼从昨天晚上开始停水，到现在还没有来水，也没有任何通知，老人孩子生活很不方便"
WATER_AGAIN = "幸福小区3号楼昨晚开始停水了，一直没有来水，物业也没有通知，请尽快恢复供水"
OTHERS = ["社保卡丢失了想补办，请问需要带什么材料", "公司拖欠工资三个月，老板联系不上",
          "小区门口路灯坏了一个多月，晚上出行很不安全", "菜市场周边占道经营严重，早上交通拥堵"]


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    similar.cache.clear()
    yield
    similar.cache.clear()


@pytest.fixture
def water(city: City) -> Order:
    for i, text in enumerate(OTHERS):
        new_order(city, title=text[:6], text=text, citizen_phone=f"1380000010{i}")
    return new_order(city, title="小区停水", text=WATER, address="幸福小区3号楼",
                     citizen_phone="13800000001", citizen_name="甲")


def panel(client: Client, **data: Any) -> _MonkeyPatchedWSGIResponse:
    return client.post(reverse("portal:order_similar_panel"), data, HTTP_HX_REQUEST="true")


def test_new_order_page_has_the_panel(city: City, login: Callable[[User], Client]) -> None:
    html = login(city.agent).get(reverse("portal:order_new")).content.decode()
    assert 'id="similar-orders"' in html
    assert reverse("portal:order_similar_panel") in html
    assert "Possible duplicate orders" in html


def test_panel_shows_the_open_duplicate_as_the_agent_types(city: City, login: Callable[[User], Client],
                                                           water: Order) -> None:
    client = login(city.agent)
    r = panel(client, title="停水", text=WATER_AGAIN, address="幸福小区3号楼", district="gulou")
    assert r.status_code == 200
    html = r.content.decode()
    assert water.number in html
    assert "Likely duplicate" in html and "Same address" in html
    assert [h.order.number for h in r.context["similar"]][:1] == [water.number]
    # Too little typed yet: the hint, no search.
    r = panel(client, text="停")
    assert r.context["similar"] is None and "show here as you type" in r.content.decode()
    # Nothing alike.
    r = panel(client, text="想咨询一下出入境证件办理的流程")
    assert r.context["similar"] == [] and "No similar open orders." in r.content.decode()
    # An unknown district is ignored rather than an error.
    assert panel(client, text=WATER_AGAIN, district="atlantis").status_code == 200


def test_panel_is_for_the_centre_desk_only(city: City, login: Callable[[User], Client], water: Order) -> None:
    for who in (city.handler, city.leader, city.auditor):
        assert panel(login(who), text=WATER_AGAIN).status_code == 403
    client = login(city.agent)
    client.logout()
    assert panel(client, text=WATER_AGAIN).status_code == 302  # to the login page


def test_order_page_offers_link_and_merge_and_they_work(city: City, login: Callable[[User], Client],
                                                        water: Order) -> None:
    again = new_order(city, title="停水", text=WATER_AGAIN, address="幸福小区三号楼",
                      citizen_phone="13800000009", citizen_name="乙")
    client = login(city.agent)
    page = client.get(reverse("portal:order_detail", args=[again.number]))
    assert [h.order.number for h in page.context["similar"]][:1] == [water.number]
    html = page.content.decode()
    assert "Similar open orders" in html and 'name="link-other"' in html
    assert 'name="merge-into"' in html
    # 取消关联 is offered only once there is a link to remove (issue 15, item 8).
    assert "unlink" not in [f["action"] for f in page.context["action_forms"]]

    r = client.post(reverse("portal:order_action", args=[again.number, "link"]),
                    {"link-other": water.number, "link-kind": "duplicate"})
    assert r.status_code == 302
    assert OrderLink.objects.filter(kind="duplicate").count() == 1
    linked = client.get(reverse("portal:order_detail", args=[water.number]))
    assert "unlink" in [f["action"] for f in linked.context["action_forms"]]
    html = linked.content.decode()
    assert "Linked orders" in html and again.number in html and 'name="unlink-other"' in html

    r = client.post(reverse("portal:order_action", args=[again.number, "merge"]),
                    {"merge-into": water.number})
    assert r.status_code == 302
    assert Order.objects.get(pk=again.pk).state == "merged"
    page = client.get(reverse("portal:order_detail", args=[water.number]))
    html = page.content.decode()
    # The merged order's citizen is listed on the target, to be called back with it.
    assert "Orders merged into this one" in html and "13800000009" in html and "乙" in html


def test_a_leader_sees_links_but_no_buttons(city: City, login: Callable[[User], Client],
                                            water: Order) -> None:
    again = new_order(city, title="停水", text=WATER_AGAIN, citizen_phone="13800000009")
    do_action(city.agent, again.number, "link", {"other": water.number})
    page = login(city.leader).get(reverse("portal:order_detail", args=[again.number]))
    html = page.content.decode()
    assert "Linked orders" in html and water.number in html
    assert page.context["similar"] == []
    assert 'name="link-other"' not in html and 'name="unlink-other"' not in html
