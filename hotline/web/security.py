"""The Content-Security-Policy header on every response.

The policy is settings.HOTLINE_CSP (directive -> sources). Browsers match ``'self'`` against
ws:/wss: only in newer CSP implementations, so the websocket address of the request's own host
is added to connect-src explicitly (the agent desk and the wallboard live on websockets).
A view that needs another policy sets the header itself; this middleware leaves it alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase

HEADER = "Content-Security-Policy"


def policy_for(request: HttpRequest) -> str:
    directives = {name: list(sources) for name, sources in settings.HOTLINE_CSP.items()}
    try:
        host = request.get_host()
    except DisallowedHost:
        host = ""  # the 400 page for a foreign host name opens no websocket
    if host and "connect-src" in directives:
        directives["connect-src"] += [f"wss://{host}"] if request.is_secure() else [
            f"ws://{host}", f"wss://{host}"]
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = policy_for(request)
        return response
