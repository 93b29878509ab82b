"""Campaigns end to end on the database: choosing recipients (and never a reporter for anyone
but the centre), uploads, the pacer releasing calls at the pace, the gateway's side played by
claim_call + do_finish_attempt, pause/resume/cancel, SMS and poll campaigns, progress."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from typing import TYPE_CHECKING, Any

import pytest
from openpyxl import Workbook

from hotline.core.errors import Conflict, InvalidInput
from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.intake.models import SmsOptOut
from hotline.intake.sms.outbound import LOG_OUTBOX
from hotline.outreach import calls, campaigns, polls
from hotline.outreach.campaign_recipients import Candidate, Choice, candidates, read_upload
from hotline.outreach.models import (
    Campaign,
    OutboundCall,
    PollResponse,
    Recipient,
)
from tests.api.conftest import new_order

if TYPE_CHECKING:
    from tests.conftest import City

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 12, 3, 12, 0, tzinfo=TZ)


@pytest.fixture
def sub_monitor(city: City) -> User:
    return User.objects.create_user(username="sue", password="pw-sue", role=Role.MONITOR,
                                    unit=city.subcentre, display_name="鼓楼班长")


def numbers(n: int, start: int = 13900000000) -> list[Candidate]:
    return [Candidate(str(start + i), f"市民{i}", None, "upload") for i in range(n)]


def voice(**kw: Any) -> campaigns.CampaignInput:
    fields: dict[str, Any] = dict(name="停水通知", channel="voice", topic="outage",
                                  message="明天8点到12点停水。", per_minute=60, concurrent=2,
                                  max_attempts=1, daily_start=dt.time(8, 0),
                                  daily_end=dt.time(20, 0))
    fields.update(kw)
    return campaigns.CampaignInput(**fields)


def answer(call_id: int, vars: dict[str, str] | None = None, outcome: str = "answered",
           at: dt.datetime = NOON) -> None:
    """The gateway's side: the attempt ends with ``outcome``; the owner is told."""
    calls.do_finish_attempt(call_id, outcome, answered_at=at if outcome == "answered" else None,
                            result={"vars": vars or {}, "path": []}, now=at)
    calls.do_tell_owners()


def test_past_callers_of_a_category_never_include_a_reporter_for_a_sub_centre(
        city: City, sub_monitor: User) -> None:
    new_order(city, citizen_phone="13812341234", citizen_name="张三")
    new_order(city, type="report", citizen_phone="13955556666", citizen_name="李四",
              title="举报偷排", text="有人偷排污水")
    centre = candidates(city.admin, Choice(source="category", category_id=city.cat_water.pk))
    by_phone = {c.address: c for c in centre}
    assert set(by_phone) == {"13812341234", "13955556666"}
    assert by_phone["13955556666"].confidential and not by_phone["13812341234"].confidential
    sub = candidates(sub_monitor, Choice(source="category", category_id=city.cat_water.pk))
    assert [c.address for c in sub] == ["13812341234"]
    by_district = candidates(sub_monitor, Choice(source="district", district_id=city.gulou.pk))
    assert [c.address for c in by_district] == ["13812341234"]
    with pytest.raises(InvalidInput):
        candidates(sub_monitor, Choice(source="district", district_id=city.taijiang.pk))


def test_tags_and_streets(city: City) -> None:
    order = new_order(city, citizen_phone="13812341234")
    order.citizen.tags = ["elderly"]
    order.citizen.save()
    new_order(city, citizen_phone="13812349999")
    found = candidates(city.admin, Choice(source="tag", tag="elderly"))
    assert [c.address for c in found] == ["13812341234"]
    with pytest.raises(InvalidInput):
        candidates(city.admin, Choice(source="tag", tag="nope"))
    assert candidates(city.admin, Choice(source="street", street_id=city.street.pk)) == []


