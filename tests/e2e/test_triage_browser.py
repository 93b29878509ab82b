"""The agent's order form in a real browser: as the agent types, the classifier's suggestions
and knowledge-base answers appear beside the form; one click takes the suggested category."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_portal_browser import browser, log_in, page, shot  # noqa: F401 - fixtures
from tests.triage.conftest import labelled_history, model_dir  # noqa: F401 - fixture

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

pytestmark = [pytest.mark.e2e]


def test_suggestions_appear_as_the_agent_types(
    live_server: LiveServer, city: City, page: Page, model_dir: Path,  # noqa: F811
) -> None:
    from hotline.triage.training import do_train_classifier
    from tests.knowledge.conftest import publish

    labelled_history(city)
    assert do_train_classifier().activated
    publish(city, title="停水后多久恢复供水", body="<p>计划停水一般在24小时内恢复。</p>")

    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/orders/new/")
    page.fill("#id_title", "停水")
    page.locator("#id_text").press_sequentially("我家小区从昨天开始停水，一直没有来水", delay=20)
    suggestion = page.locator("#triage-suggestions .triage-use").first
    suggestion.wait_for()
    assert "市水务局" in page.locator("#triage-suggestions").inner_text()
    page.locator("#kb-suggestions .kb-title").first.wait_for()
    assert "停水后多久恢复供水" in page.locator("#kb-suggestions").inner_text()
    suggestion.click()
    assert page.locator("#id_category").input_value() == "100101"
    shot(page, "order-form-suggestions")
