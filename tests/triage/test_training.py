"""Training on the centre's own orders, versions, activation and going back."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from hotline.core.errors import Conflict, NotFound
from hotline.triage.models import ClassifierVersion, ModelStatus
from hotline.triage.training import do_train_classifier, training_set
from hotline.triage.versions import do_activate_version
from tests.orders.helpers import new_order
from tests.triage.conftest import labelled_history

if TYPE_CHECKING:

    from pytest_django.fixtures import Settings

    from tests.conftest import City
    from tests.triage.conftest import Path

pytestmark = pytest.mark.usefixtures("model_dir")


def test_no_history_trains_nothing_and_says_why(city: City) -> None:
    outcome = do_train_classifier()
    assert not outcome.trained
    assert "not enough labelled orders" in outcome.message
    assert not ClassifierVersion.objects.exists()


def test_orders_still_at_the_desk_are_not_labels(city: City) -> None:
    labelled_history(city, copies=1)
    new_order(city.agent, text="未派单的停水工单", category="100101", citizen_phone="13900000001")
    data = training_set()
    assert len(data.texts) == 20  # the 20 dispatched ones, not the one still accepted
    assert set(data.labels) == {"100101", "100201"}


def test_training_measures_stores_and_activates_a_version(city: City, model_dir: Path) -> None:
    labelled_history(city)
    outcome = do_train_classifier(trigger="test")
    assert outcome.trained and outcome.activated
    version = ClassifierVersion.objects.get()
    assert version.version == 1 and version.status == ModelStatus.ACTIVE
    assert version.n_train == 40 and version.n_test == 8 and version.n_labels == 2
    assert (model_dir / version.file).is_file()
    # Two clearly different topics: the held-out newest fifth is classified well.
    assert version.macro_f1 is not None and version.macro_f1 >= 0.8
    assert version.top3_accuracy == 1.0
    assert set(version.per_label) <= {"100101", "100201"}
    assert version.per_label["100101"]["support"] > 0
    assert version.ms_per_message is not None and version.ms_per_message > 0


def test_a_new_version_replaces_the_old_and_the_admin_can_go_back(city: City) -> None:
    labelled_history(city)
    do_train_classifier()
    second = do_train_classifier().version
    assert second is not None and second.version == 2
    statuses = dict(ClassifierVersion.objects.values_list("version", "status"))
    assert statuses == {1: ModelStatus.RETIRED, 2: ModelStatus.ACTIVE}
    do_activate_version(1)
    statuses = dict(ClassifierVersion.objects.values_list("version", "status"))
    assert statuses == {1: ModelStatus.ACTIVE, 2: ModelStatus.RETIRED}


def test_a_clearly_worse_version_waits_for_the_admin(city: City) -> None:
    labelled_history(city)
    do_train_classifier()
    ClassifierVersion.objects.filter(version=1).update(macro_f1=1.5)  # an unbeatable incumbent
    outcome = do_train_classifier()
    assert outcome.trained and not outcome.activated
    assert ClassifierVersion.objects.get(version=2).status == ModelStatus.READY


def test_activating_what_does_not_exist_or_has_no_file_is_refused(city: City, model_dir: Path) -> None:
    labelled_history(city)
    do_train_classifier()
    do_train_classifier()
    with pytest.raises(NotFound):
        do_activate_version(9)
    (model_dir / ClassifierVersion.objects.get(version=1).file).unlink()
    with pytest.raises(Conflict):
        do_activate_version(1)
    assert ClassifierVersion.objects.get(version=2).status == ModelStatus.ACTIVE


def test_retraining_clock(city: City, settings: Settings) -> None:
    from hotline.triage.tasks import NO_MODEL_RETRY_S, retraining_due

    assert retraining_due(None)  # nothing in use: train as soon as possible
    assert not retraining_due(60.0)  # not again a minute after the last attempt
    assert retraining_due(NO_MODEL_RETRY_S)  # but again ten minutes later
    labelled_history(city)
    do_train_classifier()
    assert not retraining_due(None)  # the model in use is newer than HOTLINE_TRIAGE_RETRAIN_HOURS
    ClassifierVersion.objects.update(created_at=ClassifierVersion.objects.get().created_at
                                     - dt.timedelta(hours=settings.HOTLINE_TRIAGE_RETRAIN_HOURS))
    assert retraining_due(None)
    assert not retraining_due(NO_MODEL_RETRY_S)  # an old model: once per retraining period
    settings.HOTLINE_TRIAGE_RETRAIN_HOURS = 0
    assert not retraining_due(None)  # 0 switches automatic retraining off


def test_scores_are_calibrated_on_the_held_out_orders() -> None:
    from hotline.triage.calibration import calibrated_scale
    from hotline.triage.classifier import CategoryClassifier
    from tests.triage.conftest import NOISE_TEXTS, WATER_TEXTS

    texts = [f"{t}（{i}）" for i in range(3) for t in WATER_TEXTS + NOISE_TEXTS]
    clean = ["water"] * 10 + ["noise"] * 10
    labels = clean * 3
    model = CategoryClassifier().fit(texts[:40], labels[:40])
    # Separable topics: confident scores are honest, the scale goes up from the default.
    assert calibrated_scale(model, texts[40:], labels[40:]) > model.softmax_scale
    # Labels that say nothing about the text (drawn at random): confidence is not earned.
    import random

    rng = random.Random(7)
    noise = [rng.choice(["water", "noise"]) for _ in texts]
    coin = CategoryClassifier().fit(texts[:40], noise[:40])
    assert calibrated_scale(coin, texts[40:], noise[40:]) < coin.softmax_scale
