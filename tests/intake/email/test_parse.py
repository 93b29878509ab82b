"""The mail parser: Chinese charsets, encoded words, HTML, attachments, tokens, auto-replies,
bounces, and garbage that never raises."""

from __future__ import annotations

from email.message import EmailMessage

from hotline.intake.email.parse import html_to_text, parse_mail


def test_gbk_body_and_encoded_word_headers() -> None:
    body = "我家楼下的路灯坏了一个月，晚上很黑。".encode("gbk")
    raw = (b"From: =?gb2312?b?" + __import__("base64").b64encode("张先生".encode("gb2312"))
           + b"?= <zhang@example.org>\r\n"
           b"Subject: =?GBK?B?" + __import__("base64").b64encode("路灯坏了".encode("gbk")) + b"?=\r\n"
           b"Message-ID: <x1@example.org>\r\n"
           b"Content-Type: text/plain; charset=gb2312\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body)
    parsed = parse_mail(raw, recipients=["12345@hotline.localhost"])
    m = parsed.message
    assert (m.sender_name, m.sender_email, m.subject) == ("张先生", "zhang@example.org", "路灯坏了")
    assert m.text.startswith("我家楼下的路灯坏了一个月") and m.message_id == "<x1@example.org>"
    assert m.raw == raw and m.raw_extension == ".eml" and not parsed.auto_submitted


def test_html_only_mail_and_attachments() -> None:
    msg = EmailMessage()
    msg["From"] = "li@example.org"
    msg["Subject"] = "噪声"
    msg.set_content("<p>楼上&amp;装修</p><script>alert(1)</script><br>每天到深夜", subtype="html")
    msg.add_attachment(b"%PDF-1.4 test", maintype="application", subtype="pdf",
                       filename="照片说明.pdf")
    parsed = parse_mail(msg.as_bytes())
    assert parsed.message.text == "楼上&装修\n每天到深夜"
    (item,) = parsed.message.attachments
    assert (item.name, item.content, item.content_type) == ("照片说明.pdf", b"%PDF-1.4 test",
                                                           "application/pdf")
    assert "alert" not in html_to_text("<script>alert(1)</script>x")


def test_reply_token_from_the_address_and_threading_headers() -> None:
    raw = (b"From: a@example.org\r\nTo: 12345+12345678-0123456789ab@hotline.localhost\r\n"
           b"In-Reply-To: <ack1@hotline.localhost>\r\nReferences: <x@y> <ack1@hotline.localhost>"
           b"\r\nSubject: Re\r\n\r\nmore")
    parsed = parse_mail(raw)
    assert parsed.message.reply_token == "12345678-0123456789ab"
    assert parsed.message.in_reply_to == "<ack1@hotline.localhost>"
    assert parsed.references == ["<ack1@hotline.localhost>", "<x@y>"]
    envelope = parse_mail(b"From: a@example.org\r\n\r\nx",
                          recipients=["12345+87654321-ba9876543210@hotline.localhost"])
    assert envelope.message.reply_token == "87654321-ba9876543210"


def test_auto_replies_lists_and_senderless_mail_are_flagged() -> None:
    for header in (b"Auto-Submitted: auto-replied", b"Precedence: bulk", b"List-Id: <l.x>"):
        assert parse_mail(b"From: a@example.org\r\n" + header + b"\r\n\r\nx").auto_submitted
    assert parse_mail(b"Subject: x\r\n\r\nx").auto_submitted
    assert not parse_mail(b"From: a@example.org\r\nAuto-Submitted: no\r\n\r\nx").auto_submitted


def test_a_delivery_status_report_names_the_bounced_mail() -> None:
    raw = (b"From: MAILER-DAEMON@mx.example.org\r\nSubject: Undelivered Mail\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
           b"--B\r\nContent-Type: text/plain\r\n\r\ndelivery failed\r\n"
           b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
           b"Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; gone@example.org"
           b"\r\nAction: failed\r\nStatus: 5.1.1\r\n"
           b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
           b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
           b"Message-ID: <ack9@hotline.localhost>\r\nSubject: x\r\n\r\n--B--\r\n")
    parsed = parse_mail(raw)
    assert parsed.bounce_for == ["<ack9@hotline.localhost>"]
    assert "user unknown" in parsed.bounce_reason and parsed.auto_submitted


def test_garbage_never_raises() -> None:
    for raw in (b"", b"\x00\xff\xfe" * 100, b"From: \r\nContent-Type: multipart/mixed; "
                b"boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n",
                b"Subject: =?unknown-charset?q?abc?=\r\nContent-Type: text/plain; "
                b"charset=no-such\r\n\r\n\xc4\xe3"):
        parsed = parse_mail(raw)
        assert parsed.message.channel == "email"
