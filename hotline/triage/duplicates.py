"""Is a new request the same matter as an open order (重复件), or related to it (关联)?

A pure scorer: no Django, no database. ``similar.py`` (the Django side) fetches a bounded set
of candidate orders and asks ``rank`` to score them against the request.

What decides (weights in ``Weights``; fitted on the TipDM messages, see bench/duplicates.py):
- Text: TF-IDF-weighted cosine over the normalised words (``hotline.triage.text.segment``) and,
  equally weighted, over character bigrams. Bigrams catch place names and problems that the
  segmenter cuts differently in two messages ("丽发新城" vs "丽发 新城").
- Address: the place name of the address (community, road, village) compared by character
  bigrams, and its numbers (building, phase, group, house number) compared exactly: "幸福小区3号
  楼" and "幸福小区5号楼" are different buildings, which usually means a different matter. When
  an order has no address, a place named in its text stands in for it.
- District: orders in another district are rarely the same matter (the score is halved).
- Caller: the same phone number with similar text is most likely the same matter again.
- Time: the further apart, the less likely (up to a third off at the end of the window).

The score is in [0, 1]; at ``DUPLICATE_THRESHOLD`` or above the order is a likely duplicate,
at ``RELATED_THRESHOLD`` or above related. ``Reason`` codes say why, for the agent.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hotline.triage.text import segment

# Fitted on the labelled TipDM pairs (bench/duplicates.py): F1 is flat from 0.3 to 0.35, and
# 0.35 keeps precision above 0.95 there.
DUPLICATE_THRESHOLD = 0.35
RELATED_THRESHOLD = 0.25
DEFAULT_WINDOW_DAYS = 30


class Kind:
    DUPLICATE = "duplicate"
    RELATED = "related"


@dataclass(frozen=True)
class Weights:
    text: float = 0.7  # share of the text in the score when both addresses were typed
    words: float = 0.5  # share of word cosine in the text similarity (the rest: bigrams)
    other_district: float = 0.5  # factor when the districts differ
    other_building: float = 0.5  # factor when the addresses name different numbers
    same_caller: float = 0.15  # closes this share of the gap to 1 when the text is similar
    same_caller_min_text: float = 0.4
    time_decay: float = 0.2  # at most this share off, at the end of the window


# --- the request and the orders, as the scorer sees them ---------------------------------------

@dataclass(frozen=True)
class Request:
    text: str
    title: str = ""
    address: str = ""
    district: str = ""  # a code or a name; only equality matters
    created_at: dt.datetime | None = None
    phone: str = ""


@dataclass(frozen=True)
class Candidate(Request):
    key: Any = None  # the order's id or number, handed back in the match


@dataclass(frozen=True)
class Reason:
    """Why a candidate scored as it did: ``code`` for the program, ``value`` for the label."""

    code: str  # same_address, similar_address, other_building, similar_text, same_caller,
    # same_district, other_district, days_apart
    value: float | None = None


@dataclass(frozen=True)
class Match:
    key: Any
    score: float
    kind: str  # Kind.DUPLICATE, Kind.RELATED or "" (below both thresholds)
    reasons: tuple[Reason, ...]
    text_similarity: float
    address_similarity: float | None


# --- text --------------------------------------------------------------------------------------

_HAN = re.compile(r"[\u4e00-\u9fff]+")


def bigrams(text: str) -> list[str]:
    """Character bigrams of each run of Chinese characters (a single character counts alone)."""
    grams: list[str] = []
    for run in _HAN.findall(unicodedata.normalize("NFKC", text)):
        if len(run) == 1:
            grams.append(run)
        grams.extend(run[i:i + 2] for i in range(len(run) - 1))
    return grams


@dataclass
class TextFeatures:
    words: Counter[str]
    grams: Counter[str]


MAX_TEXT_CHARS = 2000  # the start of a long letter says what it is about


def text_features(title: str, text: str) -> TextFeatures:
    # The title is the agent's (or citizen's) summary: counted twice, like the search index
    # weighs it higher than the body.
    text = text[:MAX_TEXT_CHARS]
    words = Counter(segment(text))
    grams = Counter(bigrams(text))
    if title:
        for _ in range(2):
            words.update(segment(title))
            grams.update(bigrams(title))
    return TextFeatures(words, grams)


@dataclass
class Idf:
    """Document frequencies of words and bigrams over a reference set of orders."""

    documents: int = 0
    df: Counter[str] = field(default_factory=Counter)

    @classmethod
    def from_features(cls, docs: Iterable[TextFeatures]) -> Idf:
        idf = cls()
        for doc in docs:
            idf.add(doc)
        return idf

    def add(self, doc: TextFeatures) -> None:
        self.documents += 1
        self.df.update(set(doc.words))
        self.df.update("\x00" + g for g in set(doc.grams))

    def weight(self, term: str, gram: bool = False) -> float:
        df = self.df.get("\x00" + term if gram else term, 0)
        return math.log((1 + self.documents) / (1 + df)) + 1.0


def _vector(counts: Counter[str], idf: Idf, gram: bool) -> dict[str, float]:
    # Sub-linear term frequency: a word said five times is not five times the matter.
    return {t: (1.0 + math.log(c)) * idf.weight(t, gram) for t, c in counts.items()}


def _norm(vector: dict[str, float]) -> float:
    return math.sqrt(sum(w * w for w in vector.values()))


def _cosine(a: dict[str, float], b: dict[str, float], norm_a: float | None = None,
            norm_b: float | None = None) -> float:
    if not a or not b:
        return 0.0
    dot = sum(w * b[t] for t, w in a.items() if t in b) if len(a) <= len(b) else \
        sum(w * a[t] for t, w in b.items() if t in a)
    if not dot:
        return 0.0
    norm = (norm_a if norm_a is not None else _norm(a)) * \
        (norm_b if norm_b is not None else _norm(b))
    return min(1.0, dot / norm)


# --- addresses ---------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[零一二两三四五六七八九十]+(?=号楼|号|栋|幢|座|单元|期|组|室|层|楼)")
# The numbers of an address that tell two places apart, by what they number.
_NUMBER_KINDS = (
    ("building", r"(\d+)(?:号楼|栋|幢|座|#楼?)"),
    ("phase", r"(\d+)期"),
    ("group", r"(\d+)组"),
    ("unit", r"(\d+)单元"),
    ("room", r"(\d+)(?:室|房)"),
    ("house", r"(\d+)号(?!楼)"),
)
# Numbers that must agree for the same place; unit and room may differ (a whole building's
# problem is reported from many flats).
_DECISIVE = ("building", "phase", "group", "house")
_ADMIN_PREFIX = re.compile(
    r"^(?:[\u4e00-\u9fffa-z0-9]{1,6}?(?:省|自治区))?(?:[\u4e00-\u9fffa-z0-9]{1,6}?市(?!场))?"
    r"(?:[\u4e00-\u9fffa-z0-9]{1,6}?(?<![小社园景校])(?:区|县))?"
)
_PLACE_SUFFIX = (
    r"小区|花园|花苑|家园|嘉园|新村|新城|公寓|大厦|广场|社区|山庄|名园|雅苑|苑|园|城|府|湾|村|"
    r"路|街|巷|道|大道|市场|中学|小学|学校|幼儿园|医院|公园|商场|工地|站"
)
_PLACE = re.compile(
    r"([\u4e00-\u9fffA-Za-z0-9]{2,12}?(?:" + _PLACE_SUFFIX + r"))"
    r"(?:[\d零一二两三四五六七八九十]+(?:期|号楼|号|栋|幢|座|组|单元|室))*"
)


_LEAD_INS = "在于系是的住我家到近对"
_GENERIC_PLACES = frozenset({"我们", "你们", "他们", "这个", "那个", "本", "该", "附近", "周边", "所在"})


def _cn_to_int(text: str) -> str:
    if "十" in text:
        tens, _, ones = text.partition("十")
        value = (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0)
                                                                 if ones else 0)
        return str(value)
    return "".join(str(_CN_DIGITS[ch]) for ch in text if ch in _CN_DIGITS)


@dataclass(frozen=True)
class AddressKey:
    place: str  # the address without administrative prefix and numbers
    numbers: tuple[tuple[str, str], ...]  # (kind, number)

    def __bool__(self) -> bool:
        return bool(self.place or self.numbers)


def normalise_address(address: str) -> AddressKey:
    text = unicodedata.normalize("NFKC", address).lower()
    text = re.sub(r"[\s,，。.、;；:：()（）\-—_/]+", "", text)
    text = _CN_NUMBER.sub(lambda m: _cn_to_int(m.group(0)), text)
    numbers: dict[str, str] = {}
    for kind, pattern in _NUMBER_KINDS:
        for number in re.findall(pattern, text):
            numbers.setdefault(kind, str(int(number)))
        text = re.sub(pattern, " ", text)
    place = re.sub(r"\d+", "", text)
    place = _ADMIN_PREFIX.sub("", place, count=1) or place
    place = place.replace(" ", "")
    return AddressKey(place, tuple(sorted(numbers.items())))


def guess_address(text: str) -> str:
    """The first place named in a text (community, road, village, with its numbers): what an
    agent would type in the address field. Empty when none is named."""
    for match in _PLACE.finditer(unicodedata.normalize("NFKC", text)):
        found = match.group(0)
        # "本人系春华镇金鼎村" -> "春华镇金鼎村": the words before a place are not part of it.
        cut = max(found.rfind(ch, 0, len(match.group(1)) - 2) for ch in _LEAD_INS)
        found = found[cut + 1:]
        name = re.sub(_PLACE_SUFFIX + r"|\d", "", found)
        if len(name) >= 2 and name not in _GENERIC_PLACES:
            return found
    return ""


def _gram_overlap(a: str, b: str) -> float:
    """How much of the shorter place name the longer one contains (bigram containment):
    "幸福小区" and "鼓楼区幸福小区东门" are the same place."""
    ga, gb = set(bigrams(a)), set(bigrams(b))
    if not ga or not gb:
        return 1.0 if a and a == b else 0.0
    return len(ga & gb) / min(len(ga), len(gb))


def address_similarity(a: AddressKey, b: AddressKey) -> tuple[float, bool]:
    """(similarity in [0, 1], True when decisive numbers differ)."""
    place = _gram_overlap(a.place, b.place) if a.place and b.place else 0.0
    na, nb = dict(a.numbers), dict(b.numbers)
    shared = [k for k in na if k in nb]
    conflict = any(na[k] != nb[k] for k in shared if k in _DECISIVE)
    if conflict:
        return place * 0.3, True
    if shared and all(na[k] == nb[k] for k in shared):
        return min(1.0, place + 0.2) if place else 0.4, False
    return place, False


# --- scoring -----------------------------------------------------------------------------------

@dataclass
class Prepared:
    """A request or candidate with its features computed once (and its weighted vectors once
    per IDF table)."""

    item: Request
    text: TextFeatures
    address: AddressKey
    address_typed: bool = True  # False: guessed from the text
    _idf: Idf | None = field(default=None, repr=False)
    _vectors: tuple[dict[str, float], float, dict[str, float], float] | None = field(
        default=None, repr=False)

    def vectors(self, idf: Idf) -> tuple[dict[str, float], float, dict[str, float], float]:
        if self._vectors is None or self._idf is not idf:
            words = _vector(self.text.words, idf, False)
            grams = _vector(self.text.grams, idf, True)
            self._vectors = (words, _norm(words), grams, _norm(grams))
            self._idf = idf
        return self._vectors


def prepare(item: Request) -> Prepared:
    address = item.address or guess_address(f"{item.title} {item.text[:MAX_TEXT_CHARS]}")
    return Prepared(item, text_features(item.title, item.text), normalise_address(address),
                    address_typed=bool(item.address))


def _phone(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def text_similarity(a: Prepared, b: Prepared, idf: Idf, weights: Weights) -> float:
    """The square root of the weighted cosines: two letters about one matter in different
    words share a fifth of their weight (0.2 -> 0.45), unrelated ones almost nothing."""
    aw, an, ag, agn = a.vectors(idf)
    bw, bn, bg, bgn = b.vectors(idf)
    words = _cosine(aw, bw, an, bn)
    grams = _cosine(ag, bg, agn, bgn)
    return math.sqrt(weights.words * words + (1 - weights.words) * grams)


def score(request: Prepared, candidate: Prepared, idf: Idf, *,
          window_days: int = DEFAULT_WINDOW_DAYS, weights: Weights | None = None,
          duplicate_threshold: float = DUPLICATE_THRESHOLD,
          related_threshold: float = RELATED_THRESHOLD) -> Match:
    w = weights or Weights()
    req, cand = request.item, candidate.item
    reasons: list[Reason] = []
    text = text_similarity(request, candidate, idf, w)
    value = text
    addr: float | None = None
    if request.address and candidate.address:
        addr, conflict = address_similarity(request.address, candidate.address)
        # A place guessed from a text may be any place the text names: it may tell two
        # buildings apart, but its similarity is already in the text's.
        if request.address_typed and candidate.address_typed:
            value = w.text * text + (1 - w.text) * addr
        if conflict:
            value *= w.other_building
            reasons.append(Reason("other_building"))
        elif addr >= 0.99:
            reasons.append(Reason("same_address"))
        elif addr >= 0.6:
            reasons.append(Reason("similar_address", round(addr, 2)))
    if text >= RELATED_THRESHOLD:
        reasons.append(Reason("similar_text", round(text, 2)))
    if req.district and cand.district:
        if req.district == cand.district:
            reasons.append(Reason("same_district"))
        else:
            value *= w.other_district
            reasons.append(Reason("other_district"))
    phone = _phone(req.phone)
    if phone and len(phone) >= 5 and phone == _phone(cand.phone):
        reasons.append(Reason("same_caller"))
        if text >= w.same_caller_min_text:
            value += w.same_caller * (1 - value)
    if req.created_at and cand.created_at:
        days = abs((req.created_at - cand.created_at).total_seconds()) / 86400
        value *= 1 - w.time_decay * min(1.0, days / max(1, window_days))
        reasons.append(Reason("days_apart", round(days, 1)))
    value = max(0.0, min(1.0, value))
    kind = (Kind.DUPLICATE if value >= duplicate_threshold
            else Kind.RELATED if value >= related_threshold else "")
    return Match(getattr(cand, "key", None), round(value, 4), kind, tuple(reasons),
                 round(text, 4), None if addr is None else round(addr, 4))


def rank(request: Request, candidates: Sequence[Candidate], *, idf: Idf | None = None,
         limit: int = 10, window_days: int = DEFAULT_WINDOW_DAYS,
         weights: Weights | None = None, min_score: float = RELATED_THRESHOLD,
         duplicate_threshold: float = DUPLICATE_THRESHOLD,
         related_threshold: float = RELATED_THRESHOLD) -> list[Match]:
    """The candidates scoring at least ``min_score``, best first, at most ``limit``.

    Without ``idf`` the request and the candidates are their own reference set; the service
    passes document frequencies of recent orders so that a score does not depend on which
    other candidates happened to be fetched."""
    prepared_request = prepare(request)
    prepared = [prepare(c) for c in candidates]
    if idf is None:
        idf = Idf.from_features([prepared_request.text, *(p.text for p in prepared)])
    matches = [
        score(prepared_request, p, idf, window_days=window_days, weights=weights,
              duplicate_threshold=duplicate_threshold, related_threshold=related_threshold)
        for p in prepared
    ]
    matches = [m for m in matches if m.score >= min_score]
    matches.sort(key=lambda m: m.score, reverse=True)
    return matches[:limit]
