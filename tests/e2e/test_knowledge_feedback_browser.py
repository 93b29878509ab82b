"""The knowledge panel of the new-order form in a real browser: an agent types a question, the
fitting entry and a reference case (a closed order with its reply) appear; "not what I need"
on the suggestion stores a feedback row without submitting the order form around it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.knowledge.models import SuggestionFeedback
from hotline.orders.models import Order
from hotline.orders.services import do_action
from hotline.triage import similar
from tests.e2e.test_portal_browser import browser, log_in, page, shot  # noqa: F401
from tests.knowledge.conftest import publish
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

pytestmark = [pytest.mark.e2e]

QUESTION = "和平新村3栋到现在还是没有水，也没有看到停水通知"


def test_agent_sees_fitting_answers_and_marks_one(
    live_server: LiveServer, city: City, page: Page,  # noqa: F811
) -> None:
    from hotline.core import segmentation
    from hotline.knowledge.models import Synonym

    similar.cache.clear()
    Synonym.objects.create(term="停水", equivalents="没有水 没水")
    segmentation.reload_user_words()
    publish(city, title="家里突然停水怎么办", body="先看小区公告栏是否有计划停水通知。",
            keywords="停水 断水")
    publish(city, title="婚姻登记办事指南", body="结婚登记须双方本人到场，3张照片。",
            keywords="结婚登记", categories=[])
    old = new_order(city, title="和平新村停水", text="和平新村停水了，一直没有通知，请尽快恢复")
    do_action(city.agent, old.number, "answer", {"reply": "管网抢修已完成，已恢复供水。"})
    orders_before = Order.objects.count()

    base = live_server.url
    log_in(page, base, "alice")
    page.goto(f"{base}/orders/new/")
    page.fill("#id_text", QUESTION)
    page.locator("#id_text").press("End")
    page.wait_for_selector("[data-testid=kb-not-helpful]")
    panel = page.locator("#kb-suggestions")
    assert "家里突然停水怎么办" in panel.inner_text()
    assert "婚姻登记" not in panel.inner_text()
    cases = page.locator("[data-testid=kb-reference-cases]")
    assert old.number in cases.inner_text() and "已恢复供水" in cases.inner_text()
    shot(page, "kb-suggestions")

    page.locator("[data-testid=kb-not-helpful]").first.click()
    page.wait_for_selector("[data-testid=kb-feedback-done]")
    row = SuggestionFeedback.objects.get()
    assert row.entry.title == "家里突然停水怎么办"
    assert row.query == QUESTION and row.user == city.agent
    assert Order.objects.count() == orders_before  # the order form was not submitted
    similar.cache.clear()
