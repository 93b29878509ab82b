"""do_receive: one entry for every inbound message (a contact, the payload kept, an order
created or the message attached to the order it answers, a retry recorded once, bad input
refused with a reason)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from hotline.intake import tokens
from hotline.intake.messages import InboundFile, InboundMessage, Outcome
from hotline.intake.models import ReceivedMessage
from hotline.intake.services import do_receive
from hotline.orders.models import Citizen, Contact, IdentityKind, Order

pytestmark = pytest.mark.django_db


def mail(**over: Any) -> InboundMessage:
    fields: dict[str, Any] = {
        "channel": "email", "message_id": "<a1@example.org>", "subject": "小区停水三天",
        "text": "鼓楼区东街小区已经停水三天了，请尽快处理。", "sender_email": "zhang@example.org",
        "sender_name": "张先生", "raw": b"From: zhang@example.org\r\n\r\nbody", "raw_extension": ".eml"}
    fields.update(over)
    return InboundMessage(**fields)


def test_a_new_message_creates_an_order_with_its_contact_and_keeps_the_payload(city: Any) -> None:
    receipt = do_receive(mail())
    assert receipt.outcome == Outcome.CREATED and receipt.accepted
    order = Order.objects.get(number=receipt.order_number)
    assert order.channel == "email" and order.title == "小区停水三天"
    assert "停水三天了" in order.text
    assert order.citizen.email == "zhang@example.org" and order.citizen.name == "张先生"
    contact = Contact.objects.get(pk=receipt.contact_id or 0)
    assert list(contact.orders.all()) == [order] and contact.external_id == "<a1@example.org>"
    record = ReceivedMessage.objects.get(pk=receipt.record_id or 0)
    assert record.outcome == "created" and record.order == order and record.contact == contact
    assert record.raw.name.endswith(".eml") and "zhang" not in record.raw.name
    with record.raw.open("rb") as f:
        assert f.read() == b"From: zhang@example.org\r\n\r\nbody"


def test_a_retried_delivery_is_recorded_once(city: Any) -> None:
    first = do_receive(mail())
    again = do_receive(mail())
    assert again.outcome == Outcome.DUPLICATE
    assert (again.order_number, again.contact_id) == (first.order_number, first.contact_id)
    assert Order.objects.count() == 1 and Contact.objects.count() == 1
    # The same id on another channel is another message.
    assert do_receive(mail(channel="sms", sender_email="", sender_phone="13800001111",
                           raw=b"x")).outcome == Outcome.CREATED


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_racing_make_one_order(city: Any) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers: no race to test")  # PG runs it
    results = []

    def deliver() -> None:
        try:
            results.append(do_receive(mail()))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.outcome for r in results).count(Outcome.CREATED) == 1
    assert Order.objects.count() == 1 and ReceivedMessage.objects.count() == 1


def test_a_reply_token_attaches_the_message_to_its_order_whoever_sends_it(city: Any) -> None:
    order = Order.objects.get(number=do_receive(mail()).order_number)
    token = tokens.reply_token(order.number)
    receipt = do_receive(mail(message_id="<a2@example.org>", subject="Re: 小区停水三天",
                              sender_email="zhang.work@example.org", reply_token=token,
                              attachments=[InboundFile("note.txt", "现场情况".encode())]))
    assert receipt.outcome == Outcome.ATTACHED and receipt.order_number == order.number
    assert Contact.objects.filter(orders=order).count() == 2 and Order.objects.count() == 1
    assert order.attachments.get().name == "note.txt"


def test_a_forged_token_does_not_attach(city: Any) -> None:
    order = Order.objects.get(number=do_receive(mail()).order_number)
    forged = f"{order.number}-{'0' * tokens.MAC_CHARS}"
    assert tokens.order_number_for(forged) is None
    receipt = do_receive(mail(message_id="<a3@example.org>", sender_email="x@example.org",
                              reply_token=forged))
    assert receipt.outcome == Outcome.CREATED and receipt.order_number != order.number


def test_an_acceptance_number_attaches_only_for_the_orders_own_citizen(city: Any) -> None:
    sms = {"channel": "sms", "raw": b"", "sender_email": "", "subject": ""}
    first = do_receive(mail(message_id="p1", sender_phone="13800001111", text="路灯坏了", **sms))
    number = first.order_number
    same = do_receive(mail(message_id="p2", sender_phone="13800001111",
                           text=f"{number} 还没有人来修", **sms))
    assert same.outcome == Outcome.ATTACHED and same.order_number == number
    other = do_receive(mail(message_id="p3", sender_phone="13900002222",
                            text=f"{number} 我也要投诉", **sms))
    assert other.outcome == Outcome.CREATED and other.order_number != number


def test_bad_input_is_refused_with_a_reason_and_logged(city: Any, settings: Any,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    settings.HOTLINE_MAX_INBOUND_BYTES = 1000
    big = do_receive(mail(raw=b"x" * 1001))
    assert big.outcome == Outcome.REFUSED and big.reason == "the message is too large"
    settings.HOTLINE_MAX_ATTACHMENT_BYTES = 10
    huge = do_receive(mail(message_id="<b>", attachments=[InboundFile("a.txt", b"x" * 11)]))
    assert huge.outcome == Outcome.REFUSED and huge.field == "attachments"
    assert do_receive(mail(message_id="<c>", subject="", text=" ")).outcome == Outcome.REFUSED
    assert do_receive(mail(message_id="<d>", channel="pigeon")).outcome == Outcome.REFUSED
    assert do_receive(mail(message_id="<e>", sender_phone="12")).field == "sender_phone"
    assert Order.objects.count() == 0 and Contact.objects.count() == 0
    refused = ReceivedMessage.objects.filter(outcome="refused")
    assert refused.count() == 5 and not any(r.raw for r in refused)
    assert "refused email message" in caplog.text


def test_a_closed_mailbox_refuses_unknown_senders(city: Any) -> None:
    receipt = do_receive(mail(known_senders_only=True))
    assert receipt.outcome == Outcome.REFUSED and receipt.field == "sender"
    Citizen.objects.create(email="zhang@example.org", name="张先生")
    assert do_receive(mail(known_senders_only=True, message_id="<f>")).outcome == Outcome.CREATED


def test_a_contact_only_message_and_channel_identities(city: Any) -> None:
    receipt = do_receive(InboundMessage(channel="wechat", text="你好", message_id="w1",
                                        identities=[(IdentityKind.WECHAT, "oABC123")],
                                        create_order=False))
    assert receipt.outcome == Outcome.CONTACT and receipt.order_number == ""
    contact = Contact.objects.get(pk=receipt.contact_id or 0)
    assert contact.citizen is not None
    assert contact.citizen.identities.get().value == "oABC123"
    again = do_receive(InboundMessage(channel="wechat", text="在吗", message_id="w2",
                                      identities=[(IdentityKind.WECHAT, "oABC123")],
                                      create_order=False))
    assert Contact.objects.get(pk=again.contact_id or 0).citizen == contact.citizen


def test_an_anonymous_message_keeps_no_sender(city: Any) -> None:
    receipt = do_receive(mail(anonymous=True, order_type="report", subject="举报",
                              text="某单位违规收费"))
    order = Order.objects.get(number=receipt.order_number)
    assert order.citizen.email == "" and order.citizen.phone == "" and order.confidential
