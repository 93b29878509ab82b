"""Opt-out honoured everywhere: from each outreach path, a citizen who said no on a channel gets
nothing on it (campaigns by SMS, email and voice, a poll campaign, the call-back desk's SMS
survey), and a campaign records the recipient as blocked with the reason. Notices, surveys
and reminders have theirs in test_notifications, test_surveys and test_bookings."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING, Any

import pytest
from django.core import mail
from django.utils import timezone

from hotline.intake.models import SmsOptOut
from hotline.intake.sms.outbound import LOG_OUTBOX
from hotline.orders.models import Citizen
from hotline.outreach import calls, campaigns, consent, polls, preferences
from hotline.outreach.campaign_recipients import Candidate
from hotline.outreach.models import ContactPreference, DoNotCall, OutboundCall

if TYPE_CHECKING:
    from tests.conftest import City

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 12, 3, 12, 0, tzinfo=TZ)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outboxes(settings: Any) -> None:
    settings.HOTLINE_SMS_PROVIDER = "log"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    LOG_OUTBOX.clear()
    mail.outbox.clear()


def notice(channel: str, **kw: Any) -> campaigns.CampaignInput:
    fields: dict[str, Any] = dict(name="停水通知", channel=channel, topic="outage",
                                  message="【12345】明天8点到12点停水。", subject="停水通知",
                                  per_minute=600, concurrent=50, max_attempts=1,
                                  daily_start=dt.time(8, 0), daily_end=dt.time(20, 0))
    fields.update(kw)
    return campaigns.CampaignInput(**fields)


def run(city: City, data: campaigns.CampaignInput, people: list[Candidate]) -> dict[str, str]:
    """Create, start and pace the campaign; address -> (status, detail) of each recipient."""
    campaign = campaigns.do_create_campaign(city.admin, data, people, now=NOON)
    campaigns.do_campaign_action(city.admin, campaign.pk, "start", now=NOON)
    for s in range(3):
        campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=s))
    return {r.address: f"{r.status}:{r.detail}" for r in campaign.recipients.all()}


def citizen(phone: str, email: str = "", **pref: Any) -> Citizen:
    person = Citizen.objects.create(phone=phone, email=email)
    if pref:
        ContactPreference.objects.create(citizen=person, **pref)
    return person


def test_an_sms_campaign_blocks_td_and_a_citizens_no_with_the_reason(city: City) -> None:
    SmsOptOut.objects.create(phone="13900000001", at=NOON, text="TD")
    no = citizen("13900000002", campaigns=False)
    yes = citizen("13900000003")
    people = [Candidate("13900000001", "", None, "upload"),
              Candidate(no.phone, "", no.pk, "district"),
              Candidate(yes.phone, "", yes.pk, "district")]
    results = run(city, notice("sms"), people)
    assert results == {"13900000001": "blocked:opted out (TD)",
                       "13900000002": "blocked:opted out of campaigns",
                       "13900000003": "sent:"}
    (sms,) = LOG_OUTBOX
    assert sms.phone == "13900000003" and sms.text.endswith("回复TD退订")


def test_an_email_campaign_blocks_a_no_and_every_mail_can_unsubscribe(city: City) -> None:
    citizen("13900000004", "no@example.org", campaigns=False)
    citizen("13900000005", "other@example.org", channel="none")  # notices off, campaigns on
    people = [Candidate("no@example.org", "", None, "upload"),
              Candidate("other@example.org", "", None, "upload"),
              Candidate("new@example.org", "", None, "upload")]
    results = run(city, notice("email"), people)
    assert results == {"no@example.org": "blocked:opted out of campaigns",
                       "other@example.org": "sent:", "new@example.org": "sent:"}
    assert sorted(m.to[0] for m in mail.outbox) == ["new@example.org", "other@example.org"]
    for sent in mail.outbox:
        assert "/citizen/unsubscribe/" in sent.extra_headers["List-Unsubscribe"]
        assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/citizen/preferences/" in sent.body
        address, kind = preferences.read_token(
            sent.extra_headers["List-Unsubscribe"].rsplit("/", 2)[-2])
        assert (address, kind) == (sent.to[0], "campaign")


def test_a_voice_campaign_blocks_do_not_call_and_a_no_given_after_it_was_made(
        city: City) -> None:
    DoNotCall.objects.create(phone="13900000006", added_at=NOON)
    late = citizen("13900000007")
    people = [Candidate("13900000006", "", None, "upload"),
              Candidate(late.phone, "", late.pk, "upload"),
              Candidate("13900000008", "", None, "upload")]
    campaign = campaigns.do_create_campaign(city.admin, notice("voice"), people, now=NOON)
    assert campaign.recipients.get(address="13900000006").detail == "do-not-call"
    ContactPreference.objects.create(citizen=late, campaigns=False)  # says no before release
    campaigns.do_campaign_action(city.admin, campaign.pk, "start", now=NOON)
    for s in range(3):
        campaigns.do_pace_campaigns(NOON + dt.timedelta(seconds=s))
    by_address = {r.address: r for r in campaign.recipients.all()}
    assert (by_address[late.phone].status, by_address[late.phone].detail) == (
        "blocked", "opted out of campaigns")
    assert [c.number for c in OutboundCall.objects.all()] == ["13900000008"]
    later = NOON + dt.timedelta(minutes=1)
    job = calls.claim_call("gw", later)
    assert job is not None and job.number == "13900000008"
    assert calls.claim_call("gw", later) is None  # nobody else is called


def test_a_poll_campaign_by_sms_reaches_nobody_who_said_no(city: City) -> None:
    poll = polls.do_create_poll(city.admin, title="停水满意度", intro="",
                                spec="Q1 single: 满意吗？\n- 满意\n- 不满意\n", public=False)
    polls.do_poll_action(city.admin, poll.pk, "open")
    no = citizen("13900000009", campaigns=False)
    results = run(city, notice("sms", poll_id=poll.pk, message=""),
                  [Candidate(no.phone, "", no.pk, "tag"),
                   Candidate("13900000010", "", None, "upload")])
    assert results["13900000009"] == "blocked:opted out of campaigns"
    assert [m.phone for m in LOG_OUTBOX] == ["13900000010"]
    assert "/citizen/polls/" in LOG_OUTBOX[0].text


def test_the_daily_limit_holds_back_a_campaign_message_too(city: City, settings: Any) -> None:
    settings.HOTLINE_NOTICES_PER_CITIZEN_DAY = 1
    person = citizen("13900000011")
    first = run(city, notice("sms"), [Candidate(person.phone, "", person.pk, "tag")])
    assert first == {person.phone: "sent:"}
    second = run(city, notice("sms", name="第二次"), [Candidate(person.phone, "", person.pk,
                                                              "tag")])
    assert second == {person.phone: "blocked:daily limit for this citizen reached"}
    assert len(LOG_OUTBOX) == 1


def test_refusals_in_bulk_agree_with_the_one_check(city: City) -> None:
    SmsOptOut.objects.create(phone="13900000012", at=NOON)
    DoNotCall.objects.create(phone="13900000013", added_at=NOON)
    citizen("13900000014", "Mixed@Example.org", campaigns=False)
    citizen("13900000015", channel="email")
    addresses = ["13900000012", "13900000013", "13900000014", "13900000015", "13900000016"]
    for channel in ("sms", "voice", "fax"):
        for purpose in ("campaign", "notice"):
            bulk = consent.refusals(addresses, channel, purpose=purpose)  # type: ignore[arg-type]
            one = {a: consent.refusal(a, channel, purpose=purpose)  # type: ignore[arg-type]
                   for a in addresses}
            assert bulk == {a: why for a, why in one.items() if why}, (channel, purpose)
    emails = ["mixed@example.org", "x@example.org"]
    assert consent.refusals(emails, "email") == {"mixed@example.org": consent.NO_CAMPAIGNS}


def test_the_call_back_desks_sms_survey_sends_nothing_to_a_td_phone(
        city: City, settings: Any) -> None:
    from hotline.outreach import surveys
    from tests.outreach.test_surveys import answered_order

    settings.HOTLINE_OUTREACH_QUIET_START = settings.HOTLINE_OUTREACH_QUIET_END  # any hour
    SmsOptOut.objects.create(phone="13800001111", at=timezone.now())
    order = answered_order(city)
    survey = surveys.start_sms_survey(order)  # what the unreachable rule calls
    assert survey.state == "unanswered" and not LOG_OUTBOX
    SmsOptOut.objects.all().delete()  # the same survey to a phone that may be written to
    assert surveys.start_sms_survey(answered_order(city)).state == "asking" and LOG_OUTBOX
