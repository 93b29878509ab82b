"""Notifications (moved from intake's notice job): accepted, dispatched, replied and closed on
the citizen's channel, once per event however often the job runs; the centre's templates per
event, channel and language; the citizen's channel, language and consent; the daily limit per
citizen; TD honoured; never the matter of a report; email over a real SMTP relay on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from hotline.intake.messages import InboundMessage
from hotline.intake.models import CitizenNotice, SmsOptOut
from hotline.intake.services import do_receive
from hotline.intake.sms.outbound import LOG_OUTBOX
from hotline.orders.models import Order
from hotline.orders.services import NewOrder, do_action, do_create_order
from hotline.outreach.consent import may_message
from hotline.outreach.models import ContactPreference, DoNotCall, NoticeTemplate
from hotline.outreach.notice_defaults import DEFAULTS, Event, template_problems
from hotline.outreach.notifications import do_notify_citizens
from tests.intake.email.test_smtp import Sink, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outboxes(settings: Any) -> None:
    settings.HOTLINE_SMS_PROVIDER = "log"
    settings.HOTLINE_OUTREACH_QUIET_START = settings.HOTLINE_OUTREACH_QUIET_END  # any hour
    LOG_OUTBOX.clear()


@pytest.fixture
def relay() -> Iterator[Sink]:
    """A real SMTP relay on loopback (aiosmtpd), as the email channel's tests use."""
    from aiosmtpd.controller import Controller
    from django.test import override_settings

    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=30)
    controller.start()
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                               EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_USE_TLS=False,
                               EMAIL_USE_SSL=False, EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="",
                               EMAIL_TIMEOUT=30):
            yield sink
    finally:
        controller.stop()


def phone_order(city: Any, **over: Any) -> Order:
    fields: dict[str, Any] = {"type": "complaint", "channel": "phone", "title": "停水",
                              "text": "东街小区停水", "citizen_phone": "13800001111",
                              "district": "gulou", "category": "100101"}
    fields.update(over)
    return do_create_order(city.agent, NewOrder(**fields))[0]


def reply_and_accept(city: Any, number: str, reply: str = "已修复爆管，恢复供水") -> None:
    do_action(city.agent, number, "dispatch", {"unit": "water", "co_units": []})
    do_action(city.handler, number, "sign")
    do_action(city.handler, number, "reply", {"reply": reply})
    do_action(city.agent, number, "approve_reply")


def close_the_loop(city: Any, number: str, reply: str = "已修复爆管，恢复供水") -> None:
    reply_and_accept(city, number, reply)
    do_action(city.agent, number, "callback", {"resolved": True, "satisfaction": "satisfied"})


def test_a_phone_citizen_hears_of_every_step_by_sms_once(city: Any) -> None:
    order = phone_order(city)
    assert do_notify_citizens() == 1
    close_the_loop(city, order.number)
    assert do_notify_citizens() == 3  # dispatched, replied, closed (signing tells nobody)
    assert do_notify_citizens() == 0  # a rerun tells nobody twice
    texts = [sms.text for sms in LOG_OUTBOX]
    assert len(texts) == 4 and all(order.number in t for t in texts)
    assert "市水务局" in texts[1] and "已修复爆管，恢复供水" in texts[2]
    assert texts[0].startswith("【12345】您的诉求已受理") and all("回复TD退订" in t for t in texts)
    notices = CitizenNotice.objects.order_by("pk")
    assert [(n.kind, n.channel, n.status) for n in notices] == [
        ("accepted", "sms", "sent"), ("dispatched", "sms", "sent"), ("replied", "sms", "sent"),
        ("closed", "sms", "sent")]


