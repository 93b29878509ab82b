"""Knowledge-base and order search over the REST API (mounted at /api/v1/knowledge/).

- ``GET /knowledge/search?q=``: without credentials the public subset (citizens, city apps);
  with a token or a session, internal entries too.
- ``GET /knowledge/entries/{id}``: one readable entry (public ones without credentials).
- ``GET /knowledge/suggest?text=``: entries for what an agent is typing (staff only).
- ``GET /knowledge/orders/search?q=``: orders in the caller's scope (staff only).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field, StringConstraints

from hotline.api.auth import AUTH, actor
from hotline.api.rules import ANY_ACCOUNT, allow, public_operation
from hotline.core.errors import NotFound
from hotline.knowledge.models import EntryKind, readable_entries
from hotline.knowledge.richtext import sanitise_html
from hotline.knowledge.search import (
    may_read_internal,
    search_entries,
    suggest_entries,
)
from hotline.orders.search import search_orders

router = Router(tags=["knowledge"])

# The operation ids are the ones these operations had when the router lived in the knowledge package
# (django-ninja derives them from the module): clients generated from the OpenAPI document call
# operations by id, so moving the code does not rename them.

QueryText = Annotated[str, StringConstraints(max_length=200)]
TypedText = Annotated[str, StringConstraints(max_length=2000)]


class EntryHitOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    title_html: str = Field(description="The title, HTML-escaped, matched words in <mark>.")
    snippet_html: str = Field(description="A passage around the first match, escaped, with <mark>.")
    owner: str
    owner_phone: str
    public: bool
    valid_until: dt.date | None
    score: float


class SearchOut(Schema):
    query: str
    scope: str = Field(description="public (no credentials) or internal")
    results: list[EntryHitOut]


class EntryOut(Schema):
    id: int
    kind: str
    title: str
    body_html: str = Field(description="Sanitised HTML (a small allow-list of formatting tags).")
    keywords: str
    owner: str
    owner_phone: str
    categories: list[str]
    public: bool
    for_voice: bool
    valid_from: dt.date | None
    valid_until: dt.date | None
    version: int
    published_at: dt.datetime


class OrderHitOut(Schema):
    number: str
    state: str
    title_html: str
    snippet_html: str
    created_at: dt.datetime
    score: float


class SearchParams(Schema):
    q: QueryText
    kind: EntryKind | None = None
    limit: int = Field(20, ge=1, le=100)


class SuggestParams(Schema):
    text: TypedText
    limit: int = Field(5, ge=1, le=20)


class OrderSearchParams(Schema):
    q: QueryText
    limit: int = Field(20, ge=1, le=100)


def optional_user(request: HttpRequest) -> Any:
    """The caller when credentials came with the request (token or session), else None."""
    for auth in AUTH:
        user = auth(request)
        if user:
            return user
    return None


@router.get("/search", response=SearchOut, auth=None, summary="Search the knowledge base",
            operation_id="hotline_knowledge_api_search")
@public_operation
def search(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    user = optional_user(request)
    hits = search_entries(user, params.q, limit=params.limit,
                          kind=params.kind.value if params.kind else "")
    return {"query": params.q, "scope": "internal" if may_read_internal(user) else "public",
            "results": [hit.as_dict() for hit in hits]}


@router.get("/entries/{entry_id}", response=EntryOut, auth=None, summary="One entry",
            operation_id="hotline_knowledge_api_entry_detail")
@public_operation
def entry_detail(request: HttpRequest, entry_id: int) -> dict[str, Any]:
    user = optional_user(request)
    entry = (readable_entries(public_only=not may_read_internal(user))
             .select_related("published", "owner").filter(pk=entry_id).first())
    if entry is None or entry.published is None:
        raise NotFound("no such entry")
    version = entry.published
    return {
        "id": entry.pk, "kind": version.kind, "title": version.title,
        "body_html": sanitise_html(version.body),
        "keywords": version.keywords, "owner": entry.owner.name, "owner_phone": entry.owner.phone,
        "categories": version.category_codes, "public": version.public,
        "for_voice": version.for_voice, "valid_from": version.valid_from,
        "valid_until": version.valid_until, "version": version.number,
        "published_at": version.published_at,
    }


@router.get("/suggest", response=list[EntryHitOut], summary="Entries for text being typed",
            operation_id="hotline_knowledge_api_suggest")
@allow(*ANY_ACCOUNT)
def suggest(request: HttpRequest, params: Query[SuggestParams]) -> list[dict[str, Any]]:
    return [hit.as_dict() for hit in suggest_entries(actor(request), params.text, limit=params.limit)]


@router.get("/orders/search", response=list[OrderHitOut], summary="Search orders in your scope",
            operation_id="hotline_knowledge_api_orders_search")
@allow(*ANY_ACCOUNT)
def orders_search(request: HttpRequest, params: Query[OrderSearchParams]) -> list[dict[str, Any]]:
    return [
        {"number": hit.order.number, "state": hit.order.state, "title_html": str(hit.title_html),
         "snippet_html": str(hit.snippet_html), "created_at": hit.order.created_at,
         "score": round(hit.score, 4)}
        for hit in search_orders(actor(request), params.q, limit=params.limit)
    ]
