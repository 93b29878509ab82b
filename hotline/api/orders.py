"""Work orders over HTTP: create (idempotent), read, list, lifecycle actions and files.

Handlers stay thin: they parse, call ``hotline.orders.services`` / ``attachments`` and present.
(No ``from __future__ import annotations`` here: the per-action views are built in a loop and
django-ninja reads their parameter types at runtime.)
"""

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Body, File, Form, Header, Query, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from hotline.api.action_params import ACTION_PARAMS
from hotline.api.auth import actor
from hotline.api.presenters import order_detail, order_summary
from hotline.api.rules import ANY_ACCOUNT, allow
from hotline.api.schemas import (
    AttachmentOut,
    ErrorOut,
    InputSchema,
    NewOrderIn,
    OrderDetailOut,
    OrderFilters,
    OrderPageOut,
    OrderSummaryOut,
    SimilarIn,
    SimilarPageOut,
)
from hotline.core.errors import InvalidInput, NotFound
from hotline.directory.models import Category
from hotline.orders import access_log, attachments, services
from hotline.orders.disclosure import Disclosure
from hotline.orders.lifecycle import ACTION_ROLES, Action
from hotline.orders.models import Attachment, Order
from hotline.orders.numbering import is_valid
from hotline.orders.scope import visible_orders
from hotline.triage import similar

router = Router(tags=["orders"])

ERRORS: dict[int, Any] = {
    400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
}
MAX_ID = 2**63 - 1


def _visible_order(request: HttpRequest, number: str) -> Order:
    # A malformed number cannot exist; answering 404 early keeps odd input away from the database.
    if not is_valid(number):
        raise NotFound(f"no work order {number[:16]}")
    return services.get_order_for(actor(request), number)


_IDEMPOTENCY_KEY = Header(
    None, alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[!-~]+$",
    description="1 to 128 visible ASCII characters, unique per request the client means",
)


def _check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not (1 <= len(key) <= 128) or not all(33 <= ord(ch) <= 126 for ch in key):
        raise InvalidInput(
            "Idempotency-Key must be 1 to 128 visible ASCII characters", field="Idempotency-Key"
        )
    return key


@router.post(
    "/orders",
    response={200: OrderSummaryOut, 201: OrderSummaryOut, **ERRORS},
    url_name="create_order",
    summary="Register a work order",
    description=(
        "201 with the new order. With an `Idempotency-Key` header a retry with the same key and "
        "the same body returns the first order with **200** (and the header "
        "`Idempotency-Replayed: true`) and never creates a second; the same key with a "
        "different body is 409. Keys are per user."
    ),
)
@allow(*ACTION_ROLES[Action.CREATE])
def create_order(
    request: HttpRequest,
    response: HttpResponse,
    payload: NewOrderIn,
    idempotency_key: str | None = _IDEMPOTENCY_KEY,
) -> Status[dict[str, Any]]:
    key = _check_idempotency_key(idempotency_key)
    data = services.NewOrder(**payload.model_dump(mode="json"))
    order, created = services.do_create_order(actor(request), data, idempotency_key=key)
    if not created:
        response["Idempotency-Replayed"] = "true"
    return Status(201 if created else 200, order_summary(order))


def _similar_page(found: list[similar.SimilarOrder]) -> dict[str, Any]:
    return {"items": [
        {"number": hit.order.number, "title": hit.order.title, "state": hit.order.state,
         "district": hit.order.district.code if hit.order.district else None,
         "address": hit.order.address, "created_at": hit.order.created_at, "score": hit.score,
         "kind": hit.kind, "kind_label": hit.kind_label, "reasons": hit.reason_labels,
         "reason_codes": [r.code for r in hit.reasons], "linked": hit.linked}
        for hit in found
    ]}


# Before "/orders/{number}": this path would otherwise be read as an order number.
@router.post("/orders/similar", response={200: SimilarPageOut, **ERRORS},
             url_name="similar_orders", summary="Open orders that may be the same matter",
             description="For an agent filling the new-order form: open orders in the caller's "
             "scope within the window (30 days by default) scored as likely duplicates or "
             "related, best first, with the reasons.")
@allow(*ACTION_ROLES[Action.LINK])
def similar_orders(request: HttpRequest, payload: SimilarIn) -> dict[str, Any]:
    user = actor(request)
    similar.check_may_look(user)
    typed = similar.typed_request(text=payload.text, title=payload.title,
                                  address=payload.address, district=payload.district,
                                  phone=payload.phone)
    return _similar_page(similar.find_similar(user, typed, limit=payload.limit))


@router.get("/orders/{number}/similar", response={200: SimilarPageOut, **ERRORS},
            url_name="order_similar", summary="Open orders like this one (to merge or link)")
@allow(*ACTION_ROLES[Action.LINK])
def order_similar(request: HttpRequest, number: str,
                  limit: int = 10) -> dict[str, Any]:
    user = actor(request)
    order = _visible_order(request, number)
    similar.check_may_look(user)
    if not 1 <= limit <= 50:
        raise InvalidInput("limit must be 1 to 50", field="limit")
    return _similar_page(similar.similar_to_order(user, order, limit=limit))


