"""A reporter's identity (举报人) never reaches a department by any path (SPEC section 7).

The canary citizen files a 举报 and a confidential complaint (and a plain complaint kept at the
centre), which are merged, linked, transferred, returned, replied to, called back and reopened
(``scenario.build``). Then every department user crawls what they can reach: every page linked
from the home page and the order pages (href, src, action, hx-get), every route of the URL
configuration with the case's numbers and ids filled in, every GET form (searches) with the
canary typed in, every GET endpoint of the OpenAPI, every download (the file name too) and the
websockets. The canary's name and number, in full or masked, appear in no body and no header.
Pages and endpoints added later are crawled by construction."""

from __future__ import annotations

import io
import itertools
import json
import re
import zipfile
from collections import deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from hotline.orders.models import Attachment, Contact
from tests.security.scenario import CANARY_FORMS, CANARY_NAME, CANARY_PHONE, Case, build

DEPARTMENT_USERS = ("handler", "dept_admin", "housing_handler", "env_handler", "street_handler")
MAX_REQUESTS = 1500
SKIP_PREFIXES = ("/static/", "/media/", "/logout/", "/i18n/")
LINK_ATTRIBUTES = ("href", "src", "action", "hx-get", "data-url")
# Partial forms: the crawl types them into search boxes, so a page echoing the query does not
# count, but a result carrying the canary does (checked against the full forms).
SEARCH_TERMS = (CANARY_NAME[:3], CANARY_PHONE[:7], CANARY_PHONE[-8:])
_TAGS = re.compile(r"<[^>]+>")


def _variants(text: str) -> set[str]:
    """How a string may be written in a response: as is, JSON-escaped, URL-quoted (a
    Content-Disposition file name or a link)."""
    return {text, json.dumps(text)[1:-1], quote(text), quote(text, safe="").lower()}


