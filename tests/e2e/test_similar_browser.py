"""The "possible duplicates" panel in a real browser: an agent types a request like an open
order, the panel shows it; on the order page the agent links the two."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.orders.models import OrderLink
from hotline.triage import similar
from tests.e2e.test_portal_browser import browser, log_in, page, shot  # noqa: F401
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

pytestmark = [pytest.mark.e2e]

WATER = "幸福小区3号楼从昨天晚上开始停水，到现在还没有来水，也没有任何通知，老人孩子生活很不方便"
WATER_AGAIN = "幸福小区3号楼昨晚开始停水了，一直没有来水，物业也没有通知，请尽快恢复供水"
OTHERS = ["社保卡丢失了想补办，请问需要带什么材料", "公司拖欠工资三个月，老板联系不上",
          "小区门口路灯坏了一个多月，晚上出行很不安全", "菜市场周边占道经营严重，早上交通拥堵"]


def test_panel_finds_the_open_duplicate_and_the_agent_links_it(
    live_server: LiveServer, city: City, page: Page,  # noqa: F811
) -> None:
    similar.cache.clear()
    for i, text in enumerate(OTHERS):
        new_order(city, title=text[:6], text=text, citizen_phone=f"1380000010{i}")
    water = new_order(city, title="小区停水", text=WATER, address="幸福小区3号楼",
                      citizen_phone="13800000001")
    base = live_server.url
    log_in(page, base, "alice")
    page.goto(f"{base}/orders/new/")
    panel = page.locator("#similar-orders")
    assert "可能重复的工单" in panel.inner_text()
    page.fill("#id_title", "停水")
    page.locator("#id_text").press_sequentially(WATER_AGAIN[:20], delay=10)
    page.fill("#id_text", WATER_AGAIN)
    page.locator("#id_text").press("End")  # a keyup: the panel refreshes after the pause
    page.wait_for_selector(f"#similar-orders a:has-text('{water.number}')")
    assert "可能重复" in panel.inner_text() and "同一" in panel.inner_text()
    shot(page, "similar-panel")

    again = new_order(city, title="停水", text=WATER_AGAIN, address="幸福小区3号楼",
                      citizen_phone="13800000009")
    page.goto(f"{base}/orders/{again.number}/")
    page.locator("#order-links form:has(input[name='link-other']) button").first.click()
    page.wait_for_selector("#order-links >> text=关联工单")
    assert OrderLink.objects.filter(kind="duplicate").count() == 1
    shot(page, "order-links")
    similar.cache.clear()
