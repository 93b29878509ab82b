"""A cheap test of a document's stored text that rules out most non-matches and never a match.

Why: scoring a few given documents through FTS5 (``MATCH ... AND rowid IN (...)``) seeks every
id in every index segment and, for bm25, counts a word's whole document list again per id: a
millisecond per id for a common word over a million orders. Reading those documents' stored
tokens is a few microseconds each, and this test on them keeps only the documents that may
match, so the full-text engine is asked about the few candidates alone and stays the judge.

The test must never reject a document the engine matches (it may accept some it does not):
- both sides are folded coarser than the engine folds (case folded, compatibility-decomposed,
  combining marks dropped: FTS5's unicode61 lower-cases and removes Latin diacritics, which
  decompose, so two characters it equates are equal here too);
- a query word is cut at every character that is not a letter or a digit (the engine's token
  characters are letters, digits and private-use characters; a combining mark may be a
  separator to it), so each piece lies inside one of the engine's query tokens; of a piece,
  once folded, only the runs of CJK ideographs and ASCII letters and digits are looked for,
  each as a substring (the engine matches whole tokens, in sequence: stricter); other
  characters are not looked for at all (they could be folded in ways this test does not know).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from hotline.search.query import ParsedQuery

# CJK ideographs (unified, extension A, compatibility) and ASCII letters and digits.
_SAFE_RUN = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _pieces(word: str) -> list[str]:
    pieces, current = [], []
    for char in word:
        if unicodedata.category(char)[0] in "LN":
            current.append(char)
        elif current:
            pieces.append("".join(current))
            current = []
    if current:
        pieces.append("".join(current))
    return pieces


@lru_cache(maxsize=4096)
def _runs(word: str) -> tuple[str, ...]:
    return tuple(run for piece in _pieces(word) for run in _SAFE_RUN.findall(fold(piece)))


def might_match(query: ParsedQuery, folded_text: str) -> bool:
    """False only when the document whose stored text, folded by ``fold``, is ``folded_text``
    cannot match ``query`` (each group: one alternative whose words are all present)."""
    found = (any(all(run in folded_text for word in alt for run in _runs(word))
                 for alt in group.alternatives)
             for group in query.groups)
    return any(found) if query.any_word else all(found)


# Where the screen can also decide: a word or a document made only of these characters is
# tokenized and folded by FTS5's unicode61 exactly as here (ASCII letters lower-cased; CJK
# ideographs have no case; punctuation, symbols, spaces and controls separate tokens).
_PLAIN_CHAR = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff]")
_PLAIN_WORD = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff]+")
_SEPARATOR_CATEGORIES = ("P", "S", "Z", "Cc")


def plain_query(query: ParsedQuery) -> bool:
    """Is every word of ``query`` one plain token (see ``plain_lowered``)?"""
    return all(_PLAIN_WORD.fullmatch(word) for group in query.groups
               for alt in group.alternatives for word in alt)


# The separators Chinese and English text mostly use: a document with nothing else is known
# plain by one regular-expression search; otherwise each distinct character is classified.
_COMMON = re.compile("[^0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\\s"
                     + re.escape(",.!?;:'\"()[]{}<>@#%&*+=/\\|~^`$_-，。！？；：、（）《》【】“”‘’…—·")
                     + "]")


def plain_lowered(text: str) -> str | None:
    """``text`` lower-cased when every character is a plain one or a separator (FTS5 then
    reads its tokens as ``_PLAIN_WORD`` does); None otherwise (then only the engine can say)."""
    if _COMMON.search(text) is not None and not all(map(_is_plain_or_separator, set(text))):
        return None
    return text.lower()


@lru_cache(maxsize=65536)
def _is_plain_or_separator(char: str) -> bool:
    return bool(_PLAIN_CHAR.match(char)) or unicodedata.category(char).startswith(
        _SEPARATOR_CATEGORIES)


PlainGroups = tuple[tuple[frozenset[str], ...], ...]


def plain_groups(query: ParsedQuery) -> PlainGroups:
    """A ``plain_query``'s words lower-cased, per group and alternative, for ``decide``."""
    return tuple(tuple(frozenset(w.lower() for w in alt) for alt in group.alternatives)
                 for group in query.groups)


def decide(query: ParsedQuery, groups: PlainGroups, lowered: str) -> bool:
    """Does a document whose ``plain_lowered`` text is ``lowered`` match a ``plain_query``
    (``groups`` from ``plain_groups``)? FTS5's rule: each group, one alternative whose words
    are all tokens of the document, in any column. A word absent as a substring is absent as
    a token, so the tokens are only read for a document holding every word of an alternative."""
    tokens: frozenset[str] | None = None

    def holds(alt: frozenset[str]) -> bool:
        nonlocal tokens
        if not all(word in lowered for word in alt):
            return False
        if tokens is None:
            tokens = frozenset(_PLAIN_WORD.findall(lowered))
        return alt <= tokens

    found = (any(holds(alt) for alt in group) for group in groups)
    return any(found) if query.any_word else all(found)
