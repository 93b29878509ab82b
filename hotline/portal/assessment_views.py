"""The assessment pages (考核): the monthly ranking (/insight/assessment/), one unit's month with
the orders that lowered it and its appeals (/insight/assessment/units/<code>/), and the centre's
appeal queue (/insight/assessment/appeals/). Thin: they read what the worker stored through
``hotline.insight.assessment`` and send appeals and decisions to its services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline.core.errors import NotFound, ServiceError
from hotline.insight import assessment
from hotline.insight.assessment_models import RankingGroup
from hotline.portal.assessment_forms import AppealForm, DecisionForm, RankingForm
from hotline.web.access import role_required


def _admitted(user: Any) -> bool:
    # The role decides who opens the pages; what each sees is narrowed by scope inside.
    return True


def _failed(request: HttpRequest, error: ServiceError) -> HttpResponse:
    return render(request, "insight/assessment_error.html", {"message": _(error.message)},
                  status=error.status)


def _month(request: HttpRequest) -> str:
    return assessment.check_month(request.GET.get("month") or request.POST.get("month"))


@require_GET
@role_required(_admitted, roles=assessment.VIEWER_ROLES)
def ranking_page(request: HttpRequest) -> HttpResponse:
    form = RankingForm(request.GET or None)
    try:
        month = _month(request)
        group = assessment.check_group(request.GET.get("group"))
    except ServiceError as error:
        return _failed(request, error)
    result = assessment.ranking(request.user, month, group)  # type: ignore[arg-type]
    groups: dict[str, list[Any]] = {}
    for row in result.rows:
        groups.setdefault(row.ranking, []).append(row)
    labels = dict(RankingGroup.choices)
    user = request.user
    return render(request, "insight/assessment_ranking.html", {
        "form": form, "month": month, "group": group, "ranking": result,
        "tables": [(labels.get(key, key), key, rows) for key, rows in groups.items()],
        "own_unit": getattr(user, "unit", None) if result.scope == "unit" else None,
        "decides": bool(getattr(user, "is_superuser", False)
                        or getattr(user, "role", None) in assessment.DECIDE_ROLES),
    })


@require_GET
@role_required(_admitted, roles=assessment.VIEWER_ROLES)
def unit_page(request: HttpRequest, code: str) -> HttpResponse:
    try:
        month = _month(request)
        result = assessment.unit_month(request.user, code, month)  # type: ignore[arg-type]
    except NotFound as error:
        raise Http404(error.message) from None
    except ServiceError as error:
        return _failed(request, error)
    return render(request, "insight/assessment_unit.html", {
        "result": result, "month": month, "standing": result.standing,
        "appeal_form": AppealForm(),
    })


@require_POST
@role_required(_admitted, roles=assessment.APPEAL_ROLES)
def appeal(request: HttpRequest) -> HttpResponse:
    form = AppealForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "insight/assessment_error.html", {
            "message": _("Give the order, the month and a reason for the appeal."),
            "errors": form.errors}, status=400)
    data = form.cleaned_data
    try:
        month = assessment.check_month(data["month"])
        made = assessment.do_submit_appeal(
            request.user, number=data["number"], month=month,  # type: ignore[arg-type]
            reason=data["reason"], upload=data.get("evidence"))
    except ServiceError as error:
        return _failed(request, error)
    messages.success(request, _("Appeal submitted: the centre decides."))
    return redirect(reverse("insight:assessment_unit", args=[made.unit.code])
                    + f"?month={month}")


@require_GET
@role_required(_admitted, roles=assessment.DECIDE_ROLES)
def appeals_page(request: HttpRequest) -> HttpResponse:
    return render(request, "insight/assessment_appeals.html", {
        "pending": assessment.pending_appeals(request.user),  # type: ignore[arg-type]
        "decided": assessment.recent_decisions(request.user),  # type: ignore[arg-type]
        "form": DecisionForm(),
    })


@require_POST
@role_required(_admitted, roles=assessment.DECIDE_ROLES)
def decide(request: HttpRequest, appeal_id: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return render(request, "insight/assessment_error.html", {
            "message": _("Choose accept or refuse and give a reason."),
            "errors": form.errors}, status=400)
    try:
        assessment.do_decide_appeal(
            request.user, appeal_id,  # type: ignore[arg-type]
            accept=form.cleaned_data["decision"] == "accept",
            decision=form.cleaned_data["reason"])
    except NotFound as error:
        raise Http404(error.message) from None
    except ServiceError as error:
        return _failed(request, error)
    messages.success(request, _("Decision recorded; the month is scored again."))
    return redirect("insight:assessment_appeals")
