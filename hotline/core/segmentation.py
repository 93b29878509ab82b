"""Chinese word segmentation (jieba): the one place that loads jieba, for every domain.

Two cutters, because two kinds of callers need different things:

- ``tokenizer()`` (search: the knowledge base and the orders): a jieba ``Tokenizer`` with a
  user dictionary, so that "鼓楼区" or "市住建局" stay whole words. The words come from a
  source that a domain registers (``set_user_word_source``: the knowledge base registers the
  catalogue's category, unit and district names and its synonyms), since this module knows no
  domain. Documents are indexed with ``cut_for_search`` (a long word also yields its shorter
  words: "临时停水" gives 临时, 停水 and 临时停水), so a query finds text segmented differently.
- ``plain_cut()`` (classification): jieba's own dictionary only, without HMM. A trained model
  must see the same tokens whatever an administrator adds to the search dictionary later;
  rjieba (jieba's algorithm in Rust) cuts alike ~15x faster and is used when installed.

Both are created on first use (loading the dictionary takes a couple of seconds) as instances
of their own, leaving jieba's global default untouched for other modules.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable

import jieba

jieba.setLogLevel(logging.WARNING)

# How often (seconds) a process checks whether the user dictionary's words changed.
DICTIONARY_REFRESH_SECONDS = 300

# Words dropped from what a person types into a search box: function words and the phrasing
# around a question (请问, 怎么办, 谢谢...), which would otherwise have to appear in the answer.
_QUERY_STOP_WORDS_TEXT = """
    的 了 在 是 我 有 和 就 不 人 都 一 一个 上 也 很 到 说 要 去 你 会 着 没有 看 好 自己 这 那
    他 她 它 们 我们 你们 他们 请问 请 问 问一下 一下 怎么 怎么办 怎样 如何 什么 哪里 哪儿 哪个 吗 呢
    啊 吧 呀 哦 嗯 么 与 及 或 等 对 把 被 让 给 为 为什么 能 能否 可以 可不可以 是否 需要 想 想要
    还 又 再 从 向 于 以 之 其 而 但 但是 如果 因为 所以 这个 那个 这样 那样 这里 那里 现在 已经
    帮 帮忙 麻烦 您好 你好 谢谢 您 咨询 反映 一直 非常 特别 比较 有没有 几 多少 了解"""
QUERY_STOP_WORDS = frozenset(_QUERY_STOP_WORDS_TEXT.split())

# Function words dropped from a text before it is classified. Historical exports are often
# cleaned with a stop list of their own; dropping the common function words from raw text
# brings it close to such a cleaned form (character n-grams absorb the remaining differences).
STOP_WORDS: frozenset[str] = frozenset(
    """
    的 了 在 是 我 有 和 就 不 人 都 一 也 很 到 说 要 去 你 会 着 没有 看 好 这 那 他 她 它
    我们 你们 他们 她们 它们 自己 本人 大家 各位 您 咱们 之 其 此 该 这个 那个 这些 那些 这样
    那样 这么 那么 这里 那里 这边 哪里 哪 哪些 什么 为什么 为何 怎么 怎样 如何 多少 谁 吗 呢
    吧 啊 呀 么 哦 嘛 与 及 以及 及其 并 并且 而 而且 或 或者 但 但是 可是 然而 不过 只是 因为
    由于 所以 因此 于是 如果 如 若 即使 虽然 既然 否则 不但 不仅 还 还是 还有 又 再 才 就是
    也是 都是 则 即 便 对 对于 关于 为 为了 向 从 自 自从 由 以 于 被 把 给 让 将 按 按照 根据
    经 经过 通过 随着 至 到底 跟 同 比 比如 像 等 等等 各 各个 各种 每 另 另外 其他 其它 其中
    可以 可 能 能够 会 应 应该 理应 必须 得 地 过 来 上 下 里 内 中 个 些 所 者 之后 之前 以后
    以前 时候 一些 一个 一下 一样 已经 曾经 正在 非常 很多 更 更加 最 太 极 较 比较 只 只有
    仅 仅仅 都 甚至 居然 竟然 其实 然后 首先 如此 不是 不会 不能 不要 没 没有 不得 任何 几乎
    反而 几 什么样 怎么办 这种 那种 一直 总是 也许 可能 大概 难道 何时 起来 出来 进来 进去
    """.split()  # noqa: SIM905 - a word list reads better as text
)

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_user_words: set[str] = set()
# The frequency jieba's own dictionary gave a user word, restored when the word leaves.
_dictionary_freq: dict[str, int] = {}
_word_source: Callable[[], Iterable[str]] | None = None
_checked_at = 0.0


def normalise(text: str) -> str:
    """Full-width letters and digits to half-width, lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def set_user_word_source(source: Callable[[], Iterable[str]] | None) -> None:
    """Where ``reload_user_words`` reads the user dictionary's words from (a domain's
    ``AppConfig.ready`` registers it); without a source the dictionary stays jieba's own."""
    global _word_source
    _word_source = source


