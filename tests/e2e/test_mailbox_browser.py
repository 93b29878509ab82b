"""The mayor's mailbox in a real browser on a phone-sized screen: write a letter with an SMS
code, see the number and the acknowledgement deadline; once answered it is on the public list,
found by a word, and opens on its own page. axe-core reports no serious or critical violation on
the write page, the list and the letter (the helper of the citizen portal's browser test)."""

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


def test_write_a_letter_and_read_it_published_on_a_phone(
        live_server: LiveServer, city: City, phone: Page, settings: Settings,
        tmp_path: object) -> None:
    from hotline.intake.models import MailboxLetter
    from hotline.intake.sms.outbound import LOG_OUTBOX
    from hotline.orders.models import Order
    from hotline.orders.services import do_action

    settings.MEDIA_ROOT = tmp_path
    base = live_server.url
    LOG_OUTBOX.clear()
    phone.goto(f"{base}/citizen/mailbox/write/")
    check_axe(phone, "mailbox write page")

    phone.click("form button.btn:not(.secondary)")  # nothing filled in: the error summary
    phone.wait_for_load_state()
    assert phone.locator("#error-summary a[href='#id_title']").count() == 1
    check_axe(phone, "mailbox write page with errors")

    phone.fill("#id_title", "建议在幸福路增设公交站")
    phone.fill("#id_text", "幸福路一带没有公交站，老人出行不便。我的电话13912345678。")
    phone.select_option("#id_district", "gulou")
    phone.fill("#id_name", "李四")
    phone.fill("#id_phone", "13800138000")
    phone.click("button[name=send_code]")
    phone.locator(".notice").wait_for()
    code = re.search(r"\d{6}", [s for s in LOG_OUTBOX if s.purpose == "verify"][-1].text)
    assert code is not None
    phone.fill("#id_code", code.group(0))
    phone.check("#id_publish")
    phone.click("form button.btn:not(.secondary)")
    phone.locator("#acceptance-number").wait_for()
    number = phone.locator("#acceptance-number").inner_text().strip()
    assert phone.locator("#acknowledge-by").inner_text().strip()
    assert Order.objects.get(number=number).channel == "mailbox"
    check_axe(phone, "letter received")
    shot(phone, "mailbox-01-received")

    do_action(city.agent, number, "dispatch", {"unit": "water"})
    do_action(city.handler, number, "sign")
    do_action(city.handler, number, "reply", {"reply": "已将您的建议转交公交集团研究。"})
    do_action(city.agent, number, "approve_reply")

    phone.goto(f"{base}/citizen/mailbox/")
    assert "建议在幸福路增设公交站" in phone.locator("#letters").inner_text()
    check_axe(phone, "published letters")
    phone.fill("#id_q", "公交站")
    phone.click("form[role=search] button")
    phone.wait_for_url(re.compile(r"q="))
    phone.locator("#result-count").wait_for()
    check_axe(phone, "published letters searched")
    phone.click("#letters h2 a")
    phone.locator("#reply").wait_for()
    letter = MailboxLetter.objects.get(order__number=number)
    assert phone.url.endswith(f"/citizen/mailbox/{letter.pk}/")
    text = phone.locator("#letter").inner_text()
    assert "老人出行不便" in text and "139****5678" in text and "市水务局" in text
    for secret in ("李四", "13800138000", "13912345678", number):
        assert secret not in phone.content()
    check_axe(phone, "published letter")
    shot(phone, "mailbox-02-published")
