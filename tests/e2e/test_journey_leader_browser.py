"""A leader's journey, in a real browser: lands on the reports, reads October's order volume by
unit and drills down to the orders, opens the month's assessment ranking and one unit's page,
makes last week's brief and opens it from the archive, reads the hot issues and puts the big
screen up (live, over the ASGI server). Every page passes axe-core; screenshots in
test-artifacts/screenshots/journeys/leader-*.png."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone

from hotline.insight.rollups import refresh_order_rollups
from tests.e2e.asgi_server import asgi_server  # noqa: F401
from tests.e2e.journeys import expect, journey_browser, step, window  # noqa: F401
from tests.insight.conftest import OUTAGE, make
from tests.insight.test_assessment import months  # noqa: F401 - two scored months

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.conftest import City

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def first_rules(transactional_db: None) -> None:
    """The assessment rules the migration seeds: on PostgreSQL an earlier transactional test's
    flush (TRUNCATE) has removed them."""
    from hotline.insight.assessment_models import AssessmentRules

    seeded = importlib.import_module("hotline.insight.migrations.0006_assessment")
    AssessmentRules.objects.get_or_create(effective_from=dt.date(2000, 1, 1), defaults={
        "definition": seeded.FIRST_RULES, "note": "first version"})


def test_reports_assessment_brief_hot_issues_and_big_screen(
        first_rules: None, asgi_server: Any, city: City, months: Any,  # noqa: F811
        journey_browser: Browser) -> None:  # noqa: F811
    now = timezone.now()
    outage = [make(city, title, text, now - dt.timedelta(hours=2 + 3 * k))
              for k, (title, text) in enumerate(OUTAGE)]
    today = sum(timezone.localtime(o.created_at).date() == timezone.localdate() for o in outage)
    refresh_order_rollups(now=now + dt.timedelta(hours=1))
    base = asgi_server.url

    leader = window(journey_browser, base, "leo")
    assert leader.url.endswith("/insight/reports/")
    step(leader, "leader-01-reports")

    # October's orders by unit: the water department's row, drilled down to its orders.
    leader.click("a[href='/insight/reports/order-volume/']")
    leader.fill("#r-from", "2026-10-01")
    leader.fill("#r-to", "2026-10-31")
    leader.select_option("#r-group", "unit")
    leader.click("#report-form button[type=submit]")
    table = leader.locator("#report-table")
    expect(table).to_contain_text("市水务局")
    expect(leader.locator("#report-comparison")).to_be_visible()
    step(leader, "leader-02-order-volume")
    table.locator("tbody tr", has_text="市水务局").locator("a").first.click()
    leader.wait_for_url("**/insight/reports/orders/drill/**")
    expect(leader.locator("main")).to_contain_text(months.basic.number)
    step(leader, "leader-03-drill-down")

    # The assessment: October's ranking, the environment bureau first, water lower.
    leader.click("#nav-assessment")
    leader.goto(f"{base}/insight/assessment/?month=2026-10")
    ranking = leader.locator("#ranking-departments")
    expect(ranking).to_contain_text("市生态环境局")
    expect(ranking.locator("tbody tr").first).to_contain_text("市生态环境局")
    step(leader, "leader-04-assessment")
    ranking.locator("a", has_text="市水务局").click()
    leader.wait_for_url("**/insight/assessment/units/water/**")
    expect(leader.locator("main")).to_contain_text(months.late.number)
    step(leader, "leader-05-assessment-unit")

    # The weekly brief: made for last week, kept in the archive, opened as a PDF.
    leader.click("#nav-briefs")
    leader.wait_for_url("**/briefs/")
    week = leader.locator("#week").input_value()
    leader.click("form[action='/briefs/make/'] button")
    leader.wait_for_url("**/briefs/")
    row = leader.locator("#briefs tbody tr", has_text=week)
    expect(row).to_have_count(1)
    step(leader, "leader-06-briefs")
    with leader.expect_download() as info:
        # The PDF is shown inline by a browser with a viewer; headless Chromium downloads it.
        row.locator("a").click(modifiers=["Alt"])
    assert info.value.suggested_filename.endswith(".pdf")

    # The hot issues: the planted water cut, with its spike.
    leader.click("nav >> text=热点问题")
    leader.select_option("#id_period", "1")
    leader.click("form.card button[type=submit]")
    first = leader.locator("#hot-issues > li").first
    expect(first).to_contain_text("丽发新城")
    expect(first).to_contain_text("突增")
    step(leader, "leader-07-hot-issues")

    # The big screen for the hall, live.
    leader.set_viewport_size({"width": 1920, "height": 1080})
    leader.goto(f"{base}/insight/screen/")
    expect(leader.locator("[data-testid='screen-live']")).to_have_attribute(
        "data-state", "live")
    expect(leader.locator("[data-testid='screen-orders-received']")).to_have_text(
        str(today))
    step(leader, "leader-08-big-screen")
    leader.context.close()
