"""A mail's bytes into an ``InboundMessage``, with no Django and no I/O.

Chinese mail comes in GB2312, GBK, GB18030 and UTF-8, with RFC 2047 encoded words in the
headers; a part in GB2312 is decoded as GB18030 (its superset: real GB2312 mail carries GBK
characters). Nothing here raises on a malformed mail: what cannot be read is left out, and a
mail with nothing readable is refused by ``do_receive`` as empty.
"""

from __future__ import annotations

import email
import email.utils
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message

from hotline.intake.messages import InboundFile, InboundMessage

TOKEN_IN_ADDRESS = re.compile(r"\+([0-9]{8}-[0-9a-f]+)@")
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
WIDER_CHARSET = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030"}
MAX_TEXT_CHARS = 100_000


@dataclass
class ParsedMail:
    message: InboundMessage
    auto_submitted: bool = False  # an auto-reply, a list, a bulk mail: never answered
    bounce_for: list[str] = field(default_factory=list)  # Message-IDs a bounce reports on
    bounce_reason: str = ""
    references: list[str] = field(default_factory=list)


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the parser cannot decode
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _decode(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return ""
    if not isinstance(payload, bytes):
        return ""
    charset = (part.get_content_charset() or "utf-8").lower()
    charset = WIDER_CHARSET.get(charset, charset)
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: scripts and styles dropped, tags removed, entities
    decoded. Only ever shown escaped; this just keeps the words."""
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>", "\n", markup)
    text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _bodies(msg: Message) -> tuple[str, str, list[InboundFile], Message | None]:
    plain, markup, files, report = "", "", [], None
    for part in msg.walk():
        if part.is_multipart():
            if part.get_content_type() == "multipart/report":
                report = part
            continue
        kind = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        name = part.get_filename() or ""
        if disposition == "attachment" or (name and kind not in ("text/plain", "text/html")):
            try:
                content = part.get_payload(decode=True)
            except Exception:
                content = None
            if isinstance(content, bytes):
                files.append(InboundFile(name=name or "attachment", content=content,
                                         content_type=kind))
        elif kind == "text/plain" and not plain:
            plain = _decode(part)
        elif kind == "text/html" and not markup:
            markup = _decode(part)
    return plain, markup, files, report


def _address(value: str) -> tuple[str, str]:
    name, address = email.utils.parseaddr(value)
    return name.strip(), address.strip() if "@" in address else ""


def _bounce(report: Message) -> tuple[list[str], str]:
    """The original Message-IDs and the reason of a delivery-status report (RFC 3464)."""
    ids: list[str] = []
    reason = ""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            text = part.as_string() if not part.is_multipart() else ""
            for sub in part.get_payload() if isinstance(part.get_payload(), list) else []:
                text += str(sub)
            found = re.search(r"(?im)^Diagnostic-Code:\s*(.+)$", text) or re.search(
                r"(?im)^Status:\s*(.+)$", text)
            reason = found.group(1).strip()[:255] if found else "delivery failed"
        elif kind in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            source = str(inner) if inner is not None else str(payload)
            found = re.search(r"(?im)^Message-ID:\s*(<[^>]+>)", source)
            if found:
                ids.append(found.group(1))
    return ids, reason or "delivery failed"


def parse_mail(raw: bytes, *, recipients: list[str] | None = None) -> ParsedMail:
    """``raw`` as it came; ``recipients`` the envelope's (RCPT TO), where a reply token may be."""
    try:
        msg: Message = email.message_from_bytes(raw, policy=policy.default)
    except Exception:  # the stdlib parser is lenient; this is for the truly broken
        msg = EmailMessage()
    name, sender = _address(_header(msg, "From"))
    subject = _header(msg, "Subject")[:500]
    plain, markup, files, report = _bodies(msg)
    text = (plain or html_to_text(markup))[:MAX_TEXT_CHARS]
    message_id = (MESSAGE_ID.findall(_header(msg, "Message-ID")) or [""])[0][:255]
    in_reply_to = MESSAGE_ID.findall(_header(msg, "In-Reply-To"))
    references = in_reply_to + [m for m in MESSAGE_ID.findall(_header(msg, "References"))
                                if m not in in_reply_to]
    token = ""
    for address in [*(recipients or []), _header(msg, "To"), _header(msg, "Delivered-To"),
                    _header(msg, "Cc")]:
        found = TOKEN_IN_ADDRESS.search(address)
        if found:
            token = found.group(1)
            break
    auto = _header(msg, "Auto-Submitted").lower()
    precedence = _header(msg, "Precedence").lower()
    auto_submitted = bool((auto and auto != "no") or precedence in ("bulk", "junk", "list",
                                                                    "auto_reply")
                          or _header(msg, "List-Id") or _header(msg, "X-Autoreply")
                          or not sender)
    bounce_for, bounce_reason = _bounce(report) if report is not None else ([], "")
    message = InboundMessage(
        channel="email", text=text, message_id=message_id, subject=subject,
        sender_email=sender, sender_name=name[:100], raw=raw, raw_extension=".eml",
        attachments=files, reply_token=token,
        in_reply_to=references[0] if references else "",
        called_number=(recipients or [""])[0][:255],
    )
    return ParsedMail(message=message, auto_submitted=auto_submitted or bool(report),
                      bounce_for=bounce_for, bounce_reason=bounce_reason, references=references)
