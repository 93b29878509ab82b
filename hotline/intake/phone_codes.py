"""Phone confirmation codes for the citizen portal: a six-digit code sent by SMS, kept only as
a keyed hash in the shared cache, valid for a few minutes and for a few tries, with sends
limited per phone and per client address (so the portal cannot be used to flood a phone)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from hotline.core.errors import ServiceError
from hotline.intake.sms.outbound import send_sms
from hotline.orders.lookup_limits import address_key, phone_digits

CODE_SECONDS = 600
MAX_TRIES = 5
SEND_WINDOW_SECONDS = 3600


class CodeRefused(ServiceError):
    status = 429


def _digest(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def _code_key(phone: str) -> str:
    return f"portal-code:{_digest('phone:' + phone_digits(phone))}"


def count(kind: str, value: str, limit: int, window: int = SEND_WINDOW_SECONDS) -> bool:
    """Count one use of ``value`` for ``kind``; False once past ``limit`` in the window."""
    key = f"portal-count:{kind}:{_digest(kind + ':' + value)}"
    if cache.add(key, 1, timeout=window):
        return limit >= 1
    try:
        return int(cache.incr(key)) <= limit
    except ValueError:  # expired in between
        cache.add(key, 1, timeout=window)
        return True


def send_code(phone: str, address: str) -> None:
    """Send a new code to ``phone``; CodeRefused past the per-phone or per-address limit."""
    if not count("code-phone", phone_digits(phone), settings.HOTLINE_PORTAL_CODES_PER_PHONE) \
            or not count("code-address", address_key(address),
                         settings.HOTLINE_PORTAL_CODES_PER_ADDRESS):
        raise CodeRefused(_("Too many codes were asked for. Please try again in an hour."))
    code = f"{secrets.randbelow(1_000_000):06d}"
    cache.set(_code_key(phone), {"hash": _digest("code:" + code), "tries": 0},
              timeout=CODE_SECONDS)
    send_sms(phone, _("Your 12345 confirmation code is %(code)s. It is valid for 10 minutes.")
             % {"code": code}, purpose="verify")


def check_code(phone: str, code: str) -> bool:
    """Whether ``code`` is the one last sent to ``phone``; a right code works once, and after
    MAX_TRIES wrong ones the code is gone and a new one must be sent."""
    key = _code_key(phone)
    entry = cache.get(key)
    if not isinstance(entry, dict):
        return False
    if hmac.compare_digest(entry["hash"], _digest("code:" + code.strip())):
        cache.delete(key)
        return True
    tries = int(entry["tries"]) + 1
    if tries >= MAX_TRIES:
        cache.delete(key)
    else:
        cache.set(key, {"hash": entry["hash"], "tries": tries}, timeout=CODE_SECONDS)
    return False
