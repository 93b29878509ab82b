"""Search on Chinese text: segmentation, synonyms, ranking, expiry, highlighting, order scope."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest

from hotline.knowledge import segmentation
from hotline.knowledge.backends import ENTRY_INDEX, backend
from hotline.knowledge.highlight import highlight, snippet
from hotline.knowledge.models import Synonym
from hotline.knowledge.query import parse_query
from hotline.knowledge.search import search_entries, search_orders, suggest_entries
from hotline.knowledge.services import do_entry_action
from tests.knowledge.conftest import publish

if TYPE_CHECKING:
    from hotline.directory.models import User
    from hotline.knowledge.search import EntryHit
    from hotline.orders.models import Order
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


def test_highlight_escapes_html_before_marking() -> None:
    html = str(highlight('<script>alert("停水")</script> & 停水', ["停水"]))
    assert "<script>" not in html
    assert html == ('&lt;script&gt;alert(&quot;<mark>停水</mark>&quot;)&lt;/script&gt; &amp; '
                    "<mark>停水</mark>")
    # A term that looks like markup is escaped too.
    assert str(highlight("a<b>c", ["<b>"])) == "a<mark>&lt;b&gt;</mark>c"
    # No term may match inside an entity the escaping produced.
    assert str(highlight("x & y", ["amp"])) == "x &amp; y"


def test_snippet_is_a_window_around_the_first_match() -> None:
    text = "开头" * 100 + "临时停水" + "结尾" * 100
    html = str(snippet(text, ["停水"], width=40))
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>停水</mark>" in html


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


def test_query_parsing_groups_alternatives(city: City) -> None:
    query = parse_query("鼓楼区停水")
    assert [g.word for g in query.groups] == ["鼓楼区", "停水"]
    assert ("鼓楼区",) in query.groups[0].alternatives
    assert "AND" in query.fts5() and "&" in query.tsquery()
    assert parse_query("停水 噪声", any_word=True).fts5().count(" OR ") >= 1


# --- orders ------------------------------------------------------------------------------------

def new_order(city: City, **overrides: Any) -> Order:
    from hotline.orders.services import NewOrder, do_create_order

    data: dict[str, Any] = dict(type="complaint", channel="phone", title="停水三天",
                                text="鼓楼区某小区临时停水三天",
                                citizen_phone="13812341234", citizen_name="张三", district="gulou",
                                category="100101")
    data.update(overrides)
    order, _ = do_create_order(city.agent, NewOrder(**data))
    return order


def test_order_search_respects_scope(city: City) -> None:
    from hotline.orders.services import do_action

    water = new_order(city)
    noise = new_order(city, title="工地噪声", text="夜间施工噪声，小区停水后还在施工", category="100201",
                      district="taijiang")
    do_action(city.agent, water.number, "dispatch")
    do_action(city.agent, noise.number, "dispatch")
    numbers = lambda user, q: [h.order.number for h in search_orders(user, q)]  # noqa: E731
    # Indexed lazily: nothing to call, the search catches up.
    assert set(numbers(city.agent, "停水")) == {water.number, noise.number}
    assert numbers(city.agent, "停水") == [noise.number, water.number]  # newest first
    assert numbers(city.handler, "停水") == [water.number]
    assert numbers(city.env_handler, "停水") == [noise.number]
    assert numbers(city.housing_handler, "停水") == [water.number]  # co-handler
    assert numbers(city.handler, "噪声") == []
    assert search_orders(None, "停水") == []


def test_order_index_catches_up_missed_ids(city: City) -> None:
    from hotline.knowledge import indexing
    from hotline.knowledge.backends import ORDER_INDEX

    first = new_order(city)
    second = new_order(city, title="停水又来了")
    # Simulate an order that committed after a higher id had been indexed.
    indexing.index_orders(type(second).objects.filter(pk=second.pk))
    assert indexing.index_new_orders() == 1
    assert backend().ids_between(ORDER_INDEX, 0, second.pk) == {first.pk, second.pk}
    assert indexing.index_new_orders() == 0


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


# --- newest-first order search: the same page by every path ------------------------------------

def _plant_order_index(count: int = 1200) -> dict[str, set[int]]:
    """Index documents straight into the order index (no orders needed by the backend): a
    common word, a rare one, one common long ago only, and filler."""
    from hotline.knowledge.backends import ORDER_INDEX

    words = {"常见": {i for i in range(1, count + 1) if i % 3 == 0},
             "少见": {5, 300, 777, count - 100},
             "旧词": set(range(1, 151))}
    documents = []
    for pk in range(1, count + 1):
        tokens = ["文档"] + [w for w, ids in words.items() if pk in ids]
        documents.append((pk, (tokens[:1], tokens[1:])))
    backend().replace(ORDER_INDEX, documents)
    return words


@pytest.mark.parametrize("thresholds", [None, (50, 20, 2), (7, 3, 4)])
def test_newest_first_order_search_is_exact_for_rare_and_common_words(
    city: City, monkeypatch: pytest.MonkeyPatch, thresholds: tuple[int, int, int] | None,
) -> None:
    from hotline.knowledge.backends import ORDER_INDEX, PostgresTsvectorBackend

    if thresholds:  # small windows and caps, so every step of the PostgreSQL plan is taken
        recent, cap, widen = thresholds
        monkeypatch.setattr(PostgresTsvectorBackend, "RECENT_IDS", recent)
        monkeypatch.setattr(PostgresTsvectorBackend, "GIN_CAP", cap)
        monkeypatch.setattr(PostgresTsvectorBackend, "WIDEN", widen)
    words = _plant_order_index()
    words["常见 旧词"] = words["常见"] & words["旧词"]
    words["无此词"] = set()
    search = backend()
    for text, ids in words.items():
        newest = sorted(ids, reverse=True)
        query = parse_query(text)
        for limit, offset, before in [(20, 0, None), (1, 0, None), (500, 0, None),
                                      (20, 40, None), (20, 0, 1000), (20, 0, 160), (3, 2, 10)]:
            expected = [pk for pk in newest if before is None or pk < before][offset:offset + limit]
            found = search.search(ORDER_INDEX, query, limit, offset=offset, newest_first=True,
                                  before=before)
            assert [pk for pk, _score in found] == expected, (text, limit, offset, before)
            assert all(score > 0 for _pk, score in found)
        assert set(search.scores(ORDER_INDEX, query, list(range(1, 60)))) == {
            pk for pk in ids if pk < 60}


def test_order_search_scope_paths_give_the_same_page(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    """Departments' pages, whichever way they are found (the matches filtered by scope, the
    visible orders filtered by the index, or the final join) equal the brute-force answer."""
    from hotline.knowledge import search as search_module
    from hotline.knowledge.backends import ORDER_INDEX
    from hotline.orders import scope
    from hotline.orders.services import do_action

    orders = []
    for n in range(18):
        if n % 3 == 2:
            data = dict(title=f"工地噪声{n}", text="小区旁夜间施工噪声", category="100201",
                        district="taijiang" if n % 2 else "gulou")
        else:
            data = dict(title=f"停水{n}", text="小区临时停水" + ("，施工挖断水管" if n % 4 == 0 else ""))
        orders.append(new_order(city, **data))
        if n % 5 != 4:  # a few stay undispatched: only the centre sees them
            do_action(city.agent, orders[-1].number, "dispatch")
    users = [city.handler, city.env_handler, city.housing_handler, city.sub_agent,
             city.street_handler, city.agent]

    def expected(user: User, text: str, limit: int) -> list[int]:
        matching = {pk for pk, _s in backend().search(ORDER_INDEX, parse_query(text), 1000)}
        visible = set(scope.visible_orders(user).values_list("pk", flat=True))
        return sorted(matching & visible, reverse=True)[:limit]

    for chunk, most, steps in [(500, 4000, 8), (2, 4, 3), (1, 1, 2), (1, 2, 30)]:
        monkeypatch.setattr(search_module, "ORDER_CHUNK", chunk)
        monkeypatch.setattr(search_module, "ORDER_CHUNK_MAX", most)
        monkeypatch.setattr(search_module, "ORDER_MAX_CHUNKS", steps)
        for user in users:
            for text in ["小区", "停水", "噪声", "施工", "施工 停水", "电梯"]:
                for limit in (1, 3, 20):
                    got = [h.order.pk for h in search_orders(user, text, limit=limit)]
                    assert got == expected(user, text, limit), (chunk, user.username, text, limit)
