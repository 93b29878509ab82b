"""The custom report builder: validation, the pages, sharing with a role (each viewer in their
own scope), the owner-only deletion and the scheduled mail."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from hotline.core.errors import Forbidden, InvalidInput
from hotline.insight.custom_reports import (
    CustomReportInput,
    do_mail_due_reports,
    do_save_custom_report,
    is_due,
    visible_custom_reports,
)
from hotline.insight.models import CustomReport
from hotline.insight.rollups import rebuild_order_rollups
from hotline.orders.access_log import AccessKind
from hotline.orders.models import AccessLog
from tests.insight.test_order_reports import Story, story  # noqa: F401 - the fixture


def _input(**extra: Any) -> CustomReportInput:
    fields: dict[str, Any] = dict(name="各单位办理情况", group_by="unit",
                                  columns=["received", "sign_rate"], filters={}, days=7)
    fields.update(extra)
    return CustomReportInput(**fields)


@pytest.mark.parametrize(("bad", "field"), [
    ({"name": " "}, "name"), ({"group_by": "colour"}, "group_by"),
    ({"columns": ["received", "nonsense"]}, "columns"), ({"columns": []}, "columns"),
    ({"filters": {"district": "atlantis"}}, "district"), ({"filters": {"x": "1"}}, "filters"),
    ({"days": 0}, "days"), ({"days": 5000}, "days"), ({"shared_role": "security_admin"},
                                                      "shared_role"),
    ({"schedule": "hourly"}, "schedule"),
])
def test_a_custom_report_is_checked_before_it_is_saved(city: Any, bad: dict[str, Any],
                                                       field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        do_save_custom_report(city.leader, _input(**bad))
    assert info.value.field == field
    assert not CustomReport.objects.exists()


def test_build_run_export_share_and_delete(city: Any, story: Story, client: Client) -> None:  # noqa: F811
    rebuild_order_rollups()
    client.force_login(city.leader)
    assert client.get("/insight/reports/custom/").status_code == 200
    created = client.post("/insight/reports/custom/", {
        "name": "水务考核", "group_by": "unit", "columns": ["received", "return_rate"],
        "days": "7", "district": "gulou", "shared_role": "dept_admin", "schedule": ""})
    assert created.status_code == 302
    saved = CustomReport.objects.get()
    assert saved.filters == {"district": "gulou"} and saved.owner == city.leader
    page = client.get(f"/insight/reports/custom/{saved.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "水务考核" in html and "<svg" in html and 'id="custom-delete"' in html
    assert page.context["table"]["totals"]["cells"][1]["text"] == "3"  # gulou this week
    export = client.get(f"/insight/reports/custom/{saved.pk}/", {"format": "xlsx"})
    assert export.status_code == 200
    assert load_workbook(io.BytesIO(export.content)).active["A1"].value == "Lead unit"
    bad = client.post("/insight/reports/custom/", {"name": "x", "group_by": "unit",
                                                   "columns": ["received"], "days": "7",
                                                   "district": "", "unit": "nowhere"})
    assert bad.status_code == 400 and CustomReport.objects.count() == 1

    # The department administrator of the shared role runs it in their own scope.
    client.force_login(city.dept_admin)
    assert saved in visible_custom_reports(city.dept_admin)
    theirs = client.get(f"/insight/reports/custom/{saved.pk}/")
    assert theirs.status_code == 200 and 'id="custom-delete"' not in theirs.content.decode()
    rows = theirs.context["table"]["rows"]
    assert all(r["cells"][0]["text"] == city.dept_admin.unit.name for r in rows)
    assert client.post(f"/insight/reports/custom/{saved.pk}/delete/").status_code == 403
    # Not shared with auditors: not there for them.
    client.force_login(city.auditor)
    assert client.get(f"/insight/reports/custom/{saved.pk}/").status_code == 404
    client.force_login(city.leader)
    assert client.post(f"/insight/reports/custom/{saved.pk}/delete/").status_code == 302
    assert not CustomReport.objects.exists()


def test_only_the_owner_changes_a_report(city: Any) -> None:
    report = do_save_custom_report(city.leader, _input())
    with pytest.raises(Forbidden):
        do_save_custom_report(city.auditor, _input(name="mine"), report)
    with pytest.raises(Forbidden):
        do_save_custom_report(city.handler, _input())  # handlers run no order report


def test_scheduled_reports_are_mailed_once_per_period_to_each_recipient(
        city: Any, story: Story) -> None:  # noqa: F811
    rebuild_order_rollups()
    city.leader.email = "leader@example.org"
    city.leader.save(update_fields=["email"])
    city.dept_admin.email = "water@example.org"
    city.dept_admin.save(update_fields=["email"])
    report = do_save_custom_report(city.leader, _input(schedule="daily",
                                                       shared_role="dept_admin"))
    # Noon today, so an hour later is still the same local day whenever the test runs.
    now = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12)))
    assert do_mail_due_reports(now) == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["leader@example.org", "water@example.org"]
    attachment = mail.outbox[0].attachments[0]
    assert attachment[0].endswith(".xlsx") and load_workbook(io.BytesIO(attachment[1]))
    assert AccessLog.objects.filter(kind=AccessKind.EXPORT,
                                    detail__startswith="mailed custom report").count() == 2
    assert do_mail_due_reports(now + dt.timedelta(hours=1)) == 0  # not twice the same day
    report.refresh_from_db()
    assert is_due(report, now + dt.timedelta(days=1))
    weekly = do_save_custom_report(city.leader, _input(schedule="weekly"))
    monday = now - dt.timedelta(days=timezone.localdate(now).weekday())
    assert is_due(weekly, monday) and not is_due(weekly, monday + dt.timedelta(days=1))
    weekly.last_sent_at = monday
    assert not is_due(weekly, monday + dt.timedelta(days=3))
    assert is_due(weekly, monday + dt.timedelta(days=7))
