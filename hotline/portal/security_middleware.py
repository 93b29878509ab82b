"""What every logged-in request passes before its page (等保 level 3): the idle timeout, then the
second factor for administrators, then an expired password.

Idle timeout: a session with no activity for HOTLINE_IDLE_TIMEOUT_MINUTES is logged out at its
next request. Activity is what a person does: any request that is not a GET, a page navigation
(browsers mark it ``Sec-Fetch-Mode: navigate``), and htmx requests (here they are all started by
a click or by typing). Background refreshes are not activity: the wallboard's figures and the
desk's call pop are ``fetch()`` calls (``Sec-Fetch-Mode: cors`` or ``same-origin``), and a
websocket is not an HTTP request at all. So a wallboard or a desk left alone is logged out like
any other page; a wall display needs HOTLINE_IDLE_TIMEOUT_MINUTES=0 on a machine of its own.

Until an administrator has entered a TOTP code (or enrolled an authenticator) in this session
they reach only the second-factor pages, the language switch and logout; a user whose password
has expired only the password change page. Requests authenticated by an API token are not
session logins and pass untouched (the token is checked by the API itself, after this).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.directory.security import LAST_ACTIVITY_KEY, needs_second_factor, password_expired

# The activity time is written at most this often (each write is a session save).
ACTIVITY_RESOLUTION_SECONDS = 30

# Pages an unverified administrator may still open (by URL name).
SECOND_FACTOR_OPEN = frozenset({
    "portal:two_factor", "portal:two_factor_enrol", "portal:logout", "portal:login",
    "admin:logout", "set_language",
})
PASSWORD_CHANGE_OPEN = SECOND_FACTOR_OPEN | {"portal:password_change"}


def is_activity(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD"):
        return True
    if request.headers.get("HX-Request") == "true":
        return True
    mode = request.headers.get("Sec-Fetch-Mode")
    return mode is None or mode == "navigate"


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", "")


def _send_to(request: HttpRequest, url: str, message: str, status: int) -> HttpResponseBase:
    """Send the browser to ``url``; scripts and htmx get a status and the message instead."""
    if _wants_json(request):
        return JsonResponse({"detail": message, "redirect": url}, status=status)
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(message, status=status)
        response["HX-Redirect"] = url
        return response
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    return redirect(url)


def _with_next(name: str, request: HttpRequest) -> str:
    url = reverse(name)
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return url


class LoginSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            timed_out = self._idle_check(request)
            if timed_out is not None:
                return timed_out
        return self.get_response(request)

    def _idle_check(self, request: HttpRequest) -> HttpResponseBase | None:
        minutes = settings.HOTLINE_IDLE_TIMEOUT_MINUTES
        if minutes <= 0:
            return None
        now = timezone.now().timestamp()
        last = request.session.get(LAST_ACTIVITY_KEY)
        if isinstance(last, (int, float)) and now - last > minutes * 60:
            logout(request)
            message = _("You were logged out after %(minutes)d minutes without activity. "
                        "Please log in again.") % {"minutes": minutes}
            messages.warning(request, message)
            return _send_to(request, _with_next("portal:login", request), message, 401)
        if not isinstance(last, (int, float)) or (
                is_activity(request) and now - last >= ACTIVITY_RESOLUTION_SECONDS):
            request.session[LAST_ACTIVITY_KEY] = now
        return None

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any,
                     view_kwargs: Any) -> HttpResponseBase | None:
        user: Any = request.user
        if not user.is_authenticated:
            return None
        match = request.resolver_match
        name = match.view_name if match else ""
        if needs_second_factor(user) and not user.is_verified() and name not in SECOND_FACTOR_OPEN:
            return _send_to(
                request, _with_next("portal:two_factor", request),
                _("Enter the code from your authenticator app to continue."), 403)
        if password_expired(user) and name not in PASSWORD_CHANGE_OPEN:
            return _send_to(
                request, _with_next("portal:password_change", request),
                _("Your password has expired. Please choose a new one."), 403)
        return None
