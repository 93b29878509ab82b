"""One received mail into the hotline: bounces onto the mail they report, answers threaded to
their order (reply token in the address, or In-Reply-To naming a mail we sent), everything
else through ``do_receive``; a new order is acknowledged with its acceptance number.

Returns the SMTP reply for the receiver (and the IMAP poller's log): 250 once the mail is
committed, 550 with the reason when ``do_receive`` refused it.
"""

from __future__ import annotations

import logging

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hotline.intake import tokens
from hotline.intake.email.outbound import send_citizen_mail
from hotline.intake.email.parse import ParsedMail, parse_mail
from hotline.intake.messages import Outcome, Receipt
from hotline.intake.models import OutboundMail
from hotline.intake.services import do_receive, do_refuse
from hotline.orders.models import Contact, Order

log = logging.getLogger("hotline.intake.email")


def _thread(parsed: ParsedMail) -> None:
    """A reply to a mail we sent carries the order's token even when the client dropped the
    Reply-To address (some answer to From)."""
    if parsed.message.reply_token or not parsed.references:
        return
    sent = (OutboundMail.objects.filter(message_id__in=parsed.references[:20],
                                        order__isnull=False)
            .select_related("order").first())
    if sent is not None and sent.order is not None:
        parsed.message.reply_token = tokens.reply_token(sent.order.number)


def _record_bounce(parsed: ParsedMail) -> int:
    return OutboundMail.objects.filter(message_id__in=parsed.bounce_for).update(
        status=OutboundMail.Status.BOUNCED, error=parsed.bounce_reason[:255])


def _acknowledge(parsed: ParsedMail, receipt: Receipt) -> None:
    order = Order.objects.filter(number=receipt.order_number).first()
    if order is None or (order.confidential and order.type == "report"):
        return  # a report's acknowledgement would say in clear that the sender reported
    with translation.override("zh-hans"):
        subject = _("Your request is accepted: %(number)s") % {"number": order.number}
        body = _("Thank you for writing to the %(name)s hotline. Your request is accepted with "
                 "the number %(number)s. Reply to this mail to add to it; keep the number to "
                 "follow it on the portal or by calling %(name)s.") % {
            "number": order.number, "name": "12345"}
    send_citizen_mail(order, parsed.message.sender_email, subject, body,
                      purpose="accepted", contact=Contact.objects.filter(
                          pk=receipt.contact_id or 0).first(),
                      in_reply_to=parsed.message.message_id)


def deliver_mail(raw: bytes, recipients: list[str]) -> tuple[int, str]:
    parsed = parse_mail(raw, recipients=recipients)
    if parsed.bounce_for:
        found = _record_bounce(parsed)
        log.info("bounce for %s: %s (%d recorded)", parsed.bounce_for, parsed.bounce_reason, found)
        return 250, "2.0.0 bounce recorded"
    if not parsed.message.sender_email:
        receipt = do_refuse(parsed.message, gettext_noop("the mail has no sender address"),
                            "sender")
        return 550, f"5.1.7 {receipt.reason}"
    _thread(parsed)
    if parsed.auto_submitted:
        parsed.message.create_order = False  # an auto-reply is kept, never made an order
    if parsed.message.occurred_at is None:
        parsed.message.occurred_at = timezone.now()
    receipt = do_receive(parsed.message)
    if receipt.outcome == Outcome.REFUSED:
        return 550, f"5.7.1 {receipt.reason}"
    if receipt.outcome == Outcome.CREATED and not parsed.auto_submitted \
            and parsed.message.sender_email:
        _acknowledge(parsed, receipt)
    number = receipt.order_number or "-"
    return 250, f"2.0.0 {receipt.outcome} {number}"
