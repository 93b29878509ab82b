"""The citizen's preference page in a real browser (Debian's chromium through Playwright) on a
phone-sized page: the link from a mail opens it without a login, the citizen chooses email
only and no campaigns; then, without the mail, the phone and an SMS code open it and SMS is
stopped (intake's TD list). axe-core checks both pages; the choices count at once."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_citizen_portal_browser import check_axe, phone, phone_browser  # noqa: F401
from tests.e2e.test_portal_browser import shot

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

pytestmark = [pytest.mark.e2e]


def test_a_citizen_changes_how_12345_reaches_them(live_server: LiveServer, city: City,
                                                  phone: Page) -> None:  # noqa: F811
    from hotline.intake.models import SmsOptOut
    from hotline.intake.sms.outbound import LOG_OUTBOX
    from hotline.orders.models import Citizen
    from hotline.outreach import consent, preferences
    from hotline.outreach.models import PreferenceChange

    base = live_server.url
    citizen = Citizen.objects.create(phone="13800138000", email="wang@example.org")
    link = preferences.preference_link("wang@example.org", "campaign")
    phone.goto(base + "/" + link.split("://", 1)[1].split("/", 1)[1])
    assert phone.locator("html").get_attribute("lang", timeout=5000) == "zh-CN"  # Chinese first
    check_axe(phone, "preferences by link")
    phone.check("input[name=channel][value=email]")
    phone.uncheck("#id_campaigns")
    shot(phone, "preferences-01-link")
    phone.click("#preferences button[type=submit]")
    phone.wait_for_selector("#saved")
    assert phone.locator("input[name=channel][value=email]").is_checked()
    assert not consent.may_message(citizen, "sms")
    assert not consent.may_message(citizen, "email", purpose="campaign")
    assert consent.may_message(citizen, "email")

    # Without the mail: the phone and a code from the SMS.
    LOG_OUTBOX.clear()
    phone.goto(f"{base}/citizen/")
    phone.click("a[href='/citizen/preferences/']")
    check_axe(phone, "preferences start")
    phone.fill("#id_phone", "13800138000")
    phone.click("button[name=send_code]")
    phone.wait_for_selector("p.notice[role=status]")
    sent = [s for s in LOG_OUTBOX if s.purpose == "verify"]
    assert sent
    code = re.search(r"\d{6}", sent[-1].text)
    assert code
    phone.fill("#id_code", code.group(0))
    phone.click("#preferences-start button[type=submit]:not([name])")
    phone.wait_for_url(re.compile(r"/citizen/preferences/phone/$"))
    assert "138****8000" in phone.content()
    check_axe(phone, "preferences by phone")
    phone.check("#id_sms_stopped")
    phone.click("#preferences button[type=submit]")
    phone.wait_for_selector("#saved")
    shot(phone, "preferences-02-phone")
    assert SmsOptOut.objects.filter(phone="13800138000").exists()
    assert list(PreferenceChange.objects.order_by("pk").values_list("via", flat=True)) == [
        "email_link", "phone_code"]
