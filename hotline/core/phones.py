"""Phone numbers, the one way every channel reads and shows them.

``normalise_phone`` is what is stored and compared (a citizen's phone, a caller's From user
part, a search filter); ``mask_phone`` is what a screen shows to someone who may not know the
whole number. Pure functions: no Django, no domain.
"""

from __future__ import annotations

MIN_DIGITS = 5
MAX_DIGITS = 20
MASK = "****"


def normalise_phone(raw: str | None) -> str:
    """The digits of ``raw`` with its leading + (an international number) kept; spaces,
    dashes, brackets and anything else dropped. "" for "" or a text without digits."""
    text = (raw or "").strip()
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if not digits:
        return ""
    return ("+" if text.startswith("+") else "") + digits


def digit_count(phone: str) -> int:
    return sum(1 for ch in phone if ch.isascii() and ch.isdigit())


def is_plausible_phone(phone: str) -> bool:
    """True for a normalised number of 5 to 20 digits (a service number to an international
    one); shorter or longer is a typo or not a number at all."""
    return MIN_DIGITS <= digit_count(phone) <= MAX_DIGITS


def mask_phone(phone: str | None) -> str:
    """A number for a screen others can read: 13812345678 -> 138****5678.

    Numbers of 8 characters or more keep their first 3 and last 4 with always four stars
    between, so the mask does not tell the number's length either; shorter ones (a service
    number, an extension) are hidden whole: their last digits would be most of the number."""
    text = (phone or "").strip()
    if len(text) >= 8:
        return f"{text[:3]}{MASK}{text[-4:]}"
    return "*" * len(text)
