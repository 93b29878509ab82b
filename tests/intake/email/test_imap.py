"""The IMAP poller against a real Dovecot on loopback (``dovecot.py``): mail put in the mailbox
with APPEND, as the city's mail server would, is taken by ``poll_mailbox`` into orders exactly
as the SMTP receiver takes it, once, and marked read (or moved) after."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from django.core import mail as django_mail
from django.core.management import CommandError, call_command
from PIL import Image

from hotline.intake.email import imap
from hotline.intake.email.imap import poll_mailbox
from hotline.intake.models import PolledMailbox, ReceivedMessage
from hotline.orders.models import Contact, Order
from tests.intake.email.dovecot import Dovecot, Mailbox, free_port, running

pytestmark = pytest.mark.django_db

DOMAIN = "hotline.localhost"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with running() as server:
        yield server


@pytest.fixture
def mailbox(dovecot: Dovecot, city: Any, settings: Any, tmp_path: Any) -> Mailbox:
    """The hotline polls the INBOX of a new user of the Dovecot."""
    box = dovecot.mailbox()
    settings.MEDIA_ROOT = tmp_path
    settings.HOTLINE_IMAP_URL = box.url()
    settings.HOTLINE_IMAP_DONE_FOLDER = ""
    settings.HOTLINE_MAIL_DOMAINS = [DOMAIN]
    settings.HOTLINE_MAIL_FROM = f"12345@{DOMAIN}"
    return box


def mail(subject: str, body: str, *, message_id: str, sender: str = "zhang@example.org",
         to: str = f"12345@{DOMAIN}", attachment: bytes = b"", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"张先生 <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body, charset="gb18030")
    if attachment:
        msg.add_attachment(attachment, maintype="image", subtype="png", filename="现场.png")
    return msg.as_bytes(policy=policy.SMTP)


def test_a_mail_becomes_an_order_with_its_attachment_and_is_taken_once(mailbox: Mailbox) -> None:
    # Read before the hotline polled this mailbox: old mail, not a request.
    mailbox.append(mail("旧邮件", "早已处理。", message_id="<old@example.org>"), flags=r"\Seen")
    mailbox.append(mail("小区停水", "东街小区停水两天了。", message_id="<m1@example.org>",
                        attachment=png()))
    result = poll_mailbox()
    assert (result.taken, result.refused, result.error) == (1, 0, "")
    order = Order.objects.get()
    assert (order.channel, order.title, order.citizen.email) == ("email", "小区停水",
                                                                 "zhang@example.org")
    attachment = order.attachments.get()
    assert (attachment.name, attachment.content_type) == ("现场.png", "image/png")
    assert Image.open(attachment.file).size == (40, 30)
    assert ReceivedMessage.objects.get().raw.name.endswith(".eml")
    # Acknowledged with its number, as a mail received over SMTP is.
    assert len(django_mail.outbox) == 1 and order.number in django_mail.outbox[0].subject
    assert [flags for _uid, flags in mailbox.messages()] == [{r"\Seen"}, {r"\Seen"}]

    assert poll_mailbox().taken == 0  # nothing twice
    assert Order.objects.count() == 1 and len(django_mail.outbox) == 1
    # From now on a new mail is taken even when someone opened it in a mail client first.
    mailbox.append(mail("路灯坏了", "路灯坏了一周。", message_id="<m2@example.org>"), flags=r"\Seen")
    assert poll_mailbox().taken == 1 and Order.objects.count() == 2
    state = PolledMailbox.objects.get()
    assert (state.unread_only, state.last_uid, state.error) == (False, 3, "")
    assert state.leased_until is None and state.polled_at is not None


def test_replies_thread_to_their_order_by_token_or_in_reply_to(mailbox: Mailbox) -> None:
    mailbox.append(mail("小区停水", "东街小区停水两天了。", message_id="<t1@example.org>"))
    poll_mailbox()
    order, ack = Order.objects.get(), django_mail.outbox[0]
    token_address = ack.reply_to[0]
    assert token_address.startswith(f"12345+{order.number}-")
    # The mail server delivered the answer to the token address into this mailbox: the address
    # is in Delivered-To (the envelope), while To shows the plain address.
    mailbox.append(mail("Re: 小区停水", "补充：3栋也停水。", message_id="<t2@example.org>",
                        sender="zhang@work.example.org", Delivered_To=token_address))
    # Another client kept only In-Reply-To naming our mail.
    mailbox.append(mail("Re: 小区停水", "今天来水了。", message_id="<t3@example.org>",
                        sender="other@example.org", In_Reply_To=ack.extra_headers["Message-ID"]))
    result = poll_mailbox()
    assert (result.taken, result.refused) == (2, 0)
    assert Order.objects.count() == 1
    assert Contact.objects.filter(orders=order).count() == 3
    assert len(django_mail.outbox) == 1  # answers are not acknowledged again


def test_a_malformed_mail_is_refused_and_marked_and_the_next_mail_still_goes(
        mailbox: Mailbox) -> None:
    mailbox.append(b"\x00\xff garbage \xfe" * 10 + b"\r\n")
    mailbox.append(b"From: a@example.org\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
                   b"--x\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n")
    mailbox.append(mail("噪声", "楼上装修。", message_id="<g1@example.org>"))
    result = poll_mailbox()
    assert (result.taken, result.refused, result.error) == (1, 2, "")
    assert Order.objects.count() == 1
    refused = ReceivedMessage.objects.filter(outcome="refused").order_by("pk")
    assert [r.reason for r in refused] == ["the mail has no sender address", "the message is empty"]
    assert [flags for _uid, flags in mailbox.messages()] == [{r"\Seen"}] * 3
    assert poll_mailbox().refused == 0  # refused once, not again


def test_a_mail_over_the_size_limit_is_refused_from_its_header_alone(mailbox: Mailbox,
                                                                      settings: Any) -> None:
    settings.HOTLINE_MAX_INBOUND_BYTES = 4096
    mailbox.append(mail("大", "一行字。\n" * 2000, message_id="<big@example.org>"))
    result = poll_mailbox()
    assert (result.taken, result.refused) == (0, 1)
    record = ReceivedMessage.objects.get()
    assert (record.outcome, record.reason, record.sender) == (
        "refused", "the message is too large", "zhang@example.org")
    assert record.meta["message_id"] == "<big@example.org>" and record.meta["size"] > 4096
    assert Order.objects.count() == 0 and mailbox.messages()[0][1] == {r"\Seen"}


def test_the_done_folder_option_moves_taken_mail(mailbox: Mailbox, settings: Any) -> None:
    settings.HOTLINE_IMAP_DONE_FOLDER = "已处理 & done"  # created, non-ASCII and all
    mailbox.append(mail("小区停水", "停水。", message_id="<d1@example.org>"))
    mailbox.append(b"no headers at all\r\n")
    assert poll_mailbox().as_dict() | {"mailbox": ""} == {
        "mailbox": "", "taken": 1, "refused": 1, "skipped": 0, "waiting": 0, "error": ""}
    assert mailbox.messages() == []
    assert [flags for _uid, flags in mailbox.messages("已处理 & done")] == [{r"\Seen"}] * 2
    mailbox.append(mail("路灯", "路灯坏了。", message_id="<d2@example.org>"))
    assert poll_mailbox().taken == 1 and len(mailbox.messages("已处理 & done")) == 3
    assert Order.objects.count() == 2


def test_a_wrong_password_or_no_server_is_logged_and_raises_nothing(
        mailbox: Mailbox, settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    mailbox.append(mail("小区停水", "停水。", message_id="<w1@example.org>"))
    settings.HOTLINE_IMAP_URL = mailbox.url(password="wrong")
    with caplog.at_level(logging.ERROR, logger="hotline.intake.email"):
        result = poll_mailbox()
    refused = f"login as {mailbox.user!r} refused"
    assert result.taken == 0 and refused in result.error and "AUTHENTICATIONFAILED" in result.error
    assert refused in caplog.text and "wrong" not in caplog.text
    assert refused in PolledMailbox.objects.get().error
    assert mailbox.messages()[0][1] == set()  # untouched, for the next poll

    settings.HOTLINE_IMAP_URL = f"imap://{mailbox.user}:x@127.0.0.1:{free_port()}/INBOX"
    assert "ConnectionRefusedError" in poll_mailbox().error
    settings.HOTLINE_IMAP_URL = mailbox.url(folder="NoSuchFolder")
    assert "SELECT NoSuchFolder: NO" in poll_mailbox().error

    settings.HOTLINE_IMAP_URL = mailbox.url()  # fixed: the next poll takes the mail
    result = poll_mailbox()
    assert (result.taken, result.error) == (1, "")
    assert PolledMailbox.objects.get(account=result.mailbox).error == ""


def test_a_poll_that_dies_after_taking_a_mail_never_takes_it_twice(
        mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox.append(mail("小区停水", "停水。", message_id="<c1@example.org>"))
    mailbox.append(b"From: b@example.org\r\nSubject: no id\r\n\r\nA mail without Message-ID.\r\n")

    def connection_lost(*_args: object, **_kwargs: object) -> None:
        raise ConnectionResetError("the server went away")

    monkeypatch.setattr(imap.Folder, "mark_taken", connection_lost)
    result = poll_mailbox()
    assert (result.taken, result.error) == (1, "ConnectionResetError: the server went away")
    assert mailbox.messages()[0][1] == set()  # committed, but never marked
    monkeypatch.undo()
    result = poll_mailbox()
    # The first is not taken again, though unread; the second (no Message-ID to dedupe by) once.
    assert (result.taken, result.error) == (1, "")
    assert Order.objects.count() == 2 and ReceivedMessage.objects.count() == 2
    assert poll_mailbox().taken == 0 and Order.objects.count() == 2


def test_a_mail_whose_delivery_fails_is_retried_then_skipped_and_flagged(
        mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox.append(mail("坏", "触发错误。", message_id="<f1@example.org>"))
    mailbox.append(mail("好", "正常邮件。", message_id="<f2@example.org>"))
    deliver = imap.deliver_mail

    def failing_on_first(raw: bytes, recipients: list[str]) -> tuple[int, str]:
        if b"<f1@example.org>" in raw:
            raise RuntimeError("a bug of ours")
        return deliver(raw, recipients)

    monkeypatch.setattr(imap, "deliver_mail", failing_on_first)
    for attempt in (1, 2):
        result = poll_mailbox()
        assert result.taken == 0 and f"({attempt} of 3 attempts)" in result.error
    result = poll_mailbox()
    assert (result.taken, result.skipped, result.error) == (1, 1, "")
    assert [flags for _uid, flags in mailbox.messages()] == [{r"\Flagged"}, {r"\Seen"}]
    assert Order.objects.get().title == "好"


def test_a_new_uidvalidity_reads_the_folder_again_and_message_ids_keep_it_once(
        mailbox: Mailbox, settings: Any) -> None:
    with mailbox.session() as client:
        assert client.create('"Hotline"')[0] == "OK"
    settings.HOTLINE_IMAP_URL = mailbox.url(folder="Hotline")
    first = mail("小区停水", "停水。", message_id="<v1@example.org>")
    mailbox.append(first, folder="Hotline")
    assert poll_mailbox().taken == 1
    before = PolledMailbox.objects.get().uidvalidity
    with mailbox.session() as client:  # the folder is recreated (a migration of the server)
        assert client.delete('"Hotline"')[0] == "OK"
        assert client.create('"Hotline"')[0] == "OK"
    mailbox.append(first, folder="Hotline")
    mailbox.append(mail("路灯", "路灯坏了。", message_id="<v2@example.org>"), folder="Hotline")
    assert poll_mailbox().taken == 2
    assert PolledMailbox.objects.get().uidvalidity != before
    assert Order.objects.count() == 2  # the first mail, taken again, is a duplicate
    assert ReceivedMessage.objects.count() == 2


def test_one_poll_takes_at_most_its_limit_and_the_next_goes_on(mailbox: Mailbox) -> None:
    for n in range(5):
        mailbox.append(mail(f"诉求{n}", "内容。", message_id=f"<l{n}@example.org>"))
    result = poll_mailbox(limit=3)
    assert (result.taken, result.waiting) == (3, 2)
    assert PolledMailbox.objects.get().unread_only  # not caught up yet
    result = poll_mailbox(limit=3)
    assert (result.taken, result.waiting) == (2, 0)
    assert Order.objects.count() == 5 and not PolledMailbox.objects.get().unread_only


def test_a_second_poll_while_one_holds_the_mailbox_skips_its_turn(mailbox: Mailbox) -> None:
    mailbox.append(mail("小区停水", "停水。", message_id="<k1@example.org>"))
    assert poll_mailbox().taken == 1
    from django.utils import timezone

    PolledMailbox.objects.update(leased_until=timezone.now() + imap.LEASE)
    mailbox.append(mail("路灯", "路灯坏了。", message_id="<k2@example.org>"))
    assert poll_mailbox().error == "another poll holds this mailbox"
    PolledMailbox.objects.update(leased_until=timezone.now())  # that poll died: it lapses
    assert poll_mailbox().taken == 1


def test_nothing_is_polled_without_a_mailbox(settings: Any) -> None:
    settings.HOTLINE_IMAP_URL = ""
    assert poll_mailbox().error == "HOTLINE_IMAP_URL is not set"
    assert not PolledMailbox.objects.exists()


def test_the_command_polls_once_and_says_so(mailbox: Mailbox, settings: Any) -> None:
    mailbox.append(mail("小区停水", "停水。", message_id="<cmd@example.org>"))
    out = io.StringIO()
    call_command("poll_mailbox", stdout=out)
    assert "1 taken, 0 refused" in out.getvalue() and Order.objects.count() == 1
    settings.HOTLINE_IMAP_URL = mailbox.url(password="wrong")
    with pytest.raises(CommandError, match="refused"):
        call_command("poll_mailbox", stdout=out)


@pytest.fixture(scope="module")
def tls_dovecot() -> Iterator[Dovecot]:
    with running(tls=True) as server:
        yield server


def test_imaps_and_starttls_verify_the_server(tls_dovecot: Dovecot, city: Any, settings: Any,
                                              tmp_path: Any) -> None:
    box = tls_dovecot.mailbox()
    settings.MEDIA_ROOT = tmp_path
    settings.HOTLINE_IMAP_DONE_FOLDER = ""
    # The self-signed certificate is refused unless trusted: logged, nothing raised.
    settings.HOTLINE_IMAP_URL = box.url(scheme="imaps")
    box.append(mail("小区停水", "停水。", message_id="<s1@example.org>"))
    assert "CERTIFICATE_VERIFY_FAILED" in poll_mailbox().error
    settings.HOTLINE_IMAP_URL = box.url(scheme="imaps",
                                                query=f"cafile={tls_dovecot.cafile}")
    assert poll_mailbox().taken == 1
    box.append(mail("路灯", "路灯坏了。", message_id="<s2@example.org>"))
    settings.HOTLINE_IMAP_URL = box.url(
        scheme="imap", query=f"starttls=1&cafile={tls_dovecot.cafile}")
    result = poll_mailbox()
    assert (result.taken, result.error) == (1, "")
    assert Order.objects.count() == 2
