"""The citizen portal in a real browser on a phone-sized screen: submit with an SMS code, see
the number, follow the request on its timeline, rate it; axe-core (from npm, `make axe`) is
injected into every page and must report no serious or critical violation."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_portal_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS, shot
from tests.portal.conftest import ensure_compiled_messages

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
playwright_sync = pytest.importorskip("playwright.sync_api")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def phone_browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make debian)")
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make axe`")
    SHOTS.mkdir(parents=True, exist_ok=True)
    ensure_compiled_messages()
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(phone_browser: Browser) -> Iterator[Page]:
    context = phone_browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                        is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def check_axe(page: Page, name: str) -> None:
    """axe-core's own script added to the page (a script tag would need the CSP's consent;
    Playwright evaluates it in the page's context instead)."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate("() => axe.run(document)")
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: {bad}"


def test_submit_follow_and_rate_on_a_phone(live_server: LiveServer, city: City,
                                           phone: Page) -> None:
    from hotline.intake.sms.outbound import LOG_OUTBOX
    from hotline.orders.models import Order
    from hotline.orders.services import do_action

    base = live_server.url
    LOG_OUTBOX.clear()
    phone.goto(f"{base}/citizen/")
    check_axe(phone, "home")
    phone.click("a.btn[href='/citizen/submit/']")
    phone.wait_for_url(re.compile(r"/citizen/submit/$"))
    check_axe(phone, "submit form")

    # Submitting nothing: the error summary, linked to the fields.
    phone.click("form button.btn:not(.secondary)")
    phone.wait_for_load_state()
    assert phone.locator("#error-summary a[href='#id_text']").count() == 1
    check_axe(phone, "form with errors")
    shot(phone, "citizen-01-errors")

    # With JS the category is picked in two steps.
    phone.check("#id_order_type_1")
    phone.select_option("#category-group", index=1)
    phone.select_option("#id_category", "100101")
    phone.fill("#id_text", "小区停水两天了，请尽快处理。")
    phone.select_option("#id_district", "gulou")
    phone.select_option("#id_street", "gulou-dongjie")
    phone.fill("#id_address", "东街1号")
    phone.fill("#id_phone", "13800138000")
    phone.click("button[name=send_code]")
    phone.wait_for_load_state()
    phone.locator(".notice").wait_for()
    code = re.search(r"\d{6}", [s for s in LOG_OUTBOX if s.purpose == "verify"][-1].text)
    assert code is not None
    phone.fill("#id_code", code.group(0))
    phone.click("form button.btn:not(.secondary)")
    phone.locator("#acceptance-number").wait_for()
    number = phone.locator("#acceptance-number").inner_text().strip()
    assert Order.objects.get(number=number).channel == "web"
    check_axe(phone, "confirmation")
    shot(phone, "citizen-02-accepted")

    do_action(city.agent, number, "dispatch")
    do_action(city.handler, number, "sign")
    do_action(city.handler, number, "reply", {"reply": "已恢复供水。"})
    do_action(city.agent, number, "approve_reply")

    phone.goto(f"{base}/citizen/follow/")
    phone.fill("#id_number", number)
    phone.fill("#id_phone", "13800138000")
    phone.click("form button.btn")
    phone.wait_for_url(re.compile(rf"/citizen/requests/{number}/$"))
    assert "市水务局" in phone.locator("#timeline").inner_text()
    assert "已恢复供水" in phone.locator("#reply").inner_text()
    check_axe(phone, "timeline with rating")
    phone.check("#id_satisfaction_0")
    phone.fill("#id_words", "很快")
    phone.click("form[action$='/rate/'] button")
    phone.wait_for_url(re.compile(rf"/citizen/requests/{number}/$"))
    phone.locator("form[action$='/reopen/']").wait_for()
    assert Order.objects.get(number=number).state == "closed"
    check_axe(phone, "timeline closed")
    shot(phone, "citizen-03-rated")
