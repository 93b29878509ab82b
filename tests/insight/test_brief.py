"""The weekly brief (市长电话要情): its figures against the week before, the PDF (text read
back), the Monday job that makes and emails it once, the archive pages and the API."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from typing import Any

import pypdf
import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from hotline.core.errors import InvalidInput
from hotline.insight import brief as briefs
from hotline.insight.brief_models import WeeklyBrief
from hotline.orders.models import AccessKind, AccessLog
from tests.api.conftest import ApiClient
from tests.orders.helpers import new_order

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
W48 = dt.date(2026, 11, 23)  # Monday of 2026-W48

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


@pytest.fixture
def weeks(city: Any) -> Any:
    with time_machine.travel(at(W48 - dt.timedelta(days=5)), tick=False):
        new_order(city.agent, title="上周的停水")
    with time_machine.travel(at(W48 + dt.timedelta(days=1)), tick=False):
        for n in range(3):
            new_order(city.agent, title=f"本周停水{n}", citizen_name="王秘密",
                      citizen_phone="13955550000")
        new_order(city.agent, type="report", title="举报某单位违规收费", confidential=True)
    city.leader.email = "leo@city.example"
    city.leader.save()
    return city


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_weeks_are_written_as_iso_weeks() -> None:
    assert briefs.parse_week("2026-W48") == W48 and briefs.week_label(W48) == "2026-W48"
    for bad in ("2026-48", "2026-W54", "W48", ""):
        with pytest.raises(InvalidInput):
            briefs.parse_week(bad)
    assert briefs.last_complete_week(at(dt.date(2026, 12, 2))) == W48


def test_the_figures_compare_with_the_week_before(weeks: Any) -> None:
    data = briefs.gather(W48)
    received = next(f for f in data.figures if f.label == "Requests received")
    assert (received.this_week, received.last_week, received.change) == (4, 1, "+300.0%")
    assert data.week == "2026-W48" and data.end == dt.date(2026, 11, 29)


def test_the_pdf_shows_the_week_and_names_no_citizen(weeks: Any, tmp_path: Any,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    with time_machine.travel(at(dt.date(2026, 12, 1)), tick=False):
        brief = briefs.do_make_brief(W48)
    pdf = bytes(brief.pdf)
    (tmp_path / "brief.pdf").write_bytes(pdf)  # to look at: pytest --basetemp=DIR
    assert pdf.startswith(b"%PDF")
    assert "hot issues failed" not in caplog.text
    text = pdf_text(pdf)
    assert "2026-W48" in text and "12345" in text
    assert "王秘密" not in text and "13955550000" not in text
    assert "举报某单位" not in text
    assert brief.figures["figures"][0]["this_week"] == 4


def test_a_week_not_begun_is_refused(weeks: Any) -> None:
    with time_machine.travel(at(dt.date(2026, 12, 1)), tick=False), pytest.raises(InvalidInput):
        briefs.do_make_brief(dt.date(2026, 12, 7))
    with time_machine.travel(at(dt.date(2026, 12, 1)), tick=False), pytest.raises(InvalidInput):
        briefs.do_make_brief(dt.date(2026, 11, 24))  # not a Monday


def test_the_monday_job_makes_and_emails_once(weeks: Any) -> None:
    monday = dt.date(2026, 11, 30)
    assert briefs.do_weekly_brief_job(at(monday, 6)) == "waiting for Monday morning"
    assert not WeeklyBrief.objects.exists()
    assert briefs.do_weekly_brief_job(at(monday, 8)) == "2026-W48: emailed to 1"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.bcc == ["leo@city.example"] and "2026-W48" in message.subject
    name, content, kind = message.attachments[0]
    assert name == "12345-brief-2026-W48.pdf" and kind == "application/pdf"
    assert bytes(content).startswith(b"%PDF")
    assert briefs.do_weekly_brief_job(at(monday, 9)) == "2026-W48: done"
    assert len(mail.outbox) == 1 and WeeklyBrief.objects.count() == 1


def test_the_archive_pages(weeks: Any) -> None:
    leader, agent, admin = Client(), Client(), Client()
    leader.force_login(weeks.leader)
    agent.force_login(weeks.agent)
    admin.force_login(weeks.admin)
    assert agent.get(reverse("briefs:archive")).status_code == 403
    with time_machine.travel(at(dt.date(2026, 12, 1)), tick=True):
        made = admin.post(reverse("briefs:make"), {"week": "2026-W48"})
        assert made.status_code == 302
        assert admin.post(reverse("briefs:make"), {"week": "next"}).status_code == 302
        assert leader.post(reverse("briefs:make"), {"week": "2026-W48"}).status_code == 302
        _the_archive_shows_and_opens(weeks, leader)


def _the_archive_shows_and_opens(weeks: Any, leader: Client) -> None:
    page = leader.get(reverse("briefs:archive")).content.decode()
    assert "2026-W48" in page and reverse("briefs:pdf", args=["2026-W48"]) in page
    opened = leader.get(reverse("briefs:pdf", args=["2026-W48"]))
    assert opened.status_code == 200 and opened["Content-Type"] == "application/pdf"
    assert AccessLog.objects.filter(kind=AccessKind.EXPORT, user=weeks.leader).exists()
    assert leader.get(reverse("briefs:pdf", args=["2026-W40"])).status_code == 404
    assert leader.get(reverse("briefs:pdf", args=["junk"])).status_code == 404


def test_the_api_returns_the_pdf(weeks: Any) -> None:
    with time_machine.travel(at(dt.date(2026, 12, 1)), tick=True):
        got = ApiClient(weeks.leader).get("/briefs/weekly?week=2026-W48")
        assert got.status_code == 200 and got.content.startswith(b"%PDF")
        assert ApiClient(weeks.leader).get("/briefs/weekly?week=2026-W49").status_code == 422
        assert ApiClient(weeks.leader).get("/briefs/weekly?week=x").status_code == 422
        assert ApiClient(weeks.handler).get("/briefs/weekly?week=2026-W48").status_code == 403
        assert ApiClient().get("/briefs/weekly?week=2026-W48").status_code == 401
