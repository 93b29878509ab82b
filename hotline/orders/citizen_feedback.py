"""A citizen's own word on an answered order, from the portal: the rating (which is the
callback: resolved? satisfied?) and the request to reopen within HOTLINE_PORTAL_REOPEN_DAYS of
closing. Both go through ``do_action`` with the system user as actor, so the lifecycle and the
history stay the one record; the citizen's words are the event's note."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.core.errors import Conflict
from hotline.orders.lifecycle import Action, State
from hotline.orders.models import Order, Satisfaction
from hotline.orders.services import do_action
from hotline.orders.sweeps import system_user

WORDS_CHARS = 1000


def may_rate(order: Order) -> bool:
    return order.state == State.CALLBACK


def may_reopen(order: Order, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    if order.lead_unit_id is None:
        return False
    if order.state == State.CALLBACK:
        return True
    if order.state != State.CLOSED or order.closed_at is None:
        return False
    return now - order.closed_at <= dt.timedelta(days=settings.HOTLINE_PORTAL_REOPEN_DAYS)


def do_citizen_rating(order: Order, satisfaction: str, words: str) -> Order:
    """The citizen rates the answer: the callback, which closes the order."""
    if not may_rate(order):
        raise Conflict(gettext_noop("This request cannot be rated now."))
    note = "[citizen, portal] " + words.strip()[:WORDS_CHARS]
    return do_action(system_user(), order.number, Action.CALLBACK, {
        "satisfaction": satisfaction, "resolved": satisfaction != Satisfaction.UNSATISFIED,
        "note": note})


def do_citizen_reopen(order: Order, reason: str, *, now: dt.datetime | None = None) -> Order:
    """The citizen asks for the matter to be handled again: back to the department."""
    if not may_reopen(order, now=now):
        raise Conflict(gettext_noop("The time to ask for this request to be reopened has passed."))
    return do_action(system_user(), order.number, Action.REOPEN, {
        "reason": "[citizen, portal] " + reason.strip()[:WORDS_CHARS],
        "satisfaction": Satisfaction.UNSATISFIED, "resolved": False}, now=now)
