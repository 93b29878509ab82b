"""The administrators' journey (三员分立), in a real browser: an agent locks herself out by
mistyping her password; the security administrator sees the lockout on the security settings
and unlocks her; she logs in and opens an order with a citizen's number; the audit
administrator finds that access in the access log. Every page passes axe-core; screenshots in
test-artifacts/screenshots/journeys/admin-*.png."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.conf import settings

from tests.e2e.journeys import (  # noqa: F401
    expect,
    journey_browser,
    session_window,
    step,
    window,
)
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

pytestmark = [pytest.mark.e2e]


def test_lockout_unlock_and_the_access_log(live_server: LiveServer, city: City,
                                           journey_browser: Browser) -> None:  # noqa: F811
    base = live_server.url
    order = new_order(city, citizen_phone="13812349876", citizen_name="张三")

    # The agent mistypes her password until the account locks.
    context = journey_browser.new_context(viewport={"width": 1360, "height": 900},
                                          locale="zh-CN")
    login = context.new_page()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login.goto(f"{base}/login/")
        login.fill("#id_username", "alice")
        login.fill("#id_password", "wrong-password")
        login.click("form button[type=submit]")
        login.wait_for_load_state()
    expect(login.locator("#login-locked")).to_be_visible()  # told, without saying why
    step(login, "admin-01-locked-out")
    context.close()

    # The security administrator sees the lockout and lifts it.
    security = session_window(journey_browser, base, city.security_admin)
    security.goto(f"{base}/")
    security.click("#nav-security")
    security.wait_for_url("**/security/")
    row = security.locator("#attempts tbody tr", has_text="alice")
    expect(row).to_contain_text("是")
    step(security, "admin-02-security-settings")
    unlock = security.locator("form:has(input[name=do][value=unlock])")
    unlock.locator("#id_unlock-username").fill("alice")
    unlock.locator("button[type=submit]").click()
    security.wait_for_load_state()
    expect(security.locator("#attempts tbody tr", has_text="alice")).to_have_count(0)
    step(security, "admin-03-unlocked")
    security.context.close()

    # She logs in again and opens the order, the citizen's number on it.
    agent = window(journey_browser, base, "alice")
    agent.goto(f"{base}/orders/{order.number}/")
    expect(agent.locator("main")).to_contain_text("13812349876")
    agent.context.close()

    # The audit administrator finds who saw the citizen's number.
    audit = session_window(journey_browser, base, city.audit_admin)
    audit.goto(f"{base}/")
    audit.click("#nav-access-log")
    audit.wait_for_url("**/audit/access-log/**")
    audit.fill("#id_user", "alice")
    audit.fill("#id_order_number", order.number)
    audit.click("form.card button[type=submit]")
    audit.wait_for_load_state()
    entries = audit.locator("#access-log tbody tr.access-entry")
    expect(entries.first).to_contain_text("alice")
    expect(entries.first).to_contain_text(order.number)
    step(audit, "admin-04-access-log")
    audit.context.close()
