"""The hot-issue page in a real browser (Debian's chromium through Playwright): a leader opens
it from the navigation, sees the planted water-cut thread with its spike and the chart, and
follows a sample to the order page. Screenshot: test-artifacts/screenshots/hot_issues.png."""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone

from tests.e2e.test_portal_browser import browser, log_in, page, shot  # noqa: F401
from tests.insight.conftest import OUTAGE, make

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e]


def test_leader_reads_hot_issues_in_the_browser(live_server: LiveServer, city: City, page: Page) -> None:  # noqa: F811
    now = timezone.now()
    orders = [make(city, title, text, now - dt.timedelta(hours=2 + 3 * k))
              for k, (title, text) in enumerate(OUTAGE)]
    base = live_server.url
    # The first requests import the URLconf and compile templates: slow on a busy machine.
    page.set_default_timeout(90_000)
    log_in(page, base, "leo")
    page.click("nav >> text=热点问题")
    page.select_option("#id_period", "1")
    page.click("form.card button[type=submit]")
    page.wait_for_selector("#hot-issues li")
    first = page.locator("#hot-issues > li").first
    assert "丽发新城" in first.inner_text()
    assert "突增" in first.inner_text()
    assert page.locator("#hot-chart svg polyline").count() >= 1
    shot(page, "hot_issues")
    first.locator(".hot-samples a").first.click()
    page.wait_for_url(f"{base}/orders/*/")
    assert any(o.number in page.url for o in orders)
