"""Personal numbers and addresses inside free text, masked for pages anyone may read.

A citizen writes "my number is 138 0013 8000" or their ID card number into a letter; when the
letter is published, what identifies them must not be. Numbers are masked with the one phone
masker (``phones.mask_phone``: first 3 and last 4 kept, always four stars), so a number looks
the same masked wherever the product shows one. Pure functions: no Django, no domain.

What counts as a personal number: seven digits or more, written in one run or in groups of at
least three digits joined by a space or a dash (138-0013-8000, 0914 2338613), with an optional
+86 in front and an optional X at the end (an ID card's check character). Dates (2022-05-10),
years and small amounts have shorter groups and stay as written. Full-width digits count too.
"""

from __future__ import annotations

import re

from hotline.core.phones import mask_phone

MIN_DIGITS = 7
_DIGIT = "0-9\uff10-\uff19"  # ASCII and full-width digits
_NUMBER = re.compile(
    rf"(?<![{_DIGIT}])(?:[+\uff0b]?(?:86|\uff18\uff16)[ \-]?)?"
    rf"[{_DIGIT}]{{3,}}(?:[ \-]?[{_DIGIT}]{{3,}})*[Xx]?(?![{_DIGIT}])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")


def _digits(text: str) -> int:
    return sum(1 for ch in text if ch.isdigit())


def _mask_number(match: re.Match[str]) -> str:
    found = match.group(0)
    if _digits(found) < MIN_DIGITS:
        return found
    return mask_phone(re.sub(r"[ \-]", "", found))


def mask_numbers(text: str) -> str:
    """``text`` with every phone-like or ID-like number masked (13800138000 -> 138****8000)."""
    return _NUMBER.sub(_mask_number, text)


def mask_emails(text: str) -> str:
    """``text`` with every email address masked to its first character and its domain."""
    return _EMAIL.sub(lambda m: m.group(0)[0] + "***@" + m.group(0).rsplit("@", 1)[1], text)


def mask_personal_details(text: str) -> str:
    """Numbers and email addresses masked: what a public page shows of a citizen's own text."""
    return mask_numbers(mask_emails(text))
