"""The order list in a real browser (Debian's chromium through Playwright) against a live
server: search by a phone's last digits, sort by a column, export the list to Excel (at once,
and in the worker with its progress page), print an order and download its assignment letter;
and the navigation on one row at 1280, 1440 and
1920 px for the role with the most links."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from hotline.orders.services import do_action
from tests.e2e.test_portal_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS, shot
from tests.portal.conftest import ensure_compiled_messages, new_order

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, BrowserContext
    from pytest_django.fixtures import Settings
    from pytest_django.live_server_helper import LiveServer

    from hotline.directory.models import User
    from tests.conftest import City

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make debian)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    ensure_compiled_messages()
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def signed_in(browser: Browser, live_server: LiveServer, user: User,
              width: int = 1360) -> BrowserContext:
    """A browser context holding the session of ``user`` (logged in as the test client does,
    second factor included for administrators)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN",
                                  accept_downloads=True)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    context.set_default_timeout(20_000)
    return context


def test_search_sort_export_and_print(live_server: LiveServer, city: City,
                                      browser: Browser) -> None:
    water = do_action(city.agent, new_order(city, citizen_phone="13812345678",
                                            citizen_name="张三").number, "dispatch")
    others = [new_order(city, title=f"路灯不亮{i}", citizen_phone=f"1390000{i:04d}")
              for i in range(3)]
    context = signed_in(browser, live_server, city.agent)
    page = context.new_page()
    base = live_server.url
    page.goto(f"{base}/orders/")
    assert page.locator("#nav-knowledge").is_visible()
    assert page.locator("link[rel=icon]").get_attribute("href") == "/static/web/favicon.svg"

    # Search by the phone's last digits: htmx swaps the table in.
    page.fill("#id_q", "5678")
    page.press("#id_q", "Enter")
    page.wait_for_url(re.compile(r"q=5678"))
    rows = page.locator("#order-results tbody tr")
    rows.first.wait_for()
    page.wait_for_function(
        "document.querySelectorAll('#order-results tbody tr').length === 1")
    assert water.number in rows.first.inner_text()

    # Clear the search, sort by number (ascending, then descending).
    page.goto(f"{base}/orders/")
    page.click("#order-results th a.sort >> nth=0")
    page.wait_for_url(re.compile(r"sort=-number"))
    expected = sorted([water.number, *(o.number for o in others)], reverse=True)
    page.wait_for_function(
        "n => document.querySelector('#order-results tbody tr td a').textContent === n",
        arg=expected[0])
    shown = page.locator("#order-results tbody tr td:first-child a").all_inner_texts()
    assert shown == expected
    page.click("#order-results th a.sort >> nth=0")
    page.wait_for_url(re.compile(r"sort=number"))
    page.wait_for_function(
        "n => document.querySelector('#order-results tbody tr td a').textContent === n",
        arg=expected[-1])
    shot(page, "order-list-sorted")

    # Export what the list shows (sorted): the browser downloads a workbook.
    with page.expect_download() as info:
        page.click("#export-form button")
    download = info.value
    assert re.fullmatch(r"work-orders-\d{8}-\d{6}\.xlsx", download.suggested_filename)
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    assert sheet is not None
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == expected[::-1]

    # Print the water order, then its assignment letter.
    page.goto(f"{base}/orders/{water.number}/")
    page.click("#print-link")
    page.wait_for_url(re.compile(rf"/orders/{water.number}/print/"))
    sheet_text = page.locator("#print-sheet").inner_text()
    assert water.number in sheet_text and "张三" in sheet_text and "市水务局" in sheet_text
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
    assert page.locator("#print-sheet").is_visible()
    page.emulate_media(media="screen")
    shot(page, "order-print")
    with page.expect_download() as letter_info:
        page.click("#letter-link")
    letter = letter_info.value
    assert letter.suggested_filename == f"jiaobandan-{water.number}.pdf"
    reader = PdfReader(io.BytesIO(Path(letter.path()).read_bytes()))
    text = "".join((reader.pages[0].extract_text() or "").split())
    assert water.number in text and "市水务局" in text
    context.close()


def test_a_large_export_shows_progress_and_a_download(live_server: LiveServer, city: City,
                                                     browser: Browser,
                                                     settings: Settings) -> None:
    settings.HOTLINE_ORDER_EXPORT_INLINE_ROWS = 1  # two orders are "large": the worker builds it
    numbers = sorted(new_order(city, title=f"井盖缺失{i}").number for i in range(2))
    context = signed_in(browser, live_server, city.agent)
    page = context.new_page()
    page.goto(f"{live_server.url}/orders/?sort=number")
    page.click("#export-form button")
    page.wait_for_url(re.compile(r"/orders/exports/\d+/$"))
    page.locator("#export-download").wait_for()  # polled by htmx until the worker is done
    assert page.locator("#export-progress progress").get_attribute("value") == "100"
    shot(page, "order-export-done")
    with page.expect_download() as info:
        page.click("#export-download")
    sheet = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active
    assert sheet is not None
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == numbers
    context.close()


@pytest.mark.parametrize("width", [1280, 1440, 1920])
def test_the_navigation_never_wraps(live_server: LiveServer, city: City, browser: Browser,
                                    width: int) -> None:
    city.admin.is_staff = True
    city.admin.save()
    for user in (city.admin, city.monitor):
        context = signed_in(browser, live_server, user, width=width)
        page = context.new_page()
        page.goto(f"{live_server.url}/orders/")
        tops = page.eval_on_selector_all("nav.nav a", "links => links.map(a => a.offsetTop)")
        assert len(tops) >= 8 and len(set(tops)) == 1, tops  # every link on one row
        nav = page.locator("nav.nav").bounding_box()
        link = page.locator("nav.nav a").first.bounding_box()
        assert nav is not None and link is not None
        assert nav["height"] < 2 * link["height"]
        # Nothing of the page is cut off sideways: the bar scrolls, the page does not.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if width == 1280:
            shot(page, f"nav-{user.role}-{width}")
        context.close()
