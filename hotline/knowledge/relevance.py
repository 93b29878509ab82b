"""How well a knowledge entry answers what a citizen said: the score behind the suggestions.

The index finds the candidates (entries with any word of the question); they are then scored
here, the same way on SQLite and PostgreSQL (bm25 and ts_rank are on different scales, and a
threshold must mean the same on both):

    score(entry) = sum over the question's words w found in the entry of idf(w) * field(w)

``idf`` is the BM25 inverse document frequency over the indexed entries (a word most entries
contain, such as 办理, says little; a word that names one service says a lot); ``field`` is 1
when the word is in the title or keywords, ``BODY_WEIGHT`` when only in the body. Words no
entry contains (a street, a company, a person) are not counted at all. An entry below
``settings.HOTLINE_KB_MIN_SCORE``, or far below the best one (``RELATIVE_CUT``), is not
suggested: a half-matching entry (婚姻登记 for a question about water) is worse than none.

Which words count: not the fragments (``hotline.search.query.is_fragment``: one character,
a house number), not the query stop words of the segmentation, and not the words that frame a
question rather than say what it is about (投诉, 反映, 咨询, 问题...).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from hotline.core import segmentation
from hotline.knowledge.indexing import ENTRY_INDEX, version_tokens
from hotline.knowledge.models import EntryVersion
from hotline.search.backends import backend
from hotline.search.query import Group, ParsedQuery, is_fragment, parse_query

BODY_WEIGHT = 0.35
# An entry is suggested when it reaches the threshold, or covers at least this share of what
# the question can match (a one-word question found in a body only is not an answer).
MIN_COVERAGE = 0.5
# Entries scoring below this share of the best one are left out.
RELATIVE_CUT = 0.3

# Words that say how someone asks (complain, ask, request, urgently, again...) or where the
# matter is in general (小区, 城区), not what it is: in a message subject they are most of the
# words, and an entry containing them is no better an answer.
_FRAMING_TEXT = """
    投诉 反映 举报 咨询 请求 要求 恳请 建议 希望 呼吁 盼望 期待 关于 对于 有关 相关 问题 情况 事宜
    事项 事情 一事 解决 处理 帮助 关注 重视 严重 强烈 再次 多次 长期 经常 频繁 一直 总是 依然
    仍然 还是 至今 到现在 目前 尽快 早日 何时 什么时候 为何 为什么 怎么 怎么样 怎么回事 是否
    能否 可否 可以 能不能 可不可以 无人 没人 不管 无果 未果 政府 部门 相关部门 有关部门 领导 市民
    群众 百姓 老百姓 村民 本人 我们 我家 家里 严查 整治 治理 规范 加强 督促 落实 政策
    具体 方面 以及 导致 造成 存在 出现 进行 申请 办理 哪里 哪些 多久 多少钱 怎样 现象 行为
    公司 单位 小区 社区
    """
FRAMING_WORDS = frozenset(_FRAMING_TEXT.split())


def keep_word(word: str) -> bool:
    """Whether a word of a question may find an entry."""
    return not (is_fragment(word) or word in FRAMING_WORDS
                or word in segmentation.QUERY_STOP_WORDS)


def parse_question(text: str) -> ParsedQuery:
    """A question as typed by an agent or a citizen: any of its meaningful words."""
    return parse_query(text, any_word=True, keep=keep_word)


def parse_search(text: str) -> ParsedQuery:
    """A search box's words, all of which must match. A fragment narrows a search with other
    words (every word must match), but alone it finds nothing."""
    query = parse_query(text)
    if not any(not is_fragment(group.word) for group in query.groups):
        return ParsedQuery()
    return query


def idf(documents: int, frequency: int) -> float:
    return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))


@dataclass(frozen=True)
class Weights:
    """Each counted word (group) of a question with its idf; words no entry has are left out."""

    groups: tuple[tuple[Group, float], ...]

    def __bool__(self) -> bool:
        return bool(self.groups)

    @property
    def total(self) -> float:
        """The score of an entry with every counted word in its title or keywords."""
        return sum(weight for _group, weight in self.groups)


def weights(query: ParsedQuery) -> Weights:
    documents, frequencies = backend().counts(
        ENTRY_INDEX, [ParsedQuery([group]) for group in query.groups])
    return Weights(tuple((group, idf(documents, frequency))
                         for group, frequency in zip(query.groups, frequencies, strict=True)
                         if frequency))


# Published versions never change, so their tokens are kept per process (keyed by content
# too: a test database hands the same id out again after a rollback).
_CACHE_SIZE = 4000
_lock = threading.Lock()
_tokens: OrderedDict[tuple[object, ...], tuple[frozenset[str], frozenset[str]]] = OrderedDict()


def _fields(version: EntryVersion) -> tuple[frozenset[str], frozenset[str]]:
    """The version's words: (title and keywords, body)."""
    key = (connection.alias, version.pk, hash((version.title, version.keywords, version.body)))
    with _lock:
        found = _tokens.get(key)
        if found is not None:
            _tokens.move_to_end(key)
            return found
    title, keywords, body = version_tokens(version)
    fields = (frozenset(title) | frozenset(keywords), frozenset(body))
    with _lock:
        _tokens[key] = fields
        while len(_tokens) > _CACHE_SIZE:
            _tokens.popitem(last=False)
    return fields


def _word_weight(word: str, head: frozenset[str], body: frozenset[str]) -> float:
    return 1.0 if word in head else BODY_WEIGHT if word in body else 0.0


def _field_weight(group: Group, head: frozenset[str], body: frozenset[str]) -> float:
    """The best alternative's weight; a long word's parts (all needed) weigh their mean, so
    物业管理 found as 物业 in the title and 管理 in the body counts between the two."""
    best = 0.0
    for alternative in group.alternatives:
        weights = [_word_weight(word, head, body) for word in alternative]
        if all(weights):
            best = max(best, sum(weights) / len(weights))
    return best


def score(version: EntryVersion, question: Weights) -> float:
    head, body = _fields(version)
    return sum(weight * _field_weight(group, head, body) for group, weight in question.groups)


def words_found(version: EntryVersion, question: Weights) -> int:
    """How many of the question's words the entry has anywhere (breaks ties between equal
    scores: of two entries with 养老保险 in the title, the one that also mentions 补缴)."""
    head, body = _fields(version)
    everywhere = head | body
    return sum(1 for group, _weight in question.groups
               if any(all(w in everywhere for w in alt) for alt in group.alternatives))


def min_score() -> float:
    return float(settings.HOTLINE_KB_MIN_SCORE)


def best(scored: Iterable[tuple[float, int]], question: Weights, limit: int,
         threshold: float | None = None,
         found: dict[int, int] | None = None) -> list[tuple[float, int]]:
    """The best (score, id) pairs above the threshold (or covering ``MIN_COVERAGE`` of the
    question) and near enough to the best one; equal scores by ``found`` (words found
    anywhere, more first), then by id: never by the index's own rank, which differs between
    bm25 and ts_rank, so both databases suggest the same entries in the same order."""
    floor = min_score() if threshold is None else threshold
    floor = min(floor, question.total * MIN_COVERAGE) if question.total else floor
    also = found or {}
    ranked = sorted((item for item in scored if item[0] >= floor),
                    key=lambda i: (-round(i[0], 6), -also.get(i[1], 0), i[1]))
    if not ranked:
        return []
    top = ranked[0][0]
    return [item for item in ranked if item[0] >= top * RELATIVE_CUT][:limit]