def _category_ids(code: str) -> list[int]:
    root = Category.objects.filter(code=code).values_list("pk", flat=True).first()
    if root is None:
        return []
    ids, frontier = [root], [root]
    while frontier:
        frontier = list(Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    return ids


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def filtered_orders(qs: QuerySet[Order], f: OrderFilters) -> QuerySet[Order]:
    if f.state:
        qs = qs.filter(state__in=f.state)
    if f.type:
        qs = qs.filter(type__in=f.type)
    if f.channel:
        qs = qs.filter(channel__in=f.channel)
    if f.district:
        qs = qs.filter(district__code=f.district)
    if f.category:
        qs = qs.filter(category_id__in=_category_ids(f.category))
    if f.lead_unit:
        qs = qs.filter(lead_unit__code=f.lead_unit)
    if f.urgency:
        qs = qs.filter(urgency=f.urgency)
    if f.overdue is not None:
        qs = qs.filter(overdue_at__isnull=not f.overdue)
    if f.created_from:
        qs = qs.filter(created_at__gte=_local_midnight(f.created_from))
    if f.created_to:
        qs = qs.filter(created_at__lt=_local_midnight(f.created_to + dt.timedelta(days=1)))
    if f.q:
        qs = qs.filter(title__icontains=f.q)
    return qs


@router.get("/orders", response={200: OrderPageOut, **ERRORS}, url_name="list_orders",
            summary="List the orders the caller may see, newest first")
@allow(*ANY_ACCOUNT)
def list_orders(request: HttpRequest, filters: Query[OrderFilters]) -> dict[str, Any]:
    caller = actor(request)
    qs = visible_orders(
        caller, Order.objects.select_related("district", "category", "lead_unit", "citizen")
    )
    qs = filtered_orders(qs, filters).order_by("-created_at", "-pk")
    page = qs[filters.offset : filters.offset + filters.limit]
    seen = Disclosure(caller)
    return {
        "count": qs.count(), "limit": filters.limit, "offset": filters.offset,
        "items": [order_summary(o, seen) for o in page],
    }


@router.get("/orders/{number}", response={200: OrderDetailOut, **ERRORS}, url_name="get_order",
            summary="One order with its history, assignments, files and contacts")
@allow(*ANY_ACCOUNT)
def get_order(request: HttpRequest, number: str) -> dict[str, Any]:
    user, order = actor(request), _visible_order(request, number)
    access_log.do_log_citizen_view(user, order, request)  # before the citizen is shown
    return order_detail(user, order)


@router.post(
    "/orders/{number}/attachments", response={201: AttachmentOut, 413: ErrorOut, **ERRORS},
    url_name="upload_attachment", summary="Attach a file (multipart field `file`)",
)
@allow(*ANY_ACCOUNT)
def upload_attachment(
    request: HttpRequest,
    number: str,
    file: File[UploadedFile],
    kind: Form[str] = Attachment.Kind.INTAKE,
) -> Status[dict[str, Any]]:
    user = actor(request)
    order = _visible_order(request, number)
    att = attachments.do_attach(user, order, file, kind)
    found = [a for a in order_detail(user, order)["attachments"] if a["id"] == att.pk]
    return Status(201, found[0])


@router.get("/orders/{number}/attachments/{attachment_id}", response={200: None, **ERRORS},
            url_name="download_attachment", summary="Download an attached file")
@allow(*ANY_ACCOUNT)
def download_attachment(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    order = _visible_order(request, number)
    if not 1 <= attachment_id <= MAX_ID:
        raise NotFound(f"no attachment {attachment_id}")
    att = attachments.get_attachment_for(actor(request), order, attachment_id)
    try:
        handle = attachments.open_attachment(att)
    except FileNotFoundError:
        raise NotFound("the stored file is missing") from None
    try:
        access_log.do_log_file(actor(request), att, request)
    except Exception:
        handle.close()
        raise
    name = Disclosure(actor(request)).attachment_name(order, att)
    return FileResponse(handle, as_attachment=True, filename=name,
                        content_type=att.content_type)


def _run_action(request: HttpRequest, number: str, action: Action,
                params: InputSchema | None) -> dict[str, Any]:
    _visible_order(request, number)
    data = params.model_dump(mode="json", exclude_unset=True) if params is not None else {}
    order = services.do_action(actor(request), number, action, data)
    access_log.do_log_citizen_view(actor(request), order, request,
                                   detail=f"after {action.value}")
    return order_detail(actor(request), order)


# An empty body is the same as {} (most actions take no or only optional parameters).
_OPTIONAL_BODY = Body(None)


def _action_view(action: Action, schema: type[InputSchema]) -> Any:
    def view(
        request: HttpRequest, number: str,
        params: schema | None = _OPTIONAL_BODY,  # type: ignore[valid-type]
    ) -> Any:
        return _run_action(request, number, action, params)

    view.__name__ = f"action_{action.value}"
    # The lifecycle's roles for the action; the services check the unit and the state.
    return allow(*ACTION_ROLES[action])(view)


for _action, _schema in ACTION_PARAMS.items():
    router.post(
        f"/orders/{{number}}/{_action.value}",
        response={200: OrderDetailOut, **ERRORS},
        url_name=f"action_{_action.value}",
        operation_id=f"order_action_{_action.value}",
        summary=f"Lifecycle action: {_action.value}",
        tags=["order actions"],
    )(_action_view(_action, _schema))


@router.post("/orders/{number}/{action}", response={404: ErrorOut}, url_name="unknown_action",
             include_in_schema=False)
@allow(*ANY_ACCOUNT)
def unknown_action(request: HttpRequest, number: str, action: str) -> None:
    raise NotFound(f"unknown action {action[:40]!r}")
