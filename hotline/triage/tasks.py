"""Background work of the classifier, run by the django-tasks worker (``manage.py db_worker``).

The scheduler enqueues ``retrain_classifier_task`` every ``HOTLINE_TRIAGE_RETRAIN_HOURS`` (and
soon after start while no model is in use) and ``suggest_new_orders_task`` with every sweep.
Both are idempotent: a second retraining makes another version, judged like the first; two
suggestion runs at once record each order's suggestion once.
"""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def retrain_classifier_task(trigger: str = "schedule") -> dict[str, Any]:
    from hotline.triage import training

    return training.do_train_classifier(trigger=trigger).as_dict()


@task()
def suggest_new_orders_task() -> int:
    from hotline.triage import services

    return services.suggest_new_orders()
