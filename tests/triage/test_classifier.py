import random
from pathlib import Path

import pytest

from hotline.triage.classifier import MODEL_FORMAT, CategoryClassifier

TOPICS = {
    "water": ["停水", "自来水", "水压", "水管", "爆裂", "供水", "水费", "漏水"],
    "noise": ["噪音", "扰民", "施工", "夜间", "广场舞", "喇叭", "装修", "吵闹"],
    "school": ["学校", "学生", "老师", "入学", "学位", "幼儿园", "补课", "学费"],
}
FILLER = ["小区", "居民", "反映", "问题", "希望", "尽快", "解决", "附近"]


def toy_corpus(n_per_topic: int, seed: int = 1) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for label, words in TOPICS.items():
        for _ in range(n_per_topic):
            picked = rng.sample(words, 3) + rng.sample(FILLER, 3)
            rng.shuffle(picked)
            texts.append("".join(picked))
            labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def toy_model() -> CategoryClassifier:
    texts, labels = toy_corpus(30)
    return CategoryClassifier().fit(texts, labels)


def test_separable_toy_texts_are_classified(toy_model: CategoryClassifier) -> None:
    texts, labels = toy_corpus(10, seed=7)
    predicted = toy_model.predict(texts)
    correct = sum(p == t for p, t in zip(predicted, labels, strict=True))
    assert correct / len(labels) >= 0.95


def test_predict_top_returns_ranked_scores(toy_model: CategoryClassifier) -> None:
    top = toy_model.predict_top("我家小区已经停水三天了，水管爆裂", k=3)
    assert top[0][0] == "water"
    assert len(top) == 3
    scores = [score for _, score in top]
    assert scores == sorted(scores, reverse=True)
    assert 0 < sum(scores) <= 1.0001
    assert toy_model.predict_top("夜间施工噪音扰民", k=1)[0][0] == "noise"


def test_raw_and_segmented_input_give_the_same_top_label(toy_model: CategoryClassifier) -> None:
    raw = "附近学校的老师收取补课费"
    segmented = ["附近", "学校", "老师", "收取", "补课费"]
    assert toy_model.predict_top(raw)[0][0] == toy_model.predict_top(segmented)[0][0] == "school"


def test_trained_on_segmented_words_predicts_raw_text() -> None:
    texts, labels = toy_corpus(30)
    import jieba

    segmented = [[w for w in jieba.lcut(text)] for text in texts]
    model = CategoryClassifier().fit(segmented, labels)
    assert model.predict_top("楼上装修太吵闹了，影响休息")[0][0] == "noise"


def test_save_and_load_round_trip(toy_model: CategoryClassifier, tmp_path: Path) -> None:
    toy_model.metrics = {"macro_f1": 0.5}
    path = tmp_path / "models" / "category.pkl"
    toy_model.save(path)
    loaded = CategoryClassifier.load(path)
    assert loaded.version == MODEL_FORMAT
    assert loaded.metrics == {"macro_f1": 0.5}
    text = "自来水水压太低"
    assert loaded.predict_top(text) == toy_model.predict_top(text)


def test_load_refuses_a_foreign_pickle(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match="not a"):
        CategoryClassifier.load(path)


def test_untrained_and_degenerate_inputs_fail_clearly() -> None:
    with pytest.raises(RuntimeError):
        CategoryClassifier().predict_top("停水")
    with pytest.raises(ValueError):
        CategoryClassifier().fit(["停水", "没水"], ["water", "water"])
    with pytest.raises(ValueError):
        CategoryClassifier().fit(["停水"], ["water", "noise"])


def test_fast_scoring_matches_sklearn(toy_model: CategoryClassifier) -> None:
    import numpy as np

    from hotline.triage.classifier import words_of

    texts, _ = toy_corpus(5, seed=3)
    words = [words_of(t) for t in [*texts, "", "完全无关的句子"]]
    fast = toy_model.decision_words(words)
    reference = toy_model.decision_words_sklearn(words)
    assert np.allclose(fast, reference, atol=1e-9)


def test_fast_scoring_matches_sklearn_with_weighted_views_and_blend() -> None:
    import numpy as np

    from hotline.triage.classifier import words_of

    texts, labels = toy_corpus(30)
    model = CategoryClassifier(char_weight=1.3, blend=0.5).fit(texts, labels)
    plain = CategoryClassifier().fit(texts, labels)
    probe, _ = toy_corpus(5, seed=3)
    words = [words_of(t) for t in [*probe, "", "完全无关的句子"]]
    fast = model.decision_words(words)
    assert np.allclose(fast, model.decision_words_sklearn(words), atol=1e-9)
    # The settings are really used: the margins differ from the default model's.
    assert not np.allclose(fast, plain.decision_words(words), atol=1e-3)
    top = model.predict_top("我家小区已经停水三天了，水管爆裂", k=3)
    assert top[0][0] == "water"
    assert all(0 <= score <= 1 for _, score in top)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)


def test_a_model_pickled_before_the_view_settings_existed_still_predicts(toy_model: CategoryClassifier,
                                                                         tmp_path: Path) -> None:
    import copy
    import pickle

    old = copy.deepcopy(toy_model)
    for name in ("char_weight", "blend"):
        old.__dict__.pop(name, None)
    path = tmp_path / "old.pkl"
    path.write_bytes(pickle.dumps({"format": MODEL_FORMAT, "metrics": {}, "model": old}))
    loaded = CategoryClassifier.load(path)
    assert (loaded.char_weight, loaded.blend) == (1.0, 0.0)
    assert loaded.predict_top("夜间施工噪音扰民") == toy_model.predict_top("夜间施工噪音扰民")
