from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from hotline.orders.services import NewOrder, do_action, do_create_order

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django.fixtures import Settings

    from hotline.directory.models import User
    from hotline.orders.models import Order
    from tests.conftest import City


@pytest.fixture(autouse=True)
def _english_and_clean_cache(settings: Settings) -> None:
    # Assertions read English msgids; the Chinese default is tested separately.
    settings.LANGUAGE_CODE = "en"
    cache.clear()


@pytest.fixture
def login(client: Client) -> Callable[[User], Client]:
    def as_user(user: User) -> Client:
        client.force_login(user)
        return client

    return as_user


def new_order(city: City, **overrides: Any) -> Order:
    data: dict[str, Any]
    data = dict(type="complaint", channel="phone", title="停水三天", text="鼓楼区某小区停水三天",
                citizen_phone="13812341234", citizen_name="张三", district="gulou",
                category="100101")
    data.update(overrides)
    order, _ = do_create_order(city.agent, NewOrder(**data))
    return order


@pytest.fixture
def order(city: City) -> Order:
    """A water-outage complaint, accepted, not dispatched yet."""
    return new_order(city)


@pytest.fixture
def dispatched(city: City, order: Order) -> Order:
    """The same order dispatched by its route: water leads, housing co-handles."""
    return do_action(city.agent, order.number, "dispatch")


LOCALE_DIR = Path(__file__).resolve().parents[2] / "hotline" / "locale"


def ensure_compiled_messages() -> None:
    """`make test` compiles the catalogue first; a bare `pytest` run does it here when the .mo
    is missing or older than the .po (the .mo is not kept in git)."""
    po = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["zh_Hans"], verbosity=0,
                     ignore_patterns=[".venv/*"])
        from django.utils.translation import trans_real

        trans_real._translations = {}  # type: ignore[attr-defined]
        trans_real._default = None  # type: ignore[attr-defined]
