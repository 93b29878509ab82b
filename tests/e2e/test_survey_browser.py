"""The survey page in a real browser on a phone-sized screen, opened from the link of the
survey SMS: the error summary for a missing choice, the answer recorded on the order, the
thank-you. axe-core reports no serious or critical violation (the citizen portal's helper)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_citizen_portal_browser import check_axe, phone, phone_browser
from tests.e2e.test_portal_browser import shot

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.fixtures import Settings
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

pytestmark = [pytest.mark.e2e]
__all__ = ["phone", "phone_browser"]  # the fixtures, found by pytest as names of this module


def test_rate_an_answer_from_the_survey_sms_link_on_a_phone(
        live_server: LiveServer, city: City, phone: Page, settings: Settings) -> None:
    from hotline.intake.sms.outbound import LOG_OUTBOX
    from hotline.orders.models import Order
    from hotline.orders.services import NewOrder, do_action, do_create_order
    from hotline.outreach import surveys

    settings.HOTLINE_SMS_PROVIDER = "log"
    settings.HOTLINE_PUBLIC_URL = live_server.url
    settings.HOTLINE_OUTREACH_QUIET_START = settings.HOTLINE_OUTREACH_QUIET_END  # any hour
    LOG_OUTBOX.clear()
    order = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="东街小区停水",
        citizen_phone="13800001111", district="gulou", category="100101"))[0]
    do_action(city.agent, order.number, "dispatch", {"unit": "water"})
    do_action(city.handler, order.number, "sign")
    do_action(city.handler, order.number, "reply", {"reply": "已修复爆管，恢复供水"})
    do_action(city.agent, order.number, "approve_reply")
    surveys.start_sms_survey(Order.objects.get(pk=order.pk))
    link = re.search(r"http://\S+", LOG_OUTBOX[-1].text)
    assert link is not None

    phone.goto(link.group(0))
    assert "已修复爆管" in phone.locator("#reply").inner_text()
    check_axe(phone, "survey page")
    phone.check("#id_resolved_0")
    phone.click("form button.btn")  # no satisfaction chosen: the error summary
    phone.locator("#error-summary").wait_for()
    check_axe(phone, "survey page with errors")
    phone.check("#id_resolved_0")
    phone.check("#id_satisfaction_0")
    phone.fill("#id_words", "处理及时")
    phone.click("form button.btn")
    phone.locator("#survey-done").wait_for(timeout=30_000)
    check_axe(phone, "survey answered")
    shot(phone, "survey-01-answered")
    order.refresh_from_db()
    assert (order.state, order.satisfaction, order.resolved) == ("closed", "satisfied", True)
