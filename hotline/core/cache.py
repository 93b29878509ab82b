"""Django's database cache with an atomic ``incr`` that keeps the entry's expiry.

Django's own ``DatabaseCache.incr`` is ``BaseCache``'s: a read, then a ``set``. Two processes
incrementing at once both read n and both write n + 1, so parallel requests are counted once
(an attacker counting on that gets as many tries as requests in flight); and the ``set`` resets
the expiry to the default timeout, so a counter meant to last its window vanishes after five
minutes. Here the read and the write are one transaction that holds the row (``FOR UPDATE`` on
PostgreSQL; SQLite's IMMEDIATE transactions hold the database's write lock), and only the value
is written.
"""

from __future__ import annotations

import base64
import pickle
from typing import Any

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction
from django.utils import timezone


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        cache_key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self._table)  # type: ignore[attr-defined]  # set by BaseDatabaseCache
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('value')} FROM {table} "  # noqa: S608 - names quoted above
                f"WHERE {quote('cache_key')} = %s AND {quote('expires')} >= %s{lock}",
                [cache_key, now],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            stored = connection.ops.process_clob(row[0])
            value = pickle.loads(base64.b64decode(stored.encode())) + delta  # noqa: S301 - ours
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {quote('value')} = %s "  # noqa: S608 - names quoted above
                f"WHERE {quote('cache_key')} = %s",
                [encoded, cache_key],
            )
        return value
