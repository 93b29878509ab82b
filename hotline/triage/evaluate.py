"""Train and measure the category classifier on CSV files.

    python -m hotline.triage.evaluate --train TRAIN.csv --test TEST.csv [--save MODEL]
    python -m hotline.triage.evaluate --train TRAIN.csv --cv 5

Each CSV has a `label` column and either `text` (raw text) or `tokens` (space-separated
words). Prints one JSON line: macro_f1, accuracy, n_test, train_seconds, ms_per_message.

ms_per_message is CPU time of this thread (one core) per message for a batch prediction,
segmentation of raw text included; ms_per_message_single is the same for one message per
call, which is what the product does when an agent asks for a suggestion. CPU time rather
than wall time keeps the figure honest on a shared, busy machine.
"""

from __future__ import annotations

from hotline.env import single_threaded_numerics

# One core: keep numeric libraries from spreading work over threads (before they are imported).
single_threaded_numerics()

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from hotline.triage.classifier import CategoryClassifier, TextInput, words_of  # noqa: E402

SINGLE_CALL_SAMPLE = 200


@dataclass
class LabelledSet:
    items: list[TextInput]
    labels: list[str]


def read_labelled_csv(path: str | Path) -> LabelledSet:
    """A CSV with `label` and `text` (raw) or `tokens` (space-separated words)."""
    csv.field_size_limit(sys.maxsize)
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        if "label" not in columns or not columns & {"text", "tokens"}:
            raise ValueError(f"{path}: need a 'label' column and a 'text' or 'tokens' column")
        segmented = "text" not in columns
        items: list[TextInput] = []
        labels: list[str] = []
        for row in reader:
            label = (row["label"] or "").strip()
            if not label:
                continue
            items.append(row["tokens"].split() if segmented else row["text"] or "")
            labels.append(label)
    return LabelledSet(items, labels)


def _scores(truth: Sequence[str], predicted: Sequence[str]) -> tuple[float, float]:
    return (
        float(f1_score(truth, predicted, average="macro")),
        float(accuracy_score(truth, predicted)),
    )


def _timed_batch_prediction(model: CategoryClassifier, items: Sequence[TextInput]) -> tuple[list[str], float]:
    """Predicted labels and CPU milliseconds per message, segmentation included."""
    start = time.thread_time()
    predicted = model.predict(items)
    elapsed = time.thread_time() - start
    return predicted, 1000 * elapsed / max(len(items), 1)


def _single_call_ms(model: CategoryClassifier, items: Sequence[TextInput]) -> float:
    sample = items[:SINGLE_CALL_SAMPLE]
    start = time.thread_time()
    for item in sample:
        model.predict_top(item, k=3)
    return 1000 * (time.thread_time() - start) / max(len(sample), 1)


def evaluate_holdout(train: LabelledSet, test: LabelledSet, *, save: str | None = None) -> dict[str, object]:
    model = CategoryClassifier()
    start = time.perf_counter()
    model.fit(train.items, train.labels)
    train_seconds = time.perf_counter() - start
    predicted, ms_batch = _timed_batch_prediction(model, test.items)
    macro_f1, accuracy = _scores(test.labels, predicted)
    result: dict[str, object] = {
        "macro_f1": round(macro_f1, 4),
        "accuracy": round(accuracy, 4),
        "n_train": len(train.items),
        "n_test": len(test.items),
        "train_seconds": round(train_seconds, 2),
        "ms_per_message": round(ms_batch, 3),
        "ms_per_message_single": round(_single_call_ms(model, test.items), 3),
    }
    if save:
        model.metrics = dict(result)
        model.save(save)
    return result


def evaluate_cv(train: LabelledSet, folds: int, *, seed: int = 0) -> dict[str, object]:
    """Stratified K-fold on TRAIN alone; every figure is the mean over folds."""
    if folds < 2:
        raise ValueError("--cv needs at least 2 folds")
    labels = np.asarray(train.labels)
    start = time.perf_counter()
    words = [words_of(item) for item in train.items]
    segment_seconds = time.perf_counter() - start
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    f1s, accs, train_secs, ms_batch, ms_single = [], [], [], [], []
    for train_idx, test_idx in splitter.split(words, labels):
        model = CategoryClassifier()
        start = time.perf_counter()
        model.fit_words([words[i] for i in train_idx], labels[train_idx].tolist())
        fit_seconds = time.perf_counter() - start
        train_secs.append(fit_seconds + segment_seconds * len(train_idx) / len(words))
        test_items = [train.items[i] for i in test_idx]
        predicted, ms = _timed_batch_prediction(model, test_items)
        macro_f1, accuracy = _scores(labels[test_idx].tolist(), predicted)
        f1s.append(macro_f1)
        accs.append(accuracy)
        ms_batch.append(ms)
        ms_single.append(_single_call_ms(model, test_items))
    return {
        "macro_f1": round(float(np.mean(f1s)), 4),
        "macro_f1_folds": [round(value, 4) for value in f1s],
        "accuracy": round(float(np.mean(accs)), 4),
        "n_test": round(len(words) / folds),
        "folds": folds,
        "train_seconds": round(float(np.mean(train_secs)), 2),
        "ms_per_message": round(float(np.mean(ms_batch)), 3),
        "ms_per_message_single": round(float(np.mean(ms_single)), 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hotline.triage.evaluate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--train", required=True, help="CSV with label and text or tokens")
    parser.add_argument("--test", help="CSV with label and text or tokens")
    parser.add_argument("--cv", type=int, help="K-fold cross-validation on TRAIN instead")
    parser.add_argument("--save", help="write the model trained on TRAIN to this path")
    args = parser.parse_args(argv)
    if args.cv is None and not args.test:
        parser.error("give --test TEST.csv or --cv K")
    try:
        train = read_labelled_csv(args.train)
        if args.cv is not None:
            result = evaluate_cv(train, args.cv)
        else:
            result = evaluate_holdout(train, read_labelled_csv(args.test), save=args.save)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
