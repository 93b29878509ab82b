"""What the IMAP poller reads without a server: HOTLINE_IMAP_URL, folder names in modified
UTF-7, the recipients a delivered mail names, and when the worker polls."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.env import ConfigError, ImapAccount, imap_account
from hotline.intake.email.imap import envelope_recipients
from hotline.intake.email.imap_folder import encode_folder
from hotline.intake.tasks import PERIODIC, poll_mailbox_task


def test_an_imap_url_names_the_account_folder_and_tls() -> None:
    assert imap_account("imaps://12345%40city.gov.cn:p%40ss%2Fw@mail.city.gov.cn/INBOX") == \
        ImapAccount(host="mail.city.gov.cn", port=993, user="12345@city.gov.cn",
                    password="p@ss/w", folder="INBOX", tls="ssl")
    plain = imap_account("imap://hotline:pw@127.0.0.1:1143")
    assert (plain.port, plain.folder, plain.tls) == (1143, "INBOX", "")
    starttls = imap_account("imap://u:pw@mail.example.org/%E5%B8%82%E6%B0%91%E6%9D%A5%E4%BF%A1"
                            "?starttls=1&cafile=/etc/ssl/city-ca.pem")
    assert (starttls.port, starttls.folder, starttls.tls, starttls.cafile) == (
        143, "市民来信", "starttls", "/etc/ssl/city-ca.pem")
    assert starttls.key == "u@mail.example.org:143/市民来信"
    assert "pw" not in repr(starttls)  # the password stays out of logs and tracebacks


@pytest.mark.parametrize("url, problem", [
    ("pop3://u:p@host/INBOX", "must be imaps://"),
    ("imaps:///INBOX", "must be imaps://"),
    ("imaps://host/INBOX", "names no user"),
    ("imaps://u:p@host:99999/INBOX", "bad port"),
    ("imaps://u:p@host/INBOX?starttls=1", "TLS already"),
    ("imap://u:p@host/INBOX?tls=1", "unknown option tls"),
])
def test_a_malformed_imap_url_fails_loudly(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        imap_account(url)


def test_the_done_folder_cannot_be_the_polled_folder() -> None:
    for url, done in [("imaps://u:p@host/INBOX", "inbox"), ("imaps://u:p@host/Hotline", "Hotline"),
                      ("imaps://u:p@host", "INBOX")]:
        with pytest.raises(ConfigError, match="is the folder polled"):
            imap_account(url, done_folder=done)
    assert imap_account("imaps://u:p@host/INBOX", done_folder="已处理").folder == "INBOX"


def test_folder_names_are_quoted_and_non_ascii_in_modified_utf7() -> None:
    assert encode_folder("INBOX") == '"INBOX"'
    assert encode_folder('a "b" \\c') == '"a \\"b\\" \\\\c"'
    assert encode_folder("R&D") == '"R&-D"'
    # RFC 3501 5.1.3's own example.
    assert encode_folder("~peter/mail/台北/日本語") == '"~peter/mail/&U,BTFw-/&ZeVnLIqe-"'
    assert encode_folder("已处理") == '"&XfJZBHQG-"'


def test_the_recipients_come_from_the_delivery_headers_else_our_addresses_in_to() -> None:
    delivered = (b"Delivered-To: 12345+20260101001-ab12@hotline.localhost\r\n"
                 b"X-Original-To: 12345@hotline.localhost\r\n"
                 b"To: 12345@hotline.localhost, friend@example.org\r\n\r\nhi\r\n")
    assert envelope_recipients(delivered, ["hotline.localhost"]) == [
        "12345+20260101001-ab12@hotline.localhost", "12345@hotline.localhost"]
    listed = b"To: friend@example.org, 12345@HOTLINE.localhost\r\nCc: x@hotline.localhost\r\n\r\n"
    assert envelope_recipients(listed, ["hotline.localhost"]) == [
        "12345@HOTLINE.localhost", "x@hotline.localhost"]
    assert envelope_recipients(b"\x00\xff garbage", ["hotline.localhost"]) == []


def test_the_poll_runs_only_when_a_mailbox_is_configured(settings: Any) -> None:
    job = next(job for job in PERIODIC if job.name == "imap-poll")
    assert job.task is poll_mailbox_task
    settings.HOTLINE_IMAP_URL, settings.HOTLINE_IMAP_POLL_SECONDS = "", 60
    assert job.interval(settings) == 0.0  # off
    settings.HOTLINE_IMAP_URL = "imaps://u:p@mail.example.org/INBOX"
    settings.HOTLINE_IMAP_POLL_SECONDS = 45
    assert job.interval(settings) == 45.0
