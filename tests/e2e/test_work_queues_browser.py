"""The centre's work queues live in a real browser: a shift monitor watches the queues; the
water department's handler returns an order on the workbench in another browser; the
monitor's "returns to review" count goes up and a notice links to the order, without a
reload. Also signs for several orders at once on the workbench. axe-core checks both pages;
screenshots land in test-artifacts/screenshots/work-queues-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.orders.services import do_action
from tests.e2e.asgi_server import asgi_server  # noqa: F401
from tests.e2e.test_citizen_portal_browser import check_axe
from tests.e2e.test_portal_browser import browser, log_in, playwright_sync, shot  # noqa: F401
from tests.outreach.callback_policy import agents_call_back  # noqa: F401 - autouse
from tests.portal.conftest import new_order

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
LIVE_MS = 30_000  # generous: CI shares two cores


def _window(browser: Any) -> Any:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_a_return_reaches_the_monitors_queue_live(asgi_server: Any, city: Any,  # noqa: F811
                                                 browser: Any) -> None:  # noqa: F811
    expect = playwright_sync.expect
    base = asgi_server.url
    first, second = new_order(city, title="东街停水"), new_order(city, title="西街停水")
    for order in (first, second):
        do_action(city.agent, order.number, "dispatch")

    monitor = _window(browser)
    log_in(monitor, base, "monica")
    monitor.goto(f"{base}/queues/")
    root = monitor.locator("#work-queues")
    expect(root).to_have_attribute("data-live", "1", timeout=LIVE_MS)
    count = monitor.locator('[data-queue-count="returns"]')
    expect(count).to_have_text("0")
    monitor.evaluate("window.__sameDocument = true")  # gone if the page reloaded
    check_axe(monitor, "work queues")
    shot(monitor, "work-queues-01-empty")

    handler = _window(browser)
    log_in(handler, base, "hank")
    handler.goto(f"{base}/workbench/?tab=to_sign")
    check_axe(handler, "workbench")
    shot(handler, "work-queues-02-workbench")
    row = handler.locator(f"#row-{first.number}")
    row.locator("details summary").first.click()
    row.locator(f"#ret-{first.number}").fill("不属于本单位职责")
    row.locator("details form button[type=submit]").first.click()
    handler.wait_for_load_state()

    expect(count).to_have_text("1", timeout=LIVE_MS)
    toast = monitor.locator("#queue-toasts .toast a")
    expect(toast).to_have_attribute("href", f"/orders/{first.number}/", timeout=LIVE_MS)
    assert first.number in toast.inner_text()
    assert monitor.evaluate("window.__sameDocument") is True
    # The open queue's rows follow too, still without a reload.
    expect(monitor.locator(f"#queue-row-{first.number}")).to_be_visible(timeout=LIVE_MS)
    assert monitor.evaluate("window.__sameDocument") is True
    shot(monitor, "work-queues-03-live-count")
    monitor.click("#queue-tab-returns")  # a plain link: the same queue, rendered by the server
    expect(monitor.locator(f"#queue-row-{first.number}")).to_be_visible()

    # Back on the workbench: sign for the other order (and a stale tick) at once.
    handler.goto(f"{base}/workbench/?tab=to_sign")
    handler.check(f"#pick-{second.number}")
    handler.click("#bulk-sign-button")
    handler.wait_for_load_state()
    expect(handler.locator(".messages")).to_contain_text(second.number)
    from hotline.orders.models import Order

    assert Order.objects.get(pk=second.pk).state == "handling"
    shot(handler, "work-queues-05-signed")
    handler.context.close()
    monitor.context.close()


def test_the_department_administrator_assigns_and_sees_the_load(
        live_server: Any, city: Any, browser: Any) -> None:  # noqa: F811
    expect = playwright_sync.expect
    order = new_order(city, title="南街停水", text="南街小区停水，联系电话13812341234")
    do_action(city.agent, order.number, "dispatch")
    do_action(city.handler, order.number, "sign")
    admin = _window(browser)
    log_in(admin, live_server.url, "dora")
    admin.goto(f"{live_server.url}/workbench/?tab=handling")
    row = admin.locator(f"#row-{order.number}")
    expect(row.locator(".preview")).to_contain_text("南街小区停水")
    row.locator(f"#assign-{order.number}").select_option("hank")
    row.locator("form.inline button[type=submit]").click()
    admin.wait_for_load_state()
    expect(admin.locator(f"#row-{order.number} .handler")).to_contain_text("水务承办人")
    check_axe(admin, "workbench with assignment")
    shot(admin, "work-queues-06-assigned")
    admin.click("#handler-load-link")
    expect(admin.locator("#load-hank td.num").first).to_have_text("1")
    check_axe(admin, "handlers' load")
    shot(admin, "work-queues-07-load")
    admin.context.close()
