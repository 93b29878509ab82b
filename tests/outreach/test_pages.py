"""The campaign and poll pages: the builder makes a campaign from an upload, the detail and
its JSON progress, actions, the export (neutralised, logged), the poll builder and results
with charts, the citizens' answering page by link (bad input 4xx, never 500)."""

from __future__ import annotations

import datetime as dt
import io
import wave
from typing import TYPE_CHECKING, Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from hotline.orders.models import AccessLog
from hotline.outreach import campaigns, polls
from hotline.outreach.campaign_recipients import Candidate
from hotline.outreach.models import Campaign, PollResponse

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_django.fixtures import Settings

    from tests.conftest import City


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(**kw: Any) -> dict[str, Any]:
    data = {"name": "停水通知", "topic": "outage", "channel": "voice",
            "message": "明天8点到12点停水。", "source": "upload", "per_minute": "30",
            "concurrent": "3", "max_attempts": "1", "daily_start": "08:00",
            "daily_end": "20:00", "since_days": "365"}
    data.update(kw)
    return data


def test_the_builder_makes_a_campaign_from_an_uploaded_list(city: City) -> None:
    client = client_for(city.admin)
    assert client.get("/outreach/campaigns/new/").status_code == 200
    upload = SimpleUploadedFile("list.csv", "电话,姓名\n13800001111,张三\n=1+1,坏\n".encode())
    r = client.post("/outreach/campaigns/new/", form(upload=upload))
    assert r.status_code == 400 and "3" in r.content.decode()  # line 3 is named
    upload = SimpleUploadedFile("list.csv", "13800001111,张三\n13800002222,=HYPERLINK()\n".encode())
    r = client.post("/outreach/campaigns/new/", form(upload=upload))
    assert r.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.recipients.count() == 2
    page = client.get(r["Location"]).content.decode()
    assert "138****1111" in page and "13800001111" not in page and "张*" in page
    assert 'src="/static/portal/campaign_progress.js"' in page
    progress = client.get(f"/outreach/campaigns/{campaign.pk}/progress/").json()
    assert progress["total"] == 2 and progress["pending"] == 2 and progress["state"] == "draft"
    r = client.post(f"/outreach/campaigns/{campaign.pk}/act/", {"action": "start"})
    assert r.status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == "running"
    r = client.post(f"/outreach/campaigns/{campaign.pk}/act/", {"action": "bogus"})
    assert r.status_code == 302  # a message, not a 500
    r = client.get(f"/outreach/campaigns/{campaign.pk}/export/")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert cells[0][1] == "13800001111" and cells[1][2] == "=HYPERLINK()"
    assert sheet.cell(row=3, column=3).quotePrefix  # shown as text, never run as a formula
    assert AccessLog.objects.filter(kind="export", detail__startswith="campaign").exists()


def test_bad_builder_input_is_a_4xx(city: City) -> None:
    client = client_for(city.admin)
    assert client.post("/outreach/campaigns/new/", {}).status_code == 400
    assert client.post("/outreach/campaigns/new/", form(source="district")).status_code == 400
    assert client.post("/outreach/campaigns/new/", form(source="category", category="x")
                       ).status_code == 400
    junk = SimpleUploadedFile("list.xlsx", b"PK\x03\x04 not a workbook")
    assert client.post("/outreach/campaigns/new/", form(upload=junk)).status_code == 400
    audio = SimpleUploadedFile("notice.wav", b"not audio at all")
    upload = SimpleUploadedFile("list.csv", b"13800001111\n")
    r = client.post("/outreach/campaigns/new/", form(channel="recording", recording=audio,
                                                     upload=upload))
    assert r.status_code == 400 and not Campaign.objects.exists()


