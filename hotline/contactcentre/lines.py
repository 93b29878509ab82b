"""What each hotline number brought in (seed 001: the merged department hotlines must show in
the statistics): contacts and calls by the number they came in on, over a period.

Counted from the contacts (``Contact.called_number``, written by the gateway and by intake), so a
number the centre has not configured (yet) still shows; the configured ones carry their name
and former owner."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from hotline.contactcentre.models import QueuedCall, ServiceNumber
from hotline.contactcentre.stats import ANSWERED
from hotline.orders.models import Channel, Contact


@dataclass(frozen=True)
class LineFigures:
    number: str
    name: str  # "" for a number not configured
    former_unit: str
    contacts: int
    calls: int  # phone contacts
    orders: int  # distinct work orders its contacts led to
    answered_by_agent: int  # calls a person answered (from the queue)


def figures_by_line(start: dt.datetime, end: dt.datetime) -> list[LineFigures]:
    """One row per called number with contacts in [start, end), most contacts first."""
    contacts = Contact.objects.filter(occurred_at__gte=start, occurred_at__lt=end) \
        .exclude(called_number="")
    rows = (contacts.values("called_number")
            .annotate(contacts=Count("id", distinct=True),
                      calls=Count("id", filter=Q(channel=Channel.PHONE), distinct=True),
                      orders=Count("orders", distinct=True))
            .order_by("-contacts", "called_number"))
    answered = dict(
        QueuedCall.objects.filter(contact__in=contacts, outcome__in=ANSWERED)
        .values("contact__called_number").annotate(n=Count("contact_id", distinct=True))
        .values_list("contact__called_number", "n"))
    configured = {n.number: n for n in ServiceNumber.objects.select_related("former_unit")}
    found = []
    for row in rows:
        number = row["called_number"]
        line = configured.get(number)
        found.append(LineFigures(
            number=number, name=line.name if line else "",
            former_unit=line.former_unit.name if line and line.former_unit else "",
            contacts=row["contacts"], calls=row["calls"], orders=row["orders"],
            answered_by_agent=answered.get(number, 0)))
    return found