def test_an_email_citizen_is_answered_over_smtp_and_not_acknowledged_twice(
        city: Any, settings: Any, tmp_path: Any, relay: Sink) -> None:
    settings.MEDIA_ROOT = tmp_path
    receipt = do_receive(InboundMessage(channel="email", subject="路灯坏了", text="东街路灯坏了",
                                        sender_email="li@example.org", message_id="<n1@x>"))
    relay.mails.clear()  # the acknowledgement intake sent at once
    do_notify_citizens()
    accepted = CitizenNotice.objects.get()
    assert (accepted.status, accepted.reason) == ("skipped", "acknowledged by its own channel")
    close_the_loop(city, receipt.order_number, reply="已更换灯泡")
    do_notify_citizens()
    assert [rcpts for _from, rcpts, _raw in relay.mails] == [["li@example.org"]] * 3
    import email

    bodies = [email.message_from_bytes(raw) for _f, _r, raw in relay.mails]
    replied = bodies[1]
    payload = replied.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode("utf-8")
    assert "已更换灯泡" in text
    assert receipt.order_number in str(email.header.make_header(
        email.header.decode_header(replied["Subject"])))
    assert receipt.order_number in replied["Reply-To"]
    assert not LOG_OUTBOX


def test_a_report_never_carries_its_matter_and_an_anonymous_citizen_gets_nothing(
        city: Any) -> None:
    report = phone_order(city, type="report", title="举报", text="某单位违规收费")
    close_the_loop(city, report.number, reply="经查，某单位已整改并退还费用")
    anonymous = phone_order(city, citizen_phone="", title="匿名", text="噪声")
    do_notify_citizens()
    texts = [sms.text for sms in LOG_OUTBOX]
    assert len(texts) == 4 and all(report.number in t for t in texts)
    assert not any("整改" in t or "收费" in t or "水务" in t for t in texts)
    (nothing,) = CitizenNotice.objects.filter(order=anonymous)
    assert nothing.status == "skipped" and "no phone or email" in nothing.reason


def test_an_opted_out_phone_is_recorded_not_sent(city: Any) -> None:
    SmsOptOut.objects.create(phone="13800001111", at=timezone.now())
    phone_order(city)
    do_notify_citizens()
    notice = CitizenNotice.objects.get()
    assert (notice.status, notice.reason) == ("skipped", "opted out (TD)") and not LOG_OUTBOX


def test_the_centres_template_and_the_citizens_language_are_used(city: Any) -> None:
    order = phone_order(city)
    NoticeTemplate.objects.update_or_create(
        event="accepted", channel="sms", language="en",
        defaults={"body": "Hotline {hotline}: number {number}."})
    ContactPreference.objects.create(citizen=order.citizen, language="en")
    do_notify_citizens()
    (sms,) = LOG_OUTBOX
    assert sms.text.startswith(f"Hotline 12345: number {order.number}.")
    assert sms.text.endswith("回复TD退订")  # the opt-out hint is never edited away


def test_a_template_switched_off_sends_nothing_and_a_broken_one_falls_back(city: Any) -> None:
    order = phone_order(city)
    NoticeTemplate.objects.update_or_create(event="accepted", channel="sms", language="zh-hans",
                                            defaults={"body": "x", "is_active": False})
    NoticeTemplate.objects.update_or_create(event="dispatched", channel="sms",
                                            language="zh-hans",
                                            defaults={"body": "{order.citizen.phone}"})
    do_notify_citizens()
    do_action(city.agent, order.number, "dispatch", {"unit": "water", "co_units": []})
    do_notify_citizens()
    first, second = CitizenNotice.objects.order_by("pk")
    assert second.status == "sent"
    assert (first.status, first.reason) == ("skipped", "switched off by the centre")
    (sms,) = LOG_OUTBOX
    assert "市水务局" in sms.text and "{" not in sms.text


def test_a_template_with_an_unknown_field_is_refused_in_the_admin() -> None:
    row = NoticeTemplate(event="closed", channel="sms", language="zh-hans",
                         body="{number} {reply.__class__}")
    with pytest.raises(ValidationError):
        row.clean()
    assert template_problems("{number}{unit}{reply}{link}{hotline}") == []


def test_every_event_has_its_texts_on_both_channels_in_both_languages() -> None:
    for event in Event:
        for channel in ("sms", "email"):
            for language in ("zh-hans", "en"):
                subject, body = DEFAULTS[(event.value, channel, language)]
                assert body and template_problems(subject + body) == []
                assert bool(subject) == (channel == "email")


