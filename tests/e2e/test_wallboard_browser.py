"""The supervisor's wallboard in a real browser (Debian's chromium through Playwright) against
the live ASGI server (HTTP and websockets): the monitor watches agents and calls change without
reloading, forces an agent's state, is refused what the services refuse, and sees the outcome of
a listen-in command. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hotline.contactcentre import services
from hotline.contactcentre.commands import do_finish_command
from hotline.contactcentre.models import AgentStatus, CallCommand, SipExtension, State
from tests.desk.conftest import desk  # noqa: F401
from tests.e2e.asgi_server import asgi_server  # noqa: F401
from tests.e2e.test_portal_browser import browser, log_in, page, playwright_sync, shot  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

expect = playwright_sync.expect
# The board must change without a reload (``__sameDocument`` below); how fast is not bounded
# here: on CI's two shared cores a 2-second bound failed under load.
LIVE_MS = 15_000


def tid(value: str) -> str:
    return f"[data-testid='{value}']"


def test_the_wallboard_follows_the_floor_live(asgi_server: Any, desk: Any, page: Any) -> None:  # noqa: F811
    base = asgi_server.url
    alice = desk.agent
    log_in(page, base, "monica")
    page.goto(f"{base}/desk/wallboard/")
    expect(page.locator(tid("live-status"))).to_have_attribute("data-state", "live")
    assert "班长监控" in page.title()
    expect(page.locator(tid("no-phone-note"))).to_be_visible()
    expect(page.locator(tid(f"agent-row-{alice.pk}"))).to_have_count(0)
    expect(page.locator(f"{tid('tile-waiting')} .value")).to_have_text("0")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloaded

    # An agent signs in and goes ready (through the services, as her desk would).
    started = time.monotonic()
    services.do_sign_in(alice)
    services.do_set_state(alice, "ready")
    expect(page.locator(tid(f"agent-state-{alice.pk}"))).to_have_text("示闲", timeout=LIVE_MS)
    shown_after = time.monotonic() - started
    expect(page.locator(f"{tid('tile-agents-ready')} .value")).to_have_text("1")

    # A caller joins the queue: the waiting tile counts them, the longest wait ticks on.
    started = time.monotonic()
    services.do_enqueue_call(desk.general, call_ref="browser-1", caller="13800000000")
    expect(page.locator(f"{tid('tile-waiting')} .value")).to_have_text("1", timeout=LIVE_MS)
    expect(page.locator(tid("queue-waiting-general"))).to_have_text("1")
    expect(page.locator(f"{tid('tile-longest-wait')} .value")).not_to_have_text("00:00",
                                                                                     timeout=LIVE_MS)
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "wallboard-01-live")

    # The monitor makes alice not ready (meal) from her row's panel.
    page.click(tid(f"agent-actions-{alice.pk}"))
    panel = page.locator(tid("agent-panel"))
    expect(panel).to_be_visible()
    panel.locator(tid("action-reason")).select_option("meal")
    panel.locator(tid("action-not-ready")).click()
    expect(panel.locator(tid("panel-notice"))).to_contain_text("已示忙")
    expect(page.locator(tid(f"agent-state-{alice.pk}"))).to_have_text("示忙", timeout=LIVE_MS)
    assert AgentStatus.objects.get(pk=alice.pk).reason == "meal"
    panel.locator(tid("panel-close")).click()
    expect(panel).to_be_hidden()

    # The caller reaches alice; signing her out now is refused, with the reason shown.
    services.do_set_state(alice, "ready")
    call = services.do_route().offers[0].call
    services.do_call_answered(call)
    from hotline.contactcentre.models import QueuedCall

    QueuedCall.objects.filter(pk=call).update(gateway="gw-browser")
    expect(page.locator(tid(f"agent-state-{alice.pk}"))).to_have_text("通话", timeout=LIVE_MS)
    expect(page.locator(tid(f"agent-row-{alice.pk}"))).to_contain_text("138****0000")
    page.click(tid(f"agent-actions-{alice.pk}"))
    panel.locator(tid("action-sign-out")).click()
    expect(panel.locator(tid("panel-error"))).to_contain_text("不能“签出”")
    assert AgentStatus.objects.get(pk=alice.pk).state == State.TALKING

    # Listening in needs the monitor's own extension: a clear message, no command.
    panel.locator(tid("call-listen")).click()
    expect(panel.locator(tid("panel-error"))).to_contain_text("SIP分机")
    assert not CallCommand.objects.exists()
    shot(page, "wallboard-02-refused")

    # With an extension the command is issued; the gateway's outcome appears on the board.
    SipExtension.objects.create(number="8009", agent=desk.monitor)
    panel.locator(tid("call-listen")).click()
    expect(panel.locator(tid("panel-notice"))).to_contain_text("8009")
    command = CallCommand.objects.get()
    assert (command.action, command.target, command.issued_by_id) == (
        "listen", "extension:8009", desk.monitor.pk)
    do_finish_command(command.pk, ok=True, result="monitor joined")
    result = page.locator(tid("command-result"))
    expect(result).to_contain_text("监听", timeout=LIVE_MS)
    expect(result).to_contain_text("已执行")
    assert page.evaluate("window.__sameDocument") is True
    shot(page, "wallboard-03-listening")
    print(f"the first change showed {shown_after * 1000:.0f} ms after it was made")


def test_other_roles_get_403(asgi_server: Any, desk: Any, page: Any) -> None:  # noqa: F811
    log_in(page, asgi_server.url, "alice")
    response = page.goto(f"{asgi_server.url}/desk/wallboard/")
    assert response is not None and response.status == 403
