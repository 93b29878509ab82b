"""Every API error is JSON: ``{"detail": "...", "field": "..."}`` (field when known).

- ServiceError subclasses keep their ``.status`` (422, 404, 403, 409, 413, 429).
- Request validation (ninja's ValidationError) is 422 naming the first bad field; all problems
  are listed under ``errors``.
- A body that is not JSON is 400 (too large: 413); an unauthenticated call is 401; an
  unknown path under /api/v1/ is 404.
- A body Django cannot parse at all (multipart without a boundary or cut short, bytes that are
  not in the declared charset) is 400 too: no parser error reaches Django's handler as a
  traceback.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from hotline.core.errors import ServiceError

# The names of the view parameters that hold a whole body or query model.
_PARAM_NAMES = frozenset({"payload", "params", "filters"})
# Where ninja says a value came from; not part of the field name the client knows.
_SOURCES = frozenset({"body", "query", "path", "header", "form", "file", "cookie"})


def field_of(loc: list[Any] | tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    # ninja names the body parameter (e.g. "payload", "params", "filters"): drop it when
    # there is a field below it.
    if parts and parts[0] in _PARAM_NAMES:
        parts = parts[1:]
    return ".".join(parts) or None


def _json(api: NinjaAPI, request: HttpRequest, status: int, detail: str,
          field: str | None = None, **extra: Any) -> HttpResponse:
    body: dict[str, Any] = {"detail": detail}
    if field:
        body["field"] = field
    body.update(extra)
    return api.create_response(request, body, status=status)


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ServiceError)
    def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
        response = _json(api, request, exc.status, exc.message, exc.field)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            response["Retry-After"] = str(retry_after)
        return response

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"field": field_of(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
            for e in exc.errors
        ]
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        if first["field"]:
            detail = f"{first['field']}: {first['message']}"
        else:
            detail = f"the request body must be a JSON object ({first['message']})"
        return _json(api, request, 422, detail, first["field"], errors=errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = _json(api, request, 401, "authentication required: a Bearer token or a "
                         "logged-in session")
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return _json(api, request, exc.status_code, str(exc))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return _json(api, request, 413, "the request body is too large")

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        # Django's own request-parsing limits (too many fields or files, bad multipart, ...).
        return _json(api, request, 400, "the request could not be read")

    @api.exception_handler(MultiPartParserError)
    def unreadable_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        # Raised while ninja reads request.POST/FILES: no boundary, a bad boundary, a body cut
        # short, undecodable base64 parts.
        return _json(api, request, 400, "the multipart body could not be read: send "
                     "multipart/form-data with a boundary and complete parts")

    @api.exception_handler(UnicodeDecodeError)
    def undecodable(request: HttpRequest, exc: UnicodeDecodeError) -> HttpResponse:
        return _json(api, request, 400, "the request is not valid text in its charset "
                     "(send UTF-8)")

    @api.exception_handler(BadRequest)
    def bad_request(request: HttpRequest, exc: BadRequest) -> HttpResponse:
        return _json(api, request, 400, "the request could not be read")

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _json(api, request, 404, "not found")
