"""Background work of the classifier, run by the django-tasks worker (``manage.py db_worker``).

The worker's scheduler (``PERIODIC``) enqueues ``retrain_classifier_task`` every
``HOTLINE_TRIAGE_RETRAIN_HOURS`` (and soon after start while no model is in use) and
``suggest_new_orders_task`` with every sweep.
Both are idempotent: a second retraining makes another version, judged like the first; two
suggestion runs at once record each order's suggestion once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from hotline.core.periodic import PeriodicJob

# Seconds between retraining attempts while no model is in use: a new installation trains its
# first model as soon as enough orders are categorised.
NO_MODEL_RETRY_S = 600.0


@task()
def retrain_classifier_task(trigger: str = "schedule") -> dict[str, Any]:
    from hotline.triage import training

    return training.do_train_classifier(trigger=trigger).as_dict()


@task()
def suggest_new_orders_task() -> int:
    from hotline.triage import services

    return services.suggest_new_orders()


def retraining_due(since_attempt: float | None) -> bool:
    """Whether to enqueue a retraining now, ``since_attempt`` seconds after the last one was
    enqueued (None: none yet): every ``HOTLINE_TRIAGE_RETRAIN_HOURS`` after the newest version
    (0 switches it off), and every ``NO_MODEL_RETRY_S`` while none is in use."""
    from hotline.triage.models import ClassifierVersion, ModelStatus

    hours = settings.HOTLINE_TRIAGE_RETRAIN_HOURS
    if hours <= 0:
        return False
    if not ClassifierVersion.objects.filter(status=ModelStatus.ACTIVE).exists():
        return since_attempt is None or since_attempt >= NO_MODEL_RETRY_S
    newest = ClassifierVersion.objects.order_by("-created_at").values_list(
        "created_at", flat=True).first()
    stale = newest is None or timezone.now() - newest >= dt.timedelta(hours=hours)
    return stale and (since_attempt is None or since_attempt >= hours * 3600)


PERIODIC = [
    PeriodicJob("order-suggestions", "HOTLINE_SWEEP_SECONDS", task=suggest_new_orders_task),
    # Checked with every sweep; ``retraining_due`` decides from the versions in the database.
    PeriodicJob("classifier-retraining", "HOTLINE_SWEEP_SECONDS", task=retrain_classifier_task,
                when=retraining_due),
]
