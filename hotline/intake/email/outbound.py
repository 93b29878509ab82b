"""Mail to citizens through the relay (``HOTLINE_SMTP_RELAY``, Django's EMAIL_* settings).

Every mail carries the order's reply token in its Reply-To (``12345+<token>@<domain>``) and a
Message-ID we keep, so the citizen's answer finds its order by either; a bounce that names the
Message-ID is recorded on the row."""

from __future__ import annotations

import logging
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from hotline.intake import tokens
from hotline.intake.models import OutboundMail
from hotline.orders.models import Contact, Order

log = logging.getLogger("hotline.intake.email")


def mailbox() -> tuple[str, str]:
    """(local part, domain) of the hotline's own address, HOTLINE_MAIL_FROM."""
    local, _at, domain = str(settings.HOTLINE_MAIL_FROM).rpartition("@")
    return local, domain


def reply_address(number: str) -> str:
    local, domain = mailbox()
    return f"{local}+{tokens.reply_token(number)}@{domain}"


def send_citizen_mail(order: Order | None, to: str, subject: str, body: str, *, purpose: str,
                      contact: Contact | None = None, in_reply_to: str = "",
                      extra_headers: dict[str, str] | None = None) -> OutboundMail:
    """Send one mail to a citizen and record it; a relay failure is recorded, not raised (the
    caller's work, an order accepted, stands without its mail)."""
    _local, domain = mailbox()
    message_id = make_msgid(domain=domain)
    headers = {"Message-ID": message_id, "Auto-Submitted": "auto-replied" if in_reply_to
               else "auto-generated"}
    if in_reply_to:
        headers |= {"In-Reply-To": in_reply_to, "References": in_reply_to}
    headers |= extra_headers or {}  # e.g. List-Unsubscribe of outreach's mails
    mail = EmailMessage(subject=subject, body=body, from_email=settings.HOTLINE_MAIL_FROM,
                        to=[to], headers=headers,
                        reply_to=[reply_address(order.number)] if order else None)
    mail.encoding = "utf-8"
    status, error = OutboundMail.Status.SENT, ""
    try:
        mail.send()
    except Exception as exc:  # the relay refused or is down
        status, error = OutboundMail.Status.FAILED, f"{type(exc).__name__}: {exc}"[:255]
        log.warning("mail to %s (%s) failed: %s", to, purpose, error)
    return OutboundMail.objects.create(
        order=order, contact=contact, message_id=message_id, to=to[:255],
        subject=subject[:255], purpose=purpose, status=status, error=error,
        sent_at=timezone.now())
