"""What the public mailbox list (市长信箱 公开信件) shows, and of each letter only what it may.

A letter is shown when its writer agreed, the centre has not withdrawn it, and its order has an
official reply the centre accepted (the order awaits its call back, is closed or archived). A
confidential order and a 举报 are never shown, whatever the writer ticked: a report's publication
would point at its reporter. All of that is asked of the order at read time, so an order later
marked confidential, or reopened, leaves the list at once.

The writer's title and text are stored masked (``mailbox_services``); the reply is the
department's, whose office numbers are meant to be read, so only the writer's own name, number,
email and address are taken out of it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from hotline.directory.models import OrderType, Unit, UnitKind
from hotline.intake.models import MailboxLetter
from hotline.orders.disclosure import REDACTED, redact_citizen
from hotline.orders.lifecycle import State
from hotline.orders.models import Order

# The reply was accepted by the centre (approve_reply leads to the call back) or the centre
# answered itself (answer closes the order).
ANSWERED_STATES = (State.CALLBACK, State.CLOSED, State.ARCHIVED)
QUERY_CHARS = 50
# A typed number is looked for in the masked letters only: matching it against the replies
# (which are not masked) would tell whoever types a phone number that some letter mentions it.
_NUMBER_IN_QUERY = re.compile(r"\d{5,}")
_MIN_ADDRESS_CHARS = 4


@dataclass(frozen=True)
class PublicLetter:
    id: int
    title: str
    text: str
    written_on: dt.date
    reply: str
    replied_on: dt.date | None
    replied_by: str


def published_letters(query: str = "") -> QuerySet[MailboxLetter]:
    """The letters the public list shows, newest first, optionally those containing ``query``
    (a plain substring match: it needs no segmentation for Chinese, and the list is small
    next to the order table)."""
    letters = (MailboxLetter.objects
               .filter(publish_consent=True, withdrawn_at__isnull=True,
                       order__state__in=[s.value for s in ANSWERED_STATES],
                       order__confidential=False, order__citizen__confidential=False)
               .exclude(order__type=OrderType.REPORT)
               .exclude(order__reply_text="")
               .select_related("order__citizen", "order__lead_unit")
               .order_by("-received_at", "-pk"))
    words = query.strip()[:QUERY_CHARS]
    if words:
        found = Q(title__icontains=words) | Q(text__icontains=words)
        if not _NUMBER_IN_QUERY.search(words):
            found |= Q(order__reply_text__icontains=words)
        letters = letters.filter(found)
    return letters


def published_letter(letter_id: int) -> MailboxLetter | None:
    return published_letters().filter(pk=letter_id).first()


def _public_reply(order: Order) -> str:
    citizen = order.citizen
    reply = redact_citizen(order.reply_text, citizen.name, citizen.phone)
    if citizen.email:
        reply = reply.replace(citizen.email, REDACTED)
    if len(order.address.strip()) >= _MIN_ADDRESS_CHARS:
        reply = reply.replace(order.address.strip(), REDACTED)
    return reply


def _local_date(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(moment).date() if moment else None


def _centre_name() -> str:
    centre = Unit.objects.filter(kind=UnitKind.CENTRE).order_by("pk").first()
    return centre.name if centre else ""


def public_letters(letters: list[MailboxLetter]) -> list[PublicLetter]:
    """What the pages show of each letter; never the order itself (it names the writer)."""
    centre = ""
    rows = []
    for letter in letters:
        order = letter.order
        if order.lead_unit is not None:
            replied_by = order.lead_unit.name
        else:  # answered by the centre itself
            centre = centre or _centre_name()
            replied_by = centre
        written_on = _local_date(letter.received_at)
        assert written_on is not None
        rows.append(PublicLetter(
            id=letter.pk, title=letter.title, text=letter.text, written_on=written_on,
            reply=_public_reply(order), replied_on=_local_date(order.replied_at or order.closed_at),
            replied_by=replied_by))
    return rows
