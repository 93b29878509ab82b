"""The answer goes back on the citizen's channel: accepted, answered and closed, by SMS (to the
phone), by email (an order that came by email), nothing to an anonymous citizen, once per event
however often the job runs, and never the matter of a report."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from hotline.intake.messages import InboundMessage
from hotline.intake.models import CitizenNotice
from hotline.intake.notify import do_notify_citizens
from hotline.intake.services import do_receive
from hotline.intake.sms.outbound import LOG_OUTBOX
from hotline.orders.models import Order
from hotline.orders.services import NewOrder, do_action, do_create_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outboxes(settings: Any) -> None:
    settings.HOTLINE_SMS_PROVIDER = "log"
    LOG_OUTBOX.clear()


def phone_order(city: Any, **over: Any) -> Order:
    fields: dict[str, Any] = {"type": "complaint", "channel": "phone", "title": "停水",
                              "text": "东街小区停水", "citizen_phone": "13800001111",
                              "district": "gulou", "category": "100101"}
    fields.update(over)
    return do_create_order(city.agent, NewOrder(**fields))[0]


def close_the_loop(city: Any, number: str, reply: str = "已修复爆管，恢复供水") -> None:
    do_action(city.agent, number, "dispatch", {"unit": "water", "co_units": []})
    do_action(city.handler, number, "sign")
    do_action(city.handler, number, "reply", {"reply": reply})
    do_action(city.agent, number, "approve_reply")
    do_action(city.agent, number, "callback", {"resolved": True, "satisfaction": "satisfied"})


def test_a_phone_citizen_hears_of_acceptance_answer_and_closing_by_sms_once(city: Any) -> None:
    order = phone_order(city)
    assert do_notify_citizens() == 1
    close_the_loop(city, order.number)
    assert do_notify_citizens() == 2  # answered, closed (dispatch and sign tell nobody)
    assert do_notify_citizens() == 0  # a rerun tells nobody twice
    texts = [sms.text for sms in LOG_OUTBOX]
    assert len(texts) == 3 and all(order.number in t for t in texts)
    assert "已修复爆管，恢复供水" in texts[1]
    notices = CitizenNotice.objects.order_by("pk")
    assert [(n.kind, n.channel, n.status) for n in notices] == [
        ("accepted", "sms", "sent"), ("answered", "sms", "sent"), ("closed", "sms", "sent")]


def test_an_email_citizen_is_answered_by_email_and_not_acknowledged_twice(city: Any,
                                                                          settings: Any,
                                                                          tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    receipt = do_receive(InboundMessage(channel="email", subject="路灯坏了", text="东街路灯坏了",
                                        sender_email="li@example.org", message_id="<n1@x>"))
    do_notify_citizens()
    accepted = CitizenNotice.objects.get()
    assert (accepted.status, accepted.reason) == ("skipped", "acknowledged by its own channel")
    close_the_loop(city, receipt.order_number, reply="已更换灯泡")
    do_notify_citizens()
    assert [m.to for m in mail.outbox] == [["li@example.org"], ["li@example.org"]]
    assert "已更换灯泡" in mail.outbox[0].body and receipt.order_number in mail.outbox[0].subject
    assert mail.outbox[0].reply_to and receipt.order_number in mail.outbox[0].reply_to[0]
    assert not LOG_OUTBOX


def test_a_report_never_carries_its_matter_and_an_anonymous_citizen_gets_nothing(
        city: Any) -> None:
    report = phone_order(city, type="report", title="举报", text="某单位违规收费")
    close_the_loop(city, report.number, reply="经查，某单位已整改并退还费用")
    anonymous = phone_order(city, citizen_phone="", title="匿名", text="噪声")
    do_notify_citizens()
    texts = [sms.text for sms in LOG_OUTBOX]
    assert texts and all(report.number in t for t in texts)
    assert not any("整改" in t or "收费" in t for t in texts)
    (nothing,) = CitizenNotice.objects.filter(order=anonymous)
    assert nothing.status == "skipped" and "no phone or email" in nothing.reason


def test_an_opted_out_phone_is_recorded_not_sent(city: Any) -> None:
    from django.utils import timezone

    from hotline.intake.models import SmsOptOut

    SmsOptOut.objects.create(phone="13800001111", at=timezone.now())
    phone_order(city)
    do_notify_citizens()
    notice = CitizenNotice.objects.get()
    assert (notice.status, notice.reason) == ("skipped", "opted out (TD)") and not LOG_OUTBOX
