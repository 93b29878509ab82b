"""The district's journey, in a real browser: a noise complaint in 鼓楼区 is dispatched by its
route to the district's sub-centre; the sub-centre's agent finds it in the district's order
list and re-dispatches it (转办) to the street office; the street's handler signs for it and
replies on the workbench; the sub-centre sees the reply in its work queue and approves it. An
order of another district never shows. Every page passes axe-core; screenshots in
test-artifacts/screenshots/journeys/street-*.png."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.orders.models import Order
from hotline.orders.services import do_action
from tests.e2e.journeys import expect, journey_browser, step, window  # noqa: F401
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

pytestmark = [pytest.mark.e2e]


def test_subcentre_transfers_to_the_street_which_replies(
        live_server: LiveServer, city: City, journey_browser: Browser) -> None:  # noqa: F811
    base = live_server.url
    noise = new_order(city, title="东街工地夜间施工噪声", text="东街工地每晚十一点后还在施工",
                      category="100201", type="complaint")
    elsewhere = new_order(city, title="台江路灯不亮", district="taijiang", category="100201")
    do_action(city.agent, noise.number, "dispatch")
    assert Order.objects.get(pk=noise.pk).lead_unit == city.subcentre

    # The sub-centre's agent: the district's orders only.
    sub = window(journey_browser, base, "sam")
    sub.goto(f"{base}/orders/")
    expect(sub.locator("#order-results")).to_contain_text(noise.number)
    expect(sub.locator("#order-results")).not_to_contain_text(elsewhere.number)
    step(sub, "street-01-district-orders")
    sub.click(f"#order-results a[href='/orders/{noise.number}/']")
    sub.wait_for_url(f"**/orders/{noise.number}/")
    step(sub, "street-02-order")
    sub.click("#action-transfer summary")
    sub.select_option("#id_transfer-unit", "gulou-dongjie")
    sub.fill("#id_transfer-note", "请东街街道核查工地夜间施工")
    sub.click("#action-transfer button[type=submit]")
    sub.wait_for_load_state()
    order = Order.objects.get(pk=noise.pk)
    assert order.lead_unit == city.street and order.state == "dispatched"
    expect(sub.locator(".timeline")).to_contain_text("请东街街道核查工地夜间施工")
    step(sub, "street-03-transferred")

    # The street's handler signs for it and replies.
    street = window(journey_browser, base, "stella")
    assert street.url.endswith("/workbench/")
    row = street.locator(f"#row-{noise.number}")
    expect(row).to_contain_text("东街工地夜间施工噪声")
    step(street, "street-04-workbench")
    row.locator("form[action$='/act/sign/'] button").click()
    street.wait_for_load_state()
    street.click("#tab-handling")
    row = street.locator(f"#row-{noise.number}")
    row.locator("summary", has_text="回复").first.click()
    row.locator(f"#reply-{noise.number}").fill("已约谈施工方，夜间22点后停止施工。")
    row.locator("form[action$='/act/reply/'] button").click()
    street.wait_for_load_state()
    assert Order.objects.get(pk=noise.pk).state == "replied"
    step(street, "street-05-replied")
    street.context.close()

    # The sub-centre sees the reply in its queue and approves it.
    sub.goto(f"{base}/queues/?queue=replies")
    expect(sub.locator(f"#queue-row-{noise.number}")).to_contain_text("东街街道")
    expect(sub.locator("#queue-table")).not_to_contain_text(elsewhere.number)
    step(sub, "street-06-queue")
    sub.click(f"#queue-row-{noise.number} a")
    sub.wait_for_url(f"**/orders/{noise.number}/")
    expect(sub.locator("#order-reply")).to_contain_text("夜间22点后停止施工")
    sub.click("#action-approve_reply summary")
    sub.click("#action-approve_reply button[type=submit]")
    sub.wait_for_load_state()
    assert Order.objects.get(pk=noise.pk).state == "callback"
    step(sub, "street-07-approved")
    sub.context.close()
