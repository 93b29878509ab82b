"""The closed loop in a real browser (Debian's chromium through Playwright) against a live
server: an agent registers and dispatches an order, the water department signs for it and
replies, the agent approves the reply and calls the citizen back, the citizen checks the status.
Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.portal.conftest import ensure_compiled_messages

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

# Playwright's sync API runs an event loop in this thread; the live server's database access
# from the test thread is synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make debian)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    ensure_compiled_messages()  # the assertions read the Chinese UI
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


def log_out(page: Page) -> None:
    page.click("header form[action='/logout/'] button")
    page.wait_for_url(re.compile(r"/login/"))


def test_closed_loop_in_the_browser(live_server: LiveServer, city: City, page: Page) -> None:
    from hotline.orders.models import Order

    base = live_server.url

    # The agent registers the call as a work order (the UI is in Chinese by default).
    log_in(page, base, "alice")
    assert page.url.endswith("/orders/")
    assert "工单" in page.content()
    page.goto(f"{base}/orders/new/")
    page.select_option("#id_type", "complaint")
    page.fill("#id_citizen_name", "张三")
    page.fill("#id_citizen_phone", "13812341234")
    page.fill("#id_title", "小区停水三天")
    page.fill("#id_text", "鼓楼区某小区停水已三天，无人通知。")
    page.fill("#id_address", "鼓楼区东街1号")
    page.select_option("#id_district", "gulou")
    page.select_option("#id_category", "100101")
    shot(page, "01-new-order")
    page.click("form button[type=submit].btn")
    page.wait_for_url(re.compile(r"/orders/\d{8}/$"))
    number = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert Order.objects.get(number=number).state == "accepted"

    # ... and dispatches it by the category's route.
    page.click("#action-dispatch summary")
    page.fill("#id_dispatch-note", "请尽快核实处理")
    page.click("#action-dispatch button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#order-state").inner_text() == "已派单"
    shot(page, "02-dispatched")
    log_out(page)

    # The water department finds it under 待签收, signs for it and replies.
    log_in(page, base, "hank")
    assert page.url.endswith("/workbench/")
    row = page.locator(f"#row-{number}")
    assert row.count() == 1
    assert "待签收" in page.locator("#tab-to_sign").inner_text()
    shot(page, "03-workbench")
    row.locator("form[action$='/act/sign/'] button").click()
    page.wait_for_load_state()
    page.click("#tab-handling")
    row = page.locator(f"#row-{number}")
    row.wait_for()
    row.locator("summary", has_text="回复").first.click()
    row.locator("textarea[name='reply-reply']").fill("已抢修管道，恢复供水。")
    row.locator("form[action$='/act/reply/'] button").click()
    page.wait_for_load_state()
    assert Order.objects.get(number=number).state == "replied"
    log_out(page)

    # The agent approves the reply and records the call back.
    log_in(page, base, "alice")
    page.goto(f"{base}/orders/{number}/")
    page.click("#action-approve_reply summary")
    page.click("#action-approve_reply button[type=submit]")
    page.wait_for_load_state()
    page.click("#action-callback summary")
    page.check("#id_callback-resolved_0")
    page.select_option("#id_callback-satisfaction", "satisfied")
    page.click("#action-callback button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#order-state").inner_text() == "已办结"
    shot(page, "04-closed")
    order = Order.objects.get(number=number)
    assert (order.state, order.satisfaction) == ("closed", "satisfied")
    log_out(page)

    # The citizen checks the status without logging in.
    page.goto(f"{base}/status/")
    page.fill("#id_number", number)
    page.fill("#id_phone", "13812341234")
    page.click("#status-card button[type=submit]")
    page.locator(".result-state").wait_for()
    assert page.locator(".result-state").inner_text() == "已办结"
    assert "已抢修管道" in page.locator("#status-result").inner_text()
    shot(page, "05-status")


def test_order_list_filters_without_reloading(live_server: LiveServer, city: City, page: Page) -> None:
    from tests.portal.conftest import new_order

    water = new_order(city, title="停水")
    noise = new_order(city, title="噪声扰民", category="100201", type="suggestion")
    base = live_server.url
    log_in(page, base, "alice")
    rows = page.locator("#order-results tbody tr")
    assert rows.count() == 2
    page.evaluate("window.notReloaded = true")
    page.select_option("#id_type", "suggestion")  # htmx swaps the table on change
    page.wait_for_url(re.compile(r"type=suggestion"))
    page.locator(f"#order-results >> text={water.number}").wait_for(state="detached")
    assert rows.count() == 1 and noise.number in rows.first.inner_text()
    assert page.evaluate("window.notReloaded") is True
    shot(page, "06-order-list")


def test_language_switch_and_wrong_status_lookup(live_server: LiveServer, city: City, page: Page) -> None:
    base = live_server.url
    page.goto(f"{base}/status/")
    page.fill("#id_number", "12345678")
    page.fill("#id_phone", "13800000000")
    page.click("#status-card button[type=submit]")
    page.locator("#status-result .late-text").wait_for()
    assert "没有" in page.locator("#status-result").inner_text()
    page.select_option("header select[name=language]", "en")
    page.wait_for_load_state()
    shot(page, "07-english")
    page.locator("text=Check my request").first.wait_for()
    assert "Check my request" in page.content()
