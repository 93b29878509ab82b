"""A live ASGI server (uvicorn: HTTP and websockets) for browser tests of pages with websockets.

pytest-django's ``live_server`` speaks WSGI only. This runs the real ASGI application
(``hotline.asgi.application``) in uvicorn on a thread of the test process, so it shares the
test database (SQLite's shared in-memory database or the PostgreSQL test database) exactly as
``live_server`` does. Use it with a transactional database:

    def test_x(asgi_server, city, page):
        page.goto(asgi_server.url + "/desk/")
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings


@dataclass
class AsgiServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def asgi_server(transactional_db: None, settings: Settings) -> Iterator[AsgiServer]:  # type: ignore[no-untyped-def]
    import uvicorn

    from hotline.asgi import application

    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    port = _free_port()
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True,
                              name="asgi-live-server")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the ASGI test server did not start")
        time.sleep(0.02)
    yield AsgiServer("127.0.0.1", port)
    server.should_exit = True
    thread.join(timeout=10)
