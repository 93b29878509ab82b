"""Query parsing: groups, alternatives, synonyms, and the two query languages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.core import segmentation
from hotline.knowledge.models import Synonym
from hotline.search import query as query_module
from hotline.search.query import parse_query

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture(autouse=True)
def _dictionary(city: City) -> None:
    # The fixture city's names become dictionary words, as in production.
    segmentation.reload_user_words()


def test_query_parsing_groups_alternatives(city: City) -> None:
    query = parse_query("鼓楼区停水")
    assert [g.word for g in query.groups] == ["鼓楼区", "停水"]
    assert ("鼓楼区",) in query.groups[0].alternatives
    assert "AND" in query.fts5() and "&" in query.tsquery()
    assert parse_query("停水 噪声", any_word=True).fts5().count(" OR ") >= 1


def test_synonyms_come_from_the_registered_source(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    """The knowledge base registers its synonyms; given synonyms win, none without a source."""
    Synonym.objects.create(term="停水", equivalents="断水")
    assert ("断水",) in parse_query("停水").groups[0].alternatives
    assert parse_query("停水", synonyms={}).groups[0].alternatives == (("停水",),)
    monkeypatch.setattr(query_module, "_synonym_source", None)
    assert query_module.synonym_map() == {}
    assert parse_query("停水").groups[0].alternatives == (("停水",),)


def test_typed_syntax_is_quoted_in_both_query_languages() -> None:
    query = parse_query('停水" OR x', synonyms={})
    assert '"停水"' in query.fts5() and "'停水'" in query.tsquery()
    assert not parse_query("的 了 吗", synonyms={})


def test_page_sizes_are_clamped() -> None:
    assert [query_module.clamp_limit(n) for n in (-5, 0, 1, 20, 100, 10_000)] == [1, 1, 1, 20, 100, 100]


def test_a_long_words_parts_stand_for_it_only_when_they_cover_it() -> None:
    """鼓楼区 may be found as 鼓楼 and 楼区 (segmented differently), but a synonym's parts that
    leave a character out are no alternative: 停水's 没有水 must not match every 没有."""
    assert query_module.covers(["鼓楼", "楼区"], "鼓楼区")
    assert not query_module.covers(["没有"], "没有水")
    assert not query_module.covers([], "没有水")
    alternatives = parse_query("停水", synonyms={"停水": ["没有水", "不来水"]}).groups[0].alternatives
    assert ("没有",) not in alternatives and ("不来",) not in alternatives
    assert ("没有水",) in alternatives and ("停水",) in alternatives
    assert ("鼓楼", "楼区") in parse_query("鼓楼区", synonyms={}).groups[0].alternatives
