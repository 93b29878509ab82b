"""The weekly briefs' archive (市长电话要情): every kept brief, its PDF, and making one on demand.
Who may read and make them is decided by ``hotline.insight.brief``."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline.core.errors import ServiceError
from hotline.insight import brief as briefs
from hotline.insight.brief_models import WeeklyBrief
from hotline.orders.access_log import do_log_access
from hotline.orders.models import AccessKind
from hotline.web.access import StaffRequest, role_required


@role_required(briefs.may_read_briefs, roles=briefs.BRIEF_ROLES)
@require_GET
def archive(request: StaffRequest) -> HttpResponse:
    kept = WeeklyBrief.objects.defer("pdf").order_by("-week")[:104]
    return render(request, "insight/briefs.html", {
        "briefs": kept, "may_make": briefs.may_make_briefs(request.user),
        "last_week": briefs.week_label(briefs.last_complete_week())})


@role_required(briefs.may_read_briefs, roles=briefs.BRIEF_ROLES)
@require_GET
def pdf(request: StaffRequest, week: str) -> HttpResponse:
    try:
        monday = briefs.parse_week(week)
    except ServiceError:
        raise Http404(_("No such week.")) from None
    brief = WeeklyBrief.objects.filter(week=monday).first()
    if brief is None:
        raise Http404(_("No brief was made for that week."))
    do_log_access(request.user, AccessKind.EXPORT, request=request,
                  detail=f"weekly brief {brief.label}")
    response = HttpResponse(bytes(brief.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="12345-brief-{brief.label}.pdf"'
    return response


@role_required(briefs.may_make_briefs, roles=briefs.MAKERS)
@require_POST
def make(request: StaffRequest) -> HttpResponse:
    try:
        brief = briefs.do_make_brief(briefs.parse_week(request.POST.get("week", "")))
    except ServiceError as error:
        messages.error(request, _(error.message))
        return redirect("briefs:archive")
    messages.success(request, _("The brief of %(week)s is made.") % {"week": brief.label})
    return redirect("briefs:archive")
