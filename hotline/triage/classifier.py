"""Suggest a category for a citizen's message.

A linear SVM over two TF-IDF views of the normalised text:
- word unigrams and bigrams (what the words are),
- character 1-3-grams of the words joined without spaces, so that a different word
  segmentation of the same sentence (historical exports vs. jieba at run time) still
  produces mostly the same features.

Measured choices (5-fold CV on a real city's 7,845 messages, see bench/classify.py):
C=1 beat C=0.1/0.3 and was as good as C=2..8; balanced class weights, character 2-4-grams,
and word unigrams alone were all slightly worse.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterable, Sequence
from itertools import pairwise, repeat
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from hotline.triage.text import segment, split_tokens

MODEL_FORMAT = "hotline-category-classifier/1"

# A text is either raw (str) or already segmented (a sequence of words).
TextInput = str | Sequence[str]


def words_of(item: TextInput) -> list[str]:
    """Normalised words of a raw text or of a pre-segmented word list."""
    if isinstance(item, str):
        return segment(item)
    return split_tokens(" ".join(item))


def _word_ngrams(words: list[str]) -> list[str]:
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def _identity(text: str) -> str:
    return text


class CategoryClassifier:
    """fit / predict_top / save / load; picklable, no Django dependency."""

    def __init__(self, *, C: float = 1.0, softmax_scale: float = 3.0) -> None:
        self.C = C
        # SVM margins are not probabilities; a softmax over scaled margins gives scores that
        # rank like the margins and sum to one, which is what a suggestion list needs.
        self.softmax_scale = softmax_scale
        self.metrics: dict[str, Any] = {}
        self.version = MODEL_FORMAT
        self._words = TfidfVectorizer(analyzer=_word_ngrams, sublinear_tf=True, min_df=2, dtype=np.float32)
        self._chars = TfidfVectorizer(
            analyzer="char",
            ngram_range=(1, 3),
            sublinear_tf=True,
            min_df=2,
            preprocessor=_identity,
            lowercase=False,
            dtype=np.float32,
        )
        self._svm = LinearSVC(C=C)
        self.labels: list[str] = []

    # -- training -----------------------------------------------------------------------
    def fit(self, texts: Iterable[TextInput], labels: Iterable[str]) -> CategoryClassifier:
        words = [words_of(item) for item in texts]
        return self.fit_words(words, list(labels))

    def fit_words(self, words: list[list[str]], labels: list[str]) -> CategoryClassifier:
        """Fit on already normalised words (lets evaluation segment only once)."""
        if len(words) != len(labels):
            raise ValueError("texts and labels differ in length")
        if len(set(labels)) < 2:
            raise ValueError("need at least two categories to train")
        # min_df=2 would leave nothing on tiny training sets; there every term counts.
        min_df = 2 if len(words) >= 200 else 1
        self._words.set_params(min_df=min_df)
        self._chars.set_params(min_df=min_df)
        features = hstack(
            [self._words.fit_transform(words), self._chars.fit_transform(_joined(words))]
        ).tocsr()
        self._svm.fit(features, labels)
        self.labels = [str(label) for label in self._svm.classes_]
        self._compile()
        return self

    # -- prediction ---------------------------------------------------------------------
    def _compile(self) -> None:
        """Precompute what one prediction needs, so a single message costs no sparse-matrix
        set-up: sklearn's transform + decision_function spend ~1 ms on overheads per call."""
        coef = np.asarray(self._svm.coef_, dtype=np.float64)
        intercept = np.asarray(self._svm.intercept_, dtype=np.float64)
        if coef.shape[0] == 1:  # two classes: one column of margins for the second class
            coef = np.vstack([-coef, coef])
            intercept = np.array([-intercept[0], intercept[0]])
        self._coef_by_feature = np.ascontiguousarray(coef.T)
        self._intercept = intercept
        self._word_vocab = dict(self._words.vocabulary_)
        self._char_vocab = dict(self._chars.vocabulary_)
        self._word_idf = np.asarray(self._words.idf_, dtype=np.float64)
        self._char_idf = np.asarray(self._chars.idf_, dtype=np.float64)

    def _margins_one(self, words: list[str]) -> np.ndarray:
        """Same numbers as decision_function on the TF-IDF features, computed directly."""
        joined = "".join(words)
        chars = [joined[i : i + n] for n in (1, 2, 3) for i in range(len(joined) - n + 1)]
        parts = [
            _tfidf_block(_word_ngrams(words), self._word_vocab, self._word_idf, 0),
            _tfidf_block(chars, self._char_vocab, self._char_idf, len(self._word_vocab)),
        ]
        found = [part for part in parts if part is not None]
        if not found:
            return self._intercept.copy()
        index = np.concatenate([part[0] for part in found])
        weight = np.concatenate([part[1] for part in found])
        return weight @ self._coef_by_feature[index] + self._intercept

    def decision_words(self, words: list[list[str]]) -> np.ndarray:
        if not self.labels:
            raise RuntimeError("the classifier has not been trained")
        return np.vstack([self._margins_one(item) for item in words])

    def decision_words_sklearn(self, words: list[list[str]]) -> np.ndarray:
        """The reference computation through sklearn (used to test the fast path)."""
        features = hstack([self._words.transform(words), self._chars.transform(_joined(words))]).tocsr()
        return np.asarray(self._svm.decision_function(features))

    def predict_words(self, words: list[list[str]]) -> list[str]:
        margins = self.decision_words(words)
        return [self.labels[i] for i in margins.argmax(axis=1)]

    def predict(self, texts: Iterable[TextInput]) -> list[str]:
        return self.predict_words([words_of(item) for item in texts])

    def predict_top(self, text: TextInput, k: int = 3) -> list[tuple[str, float]]:
        """The k most likely categories with scores in [0, 1] that sum to at most 1."""
        return self.predict_top_many([text], k)[0]

    def predict_top_many(self, texts: Iterable[TextInput], k: int = 3) -> list[list[tuple[str, float]]]:
        margins = self.decision_words([words_of(item) for item in texts])
        results = []
        for row in margins:
            scores = _softmax(row * self.softmax_scale)
            order = np.argsort(-scores)[: max(k, 0)]
            results.append([(self.labels[i], round(float(scores[i]), 4)) for i in order])
        return results

    # -- persistence --------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        payload = {
            "format": MODEL_FORMAT,
            "sklearn": sklearn.__version__,
            "metrics": self.metrics,
            "model": self,
        }
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        with tmp.open("wb") as handle:
            pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(target)  # atomic: a reader never sees half a model

    @classmethod
    def load(cls, path: str | Path) -> CategoryClassifier:
        """Load a model saved by `save`. Only load files this platform wrote (pickle)."""
        with Path(path).open("rb") as handle:
            payload = pickle.load(handle)  # noqa: S301 - our own model files only
        if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path} is not a {MODEL_FORMAT} model file")
        model = payload["model"]
        if not isinstance(model, cls):
            raise ValueError(f"{path} does not hold a CategoryClassifier")
        model.metrics = dict(payload.get("metrics") or {})
        return model


def _tfidf_block(
    terms: list[str], vocabulary: dict[str, int], idf: np.ndarray, offset: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Column indices (shifted by offset) and L2-normalised sublinear TF-IDF weights."""
    ids = np.fromiter(map(vocabulary.get, terms, repeat(-1, len(terms))), dtype=np.int64, count=len(terms))
    ids = ids[ids >= 0]
    if not ids.size:
        return None
    index, tf = np.unique(ids, return_counts=True)
    weight = (1.0 + np.log(tf)) * idf[index]
    weight /= math.sqrt(float(weight @ weight))
    return index + offset, weight


def _joined(words: list[list[str]]) -> list[str]:
    return ["".join(item) for item in words]


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = values - values.max()
    exp = np.exp(shifted)
    total = exp.sum()
    if not math.isfinite(total) or total == 0:
        return np.full_like(values, 1.0 / len(values))
    return exp / total
