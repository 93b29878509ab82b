"""Polling an existing IMAP mailbox (HOTLINE_IMAP_URL), the alternative to running the SMTP
receiver: the worker's "imap-poll" job calls ``poll_mailbox`` every HOTLINE_IMAP_POLL_SECONDS.

Each new mail goes through ``delivery.deliver_mail``, the function the SMTP receiver calls, so
a polled mail is treated exactly like a received one (dedupe by Message-ID, bounces,
auto-replies, threading by reply token and In-Reply-To, the acknowledgement).

What has been taken is kept in the database (``PolledMailbox``: the folder's UIDVALIDITY and
the last UID taken), not read from the \\Seen flag: the UID is recorded as soon as the mail is
committed and before the mailbox is touched, so a poll that dies in between never takes it
twice, and one that dies before never loses it. Mail is then marked \\Seen (and moved to
HOTLINE_IMAP_DONE_FOLDER when set). A mail ``deliver_mail`` refuses (no sender, nothing
readable) is recorded as refused and marked like any other: nothing blocks the mailbox. A
mail whose delivery raises (a fault of ours) is retried at the next polls and, after
``MAX_ATTEMPTS``, skipped and flagged for a person. A connection, login or folder failure is
logged and the poll returns; the next one tries again.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.utils
import imaplib
import logging
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.env import ImapAccount, imap_account
from hotline.intake.email.delivery import deliver_mail
from hotline.intake.email.imap_folder import Folder, ImapFailure, connect, open_folder
from hotline.intake.email.parse import parse_mail
from hotline.intake.models import PolledMailbox
from hotline.intake.services import do_refuse, max_inbound_bytes

log = logging.getLogger("hotline.intake.email")

MAX_PER_POLL = 200  # one poll stays short; the rest waits for the next one
TIMEOUT_S = 30.0  # per network operation
MAX_ATTEMPTS = 3  # polls at which a mail whose delivery raises is tried before it is skipped
# How long one poll holds the mailbox against another (renewed at every mail taken): a poll
# that died frees it after this.
LEASE = dt.timedelta(minutes=10)
ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To")
MAX_RECIPIENTS = 20


@dataclass
class PollResult:
    mailbox: str = ""  # user@host:port/folder (no password)
    taken: int = 0  # committed by deliver_mail (a new order, a reply, a bounce, a duplicate)
    refused: int = 0  # refused by deliver_mail (recorded as refused), marked all the same
    skipped: int = 0  # given up after MAX_ATTEMPTS failed deliveries, flagged in the mailbox
    waiting: int = 0  # found beyond MAX_PER_POLL: the next poll goes on with them
    error: str = ""  # why the poll stopped early ("" when it went through)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def envelope_recipients(raw: bytes, domains: list[str]) -> list[str]:
    """The addresses the mail was delivered to, standing in for SMTP's RCPT TO: the headers
    the delivering server adds (Delivered-To...), else the To and Cc addresses in our
    domains. Where a reply token in the address is found."""
    try:
        header = email.parser.BytesHeaderParser().parsebytes(raw)
        stamped = [str(v) for name in ENVELOPE_HEADERS for v in header.get_all(name, [])]
        listed = [str(v) for name in ("To", "Cc") for v in header.get_all(name, [])]
        found = [a for _n, a in email.utils.getaddresses(stamped) if "@" in a]
        if not found:
            ours = {d.lower() for d in domains}
            found = [a for _n, a in email.utils.getaddresses(listed)
                     if a.rpartition("@")[2].lower() in ours]
    except Exception:  # a header the parser cannot read: parse_mail copes on its own
        return []
    return list(dict.fromkeys(found))[:MAX_RECIPIENTS]


def _refuse_too_large(header: bytes, size: int) -> tuple[int, str]:
    """A mail over HOTLINE_MAX_INBOUND_BYTES is never fetched whole: refused from its header
    (who sent it, its Message-ID) with do_receive's own reason for a message too large."""
    message = parse_mail(header).message
    message.raw, message.meta = b"", {**message.meta, "size": size}
    receipt = do_refuse(message, gettext_noop("the message is too large"), "raw")
    return 550, f"5.3.4 {receipt.reason}"


def _said(exc: Exception) -> str:
    """What the server said, as text (imaplib carries it as bytes)."""
    said = exc.args[0] if len(exc.args) == 1 else None
    return said.decode("utf-8", "replace") if isinstance(said, bytes) else str(exc)


def _claim(account: ImapAccount) -> PolledMailbox | None:
    """The folder's record, leased to this poll; None while another poll holds it."""
    state, _created = PolledMailbox.objects.get_or_create(account=account.key)
    now = timezone.now()
    claimed = (PolledMailbox.objects.filter(pk=state.pk)
               .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
               .update(leased_until=now + LEASE))
    if not claimed:
        return None
    state.refresh_from_db()
    return state


def _advance(state: PolledMailbox, uid: int) -> None:
    state.last_uid, state.failing_uid, state.failures = uid, None, 0
    state.leased_until = timezone.now() + LEASE
    state.save(update_fields=["last_uid", "failing_uid", "failures", "leased_until"])


