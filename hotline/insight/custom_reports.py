"""The custom report builder: pick a grouping and the measures and rates of the order
statistics, filter, save, share with a role, have it mailed.

A custom report runs exactly as a standard one: ``definition_for`` makes it a
``ReportDefinition`` over the same rollups (``order_reports.order_report``), so its page,
export and figures are those of the standard reports, always in the viewer's scope. The
mailing (``do_mail_due_reports``, the worker's "custom-report-mail" job) sends each recipient
the workbook computed in their own scope and logs it as an export.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.core.errors import Forbidden, InvalidInput, NotFound
from hotline.directory.models import User
from hotline.insight.models import CustomReport, ReportSchedule
from hotline.insight.order_measures import MEASURE_KEYS, RATE_BY_KEY
from hotline.insight.order_reports import (
    FILTERS,
    GROUPS,
    filter_condition,
    order_report,
)
from hotline.insight.report_export import report_workbook
from hotline.insight.reports import (
    MAX_RANGE_DAYS,
    ChartKind,
    ReportDefinition,
    ReportQuery,
    check_query,
    compare,
)
from hotline.insight.services import VIEWER_ROLES
from hotline.orders.access_log import AccessKind, do_log_access

COLUMN_KEYS: tuple[str, ...] = (*MEASURE_KEYS, *RATE_BY_KEY)
MAX_COLUMNS = 12


@dataclass(frozen=True)
class CustomReportInput:
    name: str
    group_by: str
    columns: Sequence[str]
    filters: Mapping[str, str]
    days: int = 30
    shared_role: str = ""
    schedule: str = ""


def may_build(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active
                and (user.is_superuser or user.role in VIEWER_ROLES))


def check_custom_report(data: CustomReportInput) -> CustomReportInput:
    name = data.name.strip()
    if not name:
        raise InvalidInput(gettext_noop("Give the report a name."), field="name")
    if data.group_by not in GROUPS:
        raise InvalidInput(gettext_noop("This report cannot be grouped that way."),
                           field="group_by")
    columns = list(dict.fromkeys(data.columns))
    if not columns or len(columns) > MAX_COLUMNS or any(c not in COLUMN_KEYS for c in columns):
        raise InvalidInput(gettext_noop("Pick one to twelve of the measures listed."),
                           field="columns")
    filters = {k: v for k, v in data.filters.items() if v}
    if set(filters) - set(FILTERS):
        raise InvalidInput(gettext_noop("This report has no such filter."), field="filters")
    filter_condition(filters)  # unknown codes are refused now, not at every run
    if not 1 <= data.days <= MAX_RANGE_DAYS:
        raise InvalidInput(gettext_noop("The range may not exceed three years."), field="days")
    if data.shared_role and data.shared_role not in VIEWER_ROLES:
        raise InvalidInput(gettext_noop("Reports can be shared with the roles that run "
                                        "reports."), field="shared_role")
    if data.schedule not in ReportSchedule.values:
        raise InvalidInput(gettext_noop("Unknown schedule."), field="schedule")
    return CustomReportInput(name[:80], data.group_by, columns, filters, data.days,
                             data.shared_role, data.schedule)


def do_save_custom_report(user: User, data: CustomReportInput,
                          report: CustomReport | None = None) -> CustomReport:
    if not may_build(user):
        raise Forbidden(gettext_noop("Your role may not run this report."))
    clean = check_custom_report(data)
    if report is not None and report.owner_id != user.pk:
        raise Forbidden(gettext_noop("Only its owner changes a report."))
    report = report or CustomReport(owner=user)
    report.name, report.group_by, report.columns = clean.name, clean.group_by, list(clean.columns)
    report.filters, report.days = dict(clean.filters), clean.days
    report.shared_role, report.schedule = clean.shared_role, clean.schedule
    report.save()
    return report


def do_delete_custom_report(user: User, report: CustomReport) -> None:
    if report.owner_id != user.pk:
        raise Forbidden(gettext_noop("Only its owner changes a report."))
    report.delete()


def visible_custom_reports(user: User) -> QuerySet[CustomReport]:
    if not may_build(user):
        return CustomReport.objects.none()
    shared = Q(shared_role=user.role) & ~Q(shared_role="")
    return CustomReport.objects.filter(Q(owner=user) | shared).select_related("owner")


def get_custom_report(user: User, pk: int) -> CustomReport:
    report = visible_custom_reports(user).filter(pk=pk).first()
    if report is None:
        raise NotFound(gettext_noop("No such report."))
    return report


def definition_for(report: CustomReport) -> ReportDefinition:
    columns = tuple(c for c in report.columns if c in COLUMN_KEYS)
    return ReportDefinition(
        name=f"custom-{report.pk}", title=report.name, description="",
        compute=order_report(columns), roles=VIEWER_ROLES, filters=FILTERS,
        group_by=(report.group_by,), chart=ChartKind.BAR, chart_columns=columns[:3],
        section="custom")


def query_for(report: CustomReport, today: dt.date | None = None) -> ReportQuery:
    """The saved range: the ``days`` days ending yesterday (a mailed report shows whole days)."""
    end = (today or timezone.localdate()) - dt.timedelta(days=1)
    return check_query(definition_for(report), end - dt.timedelta(days=report.days - 1), end,
                       report.filters, report.group_by)


def _period_start(schedule: str, today: dt.date) -> dt.date:
    if schedule == ReportSchedule.WEEKLY:
        return today - dt.timedelta(days=today.weekday())
    if schedule == ReportSchedule.MONTHLY:
        return today.replace(day=1)
    return today


def is_due(report: CustomReport, now: dt.datetime) -> bool:
    if not report.schedule:
        return False
    today = timezone.localdate(now)
    if report.schedule == ReportSchedule.WEEKLY and today.weekday() != 0 and \
            report.last_sent_at is None:
        return False  # first mailing on a Monday
    if report.schedule == ReportSchedule.MONTHLY and today.day != 1 and \
            report.last_sent_at is None:
        return False
    if report.last_sent_at is None:
        return True
    return timezone.localdate(report.last_sent_at) < _period_start(report.schedule, today)


def recipients(report: CustomReport) -> list[User]:
    users = [report.owner]
    if report.shared_role:
        users += list(User.objects.filter(role=report.shared_role, is_active=True)
                      .exclude(pk=report.owner_id))
    return [u for u in users if u.is_active and u.email and may_build(u)]


def _mail(report: CustomReport, user: User, today: dt.date) -> None:
    definition = definition_for(report)
    query = query_for(report, today)
    workbook = report_workbook(definition, compare(user, definition, query))
    do_log_access(user, AccessKind.EXPORT,
                  detail=f"mailed custom report {report.pk} {query.date_from}..{query.date_to}")
    mail = EmailMessage(subject=f"{report.name} {query.date_from} – {query.date_to}",
                        body=f"{report.name}: {query.date_from} – {query.date_to}",
                        from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email])
    mail.attach(f"report-{report.pk}-{query.date_from}.xlsx", workbook,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    mail.send()


def do_mail_due_reports(now: dt.datetime | None = None) -> int:
    """Mail every scheduled report whose period has come; returns how many were mailed. Each
    report is locked while it is mailed (a second worker skips it) and marked sent with it."""
    now = now or timezone.now()
    sent = 0
    for pk in CustomReport.objects.exclude(schedule="").values_list("pk", flat=True):
        with transaction.atomic():
            report = (CustomReport.objects.select_for_update(skip_locked=True)
                      .select_related("owner").filter(pk=pk).first())
            if report is None or not is_due(report, now):
                continue
            for user in recipients(report):
                _mail(report, user, timezone.localdate(now))
            report.last_sent_at = now
            report.save(update_fields=["last_sent_at"])
            sent += 1
    return sent

