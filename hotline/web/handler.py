"""Django's ASGI handler with the middleware chain run synchronously, in one thread hop.

Django's own ``ASGIHandler`` loads the middleware in async mode. Every view and nearly every
middleware here is synchronous, so a request crossed between the event loop and a worker
thread about twenty times: ``MiddlewareMixin`` runs each ``process_request``/``process_response``
through ``sync_to_async``, and each middleware without async support (the security headers,
whitenoise, the login checks) costs two more switches. Measured with bench/intake.py that was
a good part of the server's CPU per created order. Here the chain is loaded in sync mode (as
under WSGI) and the whole request runs in one ``sync_to_async`` call, on the request's own
thread (``ThreadSensitiveContext``, as Django does). Reading the body, sending the response and
noticing a client that went away stay Django's.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler
from django.http import FileResponse, HttpRequest


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def run_get_response(self, request: HttpRequest) -> Any:
        response = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]  # as Django does
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response


def get_asgi_application() -> SyncChainASGIHandler:
    """Like ``django.core.asgi.get_asgi_application``, with the handler above."""
    import django

    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
