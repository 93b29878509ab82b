"""What the IVR does in the platform, through the same service functions as the API.

Every function here is synchronous Django code; the gateway runs them in a worker thread
(never on its event loop). Each takes the call's `CallContext` and the string arguments of
a flow's service node and returns a result mapping: "outcome" picks the flow's branch,
the other keys become call variables. The actor is the system account; the caller's
number (the From user part) is the citizen's phone.

Choices made here:
- 市长信箱 (mayor's mailbox): a voicemail becomes a work order of type "suggestion" on the
  channel "voicemail" with the recording attached, so it gets a number, a deadline and an
  answer like any letter to the mayor.
- The poll answer, the call-back request and the pending SMS are Contacts (the platform's
  record of every interaction), with what was asked and answered in the summary.
- Every call is one Contact (channel phone), created when the caller confirms the call (the
  ACK of our 200: a half-open call leaves none); orders created during the call link to it,
  and at the end the IVR nodes the caller went through become its IvrVisit rows (the
  per-node statistics read those), named in its summary for people.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from hotline.contactcentre.ivr import Visit, do_record_ivr_visits, trail_text
from hotline.contactcentre.ivr_outcome import VisitOutcome
from hotline.contactcentre.models import ServiceNumber
from hotline.core.phones import is_plausible_phone, normalise_phone
from hotline.directory.models import OrderType, User
from hotline.knowledge.models import readable_entries
from hotline.orders.attachments import do_attach_file
from hotline.orders.contacts import NewContact, do_record_contact, do_set_contact_summary
from hotline.orders.models import Attachment, Channel, Contact, Order
from hotline.orders.services import NewOrder, do_create_order
from hotline.orders.sweeps import system_user
from hotline.voice.db_threads import release_connections
from hotline.voice.ivr.engine import NodeVisit
from hotline.voice.lines import LineRow

logger = logging.getLogger(__name__)

VISITS_PREFIX = "IVR: "
MAX_SPOKEN_CHARS = 400  # a knowledge answer read aloud; the SMS carries the whole text


@dataclass
class CallContext:
    call_id: str
    caller: str  # digits of the From user part, "" when it has none
    called_number: str = ""  # the number dialled (a merged hotline number, a DID)
    line_queue: str = ""  # the called number's own queue code, "" for the flow's choice
    contact_id: int | None = None
    orders: list[str] = field(default_factory=list)


def caller_number(from_user: str | None) -> str:
    """The From user part as a phone number: its digits (and a leading +), else ""."""
    phone = normalise_phone(from_user)
    return phone if is_plausible_phone(phone) else ""


def _actor() -> User:
    return system_user()


# --- the call itself -------------------------------------------------------------------------

def start_call(context: CallContext) -> int:
    contact = do_record_contact(_actor(), NewContact(
        channel=Channel.PHONE, summary=_("Call answered by the IVR"),
        citizen_phone=context.caller, external_id=f"sip:{context.call_id}"[:128],
        called_number=context.called_number,
    ))
    return contact.pk


def service_number_rows() -> list[LineRow]:
    """The active hotline numbers for the gateway's ``LineDirectory``."""
    rows = ServiceNumber.objects.filter(active=True).select_related("queue")
    return [LineRow(number=row.number, name=row.name, flow_path=row.flow_path,
                    greeting=row.greeting,
                    queue=row.queue.code if row.queue is not None and row.queue.active else "")
            for row in rows]


def finish_call(context: CallContext, path: Sequence[NodeVisit], ending: str) -> None:
    """Store the nodes the call went through as IvrVisit rows (the IVR statistics) and name
    them in its contact's summary for people reading the contact."""
    if context.contact_id is None:
        return
    now = time.time()
    visits = []
    for visit in path:
        visit.close(VisitOutcome.CALLER_HUNG_UP, now)  # still there when the call ended
        left = visit.left if visit.left is not None else now
        visits.append(Visit(node=visit.node,
                            entered_at=dt.datetime.fromtimestamp(visit.entered, tz=dt.UTC),
                            outcome=visit.outcome or VisitOutcome.CALLER_HUNG_UP,
                            duration_s=left - visit.entered, digits=visit.digits,
                            retries=visit.retries))
    summary = VISITS_PREFIX + trail_text(visits)
    if ending:
        summary += f" [{ending}]"
    with transaction.atomic():
        do_record_ivr_visits(context.contact_id, context.call_id, visits)
        do_set_contact_summary(context.contact_id, summary)


# --- orders with recordings ----------------------------------------------------------------

def do_attach_recording(actor: User, order: Order, path: str | Path,
                        contact: Contact | None = None) -> Attachment:
    """Store a call recording (a server-side file, never an upload) with the order.

    The API's download checks the reader's scope, and `visible_attachments` hides
    recordings from whoever may not know the citizen."""
    with Path(path).open("rb") as handle:
        return do_attach_file(actor, order, File(handle), Attachment.Kind.RECORDING,
                              name=f"recording-{order.number}.wav",
                              contact_id=contact.pk if contact is not None else None)


