"""The ASGI entry point runs Django's middleware synchronously in one thread hop per request
(hotline.web.handler): pages, the API and the middleware's headers work as before."""

from __future__ import annotations

import json
from inspect import iscoroutinefunction
from typing import TYPE_CHECKING, Any

import pytest
from asgiref.testing import ApplicationCommunicator

from hotline.api.tokens import do_issue_token
from hotline.orders.models import Order

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db(transaction=True)


def _call(path: str, method: str = "GET", body: bytes = b"",
          headers: list[tuple[bytes, bytes]] | None = None,
          until_done: bool = False) -> tuple[int, dict[bytes, bytes], bytes]:
    from asgiref.sync import async_to_sync

    from hotline.asgi import django_application

    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }

    async def run() -> tuple[int, dict[bytes, bytes], bytes]:
        app = ApplicationCommunicator(django_application, scope)
        await app.send_input({"type": "http.request", "body": body, "more_body": False})
        start = await app.receive_output(30)
        content = b""
        while True:
            message = await app.receive_output(30)
            content += message.get("body", b"")
            if not message.get("more_body"):
                break
        if until_done:  # the application's own end: the response closed after it was sent
            await app.wait(30)
        return start["status"], {k.lower(): v for k, v in start["headers"]}, content

    return async_to_sync(run)()


def test_the_handler_loads_the_chain_in_sync_mode() -> None:
    from hotline.asgi import django_application
    from hotline.web.handler import SyncChainASGIHandler

    assert isinstance(django_application, SyncChainASGIHandler)
    assert not iscoroutinefunction(getattr(django_application, "_middleware_chain"))  # noqa: B009


def test_a_page_carries_the_middlewares_headers() -> None:
    status, headers, _ = _call("/login/")
    assert status in (200, 302)
    assert b"content-security-policy" in headers and b"x-frame-options" in headers


def test_an_order_is_created_and_bad_input_is_4xx(city: City) -> None:
    _, secret = do_issue_token(city.agent, "asgi")
    auth = [(b"authorization", f"Bearer {secret}".encode()),
            (b"content-type", b"application/json"), (b"idempotency-key", b"asgi-1")]
    body = json.dumps({"type": "complaint", "title": "停水", "text": "小区停水",
                       "citizen_phone": "13900006666", "district": "gulou",
                       "category": "100101"}).encode()
    status, _, content = _call("/api/v1/orders", "POST", body, auth)
    assert status == 201, content
    number = json.loads(content)["number"]
    status, headers, content = _call("/api/v1/orders", "POST", body, auth)
    assert status == 200 and json.loads(content)["number"] == number
    assert headers[b"idempotency-replayed"] == b"true"
    status, _, _ = _call("/api/v1/orders", "POST", b"{not json", auth[:2])
    assert status in (400, 422)
    assert Order.objects.count() == 1


def test_requests_share_a_bounded_set_of_threads(city: City) -> None:
    from django.conf import settings

    from hotline.asgi import django_application

    _, secret = do_issue_token(city.agent, "asgi")
    auth = [(b"authorization", f"Bearer {secret}".encode())]
    for _ in range(12):
        status, _, _ = _call("/api/v1/orders", "GET", b"", auth)
        assert status == 200
    threads = django_application.executor._threads  # type: ignore[attr-defined]
    assert 1 <= len(threads) <= settings.HOTLINE_WEB_THREADS


def test_the_request_signals_go_to_the_request_threads(city: City) -> None:
    """request_started before the chain, on the thread that serves the request; the response
    closed (request_finished) on a request thread too, each once per request, not on asgiref's
    thread-sensitive thread."""
    import threading

    from django.core import signals

    seen: list[tuple[str, str]] = []

    def started(**kwargs: Any) -> None:
        assert kwargs["scope"]["path"] == "/api/v1/orders"
        seen.append(("started", threading.current_thread().name))

    def finished(**_kwargs: Any) -> None:
        seen.append(("finished", threading.current_thread().name))

    _, secret = do_issue_token(city.agent, "asgi")
    signals.request_started.connect(started, weak=False)
    signals.request_finished.connect(finished, weak=False)
    try:
        status, _, _ = _call("/api/v1/orders", "GET", b"",
                             [(b"authorization", f"Bearer {secret}".encode())],
                             until_done=True)
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)
    assert status == 200
    assert [what for what, _ in seen] == ["started", "finished"]
    assert all(name.startswith("request") for _, name in seen), seen
