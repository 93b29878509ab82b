"""The knowledge API at /api/v1/knowledge/: public scope without credentials, full with them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.api.tokens import do_issue_token
from tests.knowledge.conftest import publish

if TYPE_CHECKING:
    from django.test import Client
    from pytest_django.fixtures import Settings

    from hotline.knowledge.models import Entry
    from tests.conftest import City

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _knowledge_api_mounted(settings: Settings) -> None:
    from hotline.api.knowledge import router
    from hotline.api.urls import api

    if not any(r is router for _prefix, r in api._routers):
        # Not wired into hotline/api/urls.py yet: serve the same router at the same path.
        settings.ROOT_URLCONF = "tests.knowledge.urls_api"


@pytest.fixture
def entries(city: City) -> tuple[Entry, Entry]:
    public = publish(city, title="停水公告<b>", body="鼓楼区临时停水")
    internal = publish(city, title="停水内部口径", body="内部答复口径：临时停水", public=False)
    return public, internal


def test_search_without_credentials_is_public_only(client: Client, entries: tuple[Entry, Entry]) -> None:
    public, _internal = entries
    response = client.get("/api/v1/knowledge/search", {"q": "停水"})
    assert response.status_code == 200
    body = response.json()
    assert body["scope"] == "public"
    assert [r["id"] for r in body["results"]] == [public.pk]
    assert body["results"][0]["title_html"] == "<mark>停水</mark>公告&lt;b&gt;"
    assert body["results"][0]["owner_phone"] == "0591-12345001"


def test_search_with_token_includes_internal(client: Client, city: City,
                                             entries: tuple[Entry, Entry]) -> None:
    _token, token = do_issue_token(city.agent, "test")
    response = client.get("/api/v1/knowledge/search", {"q": "停水"},
                          HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json()["scope"] == "internal"
    assert {r["id"] for r in response.json()["results"]} == {e.pk for e in entries}
    client.force_login(city.handler)
    assert client.get("/api/v1/knowledge/search", {"q": "停水"}).json()["scope"] == "internal"


def test_entry_detail(client: Client, city: City, entries: tuple[Entry, Entry]) -> None:
    public, internal = entries
    response = client.get(f"/api/v1/knowledge/entries/{public.pk}")
    assert response.status_code == 200
    assert response.json()["title"] == "停水公告<b>"
    assert response.json()["categories"] == ["100101"]
    assert client.get(f"/api/v1/knowledge/entries/{internal.pk}").status_code == 404
    client.force_login(city.agent)
    assert client.get(f"/api/v1/knowledge/entries/{internal.pk}").status_code == 200


def test_suggest_needs_credentials(client: Client, city: City, entries: tuple[Entry, Entry]) -> None:
    response = client.get("/api/v1/knowledge/suggest", {"text": "你好我家停水了"})
    assert response.status_code == 401
    client.force_login(city.agent)
    response = client.get("/api/v1/knowledge/suggest", {"text": "你好我家停水了"})
    assert response.status_code == 200
    assert len(response.json()) == 2


def test_order_search_in_scope(client: Client, city: City) -> None:
    from tests.orders.test_search import new_order

    order = new_order(city)
    assert client.get("/api/v1/knowledge/orders/search", {"q": "停水"}).status_code == 401
    client.force_login(city.agent)
    found = client.get("/api/v1/knowledge/orders/search", {"q": "停水"}).json()
    assert [o["number"] for o in found] == [order.number]
    client.force_login(city.handler)  # not dispatched to water yet
    assert client.get("/api/v1/knowledge/orders/search", {"q": "停水"}).json() == []


def test_bad_parameters_are_422(client: Client) -> None:
    assert client.get("/api/v1/knowledge/search").status_code == 422
    assert client.get("/api/v1/knowledge/search", {"q": "x" * 201}).status_code == 422
    zero_limit: dict[str, str | int] = {"q": "停水", "limit": 0}
    assert client.get("/api/v1/knowledge/search", zero_limit).status_code == 422
