"""Order search: the caller's scope, newest first, the index catching up with new orders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from hotline.core import segmentation
from hotline.orders import search as order_search
from hotline.orders.search import ORDER_INDEX, search_orders
from hotline.search.backends import backend
from hotline.search.query import parse_query

if TYPE_CHECKING:
    from hotline.directory.models import User
    from hotline.orders.models import Order
    from tests.conftest import City

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture(autouse=True)
def _dictionary(city: City) -> None:
    # The fixture city's names become dictionary words, as in production.
    segmentation.reload_user_words()


def new_order(city: City, **overrides: Any) -> Order:
    from hotline.orders.services import NewOrder, do_create_order

    data: dict[str, Any] = dict(
        type="complaint", channel="phone", title="停水三天", text="鼓楼区某小区临时停水三天",
        citizen_phone="13812341234", citizen_name="张三", district="gulou", category="100101")
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
    first = new_order(city)
    second = new_order(city, title="停水又来了")
    # Simulate an order that committed after a higher id had been indexed.
    order_search.index_orders(type(second).objects.filter(pk=second.pk))
    assert order_search.index_new_orders() == 1
    assert backend().ids_between(ORDER_INDEX, 0, second.pk) == {first.pk, second.pk}
    assert order_search.index_new_orders() == 0


def test_order_search_scope_paths_give_the_same_page(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    """Departments' pages, whichever way they are found (the matches filtered by scope, the
    visible orders filtered by the index, or the final join) equal the brute-force answer."""
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
        monkeypatch.setattr(order_search, "ORDER_CHUNK", chunk)
        monkeypatch.setattr(order_search, "ORDER_CHUNK_MAX", most)
        monkeypatch.setattr(order_search, "ORDER_MAX_CHUNKS", steps)
        for user in users:
            for text in ["小区", "停水", "噪声", "施工", "施工 停水", "电梯"]:
                for limit in (1, 3, 20):
                    got = [h.order.pk for h in search_orders(user, text, limit=limit)]
                    assert got == expected(user, text, limit), (chunk, user.username, text, limit)


def _weighed_lookups(lookup: float) -> Any:
    def matches_cost(self: object, count: int) -> float:
        return count * lookup
    return matches_cost


def test_fast_scope_path_equals_the_plain_path_with_redacted_words(
        city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every scope (centre, sub-centre, department, co-handler, street office), whichever path
    finds its page: the same orders, with the same scores, as the engine's plain answer over
    the whole index cut to the scope; a 举报 found only through its reporter's name (redacted
    for departments) is found by the centre alone."""
    from hotline.orders import scope
    from hotline.orders.disclosure import Disclosure
    from hotline.orders.models import Assignment
    from hotline.orders.services import do_action
    from hotline.search.backends import SqliteFts5Backend

    orders = []
    for n in range(24):
        if n % 6 == 5:  # a 举报 naming its reporter
            data = dict(type="report", title=f"举报停水{n}", citizen_name="欧阳娜娜",
                        text="欧阳娜娜举报：小区停水，物业不管", citizen_phone="13900001111")
        elif n % 3 == 2:
            data = dict(title=f"工地噪声{n}", text="小区旁夜间施工噪声", category="100201",
                        district="taijiang" if n % 2 else "gulou")
        else:
            data = dict(title=f"停水{n}", text="小区临时停水" + ("，施工挖断水管" if n % 4 == 0 else ""))
        orders.append(new_order(city, **data))
        if n % 5 != 4:
            do_action(city.agent, orders[-1].number, "dispatch")
        if n % 4 == 1:  # the street office co-handles a few
            Assignment.objects.create(order=orders[-1], unit=city.street, role="co",
                                      assigned_at=orders[-1].created_at)
    users = [city.agent, city.sub_agent, city.handler, city.housing_handler, city.env_handler,
             city.street_handler]

    def plain(user: User, text: str, limit: int) -> list[tuple[int, float]]:
        query = parse_query(text)
        ranked = dict(backend().search(ORDER_INDEX, query, 1000))
        visible = scope.visible_orders(user).filter(pk__in=list(ranked)).order_by("-pk")
        seen = Disclosure(user)
        kept = [o for o in visible if not seen.hidden(o) or order_search._matches_words(
            query, f"{seen.order_title(o)}\n{seen.order_text(o)}")]
        return [(o.pk, ranked[o.pk]) for o in kept][:limit]

    # Which way leads, as the backend weighs them, and which way was taken.
    search_class = type(backend())
    weighed = search_class.matches_cost
    leads: dict[float | None, set[bool]] = {}
    decide = order_search._visible_reach_further

    def recorded(*args: Any) -> bool:
        further = decide(*args)
        leads.setdefault(lookup, set()).add(further)
        return further

    monkeypatch.setattr(order_search, "_visible_reach_further", recorded)
    # NARROW_SCOPE 1: no unit is narrow, so every scope takes the database's way. A lookup
    # weighed as nothing or as very much: the visible orders, or the matches, lead.
    for chunk, most, steps, score_chunk, narrow, lookup in [
            (50, 4000, 10, 500, 5000, None), (2, 4, 3, 2, 5000, None), (1, 2, 30, 1, 5000, None),
            (2, 4, 3, 2, 1, None), (1, 2, 30, 1, 1, None), (1, 2, 30, 1, 1, 1e-9),
            (1, 2, 30, 1, 1, 1e9), (2, 4, 3, 2, 1, 1e-9), (2, 4, 3, 2, 1, 1e9)]:
        monkeypatch.setattr(search_class, "matches_cost", weighed if lookup is None else
                            _weighed_lookups(lookup))
        monkeypatch.setattr(scope, "NARROW_SCOPE", narrow)
        monkeypatch.setattr(order_search, "ORDER_CHUNK", chunk)
        monkeypatch.setattr(order_search, "ORDER_CHUNK_MAX", most)
        monkeypatch.setattr(order_search, "ORDER_MAX_CHUNKS", steps)
        monkeypatch.setattr(SqliteFts5Backend, "SCORE_CHUNK", score_chunk)
        for user in users:
            for text in ["停水", "小区 停水", "噪声", "施工", "欧阳娜娜", "欧阳娜娜 停水", "电梯"]:
                for limit in (1, 3, 20):
                    hits = search_orders(user, text, limit=limit)
                    expected = plain(user, text, limit)
                    assert [h.order.pk for h in hits] == [pk for pk, _s in expected], (
                        chunk, user.username, text, limit)
                    for hit, (_pk, score) in zip(hits, expected, strict=True):
                        assert hit.score == pytest.approx(score, rel=1e-9)
    assert leads[1e-9] == {True} and leads[1e9] == {False}, leads
    monkeypatch.setattr(scope, "NARROW_SCOPE", 5000)
    for user in users:  # the narrow scopes' ids in memory are the scope's orders
        few = scope.few_visible_order_ids(user)
        if user in (city.agent, city.sub_agent):
            assert few is None
        else:
            assert few == list(scope.visible_orders(user).order_by("-pk")
                               .values_list("pk", flat=True)), user.username
    reports = {o.pk for o in orders if o.type == "report"}
    assert {h.order.pk for h in search_orders(city.agent, "欧阳娜娜")} == reports
    for user in users[1:]:
        assert search_orders(user, "欧阳娜娜") == [], user.username