def test_uploads_are_read_deduplicated_and_checked() -> None:
    text = "phone,name\n138-0000-1111,张三\n13800001111,重复\n13800002222,李四\n"
    found = read_upload(io.BytesIO(text.encode()), "list.csv")
    from hotline.outreach.campaign_recipients import dedupe

    assert [(c.address, c.name) for c in dedupe(found)] == [("13800001111", "张三"),
                                                            ("13800002222", "李四")]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["电话", "姓名"])
    sheet.append([13800003333, "王五"])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    assert [c.address for c in read_upload(data, "list.xlsx")] == ["13800003333"]
    with pytest.raises(InvalidInput) as error:
        read_upload(io.BytesIO(b"13800001111\nabc\n12\n"), "x.csv")
    assert "2, 3" in error.value.message
    with pytest.raises(InvalidInput):
        read_upload(io.BytesIO(b"PK\x03\x04junk"), "list.xlsx")
    with pytest.raises(InvalidInput):
        read_upload(io.BytesIO(b"x"), "list.txt")


def test_the_pacer_releases_at_the_pace_within_the_concurrent_limit(city: City) -> None:
    calls.do_block_number(None, "13900000003")
    campaign = campaigns.do_create_campaign(city.admin, voice(), numbers(5), now=NOON)
    blocked = campaign.recipients.get(address="13900000003")
    assert blocked.status == Recipient.Status.BLOCKED and blocked.detail == "do-not-call"
    assert campaigns.do_pace_campaigns(NOON) == 0  # a draft releases nothing
    campaigns.do_campaign_action(city.admin, campaign.pk, "start", now=NOON)
    assert campaigns.do_pace_campaigns(NOON) == 1
    assert campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=0.5)) == 0  # 1 a second
    assert campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=1)) == 1
    # Two in flight: the third waits though its slot is due.
    assert campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=2)) == 0
    first = calls.claim_call("gw", NOON + dt.timedelta(seconds=2))
    assert first is not None and first.purpose == "campaign" and first.mode == "ivr"
    assert first.flow["nodes"]["notice"]["prompt"][1] == "明天8点到12点停水。"
    answer(first.id, {"ack": "2"}, at=NOON + dt.timedelta(seconds=2))
    progress = campaigns.campaign_progress(campaign)
    assert progress.by_status["answered"] == 1 and progress.released == 2
    assert campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=3)) == 1
    second = calls.claim_call("gw", NOON + dt.timedelta(seconds=3))
    assert second is not None
    assert campaigns.campaign_progress(campaign).dialling == 1
    answer(second.id, outcome="busy", at=NOON + dt.timedelta(seconds=4))
    third = calls.claim_call("gw", NOON + dt.timedelta(seconds=4))
    assert third is not None
    answer(third.id, outcome="no_answer", at=NOON + dt.timedelta(seconds=5))
    assert campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=6)) == 1
    fourth = calls.claim_call("gw", NOON + dt.timedelta(seconds=6))
    assert fourth is not None
    answer(fourth.id, outcome="failed", at=NOON + dt.timedelta(seconds=7))
    campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=8))
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.FINISHED
    done = campaigns.campaign_progress(campaign).as_dict()
    assert {k: done[k] for k in ("answered", "busy", "no_answer", "failed", "blocked")} == {
        "answered": 1, "busy": 1, "no_answer": 1, "failed": 1, "blocked": 1}
    assert done["percent"] == 100
    heard = campaign.recipients.get(status=Recipient.Status.ANSWERED)
    assert heard.result == {"ack": "2"} and heard.attempts == 1


def test_nothing_is_released_outside_the_daily_window(city: City) -> None:
    campaign = campaigns.do_create_campaign(
        city.admin, voice(daily_start=dt.time(14, 0), daily_end=dt.time(16, 0)), numbers(2),
        now=NOON)
    campaigns.do_campaign_action(city.admin, campaign.pk, "start", now=NOON)
    assert campaigns.do_pace_campaigns(NOON) == 0
    assert campaigns.do_pace_campaigns(NOON + dt.timedelta(hours=2)) == 1


