"""Searching the knowledge base (the orders are searched by ``hotline.orders.search``).

The index gives ranked ids; the ORM then keeps only what the caller may read (published, not
retired, valid today, public for citizens), so the index never needs to know about validity
dates or permissions and expiry needs no re-indexing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString

from hotline.knowledge import relevance
from hotline.knowledge.indexing import ENTRY_INDEX
from hotline.knowledge.models import Entry, EntryKind, EntryVersion, readable_entries
from hotline.knowledge.richtext import plain_text
from hotline.search.backends import backend
from hotline.search.highlight import highlight, snippet
from hotline.search.query import MAX_LIMIT, ParsedQuery, clamp_limit

# At most this many of the best-ranked entry ids are read from the index to fill a page with
# readable entries.
ENTRY_CANDIDATES = 1000
ENTRY_FIRST_WINDOW = 50
# Suggestions are scored by ``relevance`` over this many of the index's best candidates.
SUGGEST_CANDIDATES = 200


@dataclass
class EntryHit:
    entry: Entry
    version: EntryVersion
    score: float
    title_html: SafeString
    snippet_html: SafeString

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.entry.pk,
            "kind": self.version.kind,
            "kind_label": str(EntryKind(self.version.kind).label),
            "title": self.version.title,
            "title_html": str(self.title_html),
            "snippet_html": str(self.snippet_html),
            "owner": self.entry.owner.name,
            "owner_phone": self.entry.owner.phone,
            "public": self.version.public,
            "valid_until": self.version.valid_until,
            "score": round(self.score, 4),
        }


def may_read_internal(user: Any) -> bool:
    """Staff read internal entries; citizens (anonymous) only the public ones."""
    return bool(user is not None and user.is_authenticated and user.is_active)


def _entry_hits(query: ParsedQuery, *, public_only: bool, limit: int,
                kind: str = "") -> list[EntryHit]:
    if not query:
        return []
    limit = clamp_limit(limit)
    # Most matches are readable (expired, internal and retired entries are few), so a small
    # window of the best matches usually fills the page; widen it only when it does not.
    window = max(limit * 5, ENTRY_FIRST_WINDOW)
    while True:
        ranked = backend().search(ENTRY_INDEX, query, window)
        candidates = readable_entries(public_only=public_only).filter(
            pk__in=[pk for pk, _score in ranked])
        if kind:
            candidates = candidates.filter(published__kind=kind)
        readable = set(candidates.values_list("pk", flat=True))
        top = [pk for pk, _score in ranked if pk in readable][:limit]
        if len(top) >= limit or len(ranked) < window or window >= ENTRY_CANDIDATES:
            break
        window = min(window * 4, ENTRY_CANDIDATES)
    if not top:
        return []
    scores = dict(ranked)
    by_id = Entry.objects.select_related("published", "owner").in_bulk(top)
    found = [by_id[pk] for pk in top if pk in by_id]
    terms = query.highlight_terms()
    hits = []
    for entry in found:
        version = entry.published
        if version is None:  # retired between the two queries
            continue
        hits.append(EntryHit(entry, version, scores[entry.pk], highlight(version.title, terms),
                             snippet(plain_text(version.body), terms)))
    return hits


def _hit(entry: Entry, version: EntryVersion, score: float, query: ParsedQuery) -> EntryHit:
    terms = query.highlight_terms()
    return EntryHit(entry, version, score, highlight(version.title, terms),
                    snippet(plain_text(version.body), terms))


def _suggested(query: ParsedQuery, *, public_only: bool, limit: int,
               threshold: float | None = None) -> list[EntryHit]:
    """Entries with any word of ``query``, scored by ``relevance``: only those that answer
    well enough, best first."""
    if not query:
        return []
    ranked = backend().search(ENTRY_INDEX, query, SUGGEST_CANDIDATES)
    if not ranked:
        return []
    question = relevance.weights(query)
    if not question:
        return []
    candidates = readable_entries(public_only=public_only).filter(
        pk__in=[pk for pk, _score in ranked]).select_related("published", "owner")
    by_id = {entry.pk: entry for entry in candidates}
    scored = [(relevance.score(entry.published, question), entry.pk)
              for entry in by_id.values() if entry.published is not None]
    words = {entry.pk: relevance.words_found(entry.published, question)
             for entry in by_id.values() if entry.published is not None}
    found = relevance.best(scored, question, clamp_limit(limit), threshold, words)
    return [_hit(by_id[pk], by_id[pk].published, score, query)  # type: ignore[arg-type]
            for score, pk in found]


def search_entries(user: Any, text: str, *, limit: int = 20, kind: str = "",
                   public_only: bool | None = None) -> list[EntryHit]:
    """Entries matching every word of ``text`` (or one of its synonyms), best first; a word
    that means nothing alone (one character, a house number) is not searched for. Citizens
    (no user) and callers asking for ``public_only`` get public entries only."""
    if public_only is None:
        public_only = not may_read_internal(user)
    elif not public_only and not may_read_internal(user):
        public_only = True
    return _entry_hits(relevance.parse_search(text), public_only=public_only, limit=limit,
                       kind=kind)


def suggest_entries(user: Any, text: str, *, limit: int = 5) -> list[EntryHit]:
    """Entries for what an agent is typing, scored by how well they answer it
    (``relevance``): a half-written sentence already brings up the likely answers, and a
    question the knowledge base has no answer for brings up nothing."""
    public_only = not may_read_internal(user)
    return _suggested(relevance.parse_question(text), public_only=public_only, limit=limit)


def voice_entries(text: str, limit: int = 3) -> list[EntryHit]:
    """Entries the voice menu may read aloud (public, marked ``for_voice``) for a caller's
    words, scored like suggestions; for the automatic consultation menu (自动咨询)."""
    hits = _suggested(relevance.parse_question(text), public_only=True, limit=MAX_LIMIT)
    return [hit for hit in hits if hit.version.for_voice][:limit]
