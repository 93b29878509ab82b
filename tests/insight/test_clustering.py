"""The clustering algorithm on its own (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from hotline.insight import clustering as C
from hotline.triage.text import segment

WATER = [
    "丽发新城小区停水两天了，什么时候恢复供水",
    "丽发新城停水，家里没有水做饭",
    "投诉丽发新城小区连续停水无人处理",
    "丽发新城小区又停水了，物业不通知",
    "丽发新城小区停水三天，老人孩子用水困难",
]
NOISE = [
    "暮云街道搅拌站夜间施工噪音扰民",
    "暮云街道的搅拌站噪音太大晚上睡不着",
    "投诉暮云街道搅拌站噪音污染严重",
    "暮云街道搅拌站半夜噪音扰民请处理",
]
OTHERS = [
    "咨询社保卡补办需要什么材料",
    "建议地铁三号线增加末班车",
    "学校门口早上交通拥堵",
    "公园路灯不亮存在安全隐患",
    "公积金贷款额度怎么计算",
]


def docs_of(texts: list[str]) -> list[np.ndarray]:
    return [C.decode(C.encode(segment(t), segment(t))) for t in texts]


def test_encode_decode_counts_title_twice() -> None:
    blob = C.encode(["停水", "小区"], ["物业"])
    ids = C.decode(blob)
    title = C.hash_terms(C.features(["停水", "小区"]))
    assert ids.tolist() == [*title.tolist(), *title.tolist(), *C.hash_terms(["物业"]).tolist()]
    # The text's words count once and without word pairs.
    assert len(C.decode(C.encode(["停水"], ["物业", "电话"]))) == 2 + 2
    assert C.decode(b"").tolist() == []


def test_features_are_words_and_word_pairs() -> None:
    assert C.features(["丽发", "新城", "停水"]) == ["丽发", "新城", "停水", "丽发 新城", "新城 停水"]


def test_vectorise_rows_are_unit_length_and_common_terms_dropped() -> None:
    matrix, buckets = C.vectorise(docs_of(WATER + NOISE + OTHERS))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-5)
    assert matrix.shape[1] == len(buckets) > 0
    # A term in a single text links nothing and is dropped (min_df=2).
    solo = int(C.hash_terms(["社保卡"])[0]) & C._BUCKET_MASK
    assert solo not in set(buckets.tolist())


def test_vectorise_empty_input() -> None:
    matrix, buckets = C.vectorise([np.zeros(0, dtype=np.uint32)] * 3)
    assert matrix.shape == (3, 0) and len(buckets) == 0


def test_two_matters_become_two_clusters_and_singles_stay_out() -> None:
    texts = WATER + OTHERS + NOISE
    words = {i: segment(t) for i, t in enumerate(texts)}
    clusters = C.cluster(docs_of(texts), words_of=lambda ix: {i: words[i] for i in ix})
    assert [sorted(c.members) for c in clusters] == [
        list(range(0, 5)), list(range(10, 14))]
    water, noise = clusters
    assert "丽发新城" in water.label
    assert "搅拌站" in noise.label or "暮云街道" in noise.label
    assert 0 < noise.cohesion <= 1 and water.size == 5
    assert water.representative in water.members


def test_threshold_one_finds_only_identical_texts() -> None:
    texts = [WATER[0], WATER[0], WATER[1], NOISE[0]]
    clusters = C.cluster(docs_of(texts), threshold=0.999)
    assert [sorted(c.members) for c in clusters] == [[0, 1]]


def test_baseline_texts_join_the_matching_cluster_only() -> None:
    baseline = docs_of(["丽发新城小区停水了", "咨询护照办理流程", "暮云街道搅拌站噪音扰民"])
    clusters = C.cluster(docs_of(WATER + NOISE + OTHERS), baseline=baseline)
    by_first = {min(c.members): c for c in clusters}
    assert by_first[0].baseline == [0]
    assert by_first[5].baseline == [2]


def test_leader_does_not_chain_through_one_vague_text() -> None:
    # 0-1-2 form a chain where 0 and 2 are not alike; single link would join all three,
    # the leader (1, most neighbours) takes both: a star around one text, never a long chain.
    from scipy.sparse import csr_matrix

    graph = csr_matrix(np.array([
        [0, .5, 0, 0, 0],
        [.5, 0, .5, 0, 0],
        [0, .5, 0, .5, 0],
        [0, 0, .5, 0, .5],
        [0, 0, 0, .5, 0],
    ], dtype=np.float32))
    groups = C.leader_groups(graph)
    assert sorted(map(sorted, groups)) == [[0, 1, 2], [3, 4]]


def test_candidate_budget_keeps_the_exact_graph_on_small_input() -> None:
    matrix, _ = C.vectorise(docs_of(WATER + NOISE + OTHERS))
    exact = (matrix @ matrix.T).toarray()
    np.fill_diagonal(exact, 0)
    exact[exact < 0.35] = 0
    graph = C.neighbours(matrix, 0.35).toarray()
    assert np.allclose(graph, exact, atol=1e-5)


def test_a_planted_matter_is_found_among_thousands_of_texts() -> None:
    rng = np.random.default_rng(1)
    pool = [chr(0x4E00 + k) for k in range(0, 6000, 3)]  # 2,000 CJK characters
    vocabulary = ["".join(rng.choice(pool, 2)) for _ in range(3000)]

    def filler(n: int) -> list[str]:
        return list(rng.choice(vocabulary, n))

    texts = [filler(8) for _ in range(6000)]
    planted = set(range(100, 6000, 200))  # 30 texts about one estate's water cut
    for i in planted:
        texts[i] = ["丽发新城", "小区", "停水", *filler(5)]
    docs = [C.decode(C.encode(words[:4], words[4:])) for words in texts]
    clusters = C.cluster(docs)
    best = max(clusters, key=lambda c: len(planted & set(c.members)))
    assert len(planted & set(best.members)) >= 28
    assert len(set(best.members) - planted) <= 2


@pytest.mark.parametrize("terms,label", [(["丽发新城", "停水"], "丽发新城 · 停水"), ([], "")])
def test_label(terms: list[str], label: str) -> None:
    assert C.label_of(terms) == label


def test_identical_texts_form_a_cluster_and_many_copies_stay_one_matter() -> None:
    texts = [WATER[0]] * 600 + [NOISE[0], NOISE[1]] + [OTHERS[0]] * 2 + [OTHERS[1]]
    clusters = C.cluster(docs_of(texts))
    sizes = sorted(c.size for c in clusters)
    assert sizes == [2, 2, 600]


def test_neighbours_are_capped_per_text() -> None:
    matrix, _ = C.vectorise(docs_of(WATER * 3))
    graph = C.neighbours(matrix, 0.35, max_neighbours=2)
    assert np.diff(graph.indptr).max() == 2
