"""The IVR trail as data: each call's visits to the IVR's nodes (``IvrVisit`` rows), written
once when the call ends, and what reads them (a call's path, the per-node counts).

The gateway's IVR engine (``hotline.voice.ivr.engine``) keeps the visits while the call runs;
``hotline.voice.services.finish_call`` hands them here as plain values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count

from hotline.contactcentre.ivr_outcome import VisitOutcome
from hotline.contactcentre.models import IvrVisit
from hotline.orders.models import Contact

MAX_DIGITS = IvrVisit._meta.get_field("digits").max_length or 64


@dataclass(frozen=True)
class Visit:
    node: str
    entered_at: dt.datetime
    outcome: VisitOutcome
    duration_s: float
    digits: str = ""
    retries: int = 0


def do_record_ivr_visits(contact_id: int, call_ref: str,
                         visits: Sequence[Visit]) -> list[IvrVisit]:
    """Store a call's visits in order (replacing any stored before for the contact, so a
    repeated end of the same call does not count twice)."""
    rows = [IvrVisit(contact_id=contact_id, call_ref=call_ref[:128], position=position,
                     node=visit.node[:64], entered_at=visit.entered_at,
                     digits=visit.digits[:MAX_DIGITS], retries=visit.retries,
                     outcome=visit.outcome, duration_s=max(0.0, visit.duration_s))
            for position, visit in enumerate(visits, start=1)]
    with transaction.atomic():
        IvrVisit.objects.filter(contact_id=contact_id).delete()
        return IvrVisit.objects.bulk_create(rows)


def visits_for_contact(contact: Contact | int) -> list[IvrVisit]:
    """The IVR nodes a call went through, in order."""
    contact_id = contact.pk if isinstance(contact, Contact) else contact
    return list(IvrVisit.objects.filter(contact_id=contact_id).order_by("position"))


def node_visit_counts(since: dt.datetime | None = None) -> dict[str, int]:
    """How often each IVR node was visited (since ``since`` when given)."""
    visits = IvrVisit.objects.all()
    if since is not None:
        visits = visits.filter(entered_at__gte=since)
    return dict(visits.values("node").annotate(n=Count("id")).values_list("node", "n"))


def trail_text(visits: Sequence[Visit | IvrVisit]) -> str:
    """The path for people (the call contact's summary): ``welcome > self_service > human``."""
    return " > ".join(visit.node for visit in visits)