def test_the_citizens_preference_chooses_the_channel_and_can_refuse_notices(
        city: Any, relay: Sink) -> None:
    order = phone_order(city, citizen_email="wang@example.org")
    ContactPreference.objects.create(citizen=order.citizen, channel="email")
    do_notify_citizens()
    assert not LOG_OUTBOX and [r for _f, r, _raw in relay.mails] == [["wang@example.org"]]
    # The mail says how to stop it: the preference page's link and List-Unsubscribe.
    mail = message_from_bytes(relay.mails[0][2])
    assert "/citizen/unsubscribe/" in str(mail["List-Unsubscribe"])
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes) and b"/citizen/preferences/" in body
    pref = ContactPreference.objects.get(citizen=order.citizen)
    pref.notices = False
    pref.save()
    do_action(city.agent, order.number, "dispatch", {"unit": "water", "co_units": []})
    do_notify_citizens()
    last = CitizenNotice.objects.order_by("-pk").first()
    assert last is not None and (last.status, last.reason) == ("skipped",
                                                               "opted out (preference)")
    assert len(relay.mails) == 1


def test_no_citizen_gets_more_than_the_daily_limit(city: Any, settings: Any) -> None:
    settings.HOTLINE_NOTICES_PER_CITIZEN_DAY = 2
    order = phone_order(city)
    close_the_loop(city, order.number)
    do_notify_citizens()
    statuses = list(CitizenNotice.objects.order_by("pk").values_list("status", "reason"))
    assert statuses[:2] == [("sent", ""), ("sent", "")]
    assert statuses[2:] == [("skipped", "daily limit for this citizen reached")] * 2
    assert len(LOG_OUTBOX) == 2


def test_may_message_honours_td_the_do_not_call_list_and_consent(city: Any) -> None:
    order = phone_order(city, citizen_email="wang@example.org")
    citizen = order.citizen
    assert may_message(citizen, "sms") and may_message("138 0000 1111", "sms")
    assert may_message(citizen, "email") and may_message(citizen, "voice")
    # Campaigns are opt-out (SPEC 5): allowed until the citizen says no.
    assert may_message(citizen, "sms", purpose="campaign")
    SmsOptOut.objects.create(phone="13800001111", at=timezone.now())
    assert not may_message(citizen, "sms") and not may_message("13800001111", "sms")
    assert may_message(citizen, "email")
    DoNotCall.objects.create(phone="13800001111", added_at=timezone.now())
    assert not may_message(citizen, "voice") and not may_message("13800001111", "voice")
    pref = ContactPreference.objects.create(citizen=citizen, campaigns=False, channel="none")
    assert not may_message(citizen, "email")
    assert not may_message("wang@example.org", "email", purpose="campaign")  # by address too
    pref.channel = "email"
    pref.save()
    assert may_message("WANG@example.org", "email") and not may_message(citizen, "sms")
    assert may_message("13900009999", "sms")  # a number nobody registered: only TD applies


def test_merging_two_records_keeps_the_stricter_preference(city: Any) -> None:
    from hotline.orders.citizen_merge import do_merge_citizens

    keep = phone_order(city).citizen
    merge = phone_order(city, citizen_phone="13800002222").citizen
    ContactPreference.objects.create(citizen=keep, campaigns=True, language="en")
    ContactPreference.objects.create(citizen=merge, campaigns=False, channel="email")
    do_merge_citizens(city.admin, keep, merge)
    assert ContactPreference.objects.filter(citizen=keep).count() == 2
    assert not may_message(keep, "sms", purpose="campaign")  # one record said no
    assert not may_message(keep, "sms")  # the email channel one record chose


def test_the_portal_survey_sends_its_link_by_email_over_smtp(city: Any, relay: Sink) -> None:
    from hotline.outreach import surveys
    from hotline.outreach.models import SurveyPolicy

    SurveyPolicy.objects.create(order_type="complaint", methods="portal")
    order = phone_order(city, citizen_email="wang@example.org")
    reply_and_accept(city, order.number)
    survey = surveys.start_survey(Order.objects.get(pk=order.pk))
    assert survey is not None and (survey.state, survey.method) == ("asking", "portal")
    import email

    (mail,) = [email.message_from_bytes(raw) for _f, rcpts, raw in relay.mails
               if rcpts == ["wang@example.org"]]
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert f"/citizen/survey/{survey.token}/" in payload.decode("utf-8")
    assert not LOG_OUTBOX  # the link went by email, not SMS
