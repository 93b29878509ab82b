"""One selected IMAP folder over the stdlib's imaplib: the few commands the poller needs, with
the server's answers turned into numbers and bytes. No Django here.

Bodies are fetched with ``BODY.PEEK[]``, which leaves the \\Seen flag alone (``RFC822`` would
set it): a mail is marked only once the hotline has recorded it.
"""

from __future__ import annotations

import base64
import imaplib
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

from hotline.env import ImapAccount


class ImapFailure(Exception):
    """The server refused a command (NO, BAD), or answered what cannot be read."""


def encode_folder(name: str) -> str:
    """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3),
    so a folder named 已处理 works."""
    out, run = [], ""

    def flush() -> None:
        nonlocal run
        if run:
            coded = base64.b64encode(run.encode("utf-16-be")).decode("ascii").rstrip("=")
            out.append("&" + coded.replace("/", ",") + "-")
            run = ""

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            run += char
    flush()
    quoted = "".join(out).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}"'


def connect(account: ImapAccount, timeout: float) -> imaplib.IMAP4:
    """A connection, TLS as the account says (verified against the system's CAs or the
    account's ``cafile``), not yet logged in."""
    context = None
    if account.tls:
        context = ssl.create_default_context(cafile=account.cafile or None)
    if account.tls == "ssl":
        return imaplib.IMAP4_SSL(account.host, account.port, ssl_context=context,
                                 timeout=timeout)
    client = imaplib.IMAP4(account.host, account.port, timeout=timeout)
    if account.tls == "starttls":
        try:
            client.starttls(ssl_context=context)
        except BaseException:
            client.shutdown()
            raise
    return client


def _check(answer: tuple[str, Sequence[object]], what: str) -> list[object]:
    status, data = answer
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ImapFailure(f"{what}: {status} {detail}".strip())
    return list(data)


def _number(answer: tuple[str, Sequence[object]]) -> int | None:
    value = answer[1][0] if answer[1] else None
    return int(value) if isinstance(value, bytes) and value.strip().isdigit() else None


@dataclass
class Folder:
    client: imaplib.IMAP4
    name: str
    uidvalidity: int
    uidnext: int | None  # the UID the next mail will get (None if the server kept it back)
    capabilities: set[str] = field(default_factory=set)

    def uids_after(self, last_uid: int, *, unread_only: bool) -> list[int]:
        """UIDs above ``last_uid``, lowest first (oldest mail first)."""
        criteria = ["UID", f"{last_uid + 1}:*"] + (["UNSEEN"] if unread_only else [])
        data = _check(self.client.uid("SEARCH", *criteria), "UID SEARCH")
        found = b" ".join(d for d in data if isinstance(d, bytes)).split()
        # "n:*" always matches the newest mail, even below n: keep only what is above.
        return sorted(uid for uid in (int(x) for x in found if x.isdigit()) if uid > last_uid)

    def sizes(self, uids: list[int]) -> dict[int, int]:
        if not uids:
            return {}
        data = _check(self.client.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)"),
                      "UID FETCH RFC822.SIZE")
        sizes = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            uid = re.search(rb"\bUID (\d+)", line)
            size = re.search(rb"\bRFC822\.SIZE (\d+)", line)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def fetch(self, uid: int, *, header_only: bool = False) -> bytes | None:
        """The mail as it is stored (or only its header); None when it is gone (expunged by
        someone else since the search)."""
        section = "BODY.PEEK[HEADER]" if header_only else "BODY.PEEK[]"
        data = _check(self.client.uid("FETCH", str(uid), f"({section})"), "UID FETCH")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and b"BODY[" in item[0]:
                return bytes(item[1])
        return None

    def mark_taken(self, uid: int, done_folder: str = "") -> None:
        """Read, and moved to ``done_folder`` when one is named."""
        _check(self.client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)"), "UID STORE")
        if done_folder:
            self.move(uid, done_folder)

    def flag(self, uid: int) -> None:
        """Flagged for a person to look at (a mail the hotline gave up on)."""
        _check(self.client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Flagged)"), "UID STORE")

    def move(self, uid: int, folder: str) -> None:
        target = encode_folder(folder)
        if "MOVE" in self.capabilities:
            _check(self.client.uid("MOVE", str(uid), target), "UID MOVE")
            return
        # Without MOVE (RFC 6851): copy, then delete the original.
        _check(self.client.uid("COPY", str(uid), target), "UID COPY")
        _check(self.client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "UID STORE")
        if "UIDPLUS" in self.capabilities:
            _check(self.client.uid("EXPUNGE", str(uid)), "UID EXPUNGE")
        else:
            _check(self.client.expunge(), "EXPUNGE")

    def ensure_folder(self, folder: str) -> None:
        """Create ``folder`` unless it is there (a NO to CREATE is what an existing one gets)."""
        name = encode_folder(folder)
        status, data = self.client.list('""', name)
        if status == "OK" and any(isinstance(d, bytes | tuple) for d in data):
            return
        _check(self.client.create(name), f"CREATE {folder}")


def open_folder(client: imaplib.IMAP4, name: str) -> Folder:
    """Select ``name`` (read-write) on a logged-in connection."""
    _check(client.select(encode_folder(name)), f"SELECT {name}")
    uidvalidity = _number(client.response("UIDVALIDITY"))
    if uidvalidity is None:
        raise ImapFailure(f"SELECT {name}: the server gave no UIDVALIDITY")
    # The capabilities said before login are often fewer than after (MOVE, UIDPLUS).
    words = b" ".join(d for d in _check(client.capability(), "CAPABILITY")
                      if isinstance(d, bytes))
    return Folder(client, name, uidvalidity, _number(client.response("UIDNEXT")),
                  {w.decode("ascii", "replace").upper() for w in words.split()})