def test_no_call_is_released_in_quiet_hours_whatever_the_window(city: City) -> None:
    night = NOON.replace(hour=22)
    campaign = campaigns.do_create_campaign(
        city.admin, voice(daily_start=dt.time(0, 0), daily_end=dt.time(0, 0)), numbers(2),
        now=night)
    campaigns.do_campaign_action(city.admin, campaign.pk, "start", now=night)
    assert campaigns.do_pace_campaigns(night) == 0
    assert campaigns.do_pace_campaigns(night + dt.timedelta(hours=9)) == 0  # 07:00: still quiet
    morning = night + dt.timedelta(hours=10)
    assert campaigns.do_pace_campaigns(morning) == 1  # 08:00, at the pace: one, not a pile
    assert campaigns.do_pace_campaigns(morning + dt.timedelta(seconds=1)) == 1


def test_pause_withdraws_queued_calls_and_resume_releases_them_again(city: City) -> None:
    campaign = campaigns.do_create_campaign(city.admin, voice(concurrent=5), numbers(3),
                                            now=NOON)
    campaigns.do_campaign_action(city.admin, campaign.pk, "start", now=NOON)
    campaigns.do_pace_campaigns(NOON)
    campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=1))
    dialling = calls.claim_call("gw", NOON + dt.timedelta(seconds=1))
    assert dialling is not None
    campaigns.do_campaign_action(city.admin, campaign.pk, "pause",
                                 now=NOON + dt.timedelta(seconds=2))
    statuses = dict(campaign.recipients.values_list("status").annotate(
        n=__import__("django.db.models", fromlist=["Count"]).Count("pk")))
    assert statuses == {"queued": 1, "pending": 2}  # the one being dialled goes on
    assert campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=5)) == 0
    with pytest.raises(Conflict):
        campaigns.do_campaign_action(city.admin, campaign.pk, "pause")
    campaigns.do_campaign_action(city.admin, campaign.pk, "resume",
                                 now=NOON + dt.timedelta(seconds=10))
    assert campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=10)) == 1
    campaigns.do_campaign_action(city.admin, campaign.pk, "cancel",
                                 now=NOON + dt.timedelta(seconds=11))
    answer(dialling.id, at=NOON + dt.timedelta(seconds=12))
    counts = campaigns.campaign_progress(campaign).by_status
    assert counts == {"answered": 1, "cancelled": 2}
    assert not OutboundCall.objects.filter(state=OutboundCall.State.QUEUED).exists()


def test_the_stop_time_ends_the_campaign(city: City) -> None:
    campaign = campaigns.do_create_campaign(
        city.admin, voice(starts_at=NOON + dt.timedelta(minutes=5),
                          ends_at=NOON + dt.timedelta(minutes=10)), numbers(3), now=NOON)
    campaigns.do_campaign_action(city.admin, campaign.pk, "start", now=NOON)
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SCHEDULED
    campaigns.do_pace_campaigns(NOON + dt.timedelta(minutes=5))
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.RUNNING
    assert campaigns.do_pace_campaigns(NOON + dt.timedelta(minutes=5)) == 1
    campaigns.do_pace_campaigns(NOON + dt.timedelta(minutes=10))
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.FINISHED
    assert campaigns.campaign_progress(campaign).by_status == {"expired": 3}


def test_an_sms_campaign_honours_opt_out(city: City) -> None:
    SmsOptOut.objects.create(phone="13900000001", at=NOON, text="TD")
    LOG_OUTBOX.clear()
    campaign = campaigns.do_create_campaign(
        city.admin, voice(channel="sms", message="【12345】明天停水。", per_minute=600),
        numbers(3), now=NOON)
    campaigns.do_campaign_action(city.admin, campaign.pk, "start", now=NOON)
    for s in range(3):
        campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=s))
    assert campaigns.campaign_progress(campaign).by_status == {"sent": 2, "blocked": 1}
    assert sorted(m.phone for m in LOG_OUTBOX) == ["13900000000", "13900000002"]


POLL = "Q1 single: 您对停水通知是否满意？\n- 满意\n- 不满意 -> end\nQ2 scale 1-5: 打分\nQ3 text: 意见\n"


