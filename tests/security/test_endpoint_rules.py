"""Finding 12 of issue 10: no endpoint without a rule (``hotline.core.rules``).

(a) Every URL pattern of the URLconf and every django-ninja operation (and so every operation of
    the OpenAPI document) declares who may use it; the test names each one that does not.
(b) The declarations drive a role x endpoint matrix: every fixture user (and an anonymous
    visitor) against every declared page and operation. A role the rule does not admit never
    gets a 2xx (a page answers 302 to the login, 403 or 404; the API 401 or 403); an admitted
    role is never turned away by the rule (no 403 on a page, no "your role may not use this
    endpoint" from the API). New endpoints join the matrix by being declared.

Path parameters are filled by name from fixture objects (an order number, its attachment) or
with ids that do not exist (then an admitted user gets 404 from the view, after the rule let
them through, and a refused one 403 from the rule before the view looks anything up).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from hotline.api.rules import RULE_REFUSAL
from hotline.core.rules import ADMIN_SITE, PUBLIC, Rule, rule_of
from hotline.orders.attachments import do_attach
from tests.api.conftest import dispatched_order

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_django.fixtures import Settings

    from tests.conftest import City

# django-ninja's own pages under /api/v1/: the OpenAPI document, its docs page and the API root
# (a redirect to the docs). They describe the API and show no data.
NINJA_DOCS = {"api:openapi-json", "api:openapi-view", "api:api-root"}
USERS = ("agent", "monitor", "admin", "handler", "dept_admin", "housing_handler", "env_handler",
         "sub_agent", "street_handler", "leader", "auditor", "security_admin", "audit_admin",
         "system")
MISSING_ID = "999999"


def walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[
        tuple[str, str, URLPattern]]:
    """(route, "namespace:name", pattern) for every URL pattern, however deeply included."""
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from walk(entry, route, ns)
        else:
            name = f"{namespace}:{entry.name}" if namespace else (entry.name or "")
            yield route, name, entry


def ninja_operations(pattern: URLPattern) -> list[Any]:
    """The operations behind one of django-ninja's URL patterns (its view closes over the
    PathView that dispatches by method)."""
    for cell in pattern.callback.__closure__ or ():
        path_view = cell.cell_contents
        if hasattr(path_view, "operations"):
            return list(path_view.operations)
    return []


def declared_pages() -> tuple[list[tuple[str, str, Rule]], list[str]]:
    pages, missing = [], []
    for route, name, pattern in walk(get_resolver()):
        top = name.split(":", 1)[0]
        if top == "admin":
            continue  # one rule: ADMIN_SITE (Django's own is_staff and permission checks)
        if top == "api":
            continue  # the operations below, one by one
        rule = rule_of(pattern.callback)
        if rule is None:
            missing.append(f"{route} ({name or pattern.lookup_str})")
        else:
            pages.append((route, name, rule))
    return pages, missing


def declared_operations() -> tuple[list[tuple[str, str, Rule]], list[str]]:
    operations, missing = [], []
    for route, name, pattern in walk(get_resolver()):
        if not name.startswith("api:") or name in NINJA_DOCS:
            continue
        found = ninja_operations(pattern)
        if not found:
            missing.append(f"{route} ({name}): not a django-ninja operation")
        for operation in found:
            rule = rule_of(operation.view_func)
            for method in operation.methods:
                if rule is None:
                    missing.append(f"{method} /{route} ({operation.view_func.__name__})")
                else:
                    operations.append((method, route, rule))
    return operations, missing


# --- (a) every endpoint declares a rule ------------------------------------------------------

def test_every_page_declares_its_roles() -> None:
    pages, missing = declared_pages()
    assert not missing, "pages without a rule (see hotline/core/rules.py): " + ", ".join(missing)
    assert len(pages) > 30


def test_every_api_operation_declares_its_roles() -> None:
    operations, missing = declared_operations()
    assert not missing, "operations without a rule (see hotline/api/rules.py): " + ", ".join(
        missing)
    assert len(operations) > 50


def test_the_openapi_document_carries_every_rule(db: None) -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    bare = [f"{method.upper()} {path}" for path, ops in paths.items()
            for method, op in ops.items() if "x-roles" not in op and not op.get("x-public")]
    assert not bare, bare
    assert paths["/api/v1/public/orders/{number}"]["get"]["x-public"] is True
    assert paths["/api/v1/desk/wallboard"]["get"]["x-roles"] == ["centre_admin", "monitor"]


def test_the_admin_site_is_one_declared_rule(city: City) -> None:
    # Django's admin admits is_staff accounts only; none of the fixture users is one.
    assert ADMIN_SITE.note
    for who in USERS:
        client = Client()
        client.force_login(getattr(city, who))
        r = client.get("/admin/")
        assert r.status_code == 302 and "/admin/login/" in r["Location"], who


# --- (b) the matrix, generated from the declarations -----------------------------------------

@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def objects(city: City, media: Path) -> dict[str, str]:
    order = dispatched_order(city)
    upload = SimpleUploadedFile("note.txt", "门牌号写在这里".encode(), content_type="text/plain")
    attachment = do_attach(city.agent, order, upload, "intake")
    return {"number": order.number, "attachment_id": str(attachment.pk), "action": "urge",
            "rest": "nothing", "path": "nothing"}


def fill(route: str, values: dict[str, str]) -> str:
    """A concrete path for a route: Django's <conv:name> and ninja's {name} / {name:conv}."""
    def value(match: re.Match[str]) -> str:
        return values.get(match.group("name"), MISSING_ID)

    route = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", value, route)
    route = re.sub(r"\{(?P<name>\w+)(?::\w+)?\}", value, route)
    return "/" + route.lstrip("^").rstrip("$")


def _client(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _page(client: Client, user: Any, url: str, name: str) -> Any:
    if name == "portal:logout":  # on a client of its own: it ends the session
        return _client(user).post(url)
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    return response


def _to_login(response: Any) -> bool:
    return response.status_code == 302 and "/login/" in response.get("Location", "")


# One test per role, so a parallel run spreads them; one logged-in client per role, as a
# person browsing from page to page has.
@pytest.mark.parametrize("who", [None, *USERS])
def test_pages_admit_exactly_their_roles(city: City, objects: dict[str, str], who: str | None
                                         ) -> None:
    pages, _missing = declared_pages()
    problems = []
    user = getattr(city, who) if who else None
    client = _client(user)
    for route, name, rule in pages:
        url = fill(route, objects)
        r = _page(client, user, url, name)
        label = f"{who or 'anonymous'} {url} ({name})"
        if r.status_code >= 500:
            problems.append(f"{label}: {r.status_code}")
        elif rule == PUBLIC or rule.public:
            # (Logging out sends one to the login page: a redirect, not a refusal.)
            if r.status_code == 403 or (_to_login(r) and name != "portal:logout"):
                problems.append(f"{label}: a public page answered {r.status_code}")
        elif rule.admits(user):
            # (An administrator who already has an authenticator is sent on from enrolment.)
            sent_on = name == "portal:two_factor_enrol" and r.status_code == 302
            if r.status_code == 403 or (_to_login(r) and not sent_on):
                problems.append(f"{label}: admitted by the rule, got {r.status_code}")
        elif not (r.status_code in (403, 404) or _to_login(r)):
            problems.append(f"{label}: not admitted, got {r.status_code}")
    assert not problems, "\n".join(problems)


def _call(client: Client, method: str, url: str) -> Any:
    return client.generic(method, url, json.dumps({}), content_type="application/json")


@pytest.mark.parametrize("who", [None, *USERS])
def test_api_operations_admit_exactly_their_roles(city: City, objects: dict[str, str],
                                                  who: str | None) -> None:
    operations, _missing = declared_operations()
    problems = []
    # The API's catch-all for unknown actions must not resolve to a real action's route.
    values = {**objects, "action": "no-such-action"}
    user = getattr(city, who) if who else None
    client = _client(user)
    for method, route, rule in operations:
        url = fill(route, values)
        r = _call(client, method, url)
        label = f"{who or 'anonymous'} {method} {url}"
        detail = ""
        if r.get("Content-Type", "").startswith("application/json"):
            payload = r.json()
            detail = payload.get("detail", "") if isinstance(payload, dict) else ""
        if r.status_code >= 500:
            problems.append(f"{label}: {r.status_code}")
        elif rule.public:
            if r.status_code in (401, 403):
                problems.append(f"{label}: a public operation answered {r.status_code}")
        elif rule.admits(user):
            if r.status_code == 401 or detail == (rule.refusal or RULE_REFUSAL):
                problems.append(f"{label}: admitted by the rule, got {r.status_code} {detail}")
        elif r.status_code not in (401, 403):
            problems.append(f"{label}: not admitted, got {r.status_code} {detail}")
    assert not problems, "\n".join(problems)


def test_an_undeclared_operation_refuses_everyone(city: City) -> None:
    """The API fails closed: an operation whose declaration is missing answers 403."""
    from ninja import NinjaAPI, Router

    from hotline.api import errors
    from hotline.api.auth import AUTH
    from hotline.api.rules import enforce

    router = Router()

    @router.get("/bare")
    def bare(request: Any) -> str:
        return "data"

    scratch = NinjaAPI(urls_namespace="scratch-rules", auth=AUTH)
    errors.install(scratch)
    scratch.add_decorator(enforce, mode="view")
    scratch.add_router("", router)
    scratch.urls  # noqa: B018 - binds the operations (and applies the decorator)
    (operation,) = [op for bound in scratch._get_bound_routers()
                    for view in bound.path_operations.values() for op in view.operations]

    request = RequestFactory().get("/bare")
    request.user = city.admin
    response = operation.run(request)
    assert response.status_code == 403
    assert b"declares no access rule" in getattr(response, "content", b"")


def test_superusers_are_not_admitted_where_the_rule_says_so(city: City) -> None:
    # The audit log is the audit administrator's alone (三员分立), superusers included.
    city.admin.is_superuser = True
    city.admin.save()
    r = _client(city.admin).get("/api/v1/audit/access-log")
    assert r.status_code == 403 and r.json()["detail"] == RULE_REFUSAL
