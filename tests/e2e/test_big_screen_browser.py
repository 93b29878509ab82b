"""The big screen (大屏) in a real browser (Debian's chromium through Playwright) at 1920 x 1080
against the live ASGI server: the shift monitor opens it, it shows today's figures and the
district map, follows a call joining the queue and an agent signing in without a reload, and
passes axe-core. The screenshot lands in test-artifacts/screenshots/big-screen-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from hotline.contactcentre import services
from hotline.orders.services import NewOrder, do_create_order
from tests.desk.conftest import desk  # noqa: F401
from tests.e2e.asgi_server import asgi_server  # noqa: F401
from tests.e2e.test_citizen_portal_browser import check_axe
from tests.e2e.test_portal_browser import browser, log_in, playwright_sync, shot  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

expect = playwright_sync.expect
LIVE_MS = 30_000  # generous: how fast is not the point (CI shares two cores), no reload is


@pytest.fixture
def hall(browser: Any) -> Any:  # noqa: F811
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def tid(value: str) -> str:
    return f"[data-testid='{value}']"


def test_the_big_screen_follows_the_day_live(asgi_server: Any, desk: Any, hall: Any) -> None:  # noqa: F811
    for title in ("丽发新城小区停水", "东街路灯不亮"):
        do_create_order(desk.agent, NewOrder(
            type="complaint", channel="phone", title=title, text=title + "，请尽快处理",
            citizen_phone="13812341234", district="gulou", category="100101"),
            now=timezone.now())
    log_in(hall, asgi_server.url, "monica")
    hall.goto(f"{asgi_server.url}/insight/screen/")
    expect(hall.locator(tid("screen-live"))).to_have_attribute("data-state", "live",
                                                               timeout=LIVE_MS)
    assert "12345" in hall.title()
    expect(hall.locator(tid("screen-orders-received"))).to_have_text("2")
    expect(hall.locator(tid("district-gulou"))).to_have_class("district lvl-4")
    expect(hall.locator(f"{tid('district-gulou')} .district-count")).to_have_text("2")
    expect(hall.locator(tid("district-taijiang"))).to_have_class("district lvl-0")
    expect(hall.locator(tid("screen-offered"))).to_have_text("0")
    hall.evaluate("window.__sameDocument = true")  # gone if the page reloaded

    services.do_sign_in(desk.agent)
    services.do_set_state(desk.agent, "ready")
    expect(hall.locator(tid("screen-agents-ready"))).to_have_text("1", timeout=LIVE_MS)
    services.do_enqueue_call(desk.cantonese, call_ref="hall-1", caller="13800000000")
    expect(hall.locator(tid("screen-offered"))).to_have_text("1", timeout=LIVE_MS)
    expect(hall.locator(tid("screen-waiting"))).to_have_text("1", timeout=LIVE_MS)
    assert hall.evaluate("window.__sameDocument") is True

    box = hall.locator("#screen").bounding_box()
    assert box is not None and (box["width"], box["height"]) == (1920, 1080)
    shot(hall, "big-screen-01-live")
    check_axe(hall, "big screen")
