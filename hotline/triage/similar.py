"""Open orders about the same matter as a new request (重复件) or an existing order, for the
agent to merge (并单) or link (关联).

Candidates are bounded whatever the size of the database, then scored by the pure scorer
(``hotline.triage.duplicates``):
- by text: the request's rarest words (at most ``QUERY_WORDS``, any of them) in the order
  search index, restricted to ids created within the window, best ``TEXT_CANDIDATES`` by rank;
- by place: the newest open orders of the same district within the window
  (``PLACE_CANDIDATES``, the (district, state) index);
- by caller: the citizen's own open orders (``CALLER_CANDIDATES``).
Only open orders (not closed, merged, refused or archived) created within the window
(``HOTLINE_SIMILAR_WINDOW_DAYS``, default 30) and in the caller's scope
(``hotline.orders.scope``) are kept. The IDF comes from the most recent orders and is cached
per process, so a score does not depend on which other candidates were fetched.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.core import segmentation
from hotline.core.errors import Forbidden, InvalidInput
from hotline.directory.models import District, User
from hotline.orders import lifecycle, scope
from hotline.orders.lifecycle import Action
from hotline.orders.models import Citizen, Order, OrderLink
from hotline.orders.search import ORDER_INDEX, catch_up_orders_quietly
from hotline.search.query import Group, ParsedQuery
from hotline.triage import duplicates
from hotline.triage.duplicates import Candidate, Idf, Match, Prepared, Reason, Request

QUERY_WORDS = 10
TITLE_WORDS = 6
QUERY_TEXT_CHARS = 300
TEXT_CANDIDATES = 120
# Only the newest this many matches of the window are ranked: ranking every match of a common
# word over a busy month would cost more than the rest of the lookup.
TEXT_SCAN = 2000
PLACE_CANDIDATES = 60
CALLER_CANDIDATES = 20
IDF_ORDERS = 3000
IDF_MAX_AGE_SECONDS = 3600
FEATURE_CACHE = 20000
MAX_LIMIT = 50
MAX_ID = 2**63 - 1
OPEN_STATES = [s.value for s in lifecycle.OPEN]


def window_days() -> int:
    return int(settings.HOTLINE_SIMILAR_WINDOW_DAYS)


@dataclass
class SimilarOrder:
    order: Order
    score: float
    kind: str  # duplicate / related
    reasons: tuple[Reason, ...]
    linked: str = ""  # the kind of an existing link with the order asked about

    @property
    def reason_labels(self) -> list[str]:
        return [reason_label(r) for r in self.reasons]

    @property
    def kind_label(self) -> str:
        return str(_("Likely duplicate") if self.kind == duplicates.Kind.DUPLICATE
                   else _("Related"))


def reason_label(reason: Reason) -> str:
    value = reason.value
    labels = {
        "same_address": _("Same address"),
        "similar_address": _("Similar address"),
        "other_building": _("Different building or house number"),
        "same_caller": _("Same caller"),
        "same_district": _("Same district"),
        "other_district": _("Another district"),
    }
    if reason.code == "similar_text":
        return _("Similar text %(score).2f") % {"score": value or 0}
    if reason.code == "days_apart":
        return _("%(days)s days apart") % {"days": f"{value or 0:g}"}
    return str(labels.get(reason.code, reason.code))


def may_look_for_duplicates(user: User) -> bool:
    """Those who merge or link: the centre's desk (sub-centre agents within their scope)."""
    return bool(user.is_active and (
        user.is_superuser or user.role in lifecycle.ACTION_ROLES[Action.LINK]
    ))


def check_may_look(user: User) -> None:
    if not may_look_for_duplicates(user):
        raise Forbidden("your role may not look for duplicate orders")


# --- per-process caches ----------------------------------------------------------------------

class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idf: Idf | None = None
        self.idf_at = 0.0
        self.idf_db = ""
        self.features: OrderedDict[tuple[Any, ...], Prepared] = OrderedDict()

    def clear(self) -> None:
        with self.lock:
            self.idf = None
            self.features.clear()


cache = _Cache()


def _db_key() -> str:
    return str(connection.settings_dict.get("NAME"))


def current_idf() -> Idf:
    """Document frequencies over the newest ``IDF_ORDERS`` orders, rebuilt hourly."""
    now = time.monotonic()
    with cache.lock:
        # A young database changes fast: its few orders are counted again every minute.
        max_age = IDF_MAX_AGE_SECONDS if cache.idf and cache.idf.documents >= IDF_ORDERS else 60
        fresh = cache.idf is not None and cache.idf_db == _db_key() and \
            now - cache.idf_at < max_age
        if fresh and cache.idf is not None:
            return cache.idf
    rows = Order.objects.order_by("-pk").values_list("title", "text")[:IDF_ORDERS]
    idf = Idf.from_features(duplicates.text_features(t, x) for t, x in rows)
    with cache.lock:
        cache.idf, cache.idf_at, cache.idf_db = idf, now, _db_key()
    return idf


