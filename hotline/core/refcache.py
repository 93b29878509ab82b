"""Per-process caches of reference rows that every request reads and few requests change.

Creating a work order through the API used to spend a third of its server time building the SQL
of three look-ups: the API token (with its user and unit), the district and the category. Those
rows change rarely, so each process keeps what it read in a ``RefCache``:

- **Within a process** a write takes effect at once: the owning app invalidates the cache when
  such a row is saved or deleted (``post_save``/``post_delete``, and explicitly where a queryset
  ``update`` bypasses the signals), immediately and again when the transaction commits (so a
  reader cannot put the old row back between the write and its commit).
- **Across processes** (several uvicorn workers) an entry lives at most
  ``HOTLINE_REFERENCE_CACHE_SECONDS`` (default 5; 0 turns the caches off): a change made in one
  worker reaches the others within that time. That bound is the contract, for a revoked token
  too.
- Only rows read **outside a transaction** are cached, and only rows that exist: inside a
  transaction a row might be the transaction's own uncommitted write, and caching misses would
  let anyone fill memory with unknown keys (each cache also holds at most ``max_entries``).

Values handed out must not be changed by callers; ``RefCache.get`` returns what the loader
returned, so loaders that hand out model instances should return copies (``copy.copy``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import connection, transaction

V = TypeVar("V")

_ALL: list[RefCache[Any]] = []


class RefCache(Generic[V]):
    def __init__(self, name: str, *, max_entries: int = 10_000) -> None:
        self.name = name
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, V]] = {}
        self.hits = 0
        self.loads = 0
        _ALL.append(self)

    @staticmethod
    def ttl() -> float:
        return float(settings.HOTLINE_REFERENCE_CACHE_SECONDS)

    def get(self, key: Hashable, load: Callable[[], V | None]) -> V | None:
        """The cached value for ``key``, else ``load()`` (cached when not None and read outside
        a transaction)."""
        ttl = self.ttl()
        if ttl <= 0 or connection.in_atomic_block:
            return load()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            self.hits += 1
            return entry[1]
        self.loads += 1
        value = load()
        if value is None:
            self._entries.pop(key, None)
            return None
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (now + ttl, value)
        return value

    def update(self, key: Hashable, value: V) -> None:
        """Replace a cached value in place, keeping its expiry (a no-op when not cached)."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries[key] = (entry[0], value)

    def clear(self) -> None:
        self._entries.clear()

    def invalidate(self) -> None:
        """Forget everything now and once more when the current transaction commits."""
        self.clear()
        if connection.in_atomic_block:
            transaction.on_commit(self.clear)

    def __len__(self) -> int:
        return len(self._entries)


def clear_all() -> None:
    """Empty every reference cache of this process (tests start from a clean slate)."""
    for cache in _ALL:
        cache.clear()
