"""Helpers for API tests: JSON clients logged in as the fixture city's users."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from django.core.cache import cache
from django.test import Client

from hotline.orders.services import NewOrder, do_action, do_create_order

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_django.fixtures import Settings

API = "/api/v1"


class ApiClient:
    """A Django test client that speaks JSON to /api/v1 as one user (session login)."""

    def __init__(self, user: Any = None, **client_kwargs: Any) -> None:
        self.client = Client(**client_kwargs)
        if user is not None:
            self.client.force_login(user)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(API + path, **kwargs)

    def post(self, path: str, data: Any = None, *, raw: str | bytes | None = None,
             **kwargs: Any) -> Any:
        body = raw if raw is not None else json.dumps(data if data is not None else {})
        return self.client.post(API + path, body, content_type="application/json", **kwargs)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # The public look-up counts failures in the cache; every test starts with a clean slate.
    cache.clear()


@pytest.fixture
def as_user() -> type[ApiClient]:
    return ApiClient


@pytest.fixture
def media(settings: Settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def new_order(city: Any, **overrides: Any) -> Any:
    fields: dict[str, Any] = dict(
        type="complaint", channel="phone", title="停水三天", text="鼓楼区某小区停水三天",
        citizen_phone="13812341234", citizen_name="张三", district="gulou", category="100101",
    )
    fields.update(overrides)
    order, _ = do_create_order(city.agent, NewOrder(**fields))
    return order


def dispatched_order(city: Any, **overrides: Any) -> Any:
    order = new_order(city, **overrides)
    do_action(city.agent, order.number, "dispatch")
    order.refresh_from_db()
    return order
