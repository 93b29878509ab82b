"""A search query as data: the words typed, each with the alternatives that also match it.

"鼓楼区 停水" becomes two groups. The group of 停水 matches 停水 itself or any of its synonyms
(断水, 没水...); the group of 鼓楼区 matches 鼓楼区, or 鼓楼 and 楼区 together (a document
segmented differently still matches). Groups are joined with AND for search and with OR for
suggestions. The backends turn this into an FTS5 MATCH expression or a PostgreSQL tsquery; the
words are always quoted, so nothing a user types is read as query syntax.

The synonyms are a domain's data (the knowledge base manages them): it registers where they
are read with ``set_synonym_source``, and every search (entries, orders) expands with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hotline.core import segmentation

MAX_QUERY_WORDS = 12
# At most this many hits on a page, whatever the caller asks for.
MAX_LIMIT = 100


def clamp_limit(limit: int) -> int:
    """A page size between 1 and ``MAX_LIMIT``."""
    return max(1, min(int(limit), MAX_LIMIT))


@dataclass(frozen=True)
class Group:
    word: str
    # Each alternative is a list of words that must all appear.
    alternatives: tuple[tuple[str, ...], ...]


@dataclass
class ParsedQuery:
    groups: list[Group] = field(default_factory=list)
    any_word: bool = False

    def __bool__(self) -> bool:
        return bool(self.groups)

    def highlight_terms(self) -> list[str]:
        terms = {w for g in self.groups for alt in g.alternatives for w in alt}
        return sorted(terms, key=len, reverse=True)

    def fts5(self) -> str:
        joiner = " OR " if self.any_word else " AND "
        return joiner.join(
            "(" + " OR ".join(_and(alt, _fts5_word, " AND ") for alt in g.alternatives) + ")"
            for g in self.groups
        )

    def tsquery(self) -> str:
        joiner = " | " if self.any_word else " & "
        return joiner.join(
            "(" + " | ".join(_and(alt, _ts_word, " & ") for alt in g.alternatives) + ")"
            for g in self.groups
        )


def _and(words: tuple[str, ...], quote: object, joiner: str) -> str:
    quoted = [quote(w) for w in words]  # type: ignore[operator]
    return quoted[0] if len(quoted) == 1 else "(" + joiner.join(quoted) + ")"


def _fts5_word(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def ts_lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _ts_word(word: str) -> str:
    return ts_lexeme(word)


# Each word of a synonym group -> every word of its groups; read per query (an edit to the
# synonyms must take effect at once).
SynonymMap = dict[str, list[str]]
_synonym_source: Callable[[], SynonymMap] | None = None


def set_synonym_source(source: Callable[[], SynonymMap] | None) -> None:
    """Where ``parse_query`` reads the synonyms from when it is not given them."""
    global _synonym_source
    _synonym_source = source


def synonym_map() -> SynonymMap:
    """The registered source's synonyms (none without a source)."""
    return _synonym_source() if _synonym_source is not None else {}


# The shortest bare number kept as a search word: the service numbers people search for
# (12345, 12315, 96333, 95598) have five digits; a house or building number ("3栋") does not
# say what the question is about.
MIN_NUMBER_DIGITS = 5
MIN_LATIN_CHARS = 3


def is_fragment(word: str) -> bool:
    """A word that means nothing alone: one character (水, 市, 栋), a bare number shorter than
    a service number, or a short code of letters and digits ("a7", "b9": the place codes of
    anonymised messages, a flat number)."""
    if len(word) < 2:
        return True
    if word.isdigit():
        return len(word) < MIN_NUMBER_DIGITS
    if word.isascii():
        return len(word) < MIN_LATIN_CHARS
    return False


WordFilter = Callable[[str], bool]


def covers(parts: list[str], word: str) -> bool:
    """Whether the parts, wherever they occur in ``word``, cover every one of its characters:
    鼓楼 and 楼区 cover 鼓楼区, but 没有 alone does not cover 没有水 (its 水 is no part, the
    parts being two characters or more)."""
    covered = [False] * len(word)
    for part in parts:
        start = word.find(part)
        while start >= 0:
            covered[start:start + len(part)] = [True] * len(part)
            start = word.find(part, start + 1)
    return all(covered)


def _alternatives(word: str, synonyms: SynonymMap,
                  keep: WordFilter | None) -> tuple[tuple[str, ...], ...]:
    alts: list[tuple[str, ...]] = []
    for candidate in [word, *synonyms.get(word, [])]:
        parts = segmentation.sub_words(candidate)
        if not covers(parts, candidate):
            # Parts that leave a character out say less than the word: 没有水 is not 没有,
            # 不来水 is not 不来 (otherwise a search for 停水 finds every order saying 没有).
            parts = []
        if keep is not None:
            # A long word's parts stand for it only together, and only the parts that mean
            # something (低保申请 is 低保; 没有水 is not 没有).
            parts = [p for p in parts if keep(p)]
        for alt in ((candidate,), tuple(parts)):
            if alt and alt not in alts:
                alts.append(alt)
    return tuple(alts)


def parse_query(text: str, *, any_word: bool = False, synonyms: SynonymMap | None = None,
                keep: WordFilter | None = None) -> ParsedQuery:
    """``keep`` (when given) says which words may be searched for: the knowledge base drops
    fragments and the phrasing around a question; order search keeps every word."""
    words = segmentation.words(text or "")
    if keep is not None:
        words = [w for w in words if keep(w)]
    words = words[:MAX_QUERY_WORDS]
    if not words:
        return ParsedQuery(any_word=any_word)
    mapping = synonym_map() if synonyms is None else synonyms
    return ParsedQuery([Group(w, _alternatives(w, mapping, keep)) for w in words],
                       any_word=any_word)
