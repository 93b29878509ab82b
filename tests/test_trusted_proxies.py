"""Finding 4a of issue 10: uvicorn believed X-Forwarded-For from 127.0.0.1 by default, so a new
header per request walked past the per-address look-up limit. The launcher now starts uvicorn
believing forwarded headers only from HOTLINE_TRUSTED_PROXIES (none by default), and the code
reads the client address through one helper (hotline.core.clientaddr)."""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from hotline import launcher
from hotline.core.clientaddr import client_address, parse_networks, resolve
from hotline.env import ConfigError
from hotline.orders.numbering import damm_digit

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django.fixtures import Settings

TRUSTED = parse_networks(["10.0.0.0/8", "127.0.0.1"])


def test_forwarded_for_is_ignored_without_trusted_proxies() -> None:
    assert resolve("127.0.0.1", "203.0.113.9", ()) == "127.0.0.1"
    assert resolve("198.51.100.1", "203.0.113.9", TRUSTED) == "198.51.100.1"


def test_forwarded_for_from_a_trusted_proxy_gives_the_first_untrusted_hop() -> None:
    assert resolve("10.1.2.3", "203.0.113.9", TRUSTED) == "203.0.113.9"
    # A client's own header is on the left; what the proxies saw is appended on the right.
    assert resolve("10.1.2.3", "1.2.3.4, 203.0.113.9, 10.0.0.7", TRUSTED) == "203.0.113.9"
    assert resolve("10.1.2.3", "10.0.0.8, 10.0.0.7", TRUSTED) == "10.0.0.8"
    assert resolve("10.1.2.3", "", TRUSTED) == "10.1.2.3"


def test_client_address_reads_the_settings(settings: Settings) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    settings.HOTLINE_TRUSTED_PROXIES = []
    assert client_address(request) == "127.0.0.1"
    settings.HOTLINE_TRUSTED_PROXIES = ["127.0.0.1"]
    assert client_address(request) == "203.0.113.9"


def test_login_lockout_and_access_log_count_the_same_address(settings: Settings) -> None:
    from hotline.directory.security import client_address as login_address
    from hotline.orders.access_log import client_address as logged_address

    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    settings.HOTLINE_TRUSTED_PROXIES = []
    assert login_address(request) == logged_address(request) == "127.0.0.1"
    settings.HOTLINE_TRUSTED_PROXIES = ["127.0.0.0/8"]
    assert login_address(request) == logged_address(request) == "203.0.113.9"


def test_launcher_switches_proxy_headers_off_unless_proxies_are_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HOTLINE_TRUSTED_PROXIES", raising=False)
    assert launcher.proxy_options() == ["--no-proxy-headers"]
    monkeypatch.setenv("HOTLINE_TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16")
    assert launcher.proxy_options() == ["--proxy-headers", "--forwarded-allow-ips",
                                        "10.0.0.5,10.1.0.0/16"]
    web = launcher.children("127.0.0.1", 8000)[0]
    assert web.name == "web" and web.command[-3:] == launcher.proxy_options()
    monkeypatch.setenv("HOTLINE_TRUSTED_PROXIES", "not-an-address")
    with pytest.raises(ConfigError, match="not an IP address"):
        launcher.proxy_options()


# --- a real uvicorn, started with the launcher's options -----------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _launchers_uvicorn_config(port: int):  # type: ignore[no-untyped-def]
    """uvicorn's Config exactly as the launcher's web child's command line gives it (parsed
    by uvicorn's own command-line parser), on a free port, in this process so that it shares
    the test database."""
    import uvicorn

    from hotline.asgi import application

    command = launcher.children("127.0.0.1", port)[0].command
    args = command[command.index("hotline.asgi:application"):]
    params = uvicorn.main.make_context("uvicorn", list(args)).params
    return uvicorn.Config(
        application, host=params["host"], port=params["port"], lifespan=params["lifespan"],
        proxy_headers=params["proxy_headers"], forwarded_allow_ips=params["forwarded_allow_ips"],
        server_header=params["server_header"], log_level="warning",
    )


@pytest.fixture
def launched_web(transactional_db: None, settings: Settings,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], int]]:
    import uvicorn

    servers = []

    def start(trusted: str) -> int:
        monkeypatch.setenv("HOTLINE_TRUSTED_PROXIES", trusted)
        settings.HOTLINE_TRUSTED_PROXIES = [p for p in trusted.split(",") if p]
        port = _free_port()
        server = uvicorn.Server(_launchers_uvicorn_config(port))
        thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)
        servers.append((server, thread))
        return port

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.HOTLINE_LOOKUP_FAILURES_PER_ADDRESS = 3
    settings.HOTLINE_LOOKUP_FAILURES_PER_NUMBER = 100
    settings.HOTLINE_LOOKUP_FAILURES_PER_PHONE = 100
    cache.clear()
    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)
    cache.clear()


def _look_up(port: int, n: int, forwarded_for: str) -> int:
    body = f"{n:07d}"
    number = body + str(damm_digit(body))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", f"/api/v1/public/orders/{number}?phone=1390000{n:04d}",
                     headers={"X-Forwarded-For": forwarded_for})
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_new_forwarded_for_per_request_does_not_reset_the_limit(launched_web: Callable[[str], int]) -> None:
    port = launched_web("")
    statuses = [_look_up(port, n, f"203.0.113.{n}") for n in range(6)]
    assert statuses == [404, 404, 404, 429, 429, 429]


def test_behind_a_trusted_proxy_each_client_is_counted_apart(launched_web: Callable[[str], int]) -> None:
    port = launched_web("127.0.0.1")
    assert [_look_up(port, n, f"203.0.113.{n}") for n in range(6)] == [404] * 6
    # ... and one client behind the proxy is still limited, whatever it puts in front.
    statuses = [_look_up(port, 10 + n, f"6.6.6.{n}, 198.51.100.7") for n in range(5)]
    assert statuses == [404, 404, 404, 429, 429]
