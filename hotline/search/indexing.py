"""Keeping an index of a growing table up to date without a hook in the code that writes it.

``GrowingIndex`` indexes every row with an id above the highest one indexed: the writers (order
intake, say) need no hook and stay fast; a periodic run and, in small batches, each search catch
the index up. Each of the model's ``fields`` is segmented for the spec's field of the same rank.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Model, QuerySet

from hotline.core import segmentation
from hotline.search.backends import Document, IndexSpec, backend

logger = logging.getLogger(__name__)

BATCH = 2000
# Ids are allocated before commit, so a row may commit after a higher id was indexed: each
# periodic run also looks this far below the highest indexed id for rows still missing.
LOOKBACK_IDS = 1000


@dataclass(frozen=True)
class GrowingIndex:
    spec: IndexSpec
    model: type[Model]
    fields: tuple[str, ...]

    def _rows(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.order_by("pk").values_list("pk", *self.fields)

    def documents(self, rows: Iterable[Sequence[Any]]) -> list[Document]:
        return [(row[0], tuple(segmentation.index_tokens(text or "") for text in row[1:]))
                for row in rows]

    def index(self, queryset: QuerySet[Any], batch: int = BATCH) -> int:
        """(Re)index the given rows (e.g. after their text was edited); returns how many."""
        search = backend()
        count = 0
        pending: list[Sequence[Any]] = []
        for row in self._rows(queryset).iterator(chunk_size=batch):
            pending.append(row)
            if len(pending) >= batch:
                with transaction.atomic():
                    search.replace(self.spec, self.documents(pending))
                count += len(pending)
                pending = []
        if pending:
            with transaction.atomic():
                search.replace(self.spec, self.documents(pending))
            count += len(pending)
        return count

    def index_new(self, batch: int = BATCH, max_batches: int | None = None,
                  look_back: bool = True) -> int:
        """Index the rows created since the last run (ids above the highest indexed id), and
        with ``look_back`` the ones just below it that committed late."""
        search = backend()
        objects = self.model._default_manager
        total = 0
        done = 0
        last = search.max_id(self.spec)
        if last and look_back:
            floor = max(0, last - LOOKBACK_IDS)
            existing = set(objects.filter(pk__gt=floor, pk__lte=last).values_list("pk", flat=True))
            missing = existing - search.ids_between(self.spec, floor, last)
            if missing:
                total += self.index(objects.filter(pk__in=missing))
        while max_batches is None or done < max_batches:
            last = search.max_id(self.spec)
            rows = list(self._rows(objects.filter(pk__gt=last))[:batch])
            if not rows:
                break
            with transaction.atomic():
                search.replace(self.spec, self.documents(rows))
            total += len(rows)
            done += 1
        return total

    def catch_up_quietly(self, batch: int = 500) -> int | None:
        """Before a search: index a few new rows (the periodic run looks back for late
        commits); a busy database must not fail the search. Returns the highest indexed id
        afterwards (None when the catch-up failed).

        Usually there is nothing new: then it costs one small read (the highest id indexed and
        the table's, in one statement), with no transaction (on a loaded server every round
        trip counts); inside a caller's transaction a savepoint keeps a failure from spoiling
        it."""
        search = backend()
        guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
        table = connection.ops.quote_name(self.model._meta.db_table)
        pk = connection.ops.quote_name(self.model._meta.pk.column)
        try:
            with guard:
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT ({search.max_id_sql(self.spec)}), "  # noqa: S608
                                   f"(SELECT max({pk}) FROM {table})")
                    indexed, highest = cursor.fetchone() or (None, None)
                last = int(indexed or 0)
                if highest is None or int(highest) <= last:
                    return last
                rows = list(self._rows(self.model._default_manager.filter(pk__gt=last))[:batch])
                if not rows:
                    return last
                with transaction.atomic():
                    search.replace(self.spec, self.documents(rows))
                return int(rows[-1][0])
        except DatabaseError:
            logger.warning("%s index catch-up skipped", self.spec.table, exc_info=True)
            return None
