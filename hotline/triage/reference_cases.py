"""Reference cases (seed 003: 原有事例作为参考答案): closed orders like what an agent is typing,
with the official reply they got, shown beside the knowledge suggestions so the agent can
answer as the city answered before.

Found by the similar-order search (``similar.text_candidates``: the request's rarest words in
the order index) and scored by its text similarity (``duplicates.text_similarity``); then only
what the viewer may read is kept:
- closed or archived orders with a reply, in the viewer's scope (``scope.visible_orders``);
- never a 举报 (report), a confidential order or a citizen who asked for confidentiality: the
  reply to a report can tell who reported;
- the citizen is never shown, and in the texts the citizen's own name and number and any
  other number or email address are masked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from hotline.core.masking import mask_personal_details
from hotline.directory.models import OrderType, User
from hotline.orders import lifecycle, scope
from hotline.orders.disclosure import redact_citizen
from hotline.orders.models import Order
from hotline.orders.search import catch_up_orders_quietly
from hotline.triage import duplicates, similar
from hotline.triage.duplicates import Request

CLOSED_STATES = [lifecycle.State.CLOSED.value, lifecycle.State.ARCHIVED.value]
# Below this text similarity a closed order is about something else.
MIN_SIMILARITY = 0.3
MAX_LIMIT = 10
TEXT_CHARS = 300
REPLY_CHARS = 600


@dataclass
class ReferenceCase:
    number: str
    title: str
    text: str
    reply: str
    category: str
    unit: str
    closed_at: dt.datetime | None
    similarity: float


def may_see_reference_cases(user: User) -> bool:
    """The desk that answers citizens (the roles that look for similar orders)."""
    return similar.may_look_for_duplicates(user)


def _masked(order: Order, text: str, limit: int) -> str:
    citizen = order.citizen
    text = redact_citizen(text, citizen.name if citizen else "", citizen.phone if citizen else "")
    text = mask_personal_details(text)
    return text if len(text) <= limit else text[:limit] + "…"


def reference_cases(user: User, text: str, *, title: str = "",
                    limit: int = 3) -> list[ReferenceCase]:
    """Closed orders like ``title``/``text`` with their replies, best first (see the module)."""
    if not may_see_reference_cases(user) or not (text.strip() or title.strip()):
        return []
    limit = max(1, min(int(limit), MAX_LIMIT))
    request = Request(text=text.strip(), title=title.strip())
    idf = similar.current_idf()
    catch_up_orders_quietly()
    ids = similar.text_candidates(request, idf)
    if not ids:
        return []
    qs = Order.objects.filter(pk__in=ids, state__in=CLOSED_STATES, confidential=False) \
        .exclude(type=OrderType.REPORT).exclude(reply_text="") \
        .exclude(citizen__confidential=True)
    orders = scope.visible_orders(user, qs).select_related("citizen", "category", "lead_unit")
    prepared = duplicates.prepare(request)
    weights = duplicates.Weights()
    scored = []
    for order in orders:
        candidate = duplicates.prepare(Request(text=order.text, title=order.title))
        similarity = duplicates.text_similarity(prepared, candidate, idf, weights)
        if similarity >= MIN_SIMILARITY:
            scored.append((similarity, order))
    scored.sort(key=lambda item: (-item[0], -item[1].pk))
    return [ReferenceCase(
        number=order.number, title=_masked(order, order.title, 200),
        text=_masked(order, order.text, TEXT_CHARS), reply=_masked(order, order.reply_text, REPLY_CHARS),
        category=order.category.name if order.category else "",
        unit=order.lead_unit.name if order.lead_unit else _("Hotline centre"),
        closed_at=order.closed_at, similarity=round(similarity, 3),
    ) for similarity, order in scored[:limit]]
