"""The two backends (FTS5, tsvector): newest-first pages and scores, planted straight into an
index table (the orders' one: it needs no orders)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import connection

from hotline.orders.search import ORDER_INDEX
from hotline.search.backends import PostgresTsvectorBackend, backend
from hotline.search.query import parse_query

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db(transaction=False)


def _plant_order_index(count: int = 1200) -> dict[str, set[int]]:
    """Index documents straight into the order index (no orders needed by the backend): a
    common word, a rare one, one common long ago only, and filler."""
    words = {"常见": {i for i in range(1, count + 1) if i % 3 == 0},
             "少见": {5, 300, 777, count - 100},
             "旧词": set(range(1, 151)),
             "常用": {i for i in range(1, count + 1) if i % 20 == 0},
             # Common among the newest ids only, and twice long before.
             "最近": {3, 9, *range(count - 29, count + 1)}}
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


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="the GIN step is PostgreSQL's (FTS5 reads its lists newest first)")
def test_postgres_newest_skips_the_gin_step_while_the_matches_are_dense(
    city: City, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The GIN step (every word's whole list) is not taken for a word the windows find dense
    (it would list more than GIN_CAP); it is taken, once, when the density read so far no
    longer promises many (common lately, rare before); the pages are exact either way."""
    monkeypatch.setattr(PostgresTsvectorBackend, "RECENT_IDS", 50)
    monkeypatch.setattr(PostgresTsvectorBackend, "GIN_CAP", 20)
    monkeypatch.setattr(PostgresTsvectorBackend, "WIDEN", 2)
    words = _plant_order_index()
    calls: list[int] = []
    original = PostgresTsvectorBackend._older_matches

    def counted(self: PostgresTsvectorBackend, tsquery: str, table: str, low: int) -> list[int]:
        calls.append(low)
        return original(self, tsquery, table, low)

    monkeypatch.setattr(PostgresTsvectorBackend, "_older_matches", counted)
    search = backend()
    # 40 asked: a first window of 320 ids (8 per match asked), 1/20 of them match 常用.
    for text, gin_steps in [("常用", 0), ("常见", 0), ("最近", 1), ("少见", 1), ("无此词", 1)]:
        calls.clear()
        found = search.newest_ids(ORDER_INDEX, parse_query(text), 40)
        assert found == sorted(words.get(text, set()), reverse=True)[:40], text
        assert len(calls) == gin_steps, (text, calls)


def test_counts_in_one_statement_equal_each_count(city: City) -> None:
    """The document frequencies a suggestion weighs its words by, asked together, are the
    counts asked one by one (an empty query counts nothing)."""
    from django.test.utils import CaptureQueriesContext

    words = _plant_order_index(300)
    search = backend()
    queries = [parse_query(text) for text in [*words, "常见 旧词", "无此词"]]
    queries.append(parse_query(""))
    with CaptureQueriesContext(connection) as captured:
        documents, frequencies = search.counts(ORDER_INDEX, queries)
    assert len(captured) == 1
    assert documents == search.count(ORDER_INDEX) == 300
    assert frequencies == [search.count(ORDER_INDEX, query) for query in queries]
    assert frequencies[0] == len(words["常见"]) and frequencies[-2:] == [0, 0]
