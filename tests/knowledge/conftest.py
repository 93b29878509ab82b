from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from django.core.cache import cache
from django.test import Client

from hotline.core import segmentation
from hotline.knowledge.services import EntryData, do_create_entry, do_entry_action

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django.fixtures import Settings

    from hotline.directory.models import User
    from hotline.knowledge.models import Entry
    from tests.conftest import City


@pytest.fixture(autouse=True)
def _english_and_dictionary(settings: Settings, city: City) -> None:
    settings.LANGUAGE_CODE = "en"
    cache.clear()
    # The fixture city's names become dictionary words, as in production.
    segmentation.reload_user_words()


@pytest.fixture
def login(client: Client) -> Callable[[User], Client]:
    def as_user(user: User) -> Client:
        client.force_login(user)
        return client

    return as_user


def entry_data(**overrides: Any) -> EntryData:
    data: dict[str, Any]
    data = dict(kind="faq", title="停水了怎么办", body="因管网抢修，鼓楼区部分区域临时停水，请提前储水。",
                keywords="停水 供水", categories=["100101"])
    data.update(overrides)
    return EntryData(**data)


def publish(city: City, author: User | None = None, reviewer: User | None = None,
            **overrides: Any) -> Entry:
    """An entry written by the water department and published by the centre."""
    entry = do_create_entry(author or city.handler, entry_data(**overrides))
    do_entry_action(author or city.handler, entry.pk, "submit")
    return do_entry_action(reviewer or city.monitor, entry.pk, "publish")


@pytest.fixture
def today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()
