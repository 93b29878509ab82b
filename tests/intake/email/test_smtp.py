"""The email channel over real SMTP on loopback, both ways: the product's receiver (aiosmtpd)
takes mail from smtplib into orders; the acknowledgement goes out through a relay (another
aiosmtpd on loopback, recording what it got) with the order's token in Reply-To; the citizen's
answer to it threads back to the order; a bounce marks the mail bounced."""

from __future__ import annotations

import smtplib
import socket
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import override_settings

from hotline.intake.email.server import start_receiver
from hotline.intake.models import OutboundMail, ReceivedMessage
from hotline.orders.models import Contact, Order

pytestmark = pytest.mark.django_db(transaction=True)

DOMAIN = "hotline.localhost"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Sink:
    """The relay: records every mail it is handed."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos),
                           envelope.original_content or envelope.content))
        return "250 OK"


@pytest.fixture
def relay() -> Iterator[Sink]:
    from aiosmtpd.controller import Controller

    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=30)
    controller.start()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                           EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_USE_TLS=False,
                           EMAIL_USE_SSL=False, EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="",
                           HOTLINE_MAIL_FROM=f"12345@{DOMAIN}"):
        yield sink
    controller.stop()


@pytest.fixture
def receiver(city: Any, relay: Sink, settings: Any, tmp_path: Any) -> Iterator[int]:
    settings.MEDIA_ROOT = tmp_path
    port = free_port()
    controller = start_receiver("127.0.0.1", port, domains=[DOMAIN], max_bytes=200_000)
    yield port
    controller.stop()


def mail(subject: str, body: str, *, message_id: str, sender: str = "zhang@example.org",
         **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"张先生 <{sender}>"
    msg["To"] = f"12345@{DOMAIN}"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body, charset="gb18030")
    return msg.as_bytes(policy=policy.SMTP)


def send(port: int, raw: bytes, to: str = f"12345@{DOMAIN}") -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        smtp.ehlo()
        smtp.mail("zhang@example.org")
        code, _text = smtp.rcpt(to)
        if code != 250:
            return code, _text
        return smtp.data(raw)


def wait_for(condition: Any, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_a_mail_becomes_an_order_and_is_acknowledged_with_its_number(receiver: int,
                                                                     relay: Sink) -> None:
    code, text = send(receiver, mail("小区停水", "东街小区停水两天了。", message_id="<m1@example.org>"))
    assert code == 250 and b"created" in text
    order = Order.objects.get()
    assert (order.channel, order.title, order.citizen.email) == ("email", "小区停水",
                                                                 "zhang@example.org")
    assert ReceivedMessage.objects.get().raw.name.endswith(".eml")
    assert wait_for(lambda: len(relay.mails) == 1)
    mail_from, rcpts, raw = relay.mails[0]
    assert rcpts == ["zhang@example.org"] and mail_from == f"12345@{DOMAIN}"
    ack = message_from_bytes(raw, policy=policy.default)
    assert order.number in str(ack["Subject"])
    assert ack["In-Reply-To"] == "<m1@example.org>" and ack["Auto-Submitted"] == "auto-replied"
    assert str(ack["Reply-To"]).startswith(f"12345+{order.number}-")
    body = ack.get_body(("plain",))
    assert body is not None and order.number in body.get_content()
    sent = OutboundMail.objects.get()
    assert (sent.order, sent.status, sent.message_id) == (order, "sent", ack["Message-ID"])

    # The citizen answers the acknowledgement: to its Reply-To address ...
    reply_to = str(ack["Reply-To"])
    code, _ = send(receiver, mail("Re: 小区停水", "补充：3栋也停水。", message_id="<m2@example.org>",
                                  sender="zhang@work.example.org"), to=reply_to)
    assert code == 250 and Order.objects.count() == 1
    assert Contact.objects.filter(orders=order).count() == 2
    # ... or to the plain address, with only In-Reply-To naming our mail.
    code, text = send(receiver, mail("Re: 小区停水", "今天来水了。", message_id="<m3@example.org>",
                                     sender="other@example.org",
                                     In_Reply_To=ack["Message-ID"]))
    assert code == 250 and b"attached" in text and Order.objects.count() == 1
    # Neither answer is acknowledged again.
    time.sleep(0.5)
    assert len(relay.mails) == 1


def test_a_retried_mail_is_one_order_and_bad_mail_is_refused_with_the_server_still_up(
        receiver: int, relay: Sink) -> None:
    raw = mail("路灯坏了", "路灯坏了一周。", message_id="<r1@example.org>")
    assert send(receiver, raw)[0] == 250
    code, text = send(receiver, raw)
    assert code == 250 and b"duplicate" in text and Order.objects.count() == 1
    # Too large: 552 before anything is stored, whether the client declared the size (MAIL
    # FROM SIZE=, smtplib does) or not (DATA, aiosmtpd's limit).
    big = mail("大", "一行字。\n" * 40_000, message_id="<r2@example.org>")
    with smtplib.SMTP("127.0.0.1", receiver, timeout=60) as smtp:
        with pytest.raises(smtplib.SMTPSenderRefused) as declared:
            smtp.sendmail("a@example.org", [f"12345@{DOMAIN}"], big)
        assert declared.value.smtp_code == 552
    assert send(receiver, big)[0] == 552
    # Not our domain: 550 at RCPT.
    assert send(receiver, raw, to="someone@elsewhere.example")[0] == 550
    # Garbage: refused with a reason (no sender; nothing readable); the next mail is taken.
    code, text = send(receiver, b"\x00\xff garbage \xfe" * 10)
    assert code == 550 and b"no sender" in text
    code, text = send(receiver, b"From: a@example.org\r\nContent-Type: multipart/mixed; "
                      b"boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!")
    assert code == 550 and b"empty" in text
    assert send(receiver, mail("噪声", "楼上装修", message_id="<r3@example.org>"))[0] == 250
    assert Order.objects.count() == 2


def test_an_auto_reply_is_kept_but_never_an_order_or_answered(receiver: int, relay: Sink) -> None:
    code, text = send(receiver, mail("Out of office", "I am away.", message_id="<o1@example.org>",
                                     Auto_Submitted="auto-replied"))
    assert code == 250 and b"contact" in text
    assert Order.objects.count() == 0 and ReceivedMessage.objects.get().outcome == "contact"
    time.sleep(0.5)
    assert relay.mails == []


def test_a_bounce_marks_the_mail_bounced_and_makes_no_order(receiver: int, relay: Sink) -> None:
    send(receiver, mail("问题", "内容", message_id="<b1@example.org>", sender="gone@example.org"))
    sent = OutboundMail.objects.get()
    bounce = (b"From: MAILER-DAEMON@mx.example.org\r\nSubject: Undelivered\r\n"
              b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
              b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
              b"Final-Recipient: rfc822; gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
              b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
              b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: "
              + sent.message_id.encode() + b"\r\n\r\n--B--\r\n")
    assert send(receiver, bounce)[0] == 250
    sent.refresh_from_db()
    assert sent.status == "bounced" and "user unknown" in sent.error
    assert Order.objects.count() == 1