class _Poll:
    def __init__(self, account: ImapAccount, state: PolledMailbox, result: PollResult) -> None:
        self.account, self.state, self.result = account, state, result
        self.done_folder = str(settings.HOTLINE_IMAP_DONE_FOLDER)
        self.domains = list(settings.HOTLINE_MAIL_DOMAINS)

    def run(self, limit: int) -> None:
        with connect(self.account, TIMEOUT_S) as client:
            try:
                client.login(self.account.user, self.account.password)
            except imaplib.IMAP4.error as exc:
                raise ImapFailure(f"login as {self.account.user!r} refused: "
                                  f"{_said(exc)}") from exc
            folder = open_folder(client, self.account.folder)
            if self.done_folder:
                folder.ensure_folder(self.done_folder)
            self._follow_uidvalidity(folder)
            uids = folder.uids_after(self.state.last_uid, unread_only=self.state.unread_only)
            batch = uids[:limit]
            self.result.waiting = len(uids) - len(batch)
            sizes = folder.sizes(batch)
            for uid in batch:
                if not self._take(folder, uid, sizes.get(uid, 0)):
                    return
            if self.state.unread_only and not self.result.waiting:
                # Caught up: whatever else lies below UIDNEXT was read before the hotline
                # polled this folder. From now on every new mail is taken, read or not.
                self.state.last_uid = max(self.state.last_uid, (folder.uidnext or 1) - 1)
                self.state.unread_only = False
                self.state.save(update_fields=["last_uid", "unread_only"])

    def _follow_uidvalidity(self, folder: Folder) -> None:
        """A new UIDVALIDITY (the folder was recreated or migrated) makes the old UIDs
        meaningless: read it from the start, unread mail only; Message-IDs keep a mail
        already taken from becoming a second order."""
        if self.state.uidvalidity == folder.uidvalidity:
            return
        if self.state.uidvalidity:
            log.warning("IMAP folder %s has a new UIDVALIDITY (%d, was %d): reading its "
                        "unread mail from the start", self.account.key, folder.uidvalidity,
                        self.state.uidvalidity)
        state = self.state
        state.uidvalidity, state.last_uid, state.unread_only = folder.uidvalidity, 0, True
        state.failing_uid, state.failures = None, 0
        state.save(update_fields=["uidvalidity", "last_uid", "unread_only", "failing_uid",
                                  "failures"])

    def _take(self, folder: Folder, uid: int, size: int) -> bool:
        """One mail into the hotline; False stops the poll (retried at the next one)."""
        too_large = size > max_inbound_bytes()
        raw = folder.fetch(uid, header_only=too_large)
        if raw is None:  # expunged since the search: nothing to take
            _advance(self.state, uid)
            return True
        try:
            if too_large:
                code, reply = _refuse_too_large(raw, size)
            else:
                code, reply = deliver_mail(raw, envelope_recipients(raw, self.domains))
        except Exception:
            log.exception("delivering IMAP mail UID %d of %s failed", uid, self.account.key)
            return self._failed(folder, uid)
        _advance(self.state, uid)  # before the mailbox is touched: never taken twice
        if code == 250:
            self.result.taken += 1
            log.info("IMAP mail UID %d of %s: %d %s", uid, self.account.key, code, reply)
        else:
            self.result.refused += 1
            log.warning("IMAP mail UID %d of %s refused: %d %s", uid, self.account.key, code,
                        reply)
        folder.mark_taken(uid, self.done_folder)
        return True

    def _failed(self, folder: Folder, uid: int) -> bool:
        state = self.state
        state.failures = state.failures + 1 if state.failing_uid == uid else 1
        state.failing_uid = uid
        state.save(update_fields=["failing_uid", "failures"])
        if state.failures < MAX_ATTEMPTS:
            self.result.error = (f"delivering UID {uid} failed ({state.failures} of "
                                 f"{MAX_ATTEMPTS} attempts)")
            return False
        log.error("IMAP mail UID %d of %s failed %d times: skipped, flagged in the mailbox",
                  uid, self.account.key, state.failures)
        _advance(state, uid)
        folder.flag(uid)
        self.result.skipped += 1
        return True


def poll_mailbox(limit: int = MAX_PER_POLL) -> PollResult:
    """Take the new mail of the configured folder (at most ``limit``); never raises for the
    mailbox's sake (unreachable, wrong password, no such folder): that is logged, kept on
    the folder's record and in the result, and the next poll tries again."""
    if not settings.HOTLINE_IMAP_URL:
        return PollResult(error="HOTLINE_IMAP_URL is not set")
    account = imap_account(str(settings.HOTLINE_IMAP_URL),
                           done_folder=str(settings.HOTLINE_IMAP_DONE_FOLDER))
    result = PollResult(mailbox=account.key)
    state = _claim(account)
    if state is None:
        log.info("IMAP folder %s is being polled already; this turn is skipped", account.key)
        result.error = "another poll holds this mailbox"
        return result
    try:
        _Poll(account, state, result).run(limit)
    except (OSError, imaplib.IMAP4.error, ImapFailure) as exc:  # OSError: refused, TLS, timeout
        result.error = f"{type(exc).__name__}: {_said(exc)}"
        log.error("IMAP poll of %s failed, the next poll tries again: %s", account.key,
                  result.error)
    finally:
        PolledMailbox.objects.filter(pk=state.pk).update(
            leased_until=None, polled_at=timezone.now(), error=result.error[:255])
    return result
