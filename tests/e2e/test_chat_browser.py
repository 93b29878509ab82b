"""Web chat in two real browsers (Debian's chromium through Playwright) against the real ASGI
application: a citizen on a phone-sized page and an agent at the desk. The citizen starts a
chat, the ACD gives it to the ready agent, they write to each other live (no reload on either
side), the agent registers a work order from it and the citizen sees its number, the agent
ends the chat. axe-core checks the citizen's chat pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from hotline.contactcentre.models import ChatSession, ChatState
from hotline.orders.models import Order
from tests.desk.conftest import desk  # noqa: F401
from tests.e2e.asgi_server import asgi_server  # noqa: F401
from tests.e2e.test_citizen_portal_browser import check_axe
from tests.e2e.test_portal_browser import browser, log_in, page, shot  # noqa: F401

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.e2e.asgi_server import AsgiServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
LIVE_MS = 20_000  # a busy CI machine: the point is "without a reload", not how fast


@pytest.fixture
def citizen(browser: Browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def test_a_citizen_and_an_agent_chat_and_the_chat_becomes_an_order(
        asgi_server: AsgiServer, desk: Any, page: Page, citizen: Page) -> None:  # noqa: F811
    base = asgi_server.url
    agent = page
    log_in(agent, base, "alice")
    agent.goto(f"{base}/desk/")
    agent.wait_for_selector("#desk-ws[data-connected='1']")
    agent.click("[data-testid=btn-sign-in]")
    agent.wait_for_selector("#desk-state[data-state='signed_in']")
    agent.click("[data-testid=btn-ready]")
    agent.wait_for_selector("#desk-state[data-state='idle']")
    agent.wait_for_selector("#desk-no-chats")
    agent.evaluate("window.__sameDocument = true")

    citizen.goto(f"{base}/citizen/chat/")
    check_axe(citizen, "chat start")
    citizen.fill("#id_text", "请问社保卡丢了怎么补办？")
    citizen.fill("#id_phone", "13800138000")
    citizen.click("[data-testid=chat-start]")
    citizen.wait_for_selector("#chat[data-connected='1']")
    citizen.evaluate("window.__sameDocument = true")
    check_axe(citizen, "chat page")
    chat = ChatSession.objects.get()
    assert chat.state == ChatState.ACTIVE and chat.agent_id == desk.agent.pk

    # The desk shows the chat without a reload (the desk websocket's chat_offered).
    card = agent.locator(f"#desk-chat-{chat.pk}")
    card.wait_for(timeout=LIVE_MS)
    assert "请问社保卡丢了怎么补办？" in card.inner_text()
    card.locator("[data-testid=chat-reply]").fill("请携带身份证到社保服务中心补办。")
    card.locator("[data-testid=chat-reply-send]").click()
    citizen.locator("#chat-log li.chat-agent", has_text="请携带身份证").wait_for(timeout=LIVE_MS)
    assert "坐席" in citizen.locator("[data-testid=chat-status]").inner_text()

    citizen.fill("#id_text", "需要带照片吗？")
    citizen.click("[data-testid=chat-send]")
    citizen.locator("#chat-log li.chat-citizen", has_text="需要带照片吗").wait_for(timeout=LIVE_MS)
    card.locator("li.chat-citizen", has_text="需要带照片吗").wait_for(timeout=LIVE_MS)
    shot(agent, "chat-01-desk")
    shot(citizen, "chat-02-citizen")

    # One click: the chat becomes a work order; the citizen reads its number in the chat.
    card.locator("details.chat-order summary").click()
    card.locator("[data-testid=chat-to-order]").click()
    order = None
    for _ in range(100):
        order = Order.objects.filter(channel="chat").first()
        if order is not None:
            break
        agent.wait_for_timeout(200)
    assert order is not None and order.citizen.phone == "13800138000"
    citizen.locator("#chat-log li.chat-agent", has_text=order.number).wait_for(timeout=LIVE_MS)

    card.locator("[data-testid=chat-end]").click()
    agent.wait_for_selector("#desk-no-chats", timeout=LIVE_MS)
    citizen.wait_for_selector("#chat[data-state='closed']", timeout=LIVE_MS)
    assert citizen.evaluate("window.__sameDocument") is True
    assert agent.evaluate("window.__sameDocument") is True
    chat.refresh_from_db()
    assert chat.state == ChatState.CLOSED
    assert chat.contact is not None and "需要带照片吗" in chat.contact.summary
