"""The one jieba set-up: the search tokenizer with its user dictionary, the plain cutter used
for classification, and the stop words."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.core import segmentation

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def word_source(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """A user dictionary source of the test's own, restored (with the words) afterwards."""
    words: set[str] = set()
    monkeypatch.setattr(segmentation, "_word_source", lambda: words)
    yield words
    monkeypatch.undo()
    segmentation.reload_user_words(set())


def test_user_words_come_from_the_registered_source(word_source: set[str]) -> None:
    assert "丽发新城" not in segmentation.index_tokens("丽发新城停水")
    word_source.add("丽发新城")
    assert segmentation.reload_user_words() == 1
    assert segmentation.user_words() == {"丽发新城"}
    assert "丽发新城" in segmentation.index_tokens("丽发新城停水")
    assert "丽发新城" in segmentation.words("丽发新城停水了吗")
    # A word leaving the source leaves the dictionary.
    word_source.clear()
    assert segmentation.reload_user_words() == 0
    assert segmentation.user_words() == frozenset()


def test_without_a_source_the_dictionary_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segmentation, "_word_source", None)
    try:
        assert segmentation.reload_user_words() == 0
    finally:
        segmentation.reload_user_words(set())


def test_the_dictionary_periodically_refreshes_and_survives_a_failing_source(monkeypatch: pytest.MonkeyPatch,
                                                                             word_source: set[str]) -> None:
    word_source.add("丽发新城")
    monkeypatch.setattr(segmentation, "_checked_at", 0.0)  # a refresh is due
    segmentation.tokenizer()
    assert "丽发新城" in segmentation.user_words()

    def broken() -> set[str]:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(segmentation, "_word_source", broken)
    monkeypatch.setattr(segmentation, "_checked_at", 0.0)
    assert segmentation.tokenizer() is not None  # logged, not raised; the words stay
    assert "丽发新城" in segmentation.user_words()


def test_a_dictionary_word_leaving_the_user_words_keeps_its_place(word_source: set[str]) -> None:
    """A user word that jieba's own dictionary knows (a synonym 停水) is cut as before once it
    leaves the user dictionary: jieba's del_word alone would make it unknown."""
    original = segmentation.tokenizer().FREQ["停水"]
    word_source.add("停水")
    segmentation.reload_user_words()
    word_source.clear()
    segmentation.reload_user_words()
    assert segmentation.words("小区停水") == ["小区", "停水"]
    assert segmentation.tokenizer().FREQ["停水"] == original


def test_dictionary_words_are_normalised_and_fit_jieba() -> None:
    assert segmentation.dictionary_words(["市住建局", "ＡＢ区", " 鼓楼区 ", "x", "两 词", ""]) == {
        "市住建局", "ab区", "鼓楼区"}


def test_plain_cut_ignores_the_user_dictionary(word_source: set[str]) -> None:
    """Classification must see the same tokens whatever is added to the search dictionary."""
    before = segmentation.plain_cut("丽发新城停水")
    word_source.add("丽发新城")
    segmentation.reload_user_words()
    assert "丽发新城" in segmentation.index_tokens("丽发新城停水")
    assert segmentation.plain_cut("丽发新城停水") == before
    assert "丽发新城" not in before


def test_query_words_drop_question_phrasing_and_repeats(word_source: set[str]) -> None:
    assert segmentation.words("请问一下，小区停水了怎么办？小区谢谢") == ["小区", "停水"]
    assert segmentation.words("停水了", stop_words=frozenset()) == ["停水", "了"]
    assert "请问" in segmentation.QUERY_STOP_WORDS and "请问" not in segmentation.STOP_WORDS


def test_rust_and_python_jieba_back_ends_cut_alike() -> None:
    pytest.importorskip("rjieba", reason="rjieba not installed: only the jieba back-end runs")
    text = "a市a2区景蓉华苑小区物业公司要通过征收停车费增加收入 业主不同意 "
    rust, rust_name = segmentation.load_plain_cutter(prefer_rust=True)
    python, python_name = segmentation.load_plain_cutter(prefer_rust=False)
    assert (rust_name, python_name) == ("rjieba", "jieba")
    assert rust(text) == python(text)
    assert "物业公司" in rust(text)
