"""The error pages (hotline/urls.py names these as handler400/403/404/500).

Pages are friendly and translated (the request's language is still active when Django calls a
handler) and never show a traceback or the path asked for. Under /api/ the answer is JSON like
every other API error ({"detail": ...}). The 500 and 400 pages render without the request's
context, since whatever failed may be in it (a context processor, the session, the user), and a
500 page that cannot be rendered falls back to plain text rather than failing again.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _page(request: HttpRequest | None, template: str, status: int) -> HttpResponse:
    try:
        body = render_to_string(template, {}, request=request)
    except Exception:
        # A page that extends base.html needs the request's context; if that breaks, the
        # standalone layout still says what happened.
        logger.exception("the %s page could not be rendered with the request's context", status)
        try:
            body = render_to_string("error.html", {"status": status})
        except Exception:
            logger.exception("the plain %s page could not be rendered", status)
            return HttpResponse(_("Sorry, something went wrong. Please try again later."),
                                status=status, content_type="text/plain; charset=utf-8")
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "bad request"}, status=400)
    return _page(None, "400.html", 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "forbidden"}, status=403)
    return _page(request, "403.html", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "not found"}, status=404)
    return _page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": "internal server error"}, status=500)
    return _page(None, "500.html", 500)
