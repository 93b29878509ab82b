"""Quality inspection pages (质检): the inspectors' queue, the scoring page with the call's
recording, an agent's own inspections with the appeal, and the decision on an appeal. The
rules (who may score, appeal, decide) are in ``hotline.insight.quality``."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline.contactcentre.models import CallRecording
from hotline.core.errors import ServiceError
from hotline.core.phones import mask_phone
from hotline.insight import quality
from hotline.insight.quality_models import Inspection
from hotline.orders.access_log import do_log_access
from hotline.orders.models import AccessKind
from hotline.web.access import StaffRequest, role_required

PAGE_SIZE = 30
ROLES = quality.QA_ROLES


def _inspection(request: StaffRequest, inspection_id: int) -> Inspection:
    inspection = quality.inspections_for(request.user).filter(pk=inspection_id).first()
    if inspection is None:
        raise Http404(_("No such inspection."))
    return inspection


@role_required(quality.may_use_quality, roles=ROLES)
@require_GET
def inspection_list(request: StaffRequest) -> HttpResponse:
    rows = quality.inspections_for(request.user)
    state = request.GET.get("state", "")
    if state in Inspection.State.values:
        rows = rows.filter(state=state)
    page = Paginator(rows.order_by("-week", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "insight/quality_list.html", {
        "page": page, "state": state, "states": Inspection.State.choices,
        "inspector": quality.may_inspect(request.user)})


@role_required(quality.may_use_quality, roles=ROLES)
@require_GET
def inspection_detail(request: StaffRequest, inspection_id: int) -> HttpResponse:
    return _detail(request, _inspection(request, inspection_id))


def _detail(request: StaffRequest, inspection: Inspection, status: int = 200) -> HttpResponse:
    items = list(inspection.scorecard.items.all())
    marks = inspection.marks or {}
    call = inspection.call
    talk = ((call.ended_at - call.answered_at).total_seconds()
            if call.ended_at and call.answered_at else None)
    user = request.user
    return render(request, "insight/quality_detail.html", {
        "inspection": inspection, "call": call, "caller": mask_phone(call.caller),
        "talk_seconds": round(talk) if talk is not None else None,
        "items": [{"item": item, "mark": marks.get(item.key),
                   "choices": list(range(item.points, -1, -1))} for item in items],
        "has_recording": (call.contact_id is not None and CallRecording.objects.filter(
            contact_id=call.contact_id).exists()),
        "may_score": (quality.may_inspect(user) and inspection.agent_id != user.pk
                      and inspection.state == Inspection.State.PENDING),
        "may_appeal": (inspection.agent_id == user.pk
                       and inspection.state == Inspection.State.SCORED),
        "may_decide": (quality.may_inspect(user) and inspection.state == Inspection.State.APPEALED
                       and user.pk not in (inspection.inspector_id, inspection.agent_id)),
    }, status=status)


def _act(request: StaffRequest, inspection_id: int, act: str) -> HttpResponse:
    inspection = _inspection(request, inspection_id)
    try:
        if act == "score":
            quality.do_score(request.user, inspection.pk,
                             quality.parse_marks(inspection.scorecard, request.POST),
                             request.POST.get("comment", ""))
            messages.success(request, _("The call is scored; the agent sees it now."))
        elif act == "appeal":
            quality.do_appeal(request.user, inspection.pk, request.POST.get("reason", ""))
            messages.success(request, _("Your appeal is sent to the inspectors."))
        else:
            accept = request.POST.get("accept") == "yes"
            quality.do_decide_appeal(
                request.user, inspection.pk, accept=accept,
                decision=request.POST.get("decision", ""),
                marks=quality.parse_marks(inspection.scorecard, request.POST) if accept else None)
            messages.success(request, _("The appeal is decided."))
    except ServiceError as error:
        messages.error(request, _(error.message))
        return _detail(request, _inspection(request, inspection_id), status=error.status)
    return redirect("quality:detail", inspection.pk)


@role_required(quality.may_inspect, roles=quality.INSPECTOR_ROLES)
@require_POST
def score(request: StaffRequest, inspection_id: int) -> HttpResponse:
    return _act(request, inspection_id, "score")


@role_required(quality.may_use_quality, roles=ROLES)
@require_POST
def appeal(request: StaffRequest, inspection_id: int) -> HttpResponse:
    return _act(request, inspection_id, "appeal")


@role_required(quality.may_inspect, roles=quality.INSPECTOR_ROLES)
@require_POST
def decide(request: StaffRequest, inspection_id: int) -> HttpResponse:
    return _act(request, inspection_id, "decide")


@role_required(quality.may_use_quality, roles=ROLES)
@require_GET
def recording(request: StaffRequest, inspection_id: int) -> FileResponse:
    """The inspected call's recording, for the page's player: inspectors and the agent."""
    inspection = _inspection(request, inspection_id)
    if not (quality.may_inspect(request.user) or inspection.agent_id == request.user.pk):
        raise Http404(_("No such inspection."))
    contact_id = inspection.call.contact_id
    rec = (CallRecording.objects.filter(contact_id=contact_id).order_by("created_at", "pk").first()
           if contact_id is not None else None)
    if rec is None:
        raise Http404(_("The call has no recording."))
    try:
        handle = rec.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The recording's file is missing.")) from None
    do_log_access(request.user, AccessKind.RECORDING_PLAY, request=request,
                  citizen=inspection.call.citizen, detail=f"QA inspection {inspection.pk}")
    return FileResponse(handle, content_type="audio/wav")


@role_required(quality.may_use_quality, roles=ROLES)
@require_GET
def figures(request: StaffRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        date_from = dt.date.fromisoformat(request.GET.get("from") or
                                          (today - dt.timedelta(days=27)).isoformat())
        date_to = dt.date.fromisoformat(request.GET.get("to") or today.isoformat())
    except ValueError:
        return HttpResponse(_("Dates are written YYYY-MM-DD."), status=400)
    if date_to < date_from or (date_to - date_from).days > 3 * 366:
        return HttpResponse(_("Choose a range of at most three years, the start first."),
                            status=400)
    return render(request, "insight/quality_figures.html", {
        "rows": quality.figures(request.user, date_from, date_to),
        "date_from": date_from, "date_to": date_to})
