"""Chinese word segmentation for the index and for queries (jieba).

One jieba ``Tokenizer`` per process, created on first use (loading the dictionary takes a
couple of seconds), with a user dictionary of the catalogue's category names, unit names,
district names and synonyms so that "鼓楼区" or "市住建局" stay whole words. The project's own
tokenizer instance leaves jieba's global default untouched for other modules.

Documents are indexed with ``cut_for_search`` (a long word also yields its shorter words:
"临时停水" gives 临时, 停水 and 临时停水), so a query finds text segmented differently.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections.abc import Iterable

import jieba

jieba.setLogLevel(logging.WARNING)

# How often (seconds) a process checks whether the catalogue's names changed.
DICTIONARY_REFRESH_SECONDS = 300

_STOP_WORDS_TEXT = """
    的 了 在 是 我 有 和 就 不 人 都 一 一个 上 也 很 到 说 要 去 你 会 着 没有 看 好 自己 这 那
    他 她 它 们 我们 你们 他们 请问 请 问 问一下 一下 怎么 怎么办 怎样 如何 什么 哪里 哪儿 哪个 吗 呢
    啊 吧 呀 哦 嗯 么 与 及 或 等 对 把 被 让 给 为 为什么 能 能否 可以 可不可以 是否 需要 想 想要
    还 又 再 从 向 于 以 之 其 而 但 但是 如果 因为 所以 这个 那个 这样 那样 这里 那里 现在 已经
    帮 帮忙 麻烦 您好 你好 谢谢 您 咨询 反映 一直 非常 特别 比较 有没有 几 多少 了解"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_user_words: set[str] = set()
_checked_at = 0.0


def normalise(text: str) -> str:
    """Full-width letters and digits to half-width, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def catalogue_words() -> set[str]:
    """Names the segmenter must keep whole: categories, units, districts (with and without
    their 区/县/市 suffix), and every synonym."""
    from hotline.directory.models import Category, District, Unit
    from hotline.knowledge.models import Synonym

    words: set[str] = set()
    words.update(Category.objects.filter(active=True).values_list("name", flat=True))
    words.update(Unit.objects.filter(active=True).values_list("name", flat=True))
    for name in District.objects.values_list("name", flat=True):
        words.add(name)
        if len(name) > 2 and name[-1] in "区县市":
            words.add(name[:-1])
    for synonym in Synonym.objects.all():
        words.update(synonym.words())
    # jieba's dictionary format cannot hold spaces; keep names of at least two characters.
    return {normalise(w).strip() for w in words if w and len(w.strip()) >= 2 and " " not in w.strip()}


def _apply_words(tokenizer: jieba.Tokenizer, words: set[str]) -> None:
    global _user_words
    for word in _user_words - words:
        tokenizer.del_word(word)
    for word in words - _user_words:
        tokenizer.add_word(word)
    _user_words = set(words)


def _get_tokenizer() -> jieba.Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _tokenizer = tokenizer
    return _tokenizer


def reload_user_words(words: Iterable[str] | None = None) -> int:
    """(Re)load the user dictionary from the catalogue (or the given words); returns its size.
    Call after bulk changes to categories, units, districts or synonyms; processes also pick
    changes up by themselves every ``DICTIONARY_REFRESH_SECONDS``."""
    global _checked_at
    tokenizer = _get_tokenizer()
    wanted = set(words) if words is not None else catalogue_words()
    with _lock:
        _apply_words(tokenizer, wanted)
        _checked_at = time.monotonic()
    return len(wanted)


def tokenizer() -> jieba.Tokenizer:
    """The process's tokenizer with an up-to-date user dictionary."""
    global _checked_at
    tk = _get_tokenizer()
    if time.monotonic() - _checked_at > DICTIONARY_REFRESH_SECONDS:
        # Next check in DICTIONARY_REFRESH_SECONDS whatever happens now: a failing database
        # must not turn every segmentation into a query.
        _checked_at = time.monotonic()
        try:
            reload_user_words()
        except Exception as error:  # the database may be unavailable (e.g. before migrations)
            logger.warning("could not load the knowledge base's user dictionary: %s", error)
    return tk


def index_tokens(text: str) -> list[str]:
    """All the words of a document, long words also as their shorter words."""
    if not text:
        return []
    return [t for t in tokenizer().cut_for_search(normalise(text)) if is_word(t.strip())]


def words(text: str) -> list[str]:
    """The words of a query, in order, without stop words, punctuation or repeats."""
    seen: dict[str, None] = {}
    for token in tokenizer().cut(normalise(text)):
        token = token.strip()
        if token and is_word(token) and token not in STOP_WORDS:
            seen.setdefault(token, None)
    return list(seen)


def sub_words(word: str) -> list[str]:
    """The shorter words inside a long one ("鼓楼区" -> 鼓楼, 楼区), none for a short one."""
    if len(word) < 3:
        return []
    return [t for t in dict.fromkeys(tokenizer().cut_for_search(word))
            if t != word and len(t) >= 2 and is_word(t)]
