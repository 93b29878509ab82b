"""What the role journeys (tests/e2e/test_journey_*_browser.py) share: one browser per module,
a window per person, logged in through the real login page (or, for administrators whose login
asks for a TOTP code, with a finished session), and ``step``: axe-core on the page and a
screenshot kept under test-artifacts/screenshots/journeys/."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.test import Client

from tests.e2e.test_citizen_portal_browser import AXE, check_axe
from tests.e2e.test_portal_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS
from tests.portal.conftest import ensure_compiled_messages

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page

    from hotline.directory.models import User

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

JOURNEY_SHOTS = SHOTS / "journeys"
LIVE_MS = 20_000  # what a page waits for something live: CI shares two cores
expect.set_options(timeout=LIVE_MS)


@pytest.fixture(scope="module")
def journey_browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make debian)")
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make axe`")
    JOURNEY_SHOTS.mkdir(parents=True, exist_ok=True)
    ensure_compiled_messages()  # the assertions read the Chinese UI
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def window(browser: Browser, base: str, username: str, *, width: int = 1360) -> Page:
    """A new browser window logged in as ``username`` through the login page (the fixture
    city's password is ``pw-<username>``)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN",
                                  accept_downloads=True)
    context.set_default_timeout(LIVE_MS)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert "/login/" not in page.url, f"{username} could not log in"
    return page


def session_window(browser: Browser, base: str, user: User, *, width: int = 1360) -> Page:
    """A window holding a finished login of ``user``, second factor included: for the
    administrators, whose real login (tested in tests/directory) asks for a TOTP code."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN",
                                  accept_downloads=True)
    context.set_default_timeout(LIVE_MS)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": base}])
    return context.new_page()


def step(page: Page, name: str) -> None:
    """A main step of a journey: no serious or critical axe-core violation, and a screenshot."""
    page.wait_for_load_state()
    check_axe(page, name)
    page.screenshot(path=str(JOURNEY_SHOTS / f"{name}.png"), full_page=True)


def messages(page: Page) -> str:
    box = page.locator(".messages")
    return box.inner_text() if box.count() else ""
