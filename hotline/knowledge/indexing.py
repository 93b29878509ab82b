"""Keeping the search indexes up to date.

Entries: the services call ``index_entry`` when a version is published and ``unindex_entry``
when an entry is retired (no signals). Orders: ``index_new_orders`` indexes every order with an
id above the highest one indexed, so order intake needs no hook and stays fast; it runs from the
periodic ``index_orders`` command and, in small batches, before each order search.
``index_orders(queryset)`` (re)indexes any set of orders, e.g. after their text was edited.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet

from hotline.knowledge import segmentation
from hotline.knowledge.backends import ENTRY_INDEX, ORDER_INDEX, backend
from hotline.knowledge.models import Entry, EntryVersion, split_keywords
from hotline.knowledge.richtext import plain_text
from hotline.orders.models import Order

logger = logging.getLogger(__name__)

ORDER_BATCH = 2000


def version_tokens(version: EntryVersion) -> tuple[list[str], list[str], list[str]]:
    keywords: list[str] = []
    for keyword in split_keywords(version.keywords):
        keywords.extend(segmentation.index_tokens(keyword))
    return (
        segmentation.index_tokens(version.title),
        keywords,
        segmentation.index_tokens(plain_text(version.body)),
    )


def index_entry(entry: Entry) -> None:
    if entry.published is None:
        unindex_entry(entry.pk)
        return
    backend().replace(ENTRY_INDEX, [(entry.pk, version_tokens(entry.published))])


def unindex_entry(entry_id: int) -> None:
    backend().delete(ENTRY_INDEX, [entry_id])


def rebuild_entry_index() -> int:
    """Index every entry with a published version again (after a dictionary change)."""
    search = backend()
    entries = Entry.objects.filter(published__isnull=False).select_related("published")
    with transaction.atomic():
        search.clear(ENTRY_INDEX)
        documents = [(e.pk, version_tokens(e.published)) for e in entries if e.published]
        search.replace(ENTRY_INDEX, documents)
    return len(documents)


def _order_documents(orders: Iterable[tuple[int, str, str]]) -> list[tuple[int, tuple[list[str], list[str]]]]:
    return [
        (pk, (segmentation.index_tokens(title), segmentation.index_tokens(text)))
        for pk, title, text in orders
    ]


def index_orders(queryset: QuerySet[Order]) -> int:
    """(Re)index the given orders; returns how many."""
    search = backend()
    count = 0
    rows = queryset.order_by("pk").values_list("pk", "title", "text")
    batch: list[tuple[int, str, str]] = []
    for row in rows.iterator(chunk_size=ORDER_BATCH):
        batch.append(row)
        if len(batch) >= ORDER_BATCH:
            with transaction.atomic():
                search.replace(ORDER_INDEX, _order_documents(batch))
            count += len(batch)
            batch = []
    if batch:
        with transaction.atomic():
            search.replace(ORDER_INDEX, _order_documents(batch))
        count += len(batch)
    return count


# Ids are allocated before commit, so an order may commit after a higher id was indexed: each
# run also looks this far below the highest indexed id for orders still missing.
LOOKBACK_IDS = 1000


def index_new_orders(batch: int = ORDER_BATCH, max_batches: int | None = None,
                     look_back: bool = True) -> int:
    """Index the orders created since the last run (ids above the highest indexed id), and
    with ``look_back`` the ones just below it that committed late."""
    search = backend()
    total = 0
    done = 0
    last = search.max_id(ORDER_INDEX)
    if last and look_back:
        floor = max(0, last - LOOKBACK_IDS)
        existing = set(Order.objects.filter(pk__gt=floor, pk__lte=last).values_list("pk", flat=True))
        missing = existing - search.ids_between(ORDER_INDEX, floor, last)
        if missing:
            total += index_orders(Order.objects.filter(pk__in=missing))
    while max_batches is None or done < max_batches:
        last = search.max_id(ORDER_INDEX)
        rows = list(Order.objects.filter(pk__gt=last).order_by("pk")
                    .values_list("pk", "title", "text")[:batch])
        if not rows:
            break
        with transaction.atomic():
            search.replace(ORDER_INDEX, _order_documents(rows))
        total += len(rows)
        done += 1
    return total


def catch_up_orders_quietly(batch: int = 500) -> int | None:
    """Before an order search: index a few new orders (the periodic run looks back for late
    commits); a busy database must not fail the search. Returns the highest indexed id
    afterwards (None when the catch-up failed).

    Usually there is nothing new: then it costs two small reads, with no transaction (on a
    loaded server every round trip counts); inside a caller's transaction a savepoint keeps a
    failure from spoiling it."""
    search = backend()
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with guard:
            last = search.max_id(ORDER_INDEX)
            rows = list(Order.objects.filter(pk__gt=last).order_by("pk")
                        .values_list("pk", "title", "text")[:batch])
            if not rows:
                return last
            with transaction.atomic():
                search.replace(ORDER_INDEX, _order_documents(rows))
            return int(rows[-1][0])
    except DatabaseError:
        logger.warning("order index catch-up skipped", exc_info=True)
        return None
