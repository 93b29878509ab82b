"""The custom report builder's pages: /insight/reports/custom/ (the caller's and shared
reports, and the form to build one), one page per custom report (the generic report page of
``report_views.show_report``) and its deletion by the owner."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hotline.core.errors import ServiceError
from hotline.core.roles import Role
from hotline.insight import custom_reports as custom
from hotline.insight.models import ReportSchedule
from hotline.insight.order_measures import MEASURES, RATES
from hotline.insight.order_reports import GROUP_LABELS, GROUPS
from hotline.insight.reports import MAX_RANGE_DAYS, ReportQuery, check_query
from hotline.insight.services import VIEWER_ROLES
from hotline.portal.report_views import show_report
from hotline.web.access import role_required
from hotline.web.forms import ANY, PortalForm, add_service_error, district_choices, set_choices


class CustomReportForm(PortalForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    group_by = forms.ChoiceField(label=gettext_lazy("Group by"),
                                 choices=[(g, GROUP_LABELS[g]) for g in GROUPS])
    columns = forms.MultipleChoiceField(
        label=gettext_lazy("Measures"), widget=forms.CheckboxSelectMultiple,
        choices=[(m.key, m.label) for m in MEASURES] + [(r.key, r.label) for r in RATES])
    days = forms.IntegerField(label=gettext_lazy("Days back"), min_value=1,
                              max_value=MAX_RANGE_DAYS, initial=30)
    type = forms.CharField(label=gettext_lazy("Type"), required=False, max_length=32)
    channel = forms.CharField(label=gettext_lazy("Channel"), required=False, max_length=32)
    district = forms.ChoiceField(label=gettext_lazy("District"), required=False)
    category = forms.CharField(label=gettext_lazy("Category code"), required=False,
                               max_length=32)
    unit = forms.CharField(label=gettext_lazy("Unit code"), required=False, max_length=32)
    shared_role = forms.ChoiceField(label=gettext_lazy("Share with role"), required=False)
    schedule = forms.ChoiceField(label=gettext_lazy("Mail it"), required=False,
                                 choices=ReportSchedule.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "district", ANY + district_choices())
        set_choices(self, "shared_role", [("", _("Nobody"))] + [
            (r.value, r.label) for r in Role if r.value in VIEWER_ROLES])

    def to_input(self) -> custom.CustomReportInput:
        d = self.cleaned_data
        return custom.CustomReportInput(
            name=d["name"], group_by=d["group_by"], columns=d["columns"],
            filters={k: d[k] for k in ("type", "channel", "district", "category", "unit")
                     if d.get(k)},
            days=d["days"], shared_role=d["shared_role"] or "", schedule=d["schedule"] or "")


@role_required(custom.may_build, roles=VIEWER_ROLES)
def custom_reports(request: HttpRequest) -> HttpResponse:
    form = CustomReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                report = custom.do_save_custom_report(request.user,  # type: ignore[arg-type]
                                                      form.to_input())
            except ServiceError as exc:
                add_service_error(form, exc)
            else:
                return redirect("insight:custom_report", pk=report.pk)
        status = 400
    return render(request, "insight/custom_reports.html", {
        "form": form,
        "reports": custom.visible_custom_reports(request.user),  # type: ignore[arg-type]
    }, status=status)


def _get(request: HttpRequest, pk: int) -> Any:
    try:
        return custom.get_custom_report(request.user, pk)  # type: ignore[arg-type]
    except ServiceError:
        raise Http404(str(pk)) from None


@role_required(custom.may_build, roles=VIEWER_ROLES)
def custom_report(request: HttpRequest, pk: int) -> HttpResponse:
    saved = _get(request, pk)
    definition = custom.definition_for(saved)

    def make_query(params: dict[str, str]) -> ReportQuery:
        if params.get("from") or params.get("to"):
            from hotline.insight.reports import query_from_params

            return query_from_params(definition, {**saved.filters, **params,
                                                  "group_by": saved.group_by})
        default = custom.query_for(saved)
        return check_query(definition, default.date_from, default.date_to,
                           {**saved.filters, **{k: v for k, v in params.items()
                                                if k in definition.filters}},
                           saved.group_by)

    return show_report(request, definition, make_query,
                       {"custom": saved, "owned": saved.owner_id == request.user.pk})


@require_POST
@role_required(custom.may_build, roles=VIEWER_ROLES)
def custom_report_delete(request: HttpRequest, pk: int) -> HttpResponse:
    saved = _get(request, pk)
    try:
        custom.do_delete_custom_report(request.user, saved)  # type: ignore[arg-type]
    except ServiceError as exc:
        return render(request, "insight/report.html", {"error": _(exc.message)}, status=403)
    return redirect("insight:custom_reports")