def test_a_poll_campaign_by_phone_records_the_keypad_answers(city: City) -> None:
    poll = polls.do_create_poll(city.admin, title="停水满意度", intro="", spec=POLL, public=False)
    with pytest.raises(InvalidInput):  # a draft poll cannot be sent
        campaigns.do_create_campaign(city.admin, voice(poll_id=poll.pk), numbers(1))
    polls.do_poll_action(city.admin, poll.pk, "open")
    campaign = campaigns.do_create_campaign(city.admin, voice(poll_id=poll.pk, message=""),
                                            numbers(2), now=NOON)
    campaigns.do_campaign_action(city.admin, campaign.pk, "start", now=NOON)
    campaigns.do_pace_campaigns(NOON)
    job = calls.claim_call("gw", NOON)
    assert job is not None and job.purpose == "poll" and "q_Q1" in job.flow["nodes"]
    answer(job.id, {"q_Q1": "1", "q_Q2": "4"})
    response = PollResponse.objects.get()
    assert response.channel == "ivr" and response.answers == {"Q1": "1", "Q2": "4"}
    assert response.complete
    results = polls.poll_results(poll)
    assert results.responses == 1 and results.questions[1].mean == 4.0
    assert results.questions[0].counts == [("1", "满意", 1), ("2", "不满意", 0)]


def test_a_poll_by_sms_sends_each_recipient_their_link_answered_once(city: City) -> None:
    poll = polls.do_create_poll(city.admin, title="停水满意度", intro="", spec=POLL, public=False)
    polls.do_poll_action(city.admin, poll.pk, "open")
    LOG_OUTBOX.clear()
    campaign = campaigns.do_create_campaign(
        city.admin, voice(channel="sms", poll_id=poll.pk, message=""), numbers(1), now=NOON)
    campaigns.do_campaign_action(city.admin, campaign.pk, "start", now=NOON)
    campaigns.do_pace_campaigns(NOON)
    recipient = campaign.recipients.get()
    (sms,) = LOG_OUTBOX
    assert f"/citizen/polls/{recipient.token}/" in sms.text
    answering = polls.answering_by_token(recipient.token)
    polls.do_answer_poll(answering, {"Q1": "2"})
    assert polls.already_answered(answering)
    with pytest.raises(Conflict):
        polls.do_answer_poll(answering, {"Q1": "2"})
    assert PollResponse.objects.get().channel == "sms"
    polls.do_poll_action(city.admin, poll.pk, "close")
    from hotline.core.errors import NotFound

    with pytest.raises(NotFound):
        polls.answering_by_token(recipient.token)


def test_who_may_run_campaigns(city: City, sub_monitor: User) -> None:
    assert campaigns.may_run_campaigns(city.admin) and campaigns.may_run_campaigns(sub_monitor)
    assert not campaigns.may_run_campaigns(city.agent)
    assert not campaigns.may_run_campaigns(city.handler)
    mine = campaigns.do_create_campaign(sub_monitor, voice(), numbers(1))
    theirs = campaigns.do_create_campaign(city.admin, voice(), numbers(1, 13700000000))
    assert mine.district == city.gulou
    assert list(campaigns.visible_campaigns(sub_monitor)) == [mine]
    assert set(campaigns.visible_campaigns(city.admin)) == {mine, theirs}
    from hotline.core.errors import NotFound

    with pytest.raises(NotFound):
        campaigns.do_campaign_action(sub_monitor, theirs.pk, "start")
    with pytest.raises(InvalidInput):
        campaigns.do_create_campaign(city.admin, voice(per_minute=0), numbers(1))
    with pytest.raises(InvalidInput):
        campaigns.do_create_campaign(city.admin, voice(message=""), numbers(1))
    with pytest.raises(InvalidInput):
        campaigns.do_create_campaign(city.admin, voice(), [])


def test_the_benchmark_service_runs_a_campaign_for_a_list_of_numbers(city: City) -> None:
    campaign = campaigns.do_create_number_campaign(
        None, ["13900000001", "139-0000-0001", "13900000002"], name="bench",
        message="测试通知", per_minute=120, concurrent=10)
    assert campaign.recipients.count() == 2 and campaign.created_by.role == "system"
    campaigns.do_campaign_action(None, campaign.pk, "start", now=NOON)
    campaigns.do_pace_campaigns(NOON)
    campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=0.5))
    progress = campaigns.campaign_progress(campaign.pk).as_dict()
    assert progress["released"] == 2 and progress["pending"] == 0
