"""Suggestions that fit (issue 15 item 3): no match on a fragment, the walk-through's questions
against the demo knowledge base, the threshold. Runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.demo.knowledge import load_demo_knowledge
from hotline.knowledge import relevance
from hotline.knowledge.models import Synonym
from hotline.knowledge.search import search_entries, suggest_entries, voice_entries
from hotline.search.query import Group, is_fragment
from tests.knowledge.conftest import publish

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

    from hotline.knowledge.search import EntryHit
    from tests.conftest import City

pytestmark = pytest.mark.django_db


def titles(hits: list[EntryHit]) -> list[str]:
    return [h.version.title for h in hits]


@pytest.fixture
def demo_kb(city: City) -> None:
    load_demo_knowledge()


@pytest.mark.parametrize("word", ["水", "3", "12", "b9", "a", "栋", "的", "1234"])
def test_fragments_are_fragments(word: str) -> None:
    assert is_fragment(word)


@pytest.mark.parametrize("word", ["停水", "12345", "96333", "ktv", "公积金"])
def test_words_are_not_fragments(word: str) -> None:
    assert not is_fragment(word)


@pytest.mark.parametrize("text", ["水", "电", "3", "2", "12", "3栋", "A7", "b9 3", "的 水 3", "？"])
def test_a_single_character_or_a_bare_number_matches_nothing(demo_kb: None, city: City,
                                                            text: str) -> None:
    assert suggest_entries(city.agent, text) == []
    assert search_entries(city.agent, text) == []
    assert search_entries(None, text) == []
    assert voice_entries(text) == []


def test_a_fragment_still_narrows_a_search_with_other_words(city: City) -> None:
    publish(city, title="供水公告", body="因管网抢修，鼓楼区部分区域临时停水", keywords="")
    assert titles(search_entries(city.agent, "停水")) == ["供水公告"]
    # Every word must match: 电 is not in the entry, so the search finds nothing.
    assert search_entries(city.agent, "停水 电") == []


def test_no_water_in_a_building_finds_the_water_outage_answers(demo_kb: None, city: City) -> None:
    hits = titles(suggest_entries(city.agent, "和平新村3栋到现在还是没有水"))
    assert hits and hits[0] in {"家里突然停水怎么办", "计划停水和抢修停水的通知规定"}
    assert "家里突然停水怎么办" in hits
    assert all("水" in title for title in hits), hits
    assert "婚姻登记办事指南" not in hits
    assert "校外培训机构退费纠纷" not in hits


def test_social_insurance_lapse_finds_its_entry(demo_kb: None, city: City) -> None:
    assert titles(suggest_entries(city.agent, "社保断缴怎么补缴"))[0] == "社会保险断缴后如何补缴、续缴"
    assert titles(search_entries(city.agent, "社保断缴怎么补缴"))[0] == "社会保险断缴后如何补缴、续缴"
    assert titles(search_entries(None, "社保断缴怎么补缴"))[0] == "社会保险断缴后如何补缴、续缴"


def test_a_question_the_knowledge_base_cannot_answer_gets_no_suggestion(demo_kb: None,
                                                                       city: City) -> None:
    assert suggest_entries(city.agent, "投诉A4区某某公司的问题，请求尽快解决") == []
    assert suggest_entries(city.agent, "请问一下") == []


def test_the_threshold_decides_what_is_suggested(city: City, settings: Settings) -> None:
    publish(city, title="停水通知", body="片区临时停水", keywords="")
    publish(city, title="居住证办理", body="停水期间也可以办理居住证", keywords="", categories=[])
    # The second entry only mentions the word in its body: not an answer by default.
    assert titles(suggest_entries(city.agent, "小区停水")) == ["停水通知"]
    settings.HOTLINE_KB_MIN_SCORE = 0.0
    assert titles(suggest_entries(city.agent, "小区停水")) == ["停水通知", "居住证办理"]
    # However high the threshold, an entry with every word of the question in its title is
    # still an answer (it covers the question).
    settings.HOTLINE_KB_MIN_SCORE = 1000.0
    assert titles(suggest_entries(city.agent, "小区停水")) == ["停水通知"]


def test_best_keeps_what_passes_the_threshold_and_the_relative_cut() -> None:
    question = relevance.Weights(((Group("停水", (("停水",),)), 10.0),))
    scored = [(9.0, 1), (1.0, 2), (5.0, 3), (2.5, 4)]
    # Threshold 2: 1.0 goes; 2.5 is under 30% of 9 and goes too.
    assert relevance.best(scored, question, 5, threshold=2.0) == [(9.0, 1), (5.0, 3)]
    assert relevance.best(scored, question, 1, threshold=2.0) == [(9.0, 1)]
    # Above the threshold, what covers half the question (10) still passes.
    assert relevance.best(scored, question, 5, threshold=100.0) == [(9.0, 1), (5.0, 3)]
    empty = relevance.Weights(())
    assert relevance.best(scored, empty, 5, threshold=100.0) == []


def test_title_and_keywords_weigh_more_than_the_body(city: City) -> None:
    publish(city, title="办事须知", body="关于居住证的说明", keywords="")
    publish(city, title="居住证办理", body="到派出所办理", keywords="")
    assert titles(suggest_entries(city.agent, "我想办个居住证"))[0] == "居住证办理"


def test_a_synonym_phrase_is_kept_whole_and_expanded(city: City) -> None:
    from hotline.core import segmentation

    publish(city, title="停水了怎么办", body="因管网抢修临时停水", keywords="停水")
    assert suggest_entries(city.agent, "家里没有水了") == []
    Synonym.objects.create(term="停水", equivalents="没有水")
    segmentation.reload_user_words()
    assert titles(suggest_entries(city.agent, "家里没有水了")) == ["停水了怎么办"]


def test_citizens_get_public_suggestions_only(demo_kb: None, city: City) -> None:
    from django.contrib.auth.models import AnonymousUser

    internal = "坐席内部口径：涉及信访事项的答复"
    assert internal in titles(suggest_entries(city.agent, "信访事项怎么答复"))
    assert internal not in titles(suggest_entries(AnonymousUser(), "信访事项怎么答复"))


def test_equal_scores_go_by_words_found_then_id_never_by_the_index() -> None:
    question = relevance.Weights(((Group("停水", (("停水",),)), 3.0),))
    scored = [(3.0, 7), (3.0, 5), (3.0, 9)]
    assert relevance.best(scored, question, 5, threshold=1.0) == [(3.0, 5), (3.0, 7), (3.0, 9)]
    more = {9: 3, 7: 2, 5: 1}
    assert relevance.best(scored, question, 5, threshold=1.0, found=more) == [
        (3.0, 9), (3.0, 7), (3.0, 5)]
