"""Mayor's-mailbox letters (市长信箱): receiving one from the letter form, and the centre
withdrawing a published letter or putting it back.

A letter becomes an order through ``do_receive`` like every other message (channel "mailbox",
dispatched like any order); its ``MailboxLetter`` row is written in the same transaction, so an
order from the mailbox never lacks the writer's answer to "may we publish this?". The row keeps
the title and text already masked: what could identify the writer is gone before anything
public (the list, its search) reads them.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.core.errors import Forbidden, InvalidInput, NotFound
from hotline.core.masking import mask_personal_details
from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.intake.mailbox import Letter, acknowledge_by, letter_message
from hotline.intake.messages import Outcome, Receipt
from hotline.intake.models import MailboxLetter
from hotline.intake.services import do_receive
from hotline.orders.disclosure import redact_citizen
from hotline.orders.models import Order

log = logging.getLogger("hotline.intake")

# Withdrawing a letter from the public list is the centre's editorial call.
WITHDRAW_ROLES = frozenset({Role.MONITOR, Role.CENTRE_ADMIN})
REASON_CHARS = 255


def masked_for_publication(text: str, *, name: str, phone: str, email: str) -> str:
    """The writer's own text as the public may read it: their name and number wherever they
    wrote them, then every phone-like or ID-like number and email address."""
    text = redact_citizen(text, name, phone)
    if email:
        text = text.replace(email, "***")
    return mask_personal_details(text)


def do_receive_letter(letter: Letter, *, received_at: dt.datetime,
                      submission_id: str) -> Receipt:
    """Take a letter from the form: the order through ``do_receive`` and, for a new order, its
    publication record. A letter quoting the writer's own acceptance number is added to that
    order instead (``do_receive``), and is not a letter of its own to publish."""
    msg = letter_message(letter, received_at=received_at, submission_id=submission_id)
    with transaction.atomic():
        receipt = do_receive(msg)
        if receipt.outcome == Outcome.CREATED:
            order = Order.objects.get(number=receipt.order_number)
            private = {"name": msg.sender_name, "phone": msg.sender_phone,
                       "email": msg.sender_email}
            MailboxLetter.objects.create(
                order=order, title=masked_for_publication(msg.subject, **private)[:200],
                text=masked_for_publication(msg.text, **private),
                publish_consent=letter.publish, received_at=received_at,
                acknowledge_by=acknowledge_by(received_at))
    return receipt


def may_withdraw_letters(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.role in WITHDRAW_ROLES))


def _check_may_withdraw(actor: User) -> None:
    if not may_withdraw_letters(actor):
        raise Forbidden(gettext_noop("only the centre's monitors and administrators decide "
                                     "what the mailbox publishes"))


def do_withdraw_letter(actor: User, letter_id: int, reason: str, *,
                       now: dt.datetime | None = None) -> MailboxLetter:
    """Take a letter off the public list (it stays with its order); the reason is required so
    the next person knows why."""
    _check_may_withdraw(actor)
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput(gettext_noop("say why the letter is withdrawn"), field="reason")
    if len(reason) > REASON_CHARS:
        raise InvalidInput(gettext_noop("the reason is too long"), field="reason")
    # One update: two people withdrawing at once leave the first one's reason.
    MailboxLetter.objects.filter(pk=letter_id, withdrawn_at__isnull=True).update(
        withdrawn_at=now or timezone.now(), withdrawn_by=actor, withdrawal_reason=reason)
    letter = MailboxLetter.objects.filter(pk=letter_id).first()
    if letter is None:
        raise NotFound(gettext_noop("no such letter"))
    log.info("mailbox letter %s withdrawn by %s: %s", letter_id, actor.username, reason)
    return letter


def do_restore_letter(actor: User, letter_id: int) -> MailboxLetter:
    """Put a withdrawn letter back; it shows again when its order still qualifies."""
    _check_may_withdraw(actor)
    MailboxLetter.objects.filter(pk=letter_id).update(
        withdrawn_at=None, withdrawn_by=None, withdrawal_reason="")
    letter = MailboxLetter.objects.filter(pk=letter_id).first()
    if letter is None:
        raise NotFound(gettext_noop("no such letter"))
    log.info("mailbox letter %s restored by %s", letter_id, actor.username)
    return letter
