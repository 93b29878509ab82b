"""A department's journey on the workbench, in a real browser: the water department's
administrator signs for a new order and gives it to a handler, returns one that is not theirs
and looks at the handlers' load; the handler asks the centre for more time on the order, then
replies with the result. Every page passes axe-core; screenshots in
test-artifacts/screenshots/journeys/department-*.png."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.orders.models import Order
from hotline.orders.services import do_action
from tests.e2e.journeys import expect, journey_browser, messages, step, window  # noqa: F401
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

pytestmark = [pytest.mark.e2e]


def test_sign_assign_return_extend_and_reply(live_server: LiveServer, city: City,
                                             journey_browser: Browser) -> None:  # noqa: F811
    base = live_server.url
    mine = new_order(city, title="南街停水", text="南街小区停水两天，联系电话13812341234")
    not_ours = new_order(city, title="北街停水", text="北街路面漏水")
    for order in (mine, not_ours):
        do_action(city.agent, order.number, "dispatch")

    # The administrator opens the workbench on 待签收: both orders, with their sign deadlines.
    admin = window(journey_browser, base, "dora")
    assert admin.url.endswith("/workbench/")
    for order in (mine, not_ours):
        expect(admin.locator(f"#row-{order.number}")).to_contain_text("签收期限")
    expect(admin.locator("#tab-to_sign .count")).to_have_text("2")
    step(admin, "department-01-to-sign")

    # Signs for the first, which moves to 办理中.
    admin.locator(f"#row-{mine.number} form[action$='/act/sign/'] button").click()
    admin.wait_for_load_state()
    expect(admin.locator("#tab-to_sign .count")).to_have_text("1")
    admin.click("#tab-handling")
    row = admin.locator(f"#row-{mine.number}")
    expect(row).to_contain_text("办理中")

    # Gives it to the handler.
    row.locator(f"#assign-{mine.number}").select_option("hank")
    row.locator("form.inline button[type=submit]").click()
    admin.wait_for_load_state()
    expect(admin.locator(f"#row-{mine.number} .handler")).to_contain_text("水务承办人")
    step(admin, "department-02-assigned")

    # Returns the second one, with the reason: it leaves the workbench.
    admin.click("#tab-to_sign")
    other = admin.locator(f"#row-{not_ours.number}")
    other.locator("details summary").first.click()
    other.locator(f"#ret-{not_ours.number}").fill("路面漏水属市政管网，不属于本单位职责")
    other.locator("details form button[type=submit]").first.click()
    admin.wait_for_load_state()
    expect(admin.locator(f"#row-{not_ours.number}")).to_have_count(0)
    assert Order.objects.get(pk=not_ours.pk).state == "returned"
    step(admin, "department-03-returned")

    # The handlers' load: one open order on the handler.
    admin.click("#handler-load-link")
    expect(admin.locator("#load-hank td.num").first).to_have_text("1")
    step(admin, "department-04-load")
    admin.context.close()

    # The handler finds the order on their workbench and asks for three more working days.
    handler = window(journey_browser, base, "hank")
    handler.click("#tab-handling")
    row = handler.locator(f"#row-{mine.number}")
    expect(row).to_contain_text("南街停水")
    row.locator("summary", has_text="申请延期").click()
    row.locator(f"#days-{mine.number}").fill("3")
    row.locator(f"#ext-{mine.number}").fill("需更换主管道，材料周五到货")
    row.locator("form[action$='/act/request_extension/'] button").click()
    handler.wait_for_load_state()
    expect(handler.locator(f"#ext-pending-{mine.number}")).to_contain_text("3")
    assert Order.objects.get(pk=mine.pk).extension_pending_days == 3
    step(handler, "department-05-extension-asked")

    # The order's own page shows the request in its history and deadlines.
    handler.click(f"#row-{mine.number} a[href='/orders/{mine.number}/']")
    handler.wait_for_url(f"**/orders/{mine.number}/")
    expect(handler.locator(".timeline")).to_contain_text("申请延期")
    step(handler, "department-06-order")

    # Then replies with the result: the order leaves the handling tab as 已回复.
    handler.goto(f"{base}/workbench/?tab=handling")
    row = handler.locator(f"#row-{mine.number}")
    row.locator("summary", has_text="回复").first.click()
    row.locator(f"#reply-{mine.number}").fill("已更换主管道，南街小区恢复供水。")
    row.locator("form[action$='/act/reply/'] button").click()
    handler.wait_for_load_state()
    assert mine.number in messages(handler) or handler.locator(f"#row-{mine.number}").count() == 0
    order = Order.objects.get(pk=mine.pk)
    assert order.state == "replied" and "恢复供水" in order.reply_text
    step(handler, "department-07-replied")
    handler.context.close()