def _prepared(row: dict[str, Any]) -> Prepared:
    # Keyed by content too: a test database hands the same id out again after a rollback.
    key = (_db_key(), row["pk"], hash(row["title"]), hash(row["text"]), row["address"])
    with cache.lock:
        found = cache.features.get(key)
        if found is not None:
            cache.features.move_to_end(key)
    candidate = Candidate(
        key=row["pk"], text=row["text"], title=row["title"], address=row["address"],
        district=row["district__code"] or "", created_at=row["created_at"],
        phone=row["citizen__phone"] or "",
    )
    if found is not None:
        # Text and address are in the key; state, caller and district are read fresh.
        found.item = candidate
        return found
    prepared = duplicates.prepare(candidate)
    with cache.lock:
        cache.features[key] = prepared
        while len(cache.features) > FEATURE_CACHE:
            cache.features.popitem(last=False)
    return prepared


# --- candidates ------------------------------------------------------------------------------

def _query_words(request: Request, idf: Idf) -> list[str]:
    """The words to look for: the title's (an agent's or citizen's summary of the matter),
    then the text's by TF-IDF. Words no recent order has (a typo, a name) are left out: they
    would find nothing; very common ones ("小区", "问题") would find everything."""
    def usable(word: str) -> bool:
        return len(word) >= 2 and 0 < idf.df.get(word, 0) < max(10, idf.documents // 10)

    title = [w for w in dict.fromkeys(segmentation.words(request.title)) if usable(w)]
    title.sort(key=lambda w: -idf.weight(w))
    counts: dict[str, int] = {}
    for word in segmentation.words(request.text[:QUERY_TEXT_CHARS]):
        if usable(word) and word not in title:
            counts[word] = counts.get(word, 0) + 1
    text = sorted(counts, key=lambda w: -(1 + math.log(counts[w])) * idf.weight(w))
    chosen = [*title[:TITLE_WORDS], *text][:QUERY_WORDS]
    if not chosen:
        # Nothing known yet (a new database, or only new words): the longest words.
        every = dict.fromkeys(segmentation.words(f"{request.title} {request.text[:300]}"))
        chosen = sorted((w for w in every if len(w) >= 2), key=len, reverse=True)
    return chosen[:QUERY_WORDS]


def _text_candidates(request: Request, idf: Idf, floor_id: int,
                     ceiling_id: int | None = None) -> list[int]:
    words = _query_words(request, idf)
    if not words:
        return []
    query = ParsedQuery([Group(w, ((w,),)) for w in words], any_word=True)
    ceiling = MAX_ID if ceiling_id is None else ceiling_id
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ts_rank normalised by length (1): long letters would otherwise crowd out the rest.
            cursor.execute(
                f"SELECT id FROM (SELECT id, ts_rank(document, q, 1) AS score FROM "  # noqa: S608
                f"{ORDER_INDEX.pg_table}, CAST(%s AS tsquery) AS q WHERE document @@ q "
                "AND id >= %s AND id < %s ORDER BY id DESC LIMIT %s) AS newest "
                "ORDER BY score DESC, id DESC LIMIT %s",
                [query.tsquery(), floor_id, ceiling, TEXT_SCAN, TEXT_CANDIDATES],
            )
        else:
            table = ORDER_INDEX.fts_table
            weights = ", ".join(str(w) for _n, w, _l in ORDER_INDEX.fields)
            cursor.execute(
                f"SELECT rowid FROM (SELECT rowid, bm25({table}, {weights}) AS score "  # noqa: S608
                f"FROM {table} WHERE {table} MATCH %s AND rowid >= %s AND rowid < %s "
                "ORDER BY rowid DESC LIMIT %s) ORDER BY score, rowid DESC LIMIT %s",
                [query.fts5(), floor_id, ceiling, TEXT_SCAN, TEXT_CANDIDATES],
            )
        return [int(row[0]) for row in cursor.fetchall()]


def text_candidates(request: Request, idf: Idf, floor_id: int = 0) -> list[int]:
    """Ids of orders whose text shares the request's rarest words, best by rank among the
    newest ``TEXT_SCAN`` matches (any state: the reference cases look at closed ones)."""
    return _text_candidates(request, idf, floor_id)


def candidate_ids(user: User, request: Request, *, since: dt.datetime, idf: Idf,
                  exclude: set[int], until: dt.datetime | None = None) -> list[int]:
    # The id of the first order registered in the window bounds the text search: ids grow
    # with time (an order imported late with an old date is still found by place and caller).
    floor = Order.objects.filter(created_at__gte=since).order_by("created_at") \
        .values_list("pk", flat=True).first()
    if floor is None:
        return []
    in_window = Order.objects.filter(state__in=OPEN_STATES, created_at__gte=since)
    ceiling = None
    if until is not None:
        in_window = in_window.filter(created_at__lt=until)
        ceiling = Order.objects.filter(created_at__gte=until).order_by("created_at") \
            .values_list("pk", flat=True).first()
    catch_up_orders_quietly()
    ids: list[int] = list(_text_candidates(request, idf, floor, ceiling))
    # Newest by id: the (district, state) index then needs no sort by time.
    district = District.objects.filter(code=request.district).values_list("pk", flat=True) \
        .first() if request.district else None
    if district is not None:
        ids.extend(in_window.filter(district_id=district).order_by("-pk")
                   .values_list("pk", flat=True)[:PLACE_CANDIDATES])
    phone = "".join(ch for ch in request.phone if ch.isdigit() or ch == "+")
    if phone:
        citizen = Citizen.objects.filter(phone=phone).values_list("pk", flat=True).first()
        if citizen is not None:
            ids.extend(in_window.filter(citizen_id=citizen).order_by("-pk")
                       .values_list("pk", flat=True)[:CALLER_CANDIDATES])
    seen: set[int] = set(exclude)
    unique = []
    for pk in ids:
        if pk not in seen:
            seen.add(pk)
            unique.append(pk)
    return unique


# --- the lookups -----------------------------------------------------------------------------

FIELDS = ("pk", "title", "text", "address", "district__code", "created_at", "citizen__phone",
          "confidential")


def find_similar(user: User, request: Request, *, limit: int = 10,
                 exclude: set[int] | None = None, now: dt.datetime | None = None,
                 days: int | None = None, until: dt.datetime | None = None,
                 min_score: float | None = None) -> list[SimilarOrder]:
    """Open orders in the user's scope that may be the same matter as ``request`` (score at
    least the "related" threshold, or ``min_score``), best first. ``until`` leaves out orders
    registered at or after it (replaying history: the benchmark asks as of each message)."""
    check_may_look(user)
    limit = max(1, min(int(limit), MAX_LIMIT))
    days = window_days() if days is None else days
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    if request.created_at is None:
        request = Request(text=request.text, title=request.title, address=request.address,
                          district=request.district, created_at=now, phone=request.phone)
    idf = current_idf()
    ids = candidate_ids(user, request, since=since, idf=idf, exclude=exclude or set(),
                        until=until)
    if not ids:
        return []
    qs = Order.objects.filter(pk__in=ids, state__in=OPEN_STATES, created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    rows = scope.visible_orders(user, qs).values(*FIELDS)
    hidden_phone = not (user.is_superuser or user.role in scope.FULL_PHONE_ROLES)
    prepared_request = duplicates.prepare(request)
    matches: list[Match] = []
    for row in rows:
        if hidden_phone or row["confidential"]:
            # Whether the caller is the same must not tell anyone who the citizen is.
            row = {**row, "citizen__phone": ""}
        candidate = _prepared(row)
        match = duplicates.score(prepared_request, candidate, idf, window_days=days)
        if match.kind if min_score is None else match.score >= min_score:
            matches.append(match)
    matches.sort(key=lambda m: m.score, reverse=True)
    matches = matches[:limit]
    orders = Order.objects.select_related("district", "category", "lead_unit").in_bulk(
        [m.key for m in matches])
    return [SimilarOrder(orders[m.key], m.score, m.kind, m.reasons)
            for m in matches if m.key in orders]


def request_for(order: Order) -> Request:
    return Request(text=order.text, title=order.title, address=order.address,
                   district=order.district.code if order.district else "",
                   created_at=order.created_at, phone=order.citizen.phone)


def similar_to_order(user: User, order: Order, *, limit: int = 10,
                     now: dt.datetime | None = None) -> list[SimilarOrder]:
    """Open orders like ``order`` (itself and the orders merged into it left out), with the
    existing links marked. The window is counted back from now, not from the order."""
    exclude = {order.pk, *Order.objects.filter(merged_into=order).values_list("pk", flat=True)}
    request = request_for(order)
    if scope.citizen_hidden(user, order):
        request = Request(text=request.text, title=request.title, address=request.address,
                          district=request.district, created_at=request.created_at)
    found = find_similar(user, request, limit=limit, exclude=exclude, now=now)
    kinds = linked_kinds(order)
    for hit in found:
        hit.linked = kinds.get(hit.order.pk, "")
    return found


def linked_kinds(order: Order) -> dict[int, str]:
    kinds: dict[int, str] = {}
    for low, high, kind in OrderLink.objects.filter(Q(order=order) | Q(linked=order)) \
            .values_list("order_id", "linked_id", "kind"):
        kinds[high if low == order.pk else low] = kind
    return kinds


def links_of(user: User, order: Order) -> list[tuple[Order, str]]:
    """The orders linked to ``order`` that the user may see, with the link's kind."""
    kinds = linked_kinds(order)
    visible = scope.visible_orders(user, Order.objects.filter(pk__in=list(kinds)))
    return [(o, kinds[o.pk]) for o in visible.select_related("district").order_by("-created_at")]


def typed_request(*, text: str, title: str = "", address: str = "", district: str = "",
                  phone: str = "") -> Request:
    """A request as an agent is typing it, checked: some text, a known district (code or
    name) or none."""
    if not (text.strip() or title.strip()):
        raise InvalidInput("text or title is required", field="text")
    code = ""
    if district:
        found = District.objects.filter(Q(code=district) | Q(name=district))
        code = next(iter(found.values_list("code", flat=True)), "")
        if not code:
            raise InvalidInput(f"unknown district {district[:40]!r}", field="district")
    return Request(text=text.strip(), title=title.strip(), address=address.strip(),
                   district=code, phone=phone)
