"""Pages of the classifier.

- /triage/suggest/   category suggestions for the order form (an htmx fragment)
- /triage/orders/N/suggest/  the same for a stored order without a category (dispatch form)
- /triage/models/    the classifier versions, their held-out figures per category, and how
                     often agents kept the suggestion; retrain and activate for centre admins
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.core.errors import ServiceError
from hotline.core.roles import Role
from hotline.directory.models import Category, District
from hotline.orders.lifecycle import CENTRE_DESK, CENTRE_SUPERVISION
from hotline.orders.models import Order
from hotline.orders.scope import visible_orders
from hotline.triage.access import may_manage_models, may_see_models, may_suggest
from hotline.triage.models import ClassifierVersion, ModelStatus
from hotline.triage.services import suggest_categories, suggestion_agreement
from hotline.triage.tasks import retrain_classifier_task
from hotline.triage.versions import do_activate_version
from hotline.web.access import StaffRequest, role_required


@role_required(may_suggest, roles=CENTRE_DESK)
def suggest(request: HttpRequest) -> HttpResponse:
    """For ``hx-get`` with ``hx-include`` of the order form's title, text and district."""
    district = None
    code = request.GET.get("district", "")[:32]
    if code:
        district = District.objects.filter(code=code).first()
    found = suggest_categories(request.GET.get("text", "")[:5000],
                               title=request.GET.get("title", "")[:200], district=district)
    return render(request, "triage/_suggestions.html", {"found": found})


@role_required(may_suggest, roles=CENTRE_DESK)
def order_suggest(request: StaffRequest, number: str) -> HttpResponse:
    """Suggestions for an order that came in without a category (web portal, voicemail), for
    the dispatch form on the order page (``target``: the id of the form's category select)."""
    order = visible_orders(request.user, Order.objects.select_related("district")) \
        .filter(number=number).first()
    if order is None:
        raise Http404
    found = suggest_categories(order.text, title=order.title, district=order.district)
    target = request.GET.get("target", "id_category")
    if not target.replace("-", "").replace("_", "").isalnum():
        target = "id_category"
    return render(request, "triage/_suggestions.html", {"found": found, "target": target})


@role_required(may_see_models, roles=CENTRE_SUPERVISION)
def models_page(request: HttpRequest) -> HttpResponse:
    versions = list(ClassifierVersion.objects.all()[:50])
    shown = _chosen_version(request, versions)
    names = dict(Category.objects.values_list("code", "name"))
    per_label: list[dict[str, Any]] = []
    if shown is not None:
        for code, figures in sorted((shown.per_label or {}).items(),
                                    key=lambda item: -item[1].get("support", 0)):
            per_label.append({"code": code, "name": names.get(code, code), **figures})
    context = {
        "versions": versions, "shown": shown, "per_label": per_label,
        "agreement": suggestion_agreement(), "may_manage": may_manage_models(request.user),
    }
    return render(request, "triage/models.html", context)


def _chosen_version(request: HttpRequest, versions: list[ClassifierVersion]) -> ClassifierVersion | None:
    wanted = request.GET.get("version", "")
    for version in versions:
        if wanted.isdigit() and version.version == int(wanted):
            return version
    active = [v for v in versions if v.status == ModelStatus.ACTIVE]
    return active[0] if active else (versions[0] if versions else None)


@require_POST
@role_required(may_manage_models, roles={Role.CENTRE_ADMIN})
def train(request: HttpRequest) -> HttpResponse:
    retrain_classifier_task.enqueue(trigger=f"user:{request.user.username}")
    messages.success(request, _("Retraining queued; the new version appears here when it is done."))
    return redirect("triage:models")


@require_POST
@role_required(may_manage_models, roles={Role.CENTRE_ADMIN})
def activate(request: HttpRequest, version: int) -> HttpResponse:
    try:
        do_activate_version(version)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Version %(version)s is now in use.") % {"version": version})
    return redirect("triage:models")
