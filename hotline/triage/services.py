"""Category (and through the catalogue, department) suggestions for a citizen's text.

Intake never waits for the classifier: with no model trained yet, a model file that cannot be
read or an empty text, ``suggest_categories`` answers with no suggestions and says why. The
model in use is loaded once per process and looked up again at most every
``ACTIVE_CHECK_SECONDS``, so a version activated by the centre reaches every web process within
that time without a query per suggestion.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from hotline.directory.models import Category, District, Unit
from hotline.directory.routing import routes_for
from hotline.orders.models import Order
from hotline.triage.models import ClassifierVersion, ModelStatus, OrderSuggestion

if TYPE_CHECKING:  # the classifier loads scikit-learn: only where a model is used
    from hotline.triage.classifier import CategoryClassifier

log = logging.getLogger("hotline.triage")

ACTIVE_CHECK_SECONDS = 30.0
MAX_TEXT = 5000
# Orders older than this get no suggestion recorded when the worker first catches up.
SUGGEST_BACKFILL = dt.timedelta(days=7)


class Reason:
    """Why a suggestion list is empty (API ``reason``)."""

    NONE = ""
    EMPTY_TEXT = "empty_text"
    NO_MODEL = "no_model"
    MODEL_UNAVAILABLE = "model_unavailable"


@dataclass(frozen=True)
class Suggestion:
    category: Category
    score: float
    lead_unit: Unit | None
    co_units: list[Unit]


@dataclass
class Suggestions:
    items: list[Suggestion] = field(default_factory=list)
    version: ClassifierVersion | None = None
    reason: str = Reason.NONE


@dataclass
class _Loaded:
    checked_at: float = -1e9
    version: ClassifierVersion | None = None
    model: CategoryClassifier | None = None


_loaded = _Loaded()
_lock = threading.Lock()


def forget_loaded_model() -> None:
    """Make the next suggestion look the model in use up again and reload it (after an
    activation)."""
    with _lock:
        _loaded.checked_at, _loaded.version, _loaded.model = -1e9, None, None


def active_model() -> tuple[ClassifierVersion | None, CategoryClassifier | None]:
    with _lock:
        if time.monotonic() - _loaded.checked_at < ACTIVE_CHECK_SECONDS:
            return _loaded.version, _loaded.model
        _loaded.checked_at = time.monotonic()
        version = ClassifierVersion.objects.filter(status=ModelStatus.ACTIVE).first()
        if version is None:
            _loaded.version, _loaded.model = None, None
        elif _loaded.version is None or _loaded.version.pk != version.pk or _loaded.model is None:
            _loaded.version, _loaded.model = version, _load(version)
        return _loaded.version, _loaded.model


def order_text(title: str, text: str) -> str:
    """What the classifier reads of a request: its title and its text."""
    return f"{title}。{text}" if title and text else title or text


def _load(version: ClassifierVersion) -> CategoryClassifier | None:
    from hotline.triage.classifier import CategoryClassifier

    path = Path(settings.HOTLINE_TRIAGE_MODEL_DIR) / version.file
    try:
        return CategoryClassifier.load(path)
    except Exception as exc:
        # Unpickling a damaged or foreign file can raise almost anything; a missing or
        # unreadable file must not stop intake (the models page still lists the version).
        log.error("classifier v%s cannot be loaded from %s: %s", version.version, path, exc)
        return None


def suggest_categories(text: str, *, title: str = "", district: District | None = None,
                       k: int = 3) -> Suggestions:
    """The ``k`` most likely categories for a request, each with the department the catalogue
    would dispatch it to in ``district``."""
    content = order_text(title.strip(), text.strip())[:MAX_TEXT]
    if not content:
        return Suggestions(reason=Reason.EMPTY_TEXT)
    version, model = active_model()
    if version is None:
        return Suggestions(reason=Reason.NO_MODEL)
    if model is None:
        return Suggestions(version=version, reason=Reason.MODEL_UNAVAILABLE)
    ranked = model.predict_top(content, k=max(1, min(k, 10)))
    return Suggestions(items=_resolve(ranked, district), version=version)


def _resolve(ranked: list[tuple[str, float]], district: District | None) -> list[Suggestion]:
    """Category rows for the model's labels, in its order; labels of categories that were
    removed or switched off since training are skipped."""
    categories = Category.objects.filter(code__in=[code for code, _score in ranked], active=True) \
        .select_related("parent__parent").in_bulk(field_name="code")
    routes = routes_for([c.pk for c in categories.values()], district.pk if district else None)
    found = []
    for code, score in ranked:
        category = categories.get(code)
        if category is None:
            continue
        lead, co = routes.get(category.pk, (None, []))
        found.append(Suggestion(category, score, lead, co))
    return found


def suggest_new_orders(batch: int = 500, max_batches: int = 20) -> int:
    """Record the suggestion for orders that came in since the last run (the worker's job, so
    intake itself never waits for it). Returns how many orders got one."""
    version, model = active_model()
    if version is None or model is None:
        return 0
    done = 0
    for _batch in range(max_batches):
        orders = list(_unsuggested(batch))
        if not orders:
            break
        ranked = model.predict_top_many([order_text(o.title, o.text) for o in orders], k=3)
        now = timezone.now()
        OrderSuggestion.objects.bulk_create(
            [OrderSuggestion(order_id=o.pk, model=version, created_at=now,
                             suggested=[[code, score] for code, score in choices])
             for o, choices in zip(orders, ranked, strict=True)],
            ignore_conflicts=True,  # two workers at once: the first one's row stays
        )
        done += len(orders)
    return done


def _unsuggested(limit: int) -> Any:
    last = OrderSuggestion.objects.aggregate(top=Max("order_id"))["top"]
    if last is None:
        first = Order.objects.filter(created_at__gte=timezone.now() - SUGGEST_BACKFILL) \
            .order_by("created_at").values_list("pk", flat=True).first()
        if first is None:
            return []
        last = first - 1
    return Order.objects.filter(pk__gt=last).order_by("pk").only("pk", "title", "text")[:limit]


@dataclass
class Agreement:
    """How often agents kept the suggested category (orders that left the desk)."""

    orders: int
    top1: float | None
    top3: float | None


def suggestion_agreement(days: int = 30) -> Agreement:
    rows = (OrderSuggestion.objects.filter(created_at__gte=timezone.now() - dt.timedelta(days=days),
                                           order__category__isnull=False)
            .exclude(order__state__in=("new", "accepted"))
            .values_list("suggested", "order__category__code", "order__category__parent__code",
                         "order__category__parent__parent__code")[:50000])
    top1 = top3 = total = 0
    for suggested, *chosen in rows:
        codes = [item[0] for item in suggested or []]
        if not codes:
            continue
        total += 1
        # A suggestion of a parent category counts when the agent chose one of its children.
        accepted = {code for code in chosen if code}
        top1 += codes[0] in accepted
        top3 += any(code in accepted for code in codes[:3])
    if not total:
        return Agreement(0, None, None)
    return Agreement(total, round(top1 / total, 4), round(top3 / total, 4))
