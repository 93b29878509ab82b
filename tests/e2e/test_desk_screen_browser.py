"""The agent's screen at 1440×900 in a real browser (Debian's chromium through Playwright)
against the real ASGI application; the gateway is simulated with the desk services.

Idle, the desk shows the agent's own figures for today and a knowledge search, and the
shortcuts work without a call (?, Alt+K, Alt+N). On a call the order form, its helpers
(suggestions, duplicates, knowledge answers) and the caller's pane sit side by side and the
common case (citizen, text, category, answer or dispatch) fits the window: the page does not
scroll. One click puts a knowledge answer into the reply; "answer and close" is one submit;
back to idle, the figures count the call and the order. axe-core finds no serious violation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from hotline.contactcentre.models import SipExtension
from hotline.contactcentre.services import do_call_answered, do_call_ended, do_enqueue_call, do_route
from hotline.orders.contacts import NewContact, do_record_contact
from hotline.orders.models import Order
from tests.desk.conftest import desk  # noqa: F401
from tests.e2e.asgi_server import asgi_server  # noqa: F401
from tests.e2e.test_citizen_portal_browser import check_axe
from tests.e2e.test_portal_browser import browser, log_in, shot  # noqa: F401

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, FloatRect, Locator, Page

    from tests.e2e.asgi_server import AsgiServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CALLER = "13900003333"
WIDTH, HEIGHT = 1440, 900
ANSWER = "计划停水一般在24小时内恢复，可拨打供水服务热线查询。"


@pytest.fixture
def wide(browser: Browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def box(locator: Locator) -> FloatRect:
    found = locator.bounding_box()
    assert found is not None, locator
    return found


def page_fits(page: Page) -> None:
    scroll, inner = page.evaluate(
        "() => [document.documentElement.scrollHeight, window.innerHeight]")
    assert scroll <= inner, f"the page scrolls: {scroll} px in a {inner} px window"


def in_window(locator: Locator) -> None:
    found = box(locator)
    assert found["y"] >= 0 and found["y"] + found["height"] <= HEIGHT, found


def figure(page: Page, name: str) -> str:
    return page.locator(f"[data-testid=figure-{name}]").inner_text().strip()


def test_the_agents_screen_at_1440_by_900(asgi_server: AsgiServer, desk: Any, wide: Page) -> None:  # noqa: F811
    from tests.knowledge.conftest import publish

    c = desk
    page = wide
    SipExtension.objects.create(number="8001", agent=c.agent)
    publish(c, title="停水后多久恢复供水", body=f"<p>{ANSWER}</p>", keywords="停水 来水")
    base = asgi_server.url
    log_in(page, base, "alice")
    page.goto(f"{base}/desk/")
    page.wait_for_selector("#desk-ws[data-connected='1']")

    # Idle: today's figures (nothing yet) and a knowledge search; the page does not scroll.
    assert page.locator("[data-testid=desk-idle]").is_visible()
    assert (figure(page, "calls"), figure(page, "orders"), figure(page, "aht")) == ("0", "0", "—")
    page_fits(page)
    shot(page, "desk-screen-01-idle")
    check_axe(page, "idle desk")

    # Shortcuts without a call: ? shows the help (which lists Alt+N), Alt+K the knowledge
    # search, Alt+N the new-order page in a tab of its own.
    page.keyboard.press("?")
    help_text = page.locator("[data-testid=help-overlay]").inner_text()
    assert "Alt" in help_text and "N" in help_text
    page.keyboard.press("Escape")
    assert not page.locator("[data-testid=help-overlay]").is_visible()
    page.keyboard.press("Alt+KeyK")
    assert page.evaluate("() => document.activeElement.id") == "desk-kb-q"
    page.keyboard.type("停水")
    page.locator("#desk-kb-results [data-testid=kb-hit]").first.wait_for()
    assert page.locator("#desk-kb-results [data-testid=kb-insert]").count() == 0  # no reply here
    with page.context.expect_page() as opened:
        page.keyboard.press("Alt+KeyN")
    new_tab = opened.value
    new_tab.wait_for_load_state()
    assert new_tab.url.endswith("/orders/new/")
    new_tab.close()

    # A call: offered, answered.
    page.click("[data-testid=btn-sign-in]")
    page.wait_for_selector("#desk-state[data-state='signed_in']")
    page.keyboard.press("F2")
    page.wait_for_selector("#desk-state[data-state='idle']")
    contact = do_record_contact(c.system, NewContact(channel="phone", citizen_phone=CALLER))
    call = do_enqueue_call(c.general, call_ref="screen-1", caller=CALLER, gateway="gw-e2e",
                           contact_id=contact.pk)
    do_route()
    page.wait_for_selector(f"[data-testid=screen-pop][data-call='{call.pk}']")
    page.wait_for_selector("[data-testid=order-form]")
    do_call_answered(call.pk)
    page.wait_for_selector("[data-testid=call-bar][data-phase='talking']")

    # The three panes side by side, tops level, none under another.
    form, helpers, side = (box(page.locator(s)) for s in
                           ("#desk-order-form", "#desk-helpers", "#desk-side"))
    assert form["x"] + form["width"] <= helpers["x"] + 1
    assert helpers["x"] + helpers["width"] <= side["x"] + 1
    assert side["x"] + side["width"] <= WIDTH
    assert abs(form["y"] - helpers["y"]) < 2 and abs(form["y"] - side["y"]) < 2
    assert min(form["width"], helpers["width"], side["width"]) >= 300

    # The common case, without scrolling the page: type, citizen, text, category, answer.
    page.select_option("#id_type", "consultation")
    page.fill("#id_citizen_name", "周先生")
    page.fill("#id_title", "停水咨询")
    page.locator("#id_text").press_sequentially("小区停水了，什么时候来水", delay=10)
    page.select_option("#id_category", "100101")
    for selector in ("#id_citizen_phone", "#id_text", "#id_category", "#id_reply",
                     "[data-testid=btn-order-answer]", "[data-testid=btn-order-dispatch]",
                     "[data-testid=screen-pop]"):
        in_window(page.locator(selector))
    page_fits(page)

    # One click puts the knowledge answer into the reply.
    insert = page.locator("#desk-kb-results [data-testid=kb-insert]").first
    insert.wait_for()
    in_window(insert)
    insert.click()
    assert page.input_value("#id_reply") == ANSWER
    assert page.evaluate("() => document.activeElement.id") == "id_reply"
    page_fits(page)
    shot(page, "desk-screen-02-call")
    check_axe(page, "desk on a call")
    # A smaller window (1280×720): still three panes, the panes scroll, the page does not.
    page.set_viewport_size({"width": 1280, "height": 720})
    form, side = box(page.locator("#desk-order-form")), box(page.locator("#desk-side"))
    assert form["x"] + form["width"] <= side["x"] and abs(form["y"] - side["y"]) < 2
    page_fits(page)
    shot(page, "desk-screen-02b-call-1280")
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})

    # Answer at once: one submit closes the order.
    page.click("[data-testid=btn-order-answer]")
    page.wait_for_selector("[data-testid=order-result][data-state='closed']")
    number = page.locator("[data-testid=order-result]").get_attribute("data-number")
    order = Order.objects.get(number=number)
    assert order.state == "closed" and order.reply_text == ANSWER
    assert order.created_by == c.agent

    # The call ends; "ready now": the idle desk is back with the call and the order counted.
    page.wait_for_timeout(1100)  # a talk time of at least a second
    do_call_ended(call.pk)
    page.wait_for_selector("#desk-state[data-state='wrap_up']")
    page.click("[data-testid=btn-ready-now]")
    page.wait_for_selector("#desk-state[data-state='idle']")
    page.wait_for_selector("[data-testid=desk-idle]")
    assert (figure(page, "calls"), figure(page, "orders")) == ("1", "1")
    assert figure(page, "aht") not in ("—", "0:00")
    assert figure(page, "callbacks") == "0"
    assert page.locator("#desk-no-call").is_visible()  # the last caller's panel went with the call
    page_fits(page)
    shot(page, "desk-screen-03-idle-after")
    check_axe(page, "idle desk after a call")


def test_narrow_screens_stack_the_panes(asgi_server: AsgiServer, desk: Any, browser: Browser) -> None:  # noqa: F811
    """Below 900 px the panes stack in one column and the page scrolls as usual."""
    context = browser.new_context(viewport={"width": 800, "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, asgi_server.url, "alice")
        page.goto(f"{asgi_server.url}/desk/")
        figures, side = box(page.locator("#desk-figures")), box(page.locator("#desk-side"))
        assert side["y"] >= figures["y"] + figures["height"]
        assert abs(side["x"] - figures["x"]) < 2
        shot(page, "desk-screen-04-narrow")
    finally:
        context.close()


def test_a_caller_gone_before_the_answer_brings_the_idle_desk_back(
    asgi_server: AsgiServer, desk: Any, wide: Page,  # noqa: F811
) -> None:
    from hotline.contactcentre.services import do_call_abandoned

    c = desk
    page = wide
    SipExtension.objects.create(number="8001", agent=c.agent)
    log_in(page, asgi_server.url, "alice")
    page.goto(f"{asgi_server.url}/desk/")
    page.wait_for_selector("#desk-ws[data-connected='1']")
    page.click("[data-testid=btn-sign-in]")
    page.wait_for_selector("#desk-state[data-state='signed_in']")
    page.keyboard.press("F2")
    page.wait_for_selector("#desk-state[data-state='idle']")
    call = do_enqueue_call(c.general, call_ref="screen-gone", caller=CALLER, gateway="gw-e2e")
    do_route()
    page.wait_for_selector("[data-testid=order-form]")
    assert page.locator("[data-testid=desk-idle]").count() == 0
    do_call_abandoned(call.pk)
    page.wait_for_selector("[data-testid=desk-idle]")
    assert page.locator("[data-testid=order-form]").count() == 0
    assert page.locator("#desk-no-call").is_visible()
    assert "挂机" in page.locator("[data-testid=desk-message]").inner_text()
