"""The screen in front of FTS5 scoring (hotline.search.screening) never drops a match, and the
fast ``scores`` / ``matches`` (stored tokens screened, then judged by the engine) give the same
ids and scores as asking the engine about the whole index."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest
from django.db import connection

from hotline.orders.search import ORDER_INDEX
from hotline.search import screening
from hotline.search.backends import SqliteFts5Backend, backend
from hotline.search.query import Group, ParsedQuery, parse_query

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db(transaction=False)

# Characters an engine folds or splits in ways a naive test would get wrong: case, Latin
# diacritics (precomposed and combining), full-width forms, ligatures, separators.
TRICKY = ["水", "停", "区", "A", "a", "É", "é", "e", "ﬁ", "fi", "Ａ", "ａ", "-", " ", "1",
          "１", "ß", "S", "İ", "i", "\u0301", "·", "_", "ø", "o", "Ω", "ω", "\ue000"]


def _plain(query: ParsedQuery, ids: set[int]) -> set[int]:
    """The engine's own answer over the whole index, cut to ``ids``."""
    sql, params = backend().matching_ids_sql(ORDER_INDEX, query)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {int(row[0]) for row in cursor.fetchall()} & ids


# Only characters the screen decides on by itself (no engine statement).
PLAIN = ["水", "停", "区", "A", "a", "b", "B", "1", "2", "-", " ", "，", "_", "\n"]


def _documents(rng: random.Random, count: int, alphabet: list[str]) -> dict[int, str]:
    return {pk: "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10)))
            for pk in range(1, count + 1)}


@pytest.mark.parametrize("alphabet", [TRICKY, PLAIN], ids=["tricky", "plain"])
def test_screen_never_drops_what_the_engine_matches(city: City, alphabet: list[str]) -> None:
    rng = random.Random(12345)
    texts = _documents(rng, 400, alphabet)
    # Stored as one field each, as given (the engine tokenizes them its own way).
    backend().replace(ORDER_INDEX, [(pk, ([t], [])) for pk, t in texts.items()])
    ids = set(texts)
    for _ in range(300):
        source = rng.choice(list(texts.values()))
        start = rng.randrange(len(source))
        word = source[start:start + rng.randint(1, 4)] if rng.random() < 0.7 else \
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3)))
        if not word.strip():
            continue
        query = ParsedQuery([Group(word, ((word,),))])
        matched = _plain(query, ids)
        if connection.vendor == "sqlite":
            certain, uncertain = SqliteFts5Backend()._screened(ORDER_INDEX, query, sorted(ids))
            assert certain <= matched <= certain | uncertain, word
        assert backend().matches(ORDER_INDEX, query, sorted(ids)) == matched, word
        assert set(backend().scores(ORDER_INDEX, query, sorted(ids))) == matched, word
        for pk in matched:
            assert screening.might_match(query, screening.fold(texts[pk])), (word, texts[pk])


@pytest.mark.parametrize("chunk", [500, 3])
def test_fast_scores_equal_the_engines_ranking(city: City, monkeypatch: pytest.MonkeyPatch,
                                               chunk: int) -> None:
    from hotline.core import segmentation

    monkeypatch.setattr(SqliteFts5Backend, "SCORE_CHUNK", chunk)
    texts = ["鼓楼区幸福小区停水三天", "WiFi信号差 wifi 不通", "Café 噪音扰民 cafe", "路灯不亮，停水",
             "拖欠工资 12345 投诉", "ＷｉＦｉ 停水", "施工噪音 夜间施工"]
    documents = []
    for pk in range(1, 121):
        title, text = texts[pk % len(texts)], texts[(pk * 3) % len(texts)]
        documents.append((pk, (segmentation.index_tokens(title), segmentation.index_tokens(text))))
    backend().replace(ORDER_INDEX, documents)
    ids = list(range(120, 0, -1))
    for text in ["停水", "wifi", "WIFI", "cafe", "café", "鼓楼区 停水", "12345", "施工 噪音",
                 "不存在的词", "停水 wifi"]:
        query = parse_query(text)
        ranked = dict(backend().search(ORDER_INDEX, query, 1000))
        fast = backend().scores(ORDER_INDEX, query, ids[::2])
        assert set(fast) == {pk for pk in ranked if pk % 2 == 0}, text
        for pk, score in fast.items():
            assert score == pytest.approx(ranked[pk], rel=1e-9), (text, pk)
        assert backend().matches(ORDER_INDEX, query, ids) == set(ranked), text
        newest = [pk for pk, _s in backend().search(ORDER_INDEX, query, 7, newest_first=True,
                                                    before=100)]
        assert backend().newest_ids(ORDER_INDEX, query, 7, before=100) == newest, text
