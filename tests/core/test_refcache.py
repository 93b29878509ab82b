"""The per-process reference cache: expiry, misses, transactions, invalidation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import transaction

from hotline.core import refcache
from hotline.core.refcache import RefCache

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytest_django.fixtures import Settings


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1000.0
        monkeypatch.setattr(refcache.time, "monotonic", lambda: self.now)


class Loader:
    def __init__(self, value: object) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value


@pytest.fixture
def cache() -> Iterator[RefCache[object]]:
    made: RefCache[object] = RefCache("test")
    yield made
    refcache._ALL.remove(made)


@pytest.mark.django_db(transaction=True)
def test_a_value_is_loaded_once_until_it_expires(cache: RefCache[object],
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 settings: Settings) -> None:
    settings.HOTLINE_REFERENCE_CACHE_SECONDS = 5
    clock = Clock(monkeypatch)
    load = Loader("a")
    assert cache.get("k", load) == "a" and cache.get("k", load) == "a"
    assert load.calls == 1
    load.value = "b"  # changed in another process: this one sees it once its entry expires
    clock.now += 4.9
    assert cache.get("k", load) == "a"
    clock.now += 0.2
    assert cache.get("k", load) == "b" and load.calls == 2


@pytest.mark.django_db(transaction=True)
def test_misses_are_not_cached(cache: RefCache[object]) -> None:
    load = Loader(None)
    assert cache.get("k", load) is None and cache.get("k", load) is None
    assert load.calls == 2 and len(cache) == 0


@pytest.mark.django_db(transaction=True)
def test_nothing_is_cached_inside_a_transaction(cache: RefCache[object]) -> None:
    load = Loader("uncommitted")
    with transaction.atomic():
        assert cache.get("k", load) == "uncommitted"
    assert len(cache) == 0
    assert cache.get("k", load) == "uncommitted" and len(cache) == 1


@pytest.mark.django_db(transaction=True)
def test_invalidate_forgets_now_and_again_at_commit(cache: RefCache[object]) -> None:
    cache.get("k", Loader("old"))
    cache.invalidate()
    assert len(cache) == 0
    with transaction.atomic():
        cache.invalidate()
        cache._entries["k"] = (float("inf"), "old")  # a reader that put the old row back
    assert len(cache) == 0  # the commit emptied it again


@pytest.mark.django_db(transaction=True)
def test_zero_seconds_turns_it_off(cache: RefCache[object], settings: Settings) -> None:
    settings.HOTLINE_REFERENCE_CACHE_SECONDS = 0
    load = Loader("a")
    cache.get("k", load)
    cache.get("k", load)
    assert load.calls == 2


@pytest.mark.django_db(transaction=True)
def test_size_is_bounded(cache: RefCache[object]) -> None:
    cache.max_entries = 3
    for i in range(10):
        cache.get(i, Loader(i))
    assert len(cache) <= 3


@pytest.mark.django_db(transaction=True)
def test_clear_all_empties_every_cache(cache: RefCache[object]) -> None:
    cache.get("k", Loader("a"))
    refcache.clear_all()
    assert len(cache) == 0
