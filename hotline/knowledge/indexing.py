"""Keeping the knowledge base's search index up to date: the services call ``index_entry`` when
a version is published and ``unindex_entry`` when an entry is retired (no signals). The index
machinery is ``hotline.search``; the orders have their own index (``hotline.orders.search``).
"""

from __future__ import annotations

from django.db import transaction

from hotline.core import segmentation
from hotline.knowledge.models import Entry, EntryVersion, split_keywords
from hotline.knowledge.richtext import plain_text
from hotline.search.backends import IndexSpec, backend

# The tables are created by migration 0002 (raw SQL per vendor).
ENTRY_INDEX = IndexSpec("knowledge_entry", (("title", 10.0, "A"), ("keywords", 6.0, "A"), ("body", 1.0, "C")))


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
