"""Fax campaigns on the database: an uploaded list of fax numbers, each recipient one
``OutboundFax`` in the gateways' queue (no order), released at the campaign's pace, the
do-not-call list honoured, the recipients following the faxes' outcomes (sent with its pages,
failed after the queue's retries), pause and cancel taking waiting faxes out of the queue, the
progress and the Excel export. The gateway's side is played by claim_fax + do_finish_fax here;
tests/voice/test_fax_campaign_send.py sends one over real SIP and T.30."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from hotline.contactcentre import faxes
from hotline.contactcentre.models import OutboundFax
from hotline.core.errors import InvalidInput
from hotline.orders.models import Contact
from hotline.outreach import campaigns
from hotline.outreach.campaign_recipients import Candidate, read_upload
from hotline.outreach.models import Campaign, DoNotCall, Recipient

if TYPE_CHECKING:
    from tests.conftest import City

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 12, 3, 12, 0, tzinfo=TZ)
pytestmark = pytest.mark.django_db
LETTER = "各单位：因管网检修，12月5日8时至18时东街片区停水，请提前储水。\n福州市12345热线"


def fax_campaign(**kw: Any) -> campaigns.CampaignInput:
    fields: dict[str, Any] = dict(name="停水通知（传真）", channel="fax", topic="outage",
                                  message=LETTER, subject="停水通知", per_minute=60,
                                  concurrent=2, max_attempts=1, daily_start=dt.time(8, 0),
                                  daily_end=dt.time(20, 0))
    fields.update(kw)
    return campaigns.CampaignInput(**fields)


def upload(*numbers: str) -> list[Candidate]:
    text = "传真号码,单位\n" + "".join(f"{n},单位{i}\n" for i, n in enumerate(numbers))
    return read_upload(io.BytesIO(text.encode()), "faxes.csv")


def started(city: City, numbers: tuple[str, ...], **kw: Any) -> Campaign:
    campaign = campaigns.do_create_campaign(city.admin, fax_campaign(**kw), upload(*numbers),
                                            now=NOON)
    campaigns.do_campaign_action(city.admin, campaign.pk, "start", now=NOON)
    return campaign


def pace(seconds: int = 60) -> None:
    for s in range(0, seconds, 5):
        campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=s))


def test_each_recipient_becomes_a_queued_fax_at_the_pace(city: City) -> None:
    DoNotCall.objects.create(phone="059100000003", added_at=NOON, reason="不收传真")
    campaign = started(city, ("0591-0000 0001", "059100000002", "059100000003"))
    blocked = campaign.recipients.get(address="059100000003")
    assert (blocked.status, blocked.detail) == ("blocked", "do-not-call")
    campaigns.do_pace_campaigns(NOON)
    campaigns.do_pace_campaigns(NOON)
    assert OutboundFax.objects.count() == 1  # 60 a minute: one a second
    pace()
    rows = list(OutboundFax.objects.order_by("pk"))
    assert [f.number for f in rows] == ["059100000001", "059100000002"]
    assert all(f.order_id is None and f.text == LETTER and f.title == "停水通知" for f in rows)
    assert campaigns.campaign_progress(campaign).by_status == {"queued": 2, "blocked": 1}


def test_the_recipients_follow_the_faxes_outcomes(city: City, monkeypatch: Any) -> None:
    monkeypatch.setattr(faxes, "RETRY_AFTER", dt.timedelta(0))
    campaign = started(city, ("059100000001", "059100000002"))
    pace()
    later = NOON + dt.timedelta(minutes=2)
    first = faxes.claim_fax("gw", now=later)
    assert first is not None and first.text == LETTER
    progress = campaigns.campaign_progress(campaign)
    assert progress.dialling == 1 and progress.done == 0
    faxes.do_finish_fax(first.id, ok=True, pages=2, now=later)
    for _attempt in range(faxes.MAX_ATTEMPTS):  # the second line is busy every time
        job = faxes.claim_fax("gw", now=later)
        assert job is not None
        faxes.do_finish_fax(job.id, ok=False, error="486 Busy Here", now=later)
    assert campaigns.do_follow_faxes(later) == 2
    assert campaigns.do_follow_faxes(later) == 0  # once
    by_number = {r.address: r for r in campaign.recipients.all()}
    sent, failed = by_number["059100000001"], by_number["059100000002"]
    assert (sent.status, sent.attempts, sent.result) == ("sent", 1, {"pages": 2})
    assert (failed.status, failed.attempts, failed.detail) == ("failed", 3, "486 Busy Here")
    campaigns.do_pace_campaigns(later)
    campaign.refresh_from_db()
    assert campaign.state == "finished" and campaigns.campaign_progress(campaign).percent == 100
    # No order, so no contact on one: the recipient row is the record.
    assert not Contact.objects.filter(channel="fax", direction="out").exists()


def test_pause_and_cancel_take_waiting_faxes_out_of_the_queue(city: City) -> None:
    campaign = started(city, ("059100000001", "059100000002"), per_minute=600)
    pace(10)
    assert OutboundFax.objects.filter(state="queued").count() == 2
    sending = faxes.claim_fax("gw", now=NOON + dt.timedelta(minutes=1))
    assert sending is not None
    campaigns.do_campaign_action(city.admin, campaign.pk, "pause", now=NOON)
    statuses = dict(campaign.recipients.values_list("fax_id", "status"))
    assert statuses[sending.id] == "queued"  # being sent: it goes on and is recorded
    waiting = Recipient.objects.get(campaign=campaign, status="pending")
    assert waiting.fax_id is None
    assert OutboundFax.objects.filter(state="failed", error="withdrawn with its campaign"
                                      ).count() == 1
    assert faxes.claim_fax("gw", now=NOON + dt.timedelta(minutes=1)) is None
    campaigns.do_campaign_action(city.admin, campaign.pk, "cancel", now=NOON)
    assert Recipient.objects.get(pk=waiting.pk).status == "cancelled"


def test_a_fax_campaign_goes_to_an_uploaded_list_and_asks_no_poll(city: City) -> None:
    with pytest.raises(InvalidInput):
        campaigns.do_create_campaign(city.admin, fax_campaign(),
                                     [Candidate("13800001111", "", None, "district")])
    with pytest.raises(InvalidInput):
        campaigns.do_create_campaign(city.admin, fax_campaign(message=""), upload("059100000001"))
    from hotline.outreach import polls

    poll = polls.do_create_poll(city.admin, title="满意度", intro="",
                                spec="Q1 single: 满意吗？\n- 满意\n- 不满意\n", public=False)
    polls.do_poll_action(city.admin, poll.pk, "open")
    with pytest.raises(InvalidInput):
        campaigns.do_create_campaign(city.admin, fax_campaign(poll_id=poll.pk),
                                     upload("059100000001"))


def test_the_excel_export_has_each_faxs_result(city: City) -> None:
    from tests.conftest import verify_second_factor

    campaign = started(city, ("059100000001",))
    pace()
    job = faxes.claim_fax("gw", now=NOON + dt.timedelta(minutes=2))
    assert job is not None
    faxes.do_finish_fax(job.id, ok=True, pages=1)
    campaigns.do_follow_faxes()
    client = Client()
    client.force_login(city.admin)
    verify_second_factor(client, city.admin)
    r = client.get(f"/outreach/campaigns/{campaign.pk}/export/")
    assert r.status_code == 200, r.content[:500]
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][1] == "059100000001" and "pages=1" in str(rows[1])
    assert any(str(cell) in ("Sent", "已发送") for cell in rows[1])


def test_the_builder_page_makes_a_fax_campaign_from_an_uploaded_list(city: City) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.outreach.test_pages import client_for, form

    client = client_for(city.admin)
    upload = SimpleUploadedFile("faxes.csv", "传真,单位\n0591-8765 4321,东街社区\n".encode())
    r = client.post("/outreach/campaigns/new/", form(channel="fax", upload=upload))
    assert r.status_code == 302, r.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert campaign.channel == "fax"
    assert list(campaign.recipients.values_list("address", flat=True)) == ["059187654321"]
    bad = client.post("/outreach/campaigns/new/", form(channel="fax", source="district",
                                                       district=city.gulou.pk))
    assert bad.status_code == 400 and Campaign.objects.count() == 1
