"""The centre's journey through its work queues, in a real browser: the shift monitor opens
/queues/ with one order waiting in each queue, re-dispatches a returned order to another unit
(the return's arbitration), grants a department's extension, checks and approves a reply,
escalates a major event to a linkage unit and sees it wait for that unit's confirmation. Each
queue's count follows. Every page passes axe-core; screenshots in
test-artifacts/screenshots/journeys/centre-*.png."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.orders.models import Assignment, Order
from hotline.orders.services import do_action
from tests.e2e.journeys import expect, journey_browser, step, window  # noqa: F401
from tests.outreach.callback_policy import agents_call_back  # noqa: F401 - autouse
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

    from tests.conftest import City

pytestmark = [pytest.mark.e2e]


def _count(page: Page, queue: str) -> str:
    return page.locator(f'[data-queue-count="{queue}"]').inner_text().strip()


def _open_from_queue(page: Page, queue: str, number: str) -> None:
    page.click(f"#queue-tab-{queue}")
    page.wait_for_url(f"**/queues/?queue={queue}")
    page.click(f"#queue-row-{number} a[href='/orders/{number}/']")
    page.wait_for_url(f"**/orders/{number}/")


def _act(page: Page, action: str, fields: dict[str, str] | None = None,
         select: dict[str, str] | None = None) -> None:
    page.click(f"#action-{action} summary")
    for selector, value in (select or {}).items():
        page.select_option(selector, value)
    for selector, value in (fields or {}).items():
        page.fill(selector, value)
    page.click(f"#action-{action} button[type=submit]")
    page.wait_for_load_state()


def test_review_returns_extensions_replies_and_escalations(
        live_server: LiveServer, city: City, journey_browser: Browser) -> None:  # noqa: F811
    base = live_server.url
    returned = new_order(city, title="东街漏水")
    do_action(city.agent, returned.number, "dispatch")
    do_action(city.handler, returned.number, "return", {"reason": "属住建局管辖的小区管网"})
    extended = new_order(city, title="西街停水")
    do_action(city.agent, extended.number, "dispatch")
    do_action(city.handler, extended.number, "sign")
    do_action(city.handler, extended.number, "request_extension",
              {"days": 5, "reason": "需要更换整段管道"})
    replied = new_order(city, title="南街停水")
    do_action(city.agent, replied.number, "dispatch")
    do_action(city.handler, replied.number, "sign")
    do_action(city.handler, replied.number, "reply", {"reply": "已抢修，恢复供水。"})
    major = new_order(city, title="北街水管爆裂", text="北街主水管爆裂，路面塌陷，多户被淹")

    monitor = window(journey_browser, base, "monica")
    monitor.click("#nav-queues")
    monitor.wait_for_url("**/queues/")
    assert (_count(monitor, "returns"), _count(monitor, "extensions"),
            _count(monitor, "replies"), _count(monitor, "escalations")) == ("1", "1", "1", "0")
    expect(monitor.locator(f"#queue-row-{returned.number}")).to_contain_text("市水务局")
    step(monitor, "centre-01-queues")

    # The return: the history says why; the centre agrees and sends it to housing.
    _open_from_queue(monitor, "returns", returned.number)
    expect(monitor.locator(".timeline")).to_contain_text("属住建局管辖的小区管网")
    step(monitor, "centre-02-return")
    _act(monitor, "approve_return", {"#id_approve_return-note": "转住建局办理"},
         {"#id_approve_return-unit": "housing"})
    expect(monitor.locator("#order-state")).to_have_text("已派单")
    order = Order.objects.get(pk=returned.pk)
    assert order.lead_unit == city.housing
    assert Assignment.objects.filter(order=order, unit=city.housing, role="lead",
                                     active=True).exists()
    step(monitor, "centre-03-redispatched")

    # The extension: five more working days granted, the deadline moves.
    monitor.goto(f"{base}/queues/")
    assert _count(monitor, "returns") == "0"
    before = Order.objects.get(pk=extended.pk).handle_due
    _open_from_queue(monitor, "extensions", extended.number)
    expect(monitor.locator("section.card", has_text="申请延期 5 个工作日")).to_have_count(1)
    step(monitor, "centre-04-extension")
    _act(monitor, "approve_extension", {"#id_approve_extension-note": "同意延期"})
    order = Order.objects.get(pk=extended.pk)
    assert order.extension_pending_days is None
    assert order.handle_due is not None and before is not None and order.handle_due > before
    expect(monitor.locator(".timeline")).to_contain_text("同意延期")

    # The reply: read, approved; it waits for the call back now.
    monitor.goto(f"{base}/queues/")
    assert _count(monitor, "extensions") == "0"
    _open_from_queue(monitor, "replies", replied.number)
    expect(monitor.locator("#order-reply")).to_contain_text("已抢修，恢复供水")
    step(monitor, "centre-05-reply")
    _act(monitor, "approve_reply")
    assert Order.objects.get(pk=replied.pk).state == "callback"

    # A major event: escalated to the environment bureau as a linkage unit.
    monitor.goto(f"{base}/orders/{major.number}/")
    _act(monitor, "escalate", {"#id_escalate-note": "主水管爆裂，路面塌陷"},
         {"#id_escalate-linkage_units": "env"})
    expect(monitor.locator("body")).to_contain_text("重大事件")
    monitor.goto(f"{base}/queues/?queue=escalations")
    assert _count(monitor, "replies") == "0"
    assert _count(monitor, "escalations") == "1"
    expect(monitor.locator(f"#queue-row-{major.number}")).to_be_visible()
    step(monitor, "centre-06-escalations")

    # Once the linkage unit confirms, it leaves the queue.
    do_action(city.env_handler, major.number, "confirm_escalation", {"note": "已派员"})
    monitor.reload()
    assert _count(monitor, "escalations") == "0"
    expect(monitor.locator("#queue-table")).to_contain_text("暂无工单")
    step(monitor, "centre-07-done")
    monitor.context.close()
