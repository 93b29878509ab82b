"""The rules of the hotline's Open311 endpoint.

- Services are the catalogue's active leaf categories; each has two attributes, the kind of
  request (the order types the category accepts) and the district, both optional.
- A request is filed through ``do_receive`` (channel "open311"): the account_id and device_id
  become the citizen's channel identities, the acceptance number is the service_request_id
  (realtime: no tokens are needed, but ``tokens/{token}`` answers for the received message).
- What GET shows: only requests filed through Open311 (a phone caller never agreed to a public
  feed), never a confidential one or a 举报, never who filed it; phone numbers in the texts are
  masked. Open is every state before the end; closed is closed, archived, rejected or merged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from hotline.core.phones import mask_phone
from hotline.directory.models import Category, District, OrderType
from hotline.intake.messages import InboundMessage, Outcome
from hotline.intake.models import Open311Key, ReceivedMessage
from hotline.intake.open311.formats import w3c
from hotline.intake.services import do_receive
from hotline.orders.lifecycle import OPEN
from hotline.orders.models import Channel, IdentityKind, Order

MAX_DESCRIPTION = 4000
MAX_RESULTS = 1000
WINDOW = dt.timedelta(days=90)
PHONE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
TYPE_ATTRIBUTE, DISTRICT_ATTRIBUTE = "type", "district"
DEFAULT_TYPE = OrderType.COMPLAINT


@dataclass
class Open311Error(Exception):
    status: int
    description: str

    @property
    def code(self) -> int:
        return self.status


def jurisdiction() -> str:
    return str(settings.HOTLINE_OPEN311_JURISDICTION)


def check_jurisdiction(given: str | None) -> None:
    """One jurisdiction is served, so the argument may be left out; a different one is 404."""
    if given and given != jurisdiction():
        raise Open311Error(404, f"jurisdiction_id {given!r} was not found")


# --- keys ---------------------------------------------------------------------------------

def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def do_issue_key(name: str) -> tuple[Open311Key, str]:
    """A new key for client ``name``: the row and the key itself, shown once."""
    key = secrets.token_urlsafe(32)
    row = Open311Key.objects.create(name=name[:100], key_hash=hash_key(key),
                                    created_at=timezone.now())
    return row, key


def check_key(given: str | None) -> Open311Key:
    if not given:
        raise Open311Error(403, "api_key is missing -- can't proceed with create_request")
    row = Open311Key.objects.filter(key_hash=hash_key(given), revoked_at__isnull=True).first()
    if row is None:
        raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request.")
    window = int(time.time() // 60)
    counter = f"open311:key:{row.pk}:{window}"
    used = 1 if cache.add(counter, 1, timeout=120) else int(cache.incr(counter))
    if used > int(settings.HOTLINE_OPEN311_PER_KEY_MINUTE):
        raise Open311Error(429, "too many requests with this api_key; try again in a minute")
    Open311Key.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row


# --- services -----------------------------------------------------------------------------

def _services() -> QuerySet[Category]:
    return (Category.objects.filter(active=True, children__isnull=True)
            .select_related("parent").order_by("code"))


def service_list() -> list[dict[str, Any]]:
    return [{
        "service_code": c.code, "service_name": c.name,
        "description": c.parent.name + " / " + c.name if c.parent else c.name,
        "metadata": True, "type": "realtime",
        "keywords": ", ".join(w for w in re.split(r"[\s,，、]+", c.keywords) if w),
        "group": c.parent.name if c.parent else c.name,
    } for c in _services()]


def _service(code: str) -> Category:
    found = _services().filter(code=code).first()
    if found is None:
        raise Open311Error(404, f"service_code {code!r} was not found")
    return found


def service_definition(code: str) -> dict[str, Any]:
    category = _service(code)
    types = [t for t in OrderType if t.value in (category.accepted_types or [])] or list(OrderType)
    return {"service_code": category.code, "attributes": [
        {"variable": True, "code": TYPE_ATTRIBUTE, "datatype": "singlevaluelist",
         "required": False, "datatype_description": None, "order": 1,
         "description": "What kind of request is it? (default: complaint)",
         "values": [{"key": t.value, "name": str(t.label)} for t in types]},
        {"variable": True, "code": DISTRICT_ATTRIBUTE, "datatype": "singlevaluelist",
         "required": False, "datatype_description": None, "order": 2,
         "description": "Which district is it in?",
         "values": [{"key": d.code, "name": d.name} for d in District.objects.order_by("code")]},
    ]}


# --- POST requests ------------------------------------------------------------------------

def _coordinate(value: str, name: str, limit: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None
    if not -limit <= number <= limit:
        raise Open311Error(400, f"{name} is out of range")
    return number


def do_create_request(form: dict[str, str], attributes: dict[str, list[str]], key: Open311Key,
                      idempotency_key: str = "") -> dict[str, Any]:
    code = form.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code was not provided")
    category = _service(code)
    lat, long = form.get("lat", "").strip(), form.get("long", "").strip()
    address = form.get("address_string", "").strip()[:255]
    address_id = form.get("address_id", "").strip()[:64]
    if bool(lat) != bool(long):
        raise Open311Error(400, "lat and long must both be sent")
    if not (lat or address or address_id):
        raise Open311Error(400, "a location is required: lat and long, address_string or "
                                "address_id")
    point = ((_coordinate(lat, "lat", 90), _coordinate(long, "long", 180)) if lat else None)
    description = form.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")
    kind = (attributes.get(TYPE_ATTRIBUTE) or [DEFAULT_TYPE])[0]
    if kind not in OrderType.values:
        raise Open311Error(400, f"attribute[{TYPE_ATTRIBUTE}] {kind!r} is not one of its values")
    district = (attributes.get(DISTRICT_ATTRIBUTE) or [""])[0]
    if district and not District.objects.filter(code=district).exists():
        raise Open311Error(400, f"attribute[{DISTRICT_ATTRIBUTE}] {district!r} is not known")
    media_url = form.get("media_url", "").strip()[:500]
    if media_url and not media_url.startswith(("http://", "https://")):
        raise Open311Error(400, "media_url must be an http(s) URL")
    account_id = form.get("account_id", "").strip()[:100]
    identities: list[tuple[str, str]] = []
    if account_id:  # per client: two apps' account 123 are two people
        identities.append((IdentityKind.OPEN311, f"{key.pk}:{account_id}"))
    if device_id := form.get("device_id", "").strip()[:100]:
        identities.append((IdentityKind.DEVICE, device_id))
    name = (form.get("last_name", "").strip() + form.get("first_name", "").strip())[:100]
    where = address or (f"{point[0]:.6f},{point[1]:.6f}" if point else f"#{address_id}")
    receipt = do_receive(InboundMessage(
        channel=Channel.OPEN311, text=description or category.name,
        message_id=f"{key.pk}:{idempotency_key[:200]}" if idempotency_key else "",
        sender_phone=form.get("phone", "").strip()[:32],
        sender_email=form.get("email", "").strip()[:254], sender_name=name,
        identities=identities, category=category.code, district=district, address=where,
        order_type=kind, raw=_raw(form, attributes), raw_extension=".json",
        meta={"client": key.name, "lat": point[0] if point else None,
              "long": point[1] if point else None, "address_id": address_id,
              "media_url": media_url}))
    if receipt.outcome == Outcome.REFUSED:
        raise Open311Error(400, receipt.reason)
    order = Order.objects.get(number=receipt.order_number)
    notice = (f"Accepted; to be handled by {timezone.localdate(order.handle_due)}"
              if order.handle_due else "Accepted")
    return {"service_request_id": order.number, "service_notice": notice,
            "account_id": account_id or None}


def _raw(form: dict[str, str], attributes: dict[str, list[str]]) -> bytes:
    import json

    kept = {k: v for k, v in form.items() if k != "api_key"}
    return json.dumps({"form": kept, "attributes": attributes}, ensure_ascii=False).encode()


# --- GET requests -------------------------------------------------------------------------

def _public() -> QuerySet[Order]:
    return (Order.objects.filter(channel=Channel.OPEN311, confidential=False)
            .exclude(type=OrderType.REPORT).select_related("category", "lead_unit"))


def _masked(text: str) -> str:
    return PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text or "")


def _parse_w3c(value: str, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be a w3c datetime, e.g. 2010-01-01T00:00:00Z") \
            from None
    if moment.tzinfo is None:
        raise Open311Error(400, f"{name} must include a time zone (Z or +08:00)")
    return moment


def _represent(order: Order, meta: dict[str, Any]) -> dict[str, Any]:
    closed = order.state not in OPEN
    return {
        "service_request_id": order.number, "status": "closed" if closed else "open",
        "status_notes": _masked(order.reply_text) if closed and order.reply_text else None,
        "service_name": order.category.name if order.category else None,
        "service_code": order.category.code if order.category else None,
        "description": _masked(order.text) or None,
        "agency_responsible": order.lead_unit.name if order.lead_unit else None,
        "service_notice": None,
        "requested_datetime": w3c(timezone.localtime(order.created_at)),
        "updated_datetime": w3c(timezone.localtime(order.closed_at or order.updated_at)),
        "expected_datetime": w3c(timezone.localtime(order.handle_due))
        if order.handle_due else None,
        "address": order.address or None, "address_id": meta.get("address_id") or None,
        "zipcode": None, "lat": meta.get("lat"), "long": meta.get("long"),
        "media_url": meta.get("media_url") or None,
    }


def _with_meta(orders: list[Order]) -> list[dict[str, Any]]:
    metas = dict(ReceivedMessage.objects.filter(order__in=orders, channel=Channel.OPEN311)
                 .values_list("order_id", "meta"))
    return [_represent(o, metas.get(o.pk) or {}) for o in orders]


def query_requests(args: dict[str, str], *, now: dt.datetime | None = None
                   ) -> list[dict[str, Any]]:
    orders = _public()
    ids = [i.strip() for i in args.get("service_request_id", "").split(",") if i.strip()]
    if ids:  # "This overrides all other arguments."
        return _with_meta(list(orders.filter(number__in=ids[:MAX_RESULTS]).order_by("-created_at")))
    codes = [c.strip() for c in args.get("service_code", "").split(",") if c.strip()]
    if codes:
        orders = orders.filter(category__code__in=codes)
    statuses = {s.strip() for s in args.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status must be open or closed (comma separated)")
    if statuses == {"open"}:
        orders = orders.filter(state__in=[s.value for s in OPEN])
    elif statuses == {"closed"}:
        orders = orders.exclude(state__in=[s.value for s in OPEN])
    now = now or timezone.now()
    start = _parse_w3c(args["start_date"], "start_date") if args.get("start_date") else None
    end = _parse_w3c(args["end_date"], "end_date") if args.get("end_date") else None
    if start and end and end - start > WINDOW:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    if start and end and end < start:
        raise Open311Error(400, "end_date is before start_date")
    end = end or ((start + WINDOW) if start else now)
    start = start or (end - WINDOW)
    orders = orders.filter(created_at__gte=start, created_at__lte=end).order_by("-created_at")
    return _with_meta(list(orders[:MAX_RESULTS]))


def get_request(number: str) -> list[dict[str, Any]]:
    order = _public().filter(number=number).first()
    if order is None:
        raise Open311Error(404, f"service_request_id {number!r} was not found")
    return _with_meta([order])


def token_request(token: str) -> list[dict[str, Any]]:
    found = (ReceivedMessage.objects.filter(pk=int(token) if token.isdigit() else 0,
                                            channel=Channel.OPEN311, order__isnull=False)
             .select_related("order").first())
    if found is None or found.order is None or not _public().filter(pk=found.order.pk).exists():
        raise Open311Error(404, f"token {token!r} was not found")
    return [{"service_request_id": found.order.number, "token": token}]


def discovery(base_url: str) -> dict[str, Any]:
    changed = w3c(timezone.localtime(dt.datetime(2026, 12, 2, tzinfo=dt.UTC)))
    return {"changeset": changed, "contact": str(settings.HOTLINE_OPEN311_CONTACT),
            "key_service": str(settings.HOTLINE_OPEN311_CONTACT),
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2",
                           "url": base_url, "changeset": changed, "type": "production",
                           "formats": ["text/xml", "application/json"]}]}