def _order_from_recording(context: CallContext, args: Mapping[str, str], *, order_type: str,
                          channel: str, title: str) -> dict[str, Any]:
    recording = args.get("recording", "")
    seconds = args.get("seconds", "")
    text = _("Recorded by telephone (%(seconds)s s); listen to the attached recording.") % {
        "seconds": seconds or "?"}
    actor = _actor()
    order, _created = do_create_order(actor, NewOrder(
        type=order_type, channel=channel, title=title, text=text,
        citizen_phone=context.caller, contact_id=context.contact_id,
        contact_summary=title, external_id=f"sip:{context.call_id}"[:128],
    ), idempotency_key=f"ivr:{context.call_id}:{recording}"[:128])
    if recording and Path(recording).exists():
        contact = (Contact.objects.filter(pk=context.contact_id).first()
                   if context.contact_id is not None else None)
        do_attach_recording(actor, order, recording, contact)
    context.orders.append(order.number)
    return {"outcome": "ok", "number": order.number}


def create_order(context: CallContext, args: Mapping[str, str]) -> dict[str, Any]:
    order_type = args.get("type") or OrderType.COMPLAINT
    return _order_from_recording(context, args, order_type=order_type, channel=Channel.PHONE,
                                 title=_("Recorded %(type)s by telephone") % {
                                     "type": OrderType(order_type).label})


def voicemail(context: CallContext, args: Mapping[str, str]) -> dict[str, Any]:
    return _order_from_recording(context, args, order_type=OrderType.SUGGESTION,
                                 channel=Channel.VOICEMAIL, title=_("Mayor's mailbox voicemail"))


# --- status query ---------------------------------------------------------------------------

def lookup_order(context: CallContext, args: Mapping[str, str]) -> dict[str, Any]:
    """The state and lead department of an order, only when the caller's number is the
    citizen's phone: anyone else hears "not found" (privacy)."""
    number = args.get("number", "")
    if not context.caller:
        return {"outcome": "not_found"}
    order = (Order.objects.select_related("lead_unit", "citizen")
             .filter(number=number, citizen__phone=context.caller).first())
    if order is None:
        return {"outcome": "not_found"}
    department = order.lead_unit.name if order.lead_unit else _("the 12345 centre")
    return {"outcome": "found", "state": order.state, "department": department}


# --- automatic consultation ----------------------------------------------------------------

def voice_entries(context: CallContext, args: Mapping[str, str]) -> dict[str, Any]:
    """Published public knowledge entries marked for voice, at most nine (one key each)."""
    entries = (readable_entries(public_only=True).filter(published__for_voice=True)
               .select_related("published").order_by("published__title")[:9])
    found = []
    for entry in entries:
        version = entry.published
        assert version is not None
        text = " ".join(strip_tags(version.body).split())
        found.append({"title": version.title, "text": text[:MAX_SPOKEN_CHARS],
                      "id": str(entry.pk)})
    return {"outcome": "ok" if found else "empty", "entries": found}


def send_sms(context: CallContext, args: Mapping[str, str]) -> dict[str, Any]:
    """There is no SMS gateway yet: the message is recorded as a pending outbound SMS."""
    if not context.caller:
        return {"outcome": "error"}
    do_record_contact(_actor(), NewContact(
        channel=Channel.SMS, direction=Contact.Direction.OUTBOUND, citizen_phone=context.caller,
        summary=_("Pending SMS (no SMS gateway yet): %(title)s: %(text)s") % {
            "title": args.get("title", ""), "text": args.get("text", "")},
        external_id=f"sip:{context.call_id}"[:128],
    ))
    return {"outcome": "ok"}


# --- poll and call-back ------------------------------------------------------------------

def poll_answer(context: CallContext, args: Mapping[str, str]) -> dict[str, Any]:
    do_record_contact(_actor(), NewContact(
        channel=Channel.PHONE, citizen_phone=context.caller,
        summary=f"poll: question={args.get('question', '')}, answer={args.get('answer', '')}",
        external_id=f"sip:{context.call_id}"[:128],
    ))
    return {"outcome": "ok"}


def callback(context: CallContext, args: Mapping[str, str]) -> dict[str, Any]:
    """留言/回呼: the caller is to be called back on the number they called from."""
    do_record_contact(_actor(), NewContact(
        channel=Channel.PHONE, citizen_phone=context.caller,
        summary=_("Call-back requested from the IVR (%(reason)s)") % {
            "reason": args.get("reason") or _("no agent reached")},
        external_id=f"sip:{context.call_id}"[:128],
    ))
    return {"outcome": "ok"}


ServiceFunction = Callable[[CallContext, Mapping[str, str]], dict[str, Any]]
SERVICES: dict[str, ServiceFunction] = {
    "create_order": create_order,
    "voicemail": voicemail,
    "lookup_order": lookup_order,
    "voice_entries": voice_entries,
    "send_sms": send_sms,
    "poll_answer": poll_answer,
    "callback": callback,
}

# 预约服务 by telephone (issue 13 item 8): hotline/voice/ivr_appointments.py.
from hotline.voice.ivr_appointments import SERVICES as _APPOINTMENT_SERVICES  # noqa: E402

SERVICES.update(_APPOINTMENT_SERVICES)


def run_service(name: str, context: CallContext, args: Mapping[str, str]) -> dict[str, Any]:
    """Run one service in the calling (worker) thread; any failure is the "error" outcome."""
    release_connections()
    try:
        return SERVICES[name](context, args)
    except Exception:
        logger.exception("IVR service %s failed for call %s", name, context.call_id)
        return {"outcome": "error"}
    finally:
        release_connections()
