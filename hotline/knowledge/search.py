"""Searching the knowledge base and the orders.

The index gives ranked ids; the ORM then keeps only what the caller may read (published, not
retired, valid today, public for citizens; orders in the caller's scope), so the index never
needs to know about validity dates or permissions and expiry needs no re-indexing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models.expressions import RawSQL
from django.utils.safestring import SafeString

from hotline.knowledge import indexing
from hotline.knowledge.backends import ENTRY_INDEX, ORDER_INDEX, backend
from hotline.knowledge.highlight import highlight, snippet
from hotline.knowledge.models import Entry, EntryKind, EntryVersion, readable_entries
from hotline.knowledge.query import ParsedQuery, parse_query
from hotline.knowledge.richtext import plain_text
from hotline.orders import scope
from hotline.orders.models import Order

MAX_LIMIT = 100
# At most this many of the best-ranked entry ids are read from the index to fill a page with
# readable entries.
ENTRY_CANDIDATES = 1000
ENTRY_FIRST_WINDOW = 50
# Orders for a caller who sees only some of them: the page is the newest orders that both
# match and are visible, found in chunks from a boundary going back: either the matches
# (read from the index) kept when visible, or the visible orders (read from the database) kept
# when they match. Which reaches further per chunk depends on the word and on the scope (a
# department over a rare word: the matches; a street office over a common word: its orders),
# so when the matches' chunk does not fill the page, the visible orders' chunk from the same
# boundary is read too and the one reaching further back is kept (its range is complete) and
# used alone for the following chunks.
# Chunks double up to ORDER_CHUNK_MAX; after ORDER_MAX_CHUNKS of them one query joining both
# finds the rest (exact, planned by the database).
ORDER_CHUNK = 50
ORDER_CHUNK_MAX = 4000
ORDER_MAX_CHUNKS = 10


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


@dataclass
class OrderHit:
    order: Order
    score: float
    title_html: SafeString
    snippet_html: SafeString


def may_read_internal(user: Any) -> bool:
    """Staff read internal entries; citizens (anonymous) only the public ones."""
    return bool(user is not None and user.is_authenticated and user.is_active)


def _clamp(limit: int) -> int:
    return max(1, min(int(limit), MAX_LIMIT))


def _entry_hits(query: ParsedQuery, *, public_only: bool, limit: int,
                kind: str = "") -> list[EntryHit]:
    if not query:
        return []
    limit = _clamp(limit)
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


def search_entries(user: Any, text: str, *, limit: int = 20, kind: str = "",
                   public_only: bool | None = None) -> list[EntryHit]:
    """Entries matching every word of ``text`` (or one of its synonyms), best first. Citizens
    (no user) and callers asking for ``public_only`` get public entries only."""
    if public_only is None:
        public_only = not may_read_internal(user)
    elif not public_only and not may_read_internal(user):
        public_only = True
    return _entry_hits(parse_query(text), public_only=public_only, limit=limit, kind=kind)


def suggest_entries(user: Any, text: str, *, limit: int = 5) -> list[EntryHit]:
    """Entries for what an agent is typing: any of its words (stop words dropped), best first,
    so a half-written sentence already brings up the likely answers."""
    public_only = not may_read_internal(user)
    return _entry_hits(parse_query(text, any_word=True), public_only=public_only, limit=limit)


def search_orders(user: Any, text: str, limit: int = 20) -> list[OrderHit]:
    """Orders matching every word of ``text`` that ``user`` may see (hotline.orders.scope),
    newest first: agents look for the recent orders about a matter, and ranking all matches of
    a common word across millions of orders would cost seconds (the score is still returned)."""
    query = parse_query(text)
    if not query or user is None or not user.is_authenticated:
        return []
    highest = indexing.catch_up_orders_quietly()
    # Nothing above the highest indexed id can match: telling the backend saves it a query.
    before = None if highest is None else highest + 1
    limit = _clamp(limit)
    search = backend()
    everything = scope.sees_everything(user)
    # Only ids and scores until the page is known: building model objects for every candidate
    # costs more than the full-text query itself.
    chosen: list[tuple[int, float]] = []
    if everything:
        chosen = search.search(ORDER_INDEX, query, limit, newest_first=True, before=before)
    else:
        page = _visible_matches(user, query, limit, before)
        missing = search.scores(ORDER_INDEX, query, [pk for pk, score in page if score is None])
        chosen = [(pk, missing.get(pk, 0.0) if score is None else score) for pk, score in page]
    chosen = chosen[:limit]
    orders = Order.objects.select_related("category", "lead_unit", "district").in_bulk(
        [pk for pk, _score in chosen])
    found = [(orders[pk], score) for pk, score in chosen if pk in orders]
    terms = query.highlight_terms()
    return [OrderHit(order, score, highlight(order.title, terms), snippet(order.text, terms))
            for order, score in found[:limit]]


def _visible_matches(user: Any, query: ParsedQuery, limit: int,
                     before: int | None) -> list[tuple[int, float | None]]:
    """The newest ``limit`` orders below ``before`` matching ``query`` that ``user`` may see,
    with their score when it is known (see ORDER_CHUNK)."""
    search = backend()
    chosen: list[tuple[int, float | None]] = []
    chunk = ORDER_CHUNK
    # Built once: the scope reads the caller's unit tree.
    mine_all = scope.visible_orders(user)
    # Both ways are tried on the first chunk; the one that reached further back leads after.
    lead = ""
    for _step in range(ORDER_MAX_CHUNKS):
        hits: list[tuple[int, float | None]] = []
        matches: list[tuple[int, float]] = []
        if lead != "visible":
            matches = search.search(ORDER_INDEX, query, chunk, newest_first=True, before=before)
            visible = set(mine_all.filter(pk__in=[pk for pk, _score in matches])
                          .values_list("pk", flat=True))
            hits = [m for m in matches if m[0] in visible]
            if len(chosen) + len(hits) >= limit or len(matches) < chunk:
                return (chosen + hits)[:limit]
        mine: list[int] = []
        if lead != "matches":
            below = mine_all if before is None else mine_all.filter(pk__lt=before)
            mine = list(below.order_by("-pk").values_list("pk", flat=True)[:chunk])
        if not lead:
            lead = "visible" if len(mine) < chunk or mine[-1] < matches[-1][0] else "matches"
        if lead == "visible":
            # The visible orders reach further back: their matches are the whole answer for
            # that range (the matches' hits are among them).
            scored = search.scores(ORDER_INDEX, query, mine)
            hits = [(pk, scored[pk]) for pk in mine if pk in scored]
            if len(chosen) + len(hits) >= limit or len(mine) < chunk:
                return (chosen + hits)[:limit]
            before = mine[-1]
        else:
            before = matches[-1][0]
        chosen.extend(hits)
        chunk = min(chunk * 2, ORDER_CHUNK_MAX)
    # The backend's own SQL over its index table; what the user typed is a parameter.
    sql, params = search.matching_ids_sql(ORDER_INDEX, query)
    matching = RawSQL(sql, params)  # noqa: S611
    rest = mine_all.filter(pk__lt=before, pk__in=matching)
    return chosen + [(pk, None) for pk in
                     rest.order_by("-pk").values_list("pk", flat=True)[:limit - len(chosen)]]


def voice_entries(text: str, limit: int = 3) -> list[EntryHit]:
    """Entries the voice menu may read aloud (public, marked ``for_voice``) for a caller's
    words, any of them matching; for the automatic consultation menu (自动咨询)."""
    hits = _entry_hits(parse_query(text, any_word=True), public_only=True, limit=MAX_LIMIT)
    return [hit for hit in hits if hit.version.for_voice][:limit]