FORBIDDEN = sorted(set().union(*(_variants(f) for f in CANARY_FORMS)))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[tuple[str, list[str]]] = []
        self._form: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.links.extend(v for k, v in attrs if k in LINK_ATTRIBUTES and v)
        if tag == "form" and (values.get("method") or "get").lower() == "get":
            self._form = (values.get("action") or "", [])
            self.forms.append(self._form)
        elif (tag in ("input", "textarea") and self._form is not None and values.get("name")
              and (values.get("type") or "text").lower() in ("text", "search", "tel")):
            self._form[1].append(str(values["name"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def _texts(response: Any) -> list[str]:
    """Everything a response tells: headers and body, a zip (xlsx, docx) opened up, markup
    stripped so a highlighted hit (<mark>金丝雀</mark>某某) reads as written."""
    parts = [f"{k}: {v}" for k, v in response.items()]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            parts.extend(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    else:
        text = body.decode("utf-8", "replace")
        parts.extend([text, _TAGS.sub("", text)])
    response.crawled_body = body
    return parts


def _leaks(response: Any) -> list[str]:
    return [form for text in _texts(response) for form in FORBIDDEN if form in text]


def _local(url: str, base: str) -> str | None:
    if not url or url.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    absolute = urljoin("http://testserver" + base, url)
    parts = urlsplit(absolute)
    if parts.netloc != "testserver" or parts.path.startswith(SKIP_PREFIXES):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    """Every route of the URL configuration as a path template ("orders/<str:number>/")."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue  # regular expressions (the admin's): reached by links instead
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found.extend(_routes(entry, route))
        elif isinstance(entry, URLPattern):
            found.append(route)
    return found


_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>|\{(\w+)\}")


def _fill(template: str, case: Case, limit: int = 40) -> list[str]:
    """The template with every parameter filled with the case's numbers (text) or ids."""
    numbers = [o.number for o in case.orders]
    ids = sorted({a.pk for a in Attachment.objects.all()} | {c.pk for c in Contact.objects.all()}
                 | {1})
    params = list(_PARAMETER.finditer(template))
    if not params:
        return [template]
    choices = []
    for match in params:
        converter, name = match.group(1), match.group(2) or match.group(3)
        numeric = converter == "int" or name.endswith("id") or name in ("version", "seq")
        choices.append([str(i) for i in ids] if numeric else numbers)
    urls = []
    for combo in itertools.islice(itertools.product(*choices), limit):
        filled = template
        for match, value in zip(params, combo, strict=True):
            filled = filled.replace(match.group(0), value, 1)
        urls.append(filled)
    return urls


class Crawl:
    def __init__(self, user: Any) -> None:
        self.client = Client(raise_request_exception=False)
        self.client.force_login(user)
        self.user = user
        self.seen: set[str] = set()
        self.queue: deque[str] = deque()
        self.leaks: list[str] = []
        self.errors: list[str] = []

    def add(self, url: str | None) -> None:
        if url is not None and url not in self.seen and len(self.seen) < MAX_REQUESTS:
            self.seen.add(url)
            self.queue.append(url)

    def add_filled(self, urls: list[str]) -> None:
        """The fills of one route: when the first is closed to the user (a login redirect, 403,
        405: the admin, the desk) the others are too, and are not asked."""
        if not urls or urls[0] in self.seen:
            return
        self.seen.add(urls[0])
        first = self.fetch(urls[0])
        closed = first.status_code in (403, 405) or (
            first.status_code == 302 and "/login/" in first.get("Location", ""))
        if not closed:
            self.queue.append(urls[0])
            for url in urls[1:]:
                self.add(url)

    def fetch(self, url: str) -> Any:
        response = self.client.get(url)
        leaks = _leaks(response)
        if leaks:
            self.leaks.append(f"{self.user.username} GET {url}: {sorted(set(leaks))}")
        if response.status_code >= 500:
            self.errors.append(f"{self.user.username} GET {url}: {response.status_code}")
        return response

    def run(self) -> None:
        while self.queue:
            url = self.queue.popleft()
            response = self.fetch(url)
            if response.status_code in (301, 302, 303, 307, 308):
                target = _local(response["Location"], url)
                if target is not None and not urlsplit(target).path.endswith("/login/"):
                    self.add(target)  # a login page says nothing about the case
            content_type = response.get("Content-Type", "")
            if "html" not in content_type:
                continue
            parser = _Links()
            parser.feed(response.crawled_body.decode("utf-8", "replace"))
            for link in parser.links:
                self.add(_local(link, url))
            for action, names in parser.forms:
                target = _local(action or url, url)
                if target is None or not names:
                    continue
                base, _sep, query = target.partition("?")
                for term in SEARCH_TERMS:
                    values = dict(parse_qsl(query))
                    values.update({name: term for name in names})
                    self.add(f"{base}?{urlencode(values)}")


@pytest.fixture
def case(city: Any, settings: Any, tmp_path: Any) -> Case:
    settings.MEDIA_ROOT = tmp_path
    return build(city)


@pytest.mark.parametrize("who", DEPARTMENT_USERS)
def test_no_department_page_or_endpoint_shows_the_reporter(city: Any, case: Case, who: str) -> None:
    user = getattr(city, who)
    crawl = Crawl(user)
    crawl.add("/")
    for order in case.orders:
        crawl.add(f"/orders/{order.number}/")
    for route in _routes():
        crawl.add_filled(_fill("/" + route, case))
    spec = crawl.client.get("/api/v1/openapi.json").json()
    for path, methods in spec["paths"].items():
        if "get" not in methods:
            continue
        query_names = [p["name"] for p in methods["get"].get("parameters", [])
                       if p.get("in") == "query" and p.get("schema", {}).get("type") == "string"]
        crawl.add_filled(_fill(path, case))
        for url in _fill(path, case):
            for term in SEARCH_TERMS if query_names else ():
                crawl.add(f"{url}?{urlencode({name: term for name in query_names})}")
    for search in ("/orders/?q={}", "/knowledge/?q={}&target=orders", "/knowledge/?q={}",
                   "/api/v1/orders?q={}"):
        for term in SEARCH_TERMS:
            crawl.add(search.format(quote(term)))
    crawl.run()
    # The crawl reached the department's own orders and their files (it is not vacuous).
    reached = {u for u in crawl.seen if "/files/" in u or "/attachments/" in u}
    assert reached and 50 < len(crawl.seen) < MAX_REQUESTS
    assert crawl.leaks == [], "\n".join(crawl.leaks[:20])
    assert crawl.errors == [], "\n".join(crawl.errors[:20])


def test_the_crawl_finds_the_canary_where_it_may_be_seen(city: Any, case: Case) -> None:
    """The same crawl as the centre's agent, who may know the citizen, finds the canary: the
    detector works."""
    crawl = Crawl(city.agent)
    for url in (f"/orders/{case.report.number}/", f"/api/v1/orders/{case.report.number}"):
        assert crawl.fetch(url).status_code == 200
        assert any(url in leak for leak in crawl.leaks)


def _socket_routes() -> list[str]:
    from hotline.desk.routing import websocket_urlpatterns

    return ["/" + str(p.pattern) for p in websocket_urlpatterns]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", DEPARTMENT_USERS)
def test_no_department_websocket_carries_the_reporter(city: Any, settings: Any, tmp_path: Any,
                                                      who: str) -> None:
    from hotline.asgi import application

    settings.MEDIA_ROOT = tmp_path
    build(city)
    client = Client()
    client.force_login(getattr(city, who))
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    received: list[str] = []

    async def scenario() -> None:
        for route in _socket_routes():
            comm = WebsocketCommunicator(application, route, headers=[
                (b"host", b"testserver"), (b"origin", b"http://testserver"), (b"cookie", cookie)])
            connected, _code = await comm.connect()
            if not connected:
                continue
            try:
                while True:
                    received.append(json.dumps(await comm.receive_json_from(timeout=0.5),
                                               ensure_ascii=False))
            except TimeoutError:
                pass  # the socket went quiet
            await comm.disconnect()

    async_to_sync(scenario)()
    assert _socket_routes()
    assert not [m for m in received for form in FORBIDDEN if form in m]
