"""Order search: the orders' full-text index (``hotline.search``) and the search itself.

Indexing: ``index_new_orders`` indexes every order with an id above the highest one indexed, so
order intake needs no hook and stays fast; it runs from the periodic ``index_orders`` command
(``index_new_orders_task``) and, in small batches, before each order search.
``index_orders(queryset)`` (re)indexes any set of orders, e.g. after their text was edited.

Searching: the index gives ids newest first; the ORM then keeps only the orders in the caller's
scope (``hotline.orders.scope``), so the index never needs to know about permissions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils.safestring import SafeString

from hotline.orders import scope
from hotline.orders.disclosure import Disclosure
from hotline.orders.models import Order
from hotline.search.backends import IndexSpec, SearchBackend, backend
from hotline.search.highlight import highlight, snippet
from hotline.search.indexing import GrowingIndex
from hotline.search.query import ParsedQuery, clamp_limit, parse_query

# The tables keep the name and the migration (knowledge 0002) they had when the knowledge base
# also searched the orders: renaming them would rebuild the index of every order.
ORDER_INDEX = IndexSpec("knowledge_order", (("title", 4.0, "A"), ("text", 1.0, "C")))
ORDER_BATCH = 2000
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
class OrderHit:
    order: Order
    score: float
    title_html: SafeString
    snippet_html: SafeString


# Orders are only ever added: new ones are found above the highest indexed id.
ORDERS = GrowingIndex(ORDER_INDEX, Order, ("title", "text"))


def index_orders(queryset: QuerySet[Order]) -> int:
    """(Re)index the given orders; returns how many."""
    return ORDERS.index(queryset, batch=ORDER_BATCH)


def index_new_orders(batch: int = ORDER_BATCH, max_batches: int | None = None,
                     look_back: bool = True) -> int:
    """Index the orders created since the last run, and with ``look_back`` the ones just below
    the highest indexed id that committed late."""
    return ORDERS.index_new(batch, max_batches, look_back)


def catch_up_orders_quietly(batch: int = 500) -> int | None:
    """Before an order search: index a few new orders; returns the highest indexed id
    afterwards (None when the catch-up failed, which never fails the search)."""
    return ORDERS.catch_up_quietly(batch)


def search_orders(user: Any, text: str, limit: int = 20) -> list[OrderHit]:
    """Orders matching every word of ``text`` that ``user`` may see (hotline.orders.scope),
    newest first: agents look for the recent orders about a matter, and ranking all matches of
    a common word across millions of orders would cost seconds (the score is still returned)."""
    query = parse_query(text)
    if not query or user is None or not user.is_authenticated:
        return []
    highest = catch_up_orders_quietly()
    # Nothing above the highest indexed id can match: telling the backend saves it a query.
    before = None if highest is None else highest + 1
    limit = clamp_limit(limit)
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
    orders = Order.objects.select_related("category", "lead_unit", "district", "citizen") \
        .in_bulk([pk for pk, _score in chosen])
    found = [(orders[pk], score) for pk, score in chosen if pk in orders]
    terms = query.highlight_terms()
    seen = Disclosure(user)
    hits = []
    for order, score in found[:limit]:
        title, text = order.title, order.text
        if seen.hidden(order):
            # A reporter's own name or number written into a 举报 is blanked for this viewer,
            # and an order found only through them is not found at all (finding it would tell
            # who reported).
            title, text = seen.order_title(order), seen.order_text(order)
            if not _matches_words(query, f"{title}\n{text}"):
                continue
        hits.append(OrderHit(order, score, highlight(title, terms), snippet(text, terms)))
    return hits


def _matches_words(query: ParsedQuery, text: str) -> bool:
    """Does ``text`` still hold the words ``query`` asks for (each group: one alternative's
    words all present)?"""
    lowered = text.lower()
    found = [any(all(w.lower() in lowered for w in alt) for alt in group.alternatives)
             for group in query.groups]
    return any(found) if query.any_word else all(found)


def _visible_matches(user: Any, query: ParsedQuery, limit: int,
                     before: int | None) -> list[tuple[int, float | None]]:
    """The newest ``limit`` orders below ``before`` matching ``query`` that ``user`` may see,
    with their score when it is known (see ORDER_CHUNK)."""
    few = scope.few_visible_order_ids(user)
    if few is not None:
        return _few_visible_matches(few, query, limit, before)
    search = backend()
    chosen: list[tuple[int, float | None]] = []
    chunk = ORDER_CHUNK
    # Read once, not per chunk: the unit tree whose assignments the user sees through, and
    # for anyone but a sub-centre their visible orders (their unit holds NARROW_SCOPE orders
    # or more, as ``few`` said).
    units = scope.unit_tree(user)
    visible_all = None if scope.is_district_subcentre(user) \
        else scope.visible_orders(user, wide=True, units=units)
    # Both ways are tried on the first chunk; the one that reached further back leads after.
    lead = ""
    # Led by the visible orders: the share of them expected to match (see below).
    rate = 0.0
    for _step in range(ORDER_MAX_CHUNKS):
        hits: list[tuple[int, float | None]] = []
        matches: list[tuple[int, float | None]] = []
        if lead != "visible":
            # Ids only: scoring thousands of matches (bm25 over FTS5) costs more than
            # finding them; the page's few are scored at the end.
            # With ``spare``: a rare word's every match below ``before`` when the backend
            # listed them anyway (PostgreSQL's GIN step), so later chunks need not ask again.
            matches = [(pk, None) for pk in
                       search.newest_ids(ORDER_INDEX, query, chunk, before=before, spare=True)]
            visible = scope.visible_among(user, [pk for pk, _score in matches], units,
                                          visible_all)
            hits = [m for m in matches if m[0] in visible]
            # Fewer than asked, or more: every match below ``before`` was there.
            if len(chosen) + len(hits) >= limit or len(matches) != chunk:
                return (chosen + hits)[:limit]
        mine: list[int] = []
        # Which of ``mine`` match, with their scores where free (None: not asked yet).
        matched: dict[int, float | None] | None = None
        if lead == "visible":
            # The visible orders and which of them match in one statement (PostgreSQL).
            mine, matched = search.matches_among(ORDER_INDEX, query, *scope.newest_visible_sql(
                user, before, chunk, units, visible_all))
        elif lead != "matches":
            mine = scope.newest_visible_ids(user, before, chunk, units, visible_all)
        if not lead:
            lead = "visible" if len(mine) < chunk or _visible_reach_further(
                search, before, matches, mine) else "matches"
        if lead == "visible":
            # The visible orders reach further back: their matches are the whole answer for
            # that range (the matches' hits are among them).
            # Only which of them match (the backend reads just these ids' index rows); the
            # page's scores are asked for once at the end, for the few rows kept, unless
            # they came for free (PostgreSQL: then no statement is left for them).
            if matched is None:
                matched = (dict(search.scores(ORDER_INDEX, query, mine)) if search.free_scores
                           else dict.fromkeys(search.matches(ORDER_INDEX, query, mine)))
            hits = [(pk, matched[pk]) for pk in mine if pk in matched]
            if len(chosen) + len(hits) >= limit or len(mine) < chunk:
                return (chosen + hits)[:limit]
            rate = 0.0
            if matches and not hits:
                # The first chunk of visible orders held no match (two common words, ~1%):
                # the matches' share of all ids stands for their share of the visible ones.
                top = before if before is not None else max(matches[0][0], mine[0]) + 1
                rate = len(matches) / max(top - matches[-1][0], 1)
            before = mine[-1]
        else:
            before = matches[-1][0]
        chosen.extend(hits)
        chunk = min(chunk * 2, ORDER_CHUNK_MAX)
        if lead == "visible" and rate:
            # Rather than doubling from 50 through many rounds (a few statements each): the
            # visible orders the page needs at that share (a quarter more), at once. Once
            # some matched, chunks double (an estimate from a few hits overshoots, and FTS5's
            # screening of given ids costs per id).
            wanted = math.ceil((limit - len(chosen)) / rate * 1.25)
            chunk = min(max(chunk, wanted), ORDER_CHUNK_MAX)
    # The backend's own SQL over its index table; what the user typed is a parameter.
    sql, params = search.matching_ids_sql(ORDER_INDEX, query)
    matching = RawSQL(sql, params)  # noqa: S611
    rest = (scope.visible_orders(user) if visible_all is None else visible_all) \
        .filter(pk__lt=before, pk__in=matching)
    return chosen + [(pk, None) for pk in
                     rest.order_by("-pk").values_list("pk", flat=True)[:limit - len(chosen)]]


def _visible_reach_further(search: SearchBackend, before: int | None,
                           matches: list[tuple[int, float | None]], mine: list[int]) -> bool:
    """Do the visible orders reach further back than the matches for what reading them costs
    (the backend's estimate: FTS5 reads the matches, PostgreSQL's windows every id they span,
    and testing given ids is a lookup each)? Both chunks are full and start at ``before``."""
    top = before if before is not None else max(matches[0][0], mine[0]) + 1
    lowest = matches[-1][0]
    matches_cost = search.newest_cost(len(matches), top - lowest, lowest)
    visible_cost = search.matches_cost(len(mine))
    return (top - mine[-1]) * matches_cost > (top - lowest) * visible_cost


def _few_visible_matches(few: list[int], query: ParsedQuery, limit: int,
                         before: int | None) -> list[tuple[int, float | None]]:
    """``_visible_matches`` for a caller who sees only ``few`` orders (ids newest first): the
    newest matches, when they are fewer than a chunk (a rare word) or more (the backend
    listed every one), are all there is and are kept when visible; otherwise the visible
    orders, newest first, are tested by the index a chunk at a time (the backend reads only
    their index rows, however common the word)."""
    search = backend()
    # Scores are left to the end (search_orders asks for the page's alone).
    matches = search.newest_ids(ORDER_INDEX, query, ORDER_CHUNK, before=before, spare=True)
    if len(matches) != ORDER_CHUNK:  # fewer than asked or more: every match is there
        visible = set(few)
        found: list[tuple[int, float | None]] = [(pk, None) for pk in matches if pk in visible]
        return found[:limit]
    below = [pk for pk in few if before is None or pk < before]
    chosen: list[tuple[int, float | None]] = []
    start, chunk = 0, ORDER_CHUNK
    while start < len(below) and len(chosen) < limit:
        mine = below[start:start + chunk]
        matched = search.matches(ORDER_INDEX, query, mine)
        chosen.extend((pk, None) for pk in mine if pk in matched)
        start += chunk
        chunk = min(chunk * 2, ORDER_CHUNK_MAX)
    return chosen[:limit]


def matching_ids(text: str) -> RawSQL | None:
    """The ids of every indexed order matching all words of ``text``, as a subquery for
    ``pk__in`` (the caller keeps its own scope, order and page); None when ``text`` has no
    word to look for."""
    query = parse_query(text)
    if not query:
        return None
    sql, params = backend().matching_ids_sql(ORDER_INDEX, query)
    return RawSQL(sql, params)  # noqa: S611