def test_a_recorded_notice_is_stored_and_its_path_given_to_the_call(
        city: City, settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    data = io.BytesIO()
    with wave.open(data, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x01" * 8000)
    audio = SimpleUploadedFile("notice.wav", data.getvalue())
    upload = SimpleUploadedFile("list.csv", b"13800001111\n")
    r = client_for(city.admin).post("/outreach/campaigns/new/", form(
        channel="recording", message="", recording=audio, upload=upload,
        daily_start="00:00", daily_end="00:00"))  # all day: the test runs at any hour
    assert r.status_code == 302, r.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert (tmp_path / campaign.recording).exists()
    # At noon tomorrow, whatever the hour the test runs at (no call is released at night).
    noon = (timezone.localtime() + dt.timedelta(days=1)).replace(hour=12, minute=0)
    campaigns.do_campaign_action(city.admin, campaign.pk, "start", now=noon)
    campaigns.do_pace_campaigns(noon)
    call = campaign.recipients.get().call
    assert call is not None
    assert call.variables == {"notice": str(tmp_path / campaign.recording)}
    assert call.flow is not None
    assert call.flow["nodes"]["notice"]["prompt"][1] == {"recording": "notice"}


def test_other_roles_and_districts_do_not_see_campaigns(city: City) -> None:
    campaign = campaigns.do_create_campaign(
        city.admin, campaigns.CampaignInput(name="停水专项ZQ7781", channel="sms", message="通知"),
        [Candidate("13800001111", "", None, "upload")])
    for user in (city.agent, city.handler, city.leader):
        r = client_for(user).get(f"/outreach/campaigns/{campaign.pk}/")
        assert r.status_code == 403, user
    from hotline.core.roles import Role
    from hotline.directory.models import User

    sub = User.objects.create_user(username="sue", password="x", role=Role.MONITOR,
                                   unit=city.subcentre)
    assert client_for(sub).get(f"/outreach/campaigns/{campaign.pk}/").status_code == 404
    assert "ZQ7781" not in client_for(sub).get("/outreach/campaigns/").content.decode()
    assert client_for(city.monitor).get(f"/outreach/campaigns/{campaign.pk}/").status_code == 200


SPEC = "Q1 single: 您满意吗？\n- 满意\n- 不满意 -> Q3\nQ2 scale 1-5: 打分\nQ3 text: 意见\n"


def test_the_poll_builder_results_and_export(city: City) -> None:
    client = client_for(city.admin)
    assert "Q1 single" in client.get("/outreach/polls/new/").content.decode()
    r = client.post("/outreach/polls/new/", {"title": "满意度", "questions": "Q1 single: 好？\n- 好"})
    assert r.status_code == 400 and "Q1" in r.content.decode()
    r = client.post("/outreach/polls/new/", {"title": "满意度", "questions": SPEC,
                                             "public": "on"})
    assert r.status_code == 302
    poll = polls.visible_polls(city.admin).get()
    assert client.post(f"/outreach/polls/{poll.pk}/act/", {"action": "open"}).status_code == 302
    public = Client()
    url = f"/citizen/polls/{poll.token}/"
    page = public.get(url)
    assert page.status_code == 200 and "您满意吗" in page.content.decode()
    assert public.post(url, {"q_Q1": "9"}).status_code == 422
    assert public.post(url, {"q_Q1": "1"}).status_code == 422  # Q2 is on the path
    assert public.post(url, {"q_Q1": "2", "q_Q3": "<b>好</b>"}).status_code == 200
    assert public.post(url, {"q_Q1": "1", "q_Q2": "5"}).status_code == 200
    assert PollResponse.objects.count() == 2
    detail = client.get(f"/outreach/polls/{poll.pk}/").content.decode()
    assert "<svg" in detail and "1 (50%)" in detail and "&lt;b&gt;好&lt;/b&gt;" in detail
    r = client.get(f"/outreach/polls/{poll.pk}/export/")
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    assert sheet.max_row == 3
    assert AccessLog.objects.filter(kind="export", detail__startswith="poll").exists()
    # The questions of a poll with answers do not change.
    r = client.post(f"/outreach/polls/{poll.pk}/edit/", {"title": "满意度",
                                                         "questions": "Q1 text: 说"})
    assert r.status_code == 400
    client.post(f"/outreach/polls/{poll.pk}/act/", {"action": "close"})
    assert public.get(url).status_code == 404


def test_the_answering_page_refuses_robots_and_floods(city: City,
                                                      settings: Settings) -> None:
    settings.HOTLINE_POLL_ANSWERS_PER_ADDRESS = 2
    poll = polls.do_create_poll(city.admin, title="调查", intro="", spec=SPEC, public=True)
    polls.do_poll_action(city.admin, poll.pk, "open")
    public = Client()
    url = f"/citizen/polls/{poll.token}/"
    assert public.post(url, {"q_Q1": "2", "website": "x"}).status_code == 400
    assert public.post(url, {"q_Q1": "2"}).status_code == 200
    assert public.post(url, {"q_Q1": "2"}).status_code == 200
    assert public.post(url, {"q_Q1": "2"}).status_code == 429
    assert public.get("/citizen/polls/nope/").status_code == 404
    assert public.get("/citizen/polls/" + "x" * 40 + "/").status_code == 404
    # A poll that is not published has no public link.
    private = polls.do_create_poll(city.admin, title="内部", intro="", spec=SPEC, public=False)
    polls.do_poll_action(city.admin, private.pk, "open")
    assert public.get(f"/citizen/polls/{private.token}/").status_code == 404