def dictionary_words(words: Iterable[str]) -> set[str]:
    """The words jieba's dictionary can hold: normalised, of at least two characters, with no
    space (its file format cannot hold one)."""
    kept = (w.strip() for w in words if w)
    return {normalise(w).strip() for w in kept if len(w) >= 2 and " " not in w}


def user_words() -> frozenset[str]:
    """The words loaded into the user dictionary now."""
    return frozenset(_user_words)


def _apply_words(tokenizer: jieba.Tokenizer, words: set[str]) -> None:
    global _user_words
    for word in _user_words - words:
        # jieba's del_word sets the frequency to 0, which would also unlearn a word of its own
        # dictionary (a synonym "停水" deleted would split every later 停水): give it back.
        original = _dictionary_freq.pop(word, 0)
        if original:
            tokenizer.add_word(word, original)
        else:
            tokenizer.del_word(word)
    for word in words - _user_words:
        if tokenizer.FREQ.get(word):
            _dictionary_freq[word] = tokenizer.FREQ[word]
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
    """(Re)load the user dictionary from the registered source (or the given words); returns
    its size. Call after bulk changes to the source's data; processes also pick changes up by
    themselves every ``DICTIONARY_REFRESH_SECONDS``."""
    global _checked_at
    tokenizer = _get_tokenizer()
    source = words if words is not None else _word_source() if _word_source is not None else ()
    wanted = set(source)
    with _lock:
        _apply_words(tokenizer, wanted)
        _checked_at = time.monotonic()
    return len(wanted)


def tokenizer() -> jieba.Tokenizer:
    """The process's search tokenizer with an up-to-date user dictionary."""
    global _checked_at
    tk = _get_tokenizer()
    if time.monotonic() - _checked_at > DICTIONARY_REFRESH_SECONDS:
        # Next check in DICTIONARY_REFRESH_SECONDS whatever happens now: a failing database
        # must not turn every segmentation into a query.
        _checked_at = time.monotonic()
        try:
            reload_user_words()
        except Exception as error:  # the database may be unavailable (e.g. before migrations)
            logger.warning("could not load the segmentation's user dictionary: %s", error)
    return tk


def index_tokens(text: str) -> list[str]:
    """All the words of a document, long words also as their shorter words."""
    if not text:
        return []
    return [t for t in tokenizer().cut_for_search(normalise(text)) if is_word(t.strip())]


def words(text: str, stop_words: frozenset[str] = QUERY_STOP_WORDS) -> list[str]:
    """The words of a query, in order, without stop words, punctuation or repeats."""
    seen: dict[str, None] = {}
    for token in tokenizer().cut(normalise(text)):
        token = token.strip()
        if token and is_word(token) and token not in stop_words:
            seen.setdefault(token, None)
    return list(seen)


def sub_words(word: str) -> list[str]:
    """The shorter words inside a long one ("鼓楼区" -> 鼓楼, 楼区), none for a short one."""
    if len(word) < 3:
        return []
    return [t for t in dict.fromkeys(tokenizer().cut_for_search(word))
            if t != word and len(t) >= 2 and is_word(t)]


class _PlainCutter:
    """jieba's own dictionary and algorithm (no user words, no HMM), loaded lazily once per
    process. rjieba gives the same words as jieba without HMM ~15x faster (0.06 ms instead of
    ~1 ms for a 460-character message), which is what keeps a raw-text prediction under 2 ms;
    jieba itself is the fallback when rjieba is not installed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cut: Callable[[str], list[str]] | None = None
        self.backend = ""

    def _load(self) -> Callable[[str], list[str]]:
        with self._lock:
            if self._cut is None:
                self._cut, self.backend = load_plain_cutter()
        return self._cut

    def cut(self, text: str) -> list[str]:
        return (self._cut or self._load())(text)


def load_plain_cutter(prefer_rust: bool = True) -> tuple[Callable[[str], list[str]], str]:
    """A new plain cutter and the name of its back-end ("rjieba" or "jieba")."""
    # HMM discovery of unknown words costs ~60% more time and mostly finds names and
    # places, which the classifier's character n-grams cover anyway.
    if prefer_rust:
        try:
            import rjieba
        except ImportError:
            pass
        else:
            return (lambda text: rjieba.cut(text, False)), "rjieba"
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return (lambda text: list(tokenizer.cut(text, HMM=False))), "jieba"


plain_cutter = _PlainCutter()


def plain_cut(text: str) -> list[str]:
    """The words of ``text`` by jieba's own dictionary, without HMM (see the module's doc)."""
    return plain_cutter.cut(text)
