"""Highlighting matched words: the text is split at the matches, every piece is HTML-escaped,
and only then are the matches wrapped in <mark>, so nothing in the text can become markup."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

ELLIPSIS = "…"


def _pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    words = sorted({t for t in terms if t}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def _mark(text: str, pattern: re.Pattern[str] | None) -> str:
    if pattern is None:
        return escape(text)
    out: list[str] = []
    pos = 0
    for match in pattern.finditer(text):
        out.append(escape(text[pos:match.start()]))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def highlight(text: str, terms: Sequence[str]) -> SafeString:
    return mark_safe(_mark(text, _pattern(terms)))  # noqa: S308 - every piece is escaped


def snippet(text: str, terms: Sequence[str], width: int = 120) -> SafeString:
    """A window of ``width`` characters around the first match, highlighted."""
    text = " ".join(text.split())
    pattern = _pattern(terms)
    first = pattern.search(text) if pattern else None
    start = 0
    if first and first.start() > width // 3:
        start = first.start() - width // 3
    window = text[start:start + width]
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if start + width < len(text) else ""
    return mark_safe(prefix + _mark(window, pattern) + suffix)  # noqa: S308 - escaped
