"""The knowledge editor's journey, in a real browser: a handler of the water department writes
a service guide for their unit and submits it; the centre's reviewer publishes it from the
review queue; an agent finds it by searching Chinese text (highlighted) and a citizen finds the
public copy on the portal. Every page passes axe-core; screenshots in
test-artifacts/screenshots/journeys/knowledge-*.png."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from hotline.knowledge.models import Entry
from tests.e2e.journeys import expect, journey_browser, step, window  # noqa: F401

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

pytestmark = [pytest.mark.e2e]
TITLE = "居民用水阶梯水价办事指南"
BODY = ("居民生活用水实行阶梯水价。\n\n"
        "第一阶梯每户每年用水量180立方米以内，按基本水价收费；超出部分按第二阶梯收费。")


def test_write_submit_publish_and_find(live_server: LiveServer, city: City,
                                       journey_browser: Browser) -> None:  # noqa: F811
    base = live_server.url

    # The handler writes the guide as a draft of their own unit.
    author = window(journey_browser, base, "hank")
    author.click("#nav-knowledge")
    author.wait_for_url("**/knowledge/")
    step(author, "knowledge-01-search")
    author.click("a.btn[href='/knowledge/new/']")
    author.select_option("#id_kind", "guide")
    author.fill("#id_title", TITLE)
    author.fill("#id_body", BODY)
    author.fill("#id_keywords", "水费 阶梯水价")
    author.select_option("#id_owner", str(city.water.pk))
    step(author, "knowledge-02-new-entry")
    author.click("form.card button[type=submit]")
    author.wait_for_url(re.compile(r"/knowledge/entries/\d+/$"))
    entry = Entry.objects.get(title=TITLE)
    assert entry.owner == city.water and entry.state == "draft"
    expect(author.locator("#working-copy")).to_contain_text("180立方米")
    author.click("form[action$='/submit/'] button")
    author.wait_for_load_state()
    entry.refresh_from_db()
    assert entry.state == "submitted"
    step(author, "knowledge-03-submitted")
    author.context.close()

    # The centre's reviewer publishes it from the review queue.
    reviewer = window(journey_browser, base, "monica")
    reviewer.goto(f"{base}/knowledge/review/")
    row = reviewer.locator("#kb-review tbody tr", has_text=TITLE)
    expect(row).to_have_count(1)
    step(reviewer, "knowledge-04-review-queue")
    row.locator("form[action$='/publish/'] button").click()
    reviewer.wait_for_load_state()
    expect(reviewer.locator("#kb-review tbody tr", has_text=TITLE)).to_have_count(0)
    entry.refresh_from_db()
    assert entry.state == "published"
    reviewer.context.close()

    # An agent finds it by a word of its text; the word is highlighted.
    agent = window(journey_browser, base, "alice")
    agent.goto(f"{base}/knowledge/")
    agent.fill("#id_q", "阶梯水价")  # the results follow the typing (htmx)
    hit = agent.locator("#kb-hits li", has_text="居民用水").first
    expect(hit).to_be_visible()
    agent.wait_for_function("() => !document.querySelector('.htmx-request')")
    expect(hit.locator("mark").first).to_be_visible()
    step(agent, "knowledge-05-found")
    hit.locator(".kb-title a").click()
    agent.wait_for_url(f"**/knowledge/entries/{entry.pk}/")
    expect(agent.locator("#published")).to_contain_text("第二阶梯")
    step(agent, "knowledge-06-entry")
    agent.context.close()

    # A citizen finds the public copy on the portal, without logging in.
    context = journey_browser.new_context(viewport={"width": 390, "height": 844},
                                          locale="zh-CN", is_mobile=True)
    citizen = context.new_page()
    citizen.goto(f"{base}/knowledge/public/?q=水费")
    hit = citizen.locator("#kb-hits li", has_text="居民用水").first
    expect(hit).to_be_visible()
    hit.locator(".kb-title a").click()
    citizen.wait_for_url(f"**/knowledge/public/{entry.pk}/")
    expect(citizen.locator("main")).to_contain_text("180立方米")
    step(citizen, "knowledge-07-public")
    context.close()
