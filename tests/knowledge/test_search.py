"""Knowledge search on Chinese text: segmentation, synonyms, ranking, expiry, highlighting."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from hotline.core import segmentation
from hotline.knowledge.indexing import ENTRY_INDEX
from hotline.knowledge.models import Synonym
from hotline.knowledge.search import search_entries, suggest_entries
from hotline.knowledge.services import do_entry_action
from hotline.search.backends import backend
from tests.knowledge.conftest import publish

if TYPE_CHECKING:
    from hotline.knowledge.search import EntryHit
    from tests.conftest import City

pytestmark = pytest.mark.django_db(transaction=False)


def titles(hits: list[EntryHit]) -> list[str]:
    return [h.version.title for h in hits]


def test_finds_chinese_words_segmented_differently(city: City) -> None:
    publish(city, title="供水公告", body="因管网抢修，鼓楼区部分区域临时停水", keywords="")
    publish(city, title="噪声投诉", body="夜间施工噪声扰民请拨打12345", keywords="噪声", categories=[])
    assert titles(search_entries(city.agent, "停水")) == ["供水公告"]
    assert titles(search_entries(city.agent, "鼓楼停水")) == ["供水公告"]
    assert titles(search_entries(city.agent, "鼓楼区 抢修")) == ["供水公告"]
    assert titles(search_entries(city.agent, "夜间施工")) == ["噪声投诉"]
    # Every word must match: an unrelated word excludes the entry.
    assert search_entries(city.agent, "停水 噪声") == []
    assert search_entries(city.agent, "") == []
    assert search_entries(city.agent, "的 了 吗") == []


def test_query_syntax_is_never_interpreted(city: City) -> None:
    publish(city)
    for text in ['"', "停水 OR", "NOT 停水", "停水*", "(停水", "停水 AND (", "'; DROP", "\\"]:
        search_entries(city.agent, text)  # must not raise


def test_title_and_keywords_rank_above_body(city: City) -> None:
    publish(city, title="办事指南", body="本指南说明户口迁移。办理地点另见。居住证", keywords="")
    publish(city, title="居住证办理", body="到派出所办理", keywords="")
    publish(city, title="证件", body="材料清单", keywords="居住证")
    ranked = titles(search_entries(city.agent, "居住证"))
    assert ranked[2] == "办事指南"
    assert set(ranked[:2]) == {"居住证办理", "证件"}


def test_synonyms_expand_the_query(city: City) -> None:
    publish(city, title="供水公告", body="部分区域临时停水", keywords="")
    assert search_entries(city.agent, "断水") == []
    Synonym.objects.create(term="停水", equivalents="断水，没水")
    segmentation.reload_user_words()
    assert titles(search_entries(city.agent, "断水")) == ["供水公告"]
    assert titles(search_entries(city.agent, "没水了吗")) == ["供水公告"]


def test_expired_and_future_entries_are_hidden(city: City, today: dt.date) -> None:
    publish(city, title="旧政策停水补偿", valid_until=today - dt.timedelta(days=1))
    publish(city, title="新政策停水补偿", valid_from=today + dt.timedelta(days=3))
    publish(city, title="现行停水补偿", valid_from=today, valid_until=today)
    assert titles(search_entries(city.agent, "停水补偿")) == ["现行停水补偿"]
    assert titles(search_entries(None, "停水补偿")) == ["现行停水补偿"]


def test_internal_entries_only_for_staff(city: City) -> None:
    publish(city, title="内部口径停水", public=False)
    publish(city, title="公开停水说明", public=True)
    assert set(titles(search_entries(city.agent, "停水"))) == {"内部口径停水", "公开停水说明"}
    assert titles(search_entries(None, "停水")) == ["公开停水说明"]
    assert titles(search_entries(city.agent, "停水", public_only=True)) == ["公开停水说明"]


def test_retired_entries_leave_the_index(city: City) -> None:
    entry = publish(city, title="停水公告")
    assert backend().ids_between(ENTRY_INDEX, entry.pk - 1, entry.pk) == {entry.pk}
    do_entry_action(city.dept_admin, entry.pk, "retire")
    assert search_entries(city.agent, "停水") == []
    assert backend().ids_between(ENTRY_INDEX, entry.pk - 1, entry.pk) == set()


def test_revision_keeps_the_published_text_until_republished(city: City) -> None:
    from hotline.knowledge.services import do_edit_entry
    from tests.knowledge.conftest import entry_data

    entry = publish(city, title="停水公告", body="旧的正文 临时停水")
    do_entry_action(city.handler, entry.pk, "revise")
    do_edit_entry(city.handler, entry.pk, entry_data(title="停水通知", body="新的正文 计划停水"))
    assert titles(search_entries(city.agent, "停水")) == ["停水公告"]
    assert search_entries(city.agent, "计划停水") == []
    do_entry_action(city.handler, entry.pk, "submit")
    do_entry_action(city.admin, entry.pk, "publish")
    assert titles(search_entries(city.agent, "计划停水")) == ["停水通知"]
    assert search_entries(city.agent, "旧的正文") == []


def test_search_hit_highlights_title_and_snippet(city: City) -> None:
    publish(city, title="停水<b>公告</b>", body="<p>鼓楼区临时停水</p><script>x()</script>")
    hit = search_entries(city.agent, "停水")[0]
    assert str(hit.title_html) == "<mark>停水</mark>&lt;b&gt;公告&lt;/b&gt;"
    assert "<mark>停水</mark>" in str(hit.snippet_html)
    assert "x()" not in str(hit.snippet_html)


def test_suggestions_match_any_word_of_typed_text(city: City) -> None:
    publish(city, title="停水怎么办", body="临时停水", keywords="")
    publish(city, title="噪声扰民投诉", body="夜间噪声", keywords="", categories=[])
    hits = suggest_entries(city.agent, "您好，我想问一下我们小区停水了，楼下还有噪声")
    assert set(titles(hits)) == {"停水怎么办", "噪声扰民投诉"}
    assert suggest_entries(city.agent, "请问一下") == []


def test_hidden_best_matches_do_not_hide_readable_ones(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index is read in a widening window until a page of readable entries is found."""
    from hotline.knowledge import search as search_module

    for n in range(12):
        publish(city, title=f"停水内部口径{n}", keywords="停水", public=False)
    publish(city, title="供水公告", body="临时停水", keywords="")
    monkeypatch.setattr(search_module, "ENTRY_FIRST_WINDOW", 2)
    assert titles(search_entries(None, "停水", limit=1)) == ["供水公告"]
    assert len(search_entries(city.agent, "停水", limit=13)) == 13
    monkeypatch.setattr(search_module, "ENTRY_CANDIDATES", 8)  # the widening stops there
    assert search_entries(None, "停水", limit=1) == []
