"""The citizens' status look-up: acceptance number plus phone, no login.

It tells nothing personal: state, type, the day it was registered, the lead department, and the
answer once the order is closed. A wrong phone, an unknown number and a number with a wrong
check digit all get the same 404, so the look-up cannot be used to find out which numbers exist.

Brute-force protection: every failed look-up counts against the caller's IP address in Django's
cache (``HOTLINE_PUBLIC_LOOKUP_MAX_FAILURES`` failures, default 10, within
``HOTLINE_PUBLIC_LOOKUP_WINDOW_SECONDS``, default 900, counted from the first failure); past the
limit every look-up from that address is 429 until the window ends, even a right one, so that a
429 says nothing about the number tried. The address is REMOTE_ADDR: behind a proxy, the proxy
must set it (e.g. uvicorn's --proxy-headers). With several web processes, configure a shared
cache (CACHES, e.g. the database or Redis cache); the default local-memory cache counts per process.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import Query, Router

from hotline.api.schemas import ErrorOut, PublicStatusOut, Text40
from hotline.directory.models import OrderType
from hotline.orders.errors import NotFound, ServiceError
from hotline.orders.lifecycle import State
from hotline.orders.models import Order, OrderState
from hotline.orders.numbering import is_valid

router = Router(tags=["public"])

CLOSED_STATES = frozenset({State.CLOSED, State.ARCHIVED})
LABEL_LANGUAGES = ("zh-hans", "en")


class TooManyAttempts(ServiceError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def max_failures() -> int:
    return int(getattr(settings, "HOTLINE_PUBLIC_LOOKUP_MAX_FAILURES", 10))


def window_seconds() -> int:
    return int(getattr(settings, "HOTLINE_PUBLIC_LOOKUP_WINDOW_SECONDS", 900))


def _failure_key(request: HttpRequest) -> str:
    ip = str(request.META.get("REMOTE_ADDR") or "unknown")[:64]
    return f"hotline:public-lookup-failures:{ip}"


def _record_failure(key: str) -> None:
    cache.add(key, 0, timeout=window_seconds())
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds())


def _digits(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isascii() and ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def _labels(choices: Any, value: str) -> dict[str, str]:
    labels = {}
    for language in LABEL_LANGUAGES:
        with translation.override(language):
            labels[language] = str(dict(choices)[value])
    return labels


@router.get(
    "/public/orders/{number}",
    auth=None,
    response={200: PublicStatusOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    url_name="public_order_status",
    summary="Citizens' status look-up by acceptance number and phone (no login)",
    description=(
        "Same 404 for a wrong phone, an unknown number or a bad check digit. Brute-force "
        "protection: after `HOTLINE_PUBLIC_LOOKUP_MAX_FAILURES` (default 10) failed look-ups "
        "from one address within `HOTLINE_PUBLIC_LOOKUP_WINDOW_SECONDS` (default 900) every "
        "look-up from it, even a right one, is 429 until the window ends (see `Retry-After`)."
    ),
)
def public_order_status(request: HttpRequest, number: str, phone: Query[Text40]) -> dict[str, Any]:
    key = _failure_key(request)
    if int(cache.get(key, 0)) >= max_failures():
        raise TooManyAttempts(
            _("Too many failed look-ups from your address; please try again later."),
            retry_after=window_seconds(),
        )
    order = None
    if is_valid(number):
        order = Order.objects.select_related("citizen", "lead_unit").filter(number=number).first()
    wanted = _digits(phone)
    have = _digits(order.citizen.phone) if order is not None else ""
    if order is None or not wanted or not have or not hmac.compare_digest(wanted, have):
        _record_failure(key)
        raise NotFound(_("No work order matches this acceptance number and phone number."))
    closed = order.state in CLOSED_STATES
    return {
        "number": order.number,
        "state": order.state,
        "state_label": _labels(OrderState.choices, order.state),
        "type": order.type,
        "type_label": _labels(OrderType.choices, order.type),
        "created_date": timezone.localdate(order.created_at),
        "lead_department": order.lead_unit.name if order.lead_unit else None,
        "reply": order.reply_text if closed and order.reply_text else None,
    }
