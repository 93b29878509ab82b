"""The citizens' status look-up: acceptance number plus phone, no login.

It tells nothing personal: state, type, the day it was registered, the lead department, and the
answer once the order is closed. A wrong phone, an unknown number and a number with a wrong
check digit all get the same 404, so the look-up cannot be used to find out which numbers exist.

Brute-force protection (``hotline.orders.lookup_limits``, shared with the /status/ page): every
failed look-up counts against the client address, the acceptance number and the phone number in
fixed windows of ``HOTLINE_LOOKUP_WINDOW_SECONDS``; past any of the limits
(``HOTLINE_LOOKUP_FAILURES_PER_ADDRESS``, ``_PER_NUMBER``, ``_PER_PHONE``) every such look-up is
429 until the window ends, even a right one, so that a 429 says nothing about the number tried.
The address is REMOTE_ADDR, which uvicorn takes from X-Forwarded-For only for
HOTLINE_TRUSTED_PROXIES (``hotline.core.clientaddr``).
"""

from __future__ import annotations

import hmac
from typing import Any

from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja import Query, Router

from hotline.api.rules import public_operation
from hotline.api.schemas import ErrorOut, PublicStatusOut, Text40
from hotline.core.clientaddr import client_address
from hotline.core.errors import NotFound
from hotline.directory.models import OrderType
from hotline.orders import lookup_limits
from hotline.orders.lifecycle import State
from hotline.orders.models import Order, OrderState
from hotline.orders.numbering import is_valid

router = Router(tags=["public"])

CLOSED_STATES = frozenset({State.CLOSED, State.ARCHIVED})
LABEL_LANGUAGES = ("zh-hans", "en")


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
        "protection, shared with the /status/ page: failed look-ups are counted per client "
        "address, per acceptance number and per phone number in fixed windows of "
        "`HOTLINE_LOOKUP_WINDOW_SECONDS` (default 900); past "
        "`HOTLINE_LOOKUP_FAILURES_PER_ADDRESS` (10), `_PER_NUMBER` (5) or `_PER_PHONE` (10) "
        "every look-up with that address, number or phone, even a right one, is 429 until the "
        "window ends (see `Retry-After`)."
    ),
)
@public_operation
def public_order_status(request: HttpRequest, number: str, phone: Query[Text40]) -> dict[str, Any]:
    attempt = lookup_limits.begin(client_address(request), number, phone)
    order = None
    if is_valid(number):
        order = Order.objects.select_related("citizen", "lead_unit").filter(number=number).first()
    wanted = lookup_limits.phone_digits(phone)
    have = lookup_limits.phone_digits(order.citizen.phone) if order is not None else ""
    if order is None or not wanted or not have or not hmac.compare_digest(wanted, have):
        raise NotFound(_("No work order matches this acceptance number and phone number."))
    lookup_limits.succeeded(attempt)
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
