"""Thin views of the Open311 endpoint: parse the arguments, call ``service``, render the format
the path asks for. Every error is the spec's array of code and description."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from hotline.core.rules import PUBLIC, declare
from hotline.intake.open311 import service
from hotline.intake.open311.formats import errors, to_json, to_xml
from hotline.intake.open311.service import Open311Error

CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")


def _render(fmt: str, root: str, value: Any, status: int = 200) -> HttpResponse:
    body = to_json(value) if fmt == "json" else to_xml(root, value)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def _error(fmt: str, error: Open311Error) -> HttpResponse:
    status = error.status if error.status in (400, 403, 404, 429) else 400
    return _render(fmt, "errors", errors([(error.code, error.description)]), status)


def _endpoint(methods: tuple[str, ...]) -> Callable[[Callable[..., HttpResponse]],
                                                    Callable[..., HttpResponse]]:
    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        def run(request: HttpRequest, fmt: str, **kwargs: str) -> HttpResponse:
            if request.method not in methods:
                return _error(fmt, Open311Error(400, f"{request.method} is not supported here"))
            try:
                service.check_jurisdiction(request.GET.get("jurisdiction_id")
                                           or request.POST.get("jurisdiction_id"))
                return view(request, fmt, **kwargs)
            except Open311Error as error:
                return _error(fmt, error)
        run.__name__ = run.__qualname__ = view.__name__
        run.__doc__ = view.__doc__
        return declare(csrf_exempt(run), PUBLIC)
    return wrap


@_endpoint(("GET",))
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri("/open311/v2/")
    return _render(fmt, "discovery", service.discovery(base))


@_endpoint(("GET",))
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    return _render(fmt, "services", service.service_list())


@_endpoint(("GET",))
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    return _render(fmt, "service_definition", service.service_definition(code))


@_endpoint(("GET", "POST"))
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "GET":
        return _render(fmt, "service_requests", service.query_requests(request.GET.dict()))
    key = service.check_key(request.POST.get("api_key"))
    form: dict[str, str] = {}
    attributes: dict[str, list[str]] = {}
    for name in request.POST:
        found = ATTRIBUTE.match(name)
        if found:
            attributes[found.group(1)] = [v[:500] for v in request.POST.getlist(name)]
        else:
            form[name] = request.POST.get(name, "")
    created = service.do_create_request(form, attributes, key,
                                        request.headers.get("Idempotency-Key", ""))
    return _render(fmt, "service_requests", [created])


@_endpoint(("GET",))
def request_detail(request: HttpRequest, fmt: str, number: str) -> HttpResponse:
    return _render(fmt, "service_requests", service.get_request(number))


@_endpoint(("GET",))
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    return _render(fmt, "service_requests", service.token_request(token))
