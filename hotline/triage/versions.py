"""Which classifier version is in use: activation after training, and the centre
administrator's choice (going back to an earlier version). No scikit-learn here: the pages and
the API import this without loading the machine-learning libraries."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from hotline.core.errors import Conflict, NotFound
from hotline.triage.models import ClassifierVersion, ModelStatus

# A new model replaces the one in use unless its held-out macro-F1 is lower by more than this
# (the two were measured on different, time-shifted samples, so small differences are noise).
ACTIVATION_TOLERANCE = 0.02


def activate_if_better(version: ClassifierVersion) -> bool:
    with transaction.atomic():
        current = (ClassifierVersion.objects.select_for_update()
                   .filter(status=ModelStatus.ACTIVE).first())
        if current is not None and (version.macro_f1 or 0) < (current.macro_f1 or 0) - ACTIVATION_TOLERANCE:
            return False
        _switch(current, version)
    return True


def do_activate_version(number: int) -> ClassifierVersion:
    """Put a stored version into use (the centre administrator's choice, e.g. going back)."""
    with transaction.atomic():
        version = ClassifierVersion.objects.select_for_update().filter(version=number).first()
        if version is None:
            raise NotFound(f"classifier version {number} does not exist")
        if version.status == ModelStatus.FAILED or not version.file:
            raise Conflict(f"classifier version {number} has no usable model")
        if not (Path(settings.HOTLINE_TRIAGE_MODEL_DIR) / version.file).is_file():
            raise Conflict(f"the model file of version {number} is missing")
        current = (ClassifierVersion.objects.select_for_update()
                   .filter(status=ModelStatus.ACTIVE).first())
        if current is not None and current.pk == version.pk:
            return version
        _switch(current, version)
    return version


def _switch(current: ClassifierVersion | None, version: ClassifierVersion) -> None:
    if current is not None:
        ClassifierVersion.objects.filter(pk=current.pk).update(status=ModelStatus.RETIRED)
    ClassifierVersion.objects.filter(pk=version.pk).update(status=ModelStatus.ACTIVE)
    version.status = ModelStatus.ACTIVE
    from hotline.triage.services import forget_loaded_model

    transaction.on_commit(forget_loaded_model)
