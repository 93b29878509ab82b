"""The hot-issue page (/insight/) for the centre, leaders, auditors, sub-centres and
department administrators; each sees the orders in their own scope. Thin: the form reads the
filters, ``services.hot_issues`` does the work, ``chart.line_chart`` draws the trend."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from hotline.core.errors import ServiceError
from hotline.insight.chart import line_chart
from hotline.insight.services import VIEWER_ROLES, Report, may_view_hot_issues
from hotline.insight.snapshots import report_for
from hotline.portal.insight_forms import HotIssuesForm
from hotline.web.access import role_required

CHART_SERIES = 5


def _chart(report: Report) -> str:
    labels = [timezone.localtime(d).strftime("%m-%d") for d in report.day_starts]
    series = [(issue.label or issue.title, issue.trend) for issue in report.issues[:CHART_SERIES]]
    return line_chart(series, labels, title=_("Orders per day of the largest hot issues"))


@role_required(may_view_hot_issues, roles=VIEWER_ROLES)
def hot_issues_page(request: HttpRequest) -> HttpResponse:
    form = HotIssuesForm(request.GET or {"period": "7"})
    context: dict[str, Any] = {"form": form, "report": None}
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            report = report_for(request.user, form.window(),  # type: ignore[arg-type]
                                district=data["district"], category=data["category"])
        except ServiceError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            context["report"] = report
            context["chart"] = mark_safe(_chart(report))  # noqa: S308 - escaped by line_chart
            context["range_end"] = report.window.end - dt.timedelta(seconds=1)
    else:
        status = 400
    return render(request, "insight/hot_issues.html", context, status=status)
