"""The demo's outreach: a finished 停水通知 campaign to past callers of the water-outage
category in one district, run through the real services (the pacer releases, a pretend
gateway answers, busy or no answer, by the recipient's position), and an open poll about the
outage notices with answers, so the campaign and poll pages have something to show."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings

from hotline.core.roles import Role
from hotline.directory.models import Category, District, UnitKind, User
from hotline.outreach import calls, campaigns, polls
from hotline.outreach.campaign_recipients import Candidate, Choice, candidates
from hotline.outreach.models import Campaign, Poll

POLL_SPEC = """Q1 single: 您是否提前收到了停水通知？
- 收到了
- 没有收到 -> Q3
Q2 scale 1-5: 请为停水通知的及时性打分（5分最高）
Q3 multiple: 您希望通过哪些方式收到停水通知？
- 电话语音
- 短信
- 社区公告
Q4 text: 您对停水通知还有什么建议？
"""
OUTCOMES = ("answered", "answered", "answered", "busy", "no_answer", "answered", "failed")


def load_demo_campaigns() -> str:
    if Campaign.objects.exists() or Poll.objects.exists():
        return "campaigns exist already: demo campaigns not loaded"
    admin = User.objects.filter(role=Role.CENTRE_ADMIN, unit__kind=UnitKind.CENTRE,
                                is_active=True).first()
    outage = Category.objects.filter(name="停水").first()
    district = District.objects.order_by("code").first()
    if admin is None or outage is None or district is None:
        return "no centre administrator, district or 停水 category: demo campaigns not loaded"
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    day = dt.datetime.now(zone).replace(hour=10, minute=0, second=0, microsecond=0)
    start = day - dt.timedelta(days=3)
    chosen = [c for c in candidates(admin, Choice(source="category", category_id=outage.pk))
              if not c.confidential][:40]
    if len(chosen) < 5:
        chosen += [Candidate(f"1390000{i:04d}", f"示例市民{i}", None, "upload")
                   for i in range(10)]
    campaign = campaigns.do_create_campaign(admin, campaigns.CampaignInput(
        name=f"{district.name}计划停水通知", channel=Campaign.Channel.VOICE,
        topic=Campaign.Topic.OUTAGE, per_minute=60, concurrent=10, max_attempts=1,
        message=f"{district.name}部分区域因供水管网检修，将于本周六8时至18时停水，请提前储水。",
        selection={"source": "category", "category": str(outage.pk), "since_days": "365"}),
        chosen, now=start)
    campaigns.do_campaign_action(admin, campaign.pk, "start", now=start)
    when, position = start, 0
    while campaign.recipients.filter(status__in=("pending", "queued")).exists():
        campaigns.do_pace_campaigns(when)
        while (job := calls.claim_call("demo-gateway", when,
                                       purposes=frozenset({"campaign"}))) is not None:
            outcome = OUTCOMES[position % len(OUTCOMES)]
            position += 1
            calls.do_finish_attempt(job.id, outcome,
                                    answered_at=when if outcome == "answered" else None,
                                    talk_seconds=25 if outcome == "answered" else 0,
                                    result={"vars": {"ack": "2"} if outcome == "answered"
                                            else {}, "path": []}, now=when)
        calls.do_tell_owners()
        when += dt.timedelta(seconds=1)
        if when > start + dt.timedelta(minutes=30):  # a bug must not spin the demo for ever
            break
    campaigns.do_pace_campaigns(when)
    poll = polls.do_create_poll(admin, title="停水通知满意度调查", public=True,
                                intro="为改进停水停电通知工作，请花一分钟回答以下问题。",
                                spec=POLL_SPEC, now=start)
    polls.do_poll_action(admin, poll.pk, "open")
    answering = polls.answering_by_token(poll.token)
    for i in range(36):
        got = i % 4 != 3
        answers: dict[str, object] = {"Q1": "1" if got else "2", "Q3": [str(1 + i % 3)]}
        if got:
            answers["Q2"] = str(1 + (i * 7) % 5)
        if i % 9 == 0:
            answers["Q4"] = "希望至少提前一天通知，并说明恢复供水的时间。"
        polls.do_answer_poll(answering, answers, now=start + dt.timedelta(minutes=5 * i))
    done = campaigns.campaign_progress(campaign)
    return (f"demo campaign: {done.total} recipients, {done.by_status.get('answered', 0)} "
            f"answered; demo poll: 36 responses")
