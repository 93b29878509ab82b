"""Django's ASGI handler with the middleware chain run synchronously, in one thread hop, on a
pool of long-lived request threads.

Django's own ``ASGIHandler`` loads the middleware in async mode. Every view and nearly every
middleware here is synchronous, so a request crossed between the event loop and a worker
thread about twenty times: ``MiddlewareMixin`` runs each ``process_request``/``process_response``
through ``sync_to_async``, and each middleware without async support (the security headers,
whitenoise, the login checks) costs two more switches. And each request got a thread of its own
(``ThreadSensitiveContext``), so also a new database connection object, a pool check-out and a
thread start. Measured with bench/intake.py, that was more than half of the server's CPU per
created order.

Here the chain is loaded in sync mode (as under WSGI) and the whole request runs in one call on
one of ``HOTLINE_WEB_THREADS`` threads (default 4) that live as long as the process, as in a
threaded WSGI server: each keeps its database connection (persistent with
``HOTLINE_DB_CONN_MAX_AGE``, or from the pool with ``HOTLINE_DB_POOL``), checked before and after
each request in that thread as Django's request signals do. Reading the body, sending the
response and noticing a client that went away stay Django's.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import close_old_connections
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.urls import set_script_prefix


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.executor = ThreadPoolExecutor(
            max_workers=settings.HOTLINE_WEB_THREADS, thread_name_prefix="request")

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        """Django's ``ASGIHandler.handle`` with the request signals off asgiref's thread:
        ``request_started`` is sent on the request thread before the chain runs (``serve``),
        and the response is closed (which sends ``request_finished``) on a free request thread
        instead of through ``sync_to_async``. Those were two hops a request to asgiref's one
        thread-sensitive thread, about 9% of a worker's CPU (bench/README.md). A request that
        cannot even be built, and a client gone mid-request, are Django's as before."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None  # Django's create_request gives one or the other
            await signals.request_started.asend(sender=self.__class__, scope=scope)
            body_file.close()
            await self.send_response(error_response, send)
            await sync_to_async(error_response.close)()
            return
        request._hotline_scope = scope  # type: ignore[attr-defined]  # for request_started

        async def process_request(request: HttpRequest, send: Any) -> HttpResponseBase:
            response = await self.run_get_response(request)
            with contextlib.suppress(asyncio.CancelledError):  # the client left during send
                await self.send_response(response, send)
            return response

        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            response = cast(HttpResponseBase, tasks[1].result())
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
        else:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self.executor, contextvars.copy_context().run,
                                       response.close)
        body_file.close()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Without Django's ThreadSensitiveContext: the request's own work runs on the pool
        # below; what Django still runs thread-sensitively (request signals, closing the
        # response) shares asgiref's one thread.
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    def serve(self, request: HttpRequest) -> HttpResponseBase:
        # request_started's receivers (Django's: reset_queries, close_old_connections) act on
        # this thread's connection, the one the request will use.
        signals.request_started.send(sender=self.__class__,
                                     scope=getattr(request, "_hotline_scope", None))
        close_old_connections()  # this thread's connection: broken or too old is replaced
        try:
            return self.get_response(request)
        finally:
            close_old_connections()

    async def run_get_response(self, request: HttpRequest) -> Any:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        response = await loop.run_in_executor(self.executor, context.run, self.serve, request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]  # as Django does
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        return response


def get_asgi_application() -> SyncChainASGIHandler:
    """Like ``django.core.asgi.get_asgi_application``, with the handler above."""
    import django

    django.setup(set_prefix=False)
    return SyncChainASGIHandler()
