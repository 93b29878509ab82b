"""A return visit (回访) on the desk in a real browser (Debian's chromium through Playwright)
against the real ASGI application. The outbound gateway is played by the test with
``claim_call`` / ``do_finish_attempt``, as the dialler's gateway process will.

The agent sees the due task with the citizen's number masked, clicks "call" (a preview-dial
call to the agent's own extension is queued), watches the call's progress until it is
answered, and records the citizen as unsatisfied with their words: the order goes back to the
department (重办) with those words in its history."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from hotline.orders.models import OrderEvent
from hotline.outreach import callbacks, calls
from hotline.outreach.models import OutboundCall, Outcome
from tests.desk.conftest import desk  # noqa: F401
from tests.e2e.asgi_server import asgi_server  # noqa: F401
from tests.e2e.test_portal_browser import browser, log_in, page, shot  # noqa: F401
from tests.outreach.callback_policy import agents_call_back  # noqa: F401 - autouse
from tests.outreach.conftest import add_phones, order_in_callback

if TYPE_CHECKING:
    from playwright.sync_api import Page
    from pytest_django.fixtures import Settings

    from tests.e2e.asgi_server import AsgiServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_return_visit_from_the_list_to_the_reopened_order(
        asgi_server: AsgiServer, desk: Any, page: Page,  # noqa: F811
        settings: Settings) -> None:
    # Whatever the hour the suite runs at: no quiet hours for this test.
    settings.HOTLINE_OUTREACH_QUIET_START = settings.HOTLINE_OUTREACH_QUIET_END = dt.time(0, 0)
    add_phones(desk)
    order = order_in_callback(desk)
    assert callbacks.do_queue_visits() == 1
    base = asgi_server.url
    log_in(page, base, "alice")
    page.goto(f"{base}/desk/")
    row = page.locator("[data-testid=callback-task-row]")
    row.wait_for(timeout=30_000)
    assert order.number in row.inner_text()
    assert row.locator("[data-testid=callback-task-phone]").inner_text() == "138****1234"
    shot(page, "callbacks-01-due")

    row.locator("[data-testid=callback-task-call]").click()
    page.wait_for_selector("#desk-callback-task [data-testid=callback-call-state]",
                           timeout=30_000)
    call = OutboundCall.objects.get()
    assert (call.mode, call.agent_extension, call.state) == ("agent", "8001", "queued")

    # The gateway: rings 8001, dials the citizen, bridges; the citizen answers and hangs up.
    job = calls.claim_call("gw-e2e")
    assert job is not None and job.id == call.pk
    calls.do_finish_attempt(job.id, Outcome.ANSWERED, answered_at=dt.datetime.now(dt.UTC),
                            talk_seconds=42)
    form = page.locator("[data-testid=callback-record-form]")
    form.wait_for(timeout=30_000)  # the panel polls the call's progress
    shot(page, "callbacks-02-answered")
    form.locator("select[name=resolved]").select_option("no")
    form.locator("select[name=satisfaction]").select_option("unsatisfied")
    form.locator("textarea[name=words]").fill("水压还是很低，希望再来看看")
    form.locator("[data-testid=callback-record]").click()
    page.wait_for_selector("#desk-callback-task [data-testid=callback-task-state]:has-text('重办'),"
                           "#desk-callback-task [data-testid=callback-task-state]:has-text("
                           "'Reopened')", timeout=30_000)
    shot(page, "callbacks-03-reopened")
    order.refresh_from_db()
    assert (order.state, order.reopen_count) == ("handling", 1)
    last = OrderEvent.objects.filter(order=order).order_by("-seq").first()
    assert last is not None and last.action == "reopen"
    assert "水压还是很低，希望再来看看" in last.note
    # The list no longer offers the task.
    page.wait_for_selector("#desk-callback-tasks-empty", timeout=30_000)
