"""Reply tokens: what an outbound message carries (a Reply-To address, a link) so the answer to
it finds its order. A token is the acceptance number with a keyed MAC, so it cannot be made up
for someone else's order, and it can be checked without a lookup table."""

from __future__ import annotations

import hmac
import re

from django.utils.crypto import salted_hmac

SALT = "hotline.intake.reply-token"
MAC_CHARS = 12
TOKEN_RE = re.compile(rf"(?<![0-9A-Za-z])(\d{{8}})-([0-9a-f]{{{MAC_CHARS}}})(?![0-9A-Za-z])")


def _mac(number: str) -> str:
    return salted_hmac(SALT, number, algorithm="sha256").hexdigest()[:MAC_CHARS]


def reply_token(number: str) -> str:
    """The token for order ``number``: "12345678-0123456789ab"."""
    return f"{number}-{_mac(number)}"


def order_number_for(token: str) -> str | None:
    """The acceptance number a genuine token names; None for anything else."""
    found = TOKEN_RE.search(token or "")
    if found is None:
        return None
    number, mac = found.groups()
    return number if hmac.compare_digest(mac, _mac(number)) else None
