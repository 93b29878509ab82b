"""Category suggestions and classifier versions over the REST API (mounted at /api/v1/triage/).

- ``POST /triage/suggest``: the top categories for a text, with the department the catalogue
  would dispatch to (agents and everyone else who registers orders).
- ``GET /triage/models``: every trained version with its held-out figures (centre supervision).
- ``POST /triage/models/train``: queue a retraining (centre administrators).
- ``POST /triage/models/{version}/activate``: put a stored version into use (centre administrators).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field, StringConstraints

from hotline.api.auth import actor
from hotline.api.rules import allow
from hotline.api.schemas import ErrorOut
from hotline.core.errors import Forbidden, InvalidInput
from hotline.core.roles import Role
from hotline.directory.models import District, Unit, User
from hotline.orders.lifecycle import CENTRE_DESK, CENTRE_SUPERVISION
from hotline.triage.access import may_manage_models, may_see_models, may_suggest
from hotline.triage.models import ClassifierVersion
from hotline.triage.services import Suggestion, suggest_categories
from hotline.triage.tasks import retrain_classifier_task
from hotline.triage.versions import do_activate_version

router = Router(tags=["triage"])

# The operation ids are the ones these operations had when the router lived in the triage package
# (django-ninja derives them from the module): clients generated from the OpenAPI document call
# operations by id, so moving the code does not rename them.


class SuggestIn(Schema):
    text: Annotated[str, StringConstraints(max_length=5000)]
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    district: Annotated[str, StringConstraints(max_length=32)] = Field(
        "", description="District code: the dispatch route may differ per district.")
    limit: int = Field(3, ge=1, le=10)


class UnitOut(Schema):
    code: str
    name: str
    phone: str


class SuggestionOut(Schema):
    category: str = Field(description="Category code")
    category_name: str
    category_path: list[str]
    level: int
    score: float = Field(description="In [0, 1]; the list is ranked by it")
    lead_unit: UnitOut | None
    co_units: list[UnitOut]


class ModelRef(Schema):
    version: int
    trained_at: dt.datetime
    macro_f1: float | None


class SuggestOut(Schema):
    model: ModelRef | None
    reason: str = Field(description="Why the list is empty: empty_text, no_model, "
                                    "model_unavailable; empty otherwise")
    suggestions: list[SuggestionOut]


class VersionOut(Schema):
    version: int
    status: str
    trained_at: dt.datetime
    trigger: str
    n_train: int
    n_test: int
    n_labels: int
    data_until: dt.datetime | None
    macro_f1: float | None
    accuracy: float | None
    top3_accuracy: float | None
    train_seconds: float | None
    ms_per_message: float | None


class QueuedOut(Schema):
    task_id: str


def _unit(unit: Unit) -> dict[str, str]:
    return {"code": unit.code, "name": unit.name, "phone": unit.phone}


def _suggestion(item: Suggestion) -> dict[str, Any]:
    return {
        "category": item.category.code, "category_name": item.category.name,
        "category_path": item.category.path_names(), "level": item.category.level,
        "score": item.score, "lead_unit": _unit(item.lead_unit) if item.lead_unit else None,
        "co_units": [_unit(unit) for unit in item.co_units],
    }


def _version(v: ClassifierVersion) -> dict[str, Any]:
    fields = ("version", "status", "trigger", "n_train", "n_test", "n_labels", "data_until",
              "macro_f1", "accuracy", "top3_accuracy", "train_seconds", "ms_per_message")
    return {"trained_at": v.created_at, **{name: getattr(v, name) for name in fields}}


def _require(check: Any, user: User, what: str) -> None:
    if not check(user):
        raise Forbidden(f"your role may not {what}")


@router.post("/suggest", response={200: SuggestOut, 403: ErrorOut}, summary="Suggest categories for a text",
             operation_id="hotline_triage_api_suggest")
@allow(*CENTRE_DESK)
def suggest(request: HttpRequest, body: SuggestIn) -> dict[str, Any]:
    user = actor(request)
    _require(may_suggest, user, "ask for category suggestions")
    district = None
    if body.district:
        district = District.objects.filter(code=body.district).first()
        if district is None:
            raise InvalidInput(f"unknown district {body.district!r}", field="district")
    found = suggest_categories(body.text, title=body.title, district=district, k=body.limit)
    model = found.version
    return {
        "model": {"version": model.version, "trained_at": model.created_at,
                  "macro_f1": model.macro_f1} if model else None,
        "reason": found.reason,
        "suggestions": [_suggestion(item) for item in found.items],
    }


@router.get("/models", response={200: list[VersionOut], 403: ErrorOut},
            summary="Classifier versions and their figures", operation_id="hotline_triage_api_models")
@allow(*CENTRE_SUPERVISION)
def models(request: HttpRequest) -> list[dict[str, Any]]:
    _require(may_see_models, actor(request), "see the classifier versions")
    return [_version(v) for v in ClassifierVersion.objects.all()[:100]]


@router.post("/models/train", response={202: QueuedOut, 403: ErrorOut}, summary="Queue a retraining",
             operation_id="hotline_triage_api_train")
@allow(Role.CENTRE_ADMIN)
def train(request: HttpRequest) -> Status[dict[str, str]]:
    user = actor(request)
    _require(may_manage_models, user, "retrain the classifier")
    result = retrain_classifier_task.enqueue(trigger=f"user:{user.username}")
    return Status(202, {"task_id": str(result.id)})


@router.post("/models/{version}/activate",
             response={200: VersionOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
             summary="Use a stored version", operation_id="hotline_triage_api_activate")
@allow(Role.CENTRE_ADMIN)
def activate(request: HttpRequest, version: int) -> dict[str, Any]:
    _require(may_manage_models, actor(request), "change the classifier in use")
    return _version(do_activate_version(version))
