"""Failed citizens' status look-ups, counted per client address, per acceptance number and per
phone number: one set of counters for the /status/ page and the public API.

Per address alone is not enough: an attacker with many addresses can still walk the numbers of
one phone, or the phones of one number. So each failure counts three times, against the asking
address (an IPv6 client against its /64, which one host usually has whole), the acceptance
number asked for and the phone number given; past any limit look-ups with that address, number
or phone are refused until the window ends, even a right one, so that a refusal says nothing
about whether the number exists (unknown and existing numbers are counted alike).

Counting is reserve-then-refund: ``begin`` counts the look-up as a failure before the order is
read, and ``succeeded`` takes it back. Counting after the read would let every look-up in
flight pass the check before any failure was written; this way at most the limit of look-ups
per window can fail, however many run in parallel (the cache's ``incr`` is atomic: Redis, and
``hotline.core.cache.DatabaseCache``).

Windows are fixed (the clock divided into HOTLINE_LOOKUP_WINDOW_SECONDS), so every counter of a
look-up ends at the same moment and Retry-After is exact. The counters live in Django's default
cache, which every web process shares (the database or Redis; see settings.CACHES). Keys hold
an HMAC of the value, not the phone number itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils.translation import gettext as _

from hotline.core.errors import ServiceError
from hotline.orders.numbering import is_valid


class Counter(models.TextChoices):
    ADDRESS = "address"
    NUMBER = "number"
    PHONE = "phone"


LIMITS: dict[Counter, Callable[[], int]] = {
    Counter.ADDRESS: lambda: settings.HOTLINE_LOOKUP_FAILURES_PER_ADDRESS,
    Counter.NUMBER: lambda: settings.HOTLINE_LOOKUP_FAILURES_PER_NUMBER,
    Counter.PHONE: lambda: settings.HOTLINE_LOOKUP_FAILURES_PER_PHONE,
}


class TooManyAttempts(ServiceError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    """A look-up counted as a failure until ``succeeded`` takes it back."""

    keys: tuple[str, ...]


def window_seconds() -> int:
    return int(settings.HOTLINE_LOOKUP_WINDOW_SECONDS)


def limit(counter: Counter) -> int:
    return int(LIMITS[counter]())


def phone_digits(phone: str) -> str:
    """The phone number as compared and counted: ASCII digits, without China's +86."""
    digits = "".join(ch for ch in phone if ch.isascii() and ch.isdigit())
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def address_key(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _key(counter: Counter, value: str, window: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{counter}:{value}".encode(),
                      hashlib.sha256).hexdigest()[:32]
    return f"lookup-failures:{counter}:{digest}:{window}"


def _counted(address: str, number: str, phone: str) -> list[tuple[Counter, str]]:
    counted = [(Counter.ADDRESS, address_key(address))]
    # A number with a wrong check digit never matches an order: counting it would only fill
    # the cache. An empty phone matches no order either.
    if is_valid(number):
        counted.append((Counter.NUMBER, number))
    digits = phone_digits(phone)
    if digits:
        counted.append((Counter.PHONE, digits))
    return counted


def _incr(key: str, timeout: int) -> int:
    try:
        return int(cache.incr(key))
    except ValueError:  # no counter in this window yet
        if cache.add(key, 1, timeout=timeout):
            return 1
        return int(cache.incr(key))  # another process added it in between


def _refund(keys: tuple[str, ...]) -> None:
    for key in keys:
        with contextlib.suppress(ValueError):  # expired with its window: nothing to take back
            cache.decr(key)


def begin(address: str, number: str, phone: str, *, now: float | None = None) -> Attempt:
    """Count a look-up as a failure; TooManyAttempts (nothing counted) past any limit."""
    now = time.time() if now is None else now
    size = window_seconds()
    window = int(now // size)
    ends = (window + 1) * size
    timeout = math.ceil(ends - now) + 1
    counted = _counted(address, number, phone)
    keys = tuple(_key(counter, value, window) for counter, value in counted)
    over = False
    for (counter, _value), key in zip(counted, keys, strict=True):
        if _incr(key, timeout) > limit(counter):
            over = True
    if over:
        _refund(keys)
        raise TooManyAttempts(
            _("Too many attempts. Please try again in a few minutes."),
            retry_after=max(1, math.ceil(ends - now)),
        )
    return Attempt(keys)


def succeeded(attempt: Attempt) -> None:
    """The look-up found its order: it was not a failure."""
    _refund(attempt.keys)


def failures(counter: Counter, value: str, *, now: float | None = None) -> int:
    """The failures counted against ``value`` in the current window (for the tests and the
    security administrator)."""
    now = time.time() if now is None else now
    if counter == Counter.ADDRESS:
        value = address_key(value)
    elif counter == Counter.PHONE:
        value = phone_digits(value)
    return int(cache.get(_key(counter, value, int(now // window_seconds())), 0))
