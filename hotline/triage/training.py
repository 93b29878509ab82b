"""Train the category classifier on the centre's own history and keep every version.

The labels are the categories agents finally chose: orders that left the desk (dispatched,
handled, answered, closed...) with a category. Orders still waiting at the desk may yet be
re-categorised, and refused ones are often not real requests, so neither is used.

Each training run measures itself before it is trusted: it trains on the older 80% of the
history and predicts the newest 20% (a time split, as in production the model always meets
requests newer than what it learnt from), records those figures, then trains the model that is
kept on the whole history. A new version goes into use when there is none in use or it is not
clearly worse than the one in use (``versions.ACTIVATION_TOLERANCE``); otherwise it waits for
the centre administrator, who may also go back to any earlier version.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from hotline.core.errors import Conflict
from hotline.directory.models import Category
from hotline.orders.lifecycle import State
from hotline.orders.models import Order
from hotline.triage.calibration import calibrated_scale
from hotline.triage.classifier import CategoryClassifier
from hotline.triage.labels import rolled_up_labels
from hotline.triage.models import ClassifierVersion
from hotline.triage.services import order_text
from hotline.triage.versions import activate_if_better

log = logging.getLogger("hotline.triage")

HOLDOUT_SHARE = 0.2
NOT_LABELLED = (State.NEW.value, State.ACCEPTED.value, State.REJECTED.value)


@dataclass
class TrainingSet:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    data_until: dt.datetime | None = None


@dataclass
class TrainingOutcome:
    trained: bool
    message: str
    version: ClassifierVersion | None = None
    activated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "trained": self.trained,
            "message": self.message,
            "version": self.version.version if self.version else None,
            "activated": self.activated,
            "macro_f1": self.version.macro_f1 if self.version else None,
        }


def training_set(*, max_orders: int | None = None, min_per_category: int | None = None) -> TrainingSet:
    """The newest labelled orders (at most ``max_orders``), oldest first, with thin categories'
    labels rolled up to their parents (see ``labels.rolled_up_labels``)."""
    max_orders = max_orders or settings.HOTLINE_TRIAGE_MAX_ORDERS
    min_per_category = min_per_category or settings.HOTLINE_TRIAGE_MIN_PER_CATEGORY
    rows = list(
        Order.objects.filter(category__isnull=False)
        .exclude(state__in=NOT_LABELLED)
        .order_by("-created_at", "-pk")
        .values_list("created_at", "title", "text", "category__code")[:max_orders]
    )
    rows.reverse()
    parents = dict(Category.objects.values_list("code", "parent__code"))
    target = rolled_up_labels([row[3] for row in rows], parents, min_examples=min_per_category)
    found = TrainingSet()
    for created_at, title, text, code in rows:
        label = target.get(code)
        if label is None:  # too few examples even at the top level
            continue
        found.texts.append(order_text(title, text))
        found.labels.append(label)
        found.data_until = created_at
    return found


def evaluate_holdout(texts: list[str], labels: list[str]) -> dict[str, Any]:
    """Train on the older part, predict the newest ``HOLDOUT_SHARE``: the figures shown to the
    centre administrator. Categories absent from the older part cannot be predicted; they stay
    in the test set (and count as misses), as they would in production."""
    cut = max(1, int(len(texts) * (1 - HOLDOUT_SHARE)))
    train_x, train_y, test_x, test_y = texts[:cut], labels[:cut], texts[cut:], labels[cut:]
    if len(set(train_y)) < 2 or not test_x:
        raise ValueError("too little history to measure the classifier")
    model = CategoryClassifier().fit(train_x, train_y)
    started = time.perf_counter()
    top = model.predict_top_many(test_x, k=3)
    ms_per_message = (time.perf_counter() - started) * 1000 / len(test_x)
    scale = calibrated_scale(model, test_x, test_y)
    predicted = [choices[0][0] for choices in top]
    names = sorted(set(test_y) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        test_y, predicted, labels=names, zero_division=0)
    per_label = {
        name: {"precision": round(float(p), 4), "recall": round(float(r), 4),
               "f1": round(float(f), 4), "support": int(s)}
        for name, p, r, f, s in zip(names, precision, recall, f1, support, strict=True)
    }
    top3 = sum(truth in [label for label, _score in choices]
               for truth, choices in zip(test_y, top, strict=True)) / len(test_y)
    return {
        "n_test": len(test_x),
        # Macro-F1 over the categories that occur in the held-out orders: a category that was
        # only wrongly predicted must not dilute the average with a zero of its own.
        "macro_f1": round(float(f1_score(test_y, predicted, labels=sorted(set(test_y)),
                                         average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(test_y, predicted)), 4),
        "top3_accuracy": round(top3, 4),
        "ms_per_message": round(ms_per_message, 3),
        "softmax_scale": scale,
        "per_label": per_label,
    }


def do_train_classifier(*, trigger: str = "schedule") -> TrainingOutcome:
    """Train, measure, store and (if good enough) activate a new classifier version."""
    data = training_set()
    if len(data.texts) < settings.HOTLINE_TRIAGE_MIN_ORDERS or len(set(data.labels)) < 2:
        message = (f"not enough labelled orders to train: {len(data.texts)} in "
                   f"{len(set(data.labels))} categories (need {settings.HOTLINE_TRIAGE_MIN_ORDERS} "
                   "in at least 2)")
        log.info("classifier not trained: %s", message)
        return TrainingOutcome(False, message)
    started = time.perf_counter()
    try:
        figures = evaluate_holdout(data.texts, data.labels)
    except ValueError as exc:
        return TrainingOutcome(False, str(exc))
    model = CategoryClassifier(softmax_scale=figures["softmax_scale"]).fit(data.texts, data.labels)
    train_seconds = time.perf_counter() - started
    model.metrics = {key: value for key, value in figures.items() if key != "per_label"}
    version = _store(model, data, figures, train_seconds, trigger)
    activated = activate_if_better(version)
    log.info("classifier v%s trained on %s orders: macro-F1 %.3f, %s", version.version,
             version.n_train, version.macro_f1 or 0, "in use" if activated else "not activated")
    return TrainingOutcome(True, "trained", version, activated)


def _store(model: CategoryClassifier, data: TrainingSet, figures: dict[str, Any],
           train_seconds: float, trigger: str) -> ClassifierVersion:
    directory = Path(settings.HOTLINE_TRIAGE_MODEL_DIR)
    for _attempt in range(3):  # two trainings at once: the loser takes the next number
        number = (ClassifierVersion.objects.aggregate(top=Max("version"))["top"] or 0) + 1
        name = f"category-v{number}-{int(time.time())}.pkl"
        model.save(directory / name)
        try:
            with transaction.atomic():
                return ClassifierVersion.objects.create(
                    version=number, created_at=timezone.now(), file=name, trigger=trigger[:64],
                    n_train=len(data.texts), n_test=figures["n_test"],
                    n_labels=len(set(data.labels)), data_until=data.data_until,
                    macro_f1=figures["macro_f1"], accuracy=figures["accuracy"],
                    top3_accuracy=figures["top3_accuracy"], train_seconds=round(train_seconds, 2),
                    ms_per_message=figures["ms_per_message"], per_label=figures["per_label"],
                )
        except IntegrityError:
            (directory / name).unlink(missing_ok=True)
    raise Conflict("another training run kept taking the version number; try again")
