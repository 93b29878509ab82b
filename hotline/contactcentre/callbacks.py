"""What the desk makes of a call: the work order registered on it (with the call's contact and
recordings), and the call backs an agent promises when the question cannot be answered now.

Three one-click outcomes (``do_order_from_call``): 直接办结 answers and closes the new order,
派单 dispatches it (to the category's route or a chosen unit), 暂无法答复 keeps it accepted and
schedules a call back. Registering and the outcome happen in one transaction, so a refused
dispatch leaves no half-made order behind; the form's idempotency key makes a double click or a
resent form register the order once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.contactcentre.models import CallRecording, QueuedCall, ScheduledCallback
from hotline.contactcentre.services import DESK_ROLES
from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.orders.attachments import do_attach_file
from hotline.orders.lifecycle import Action
from hotline.orders.models import Attachment, Contact, Order
from hotline.orders.services import NewOrder, do_action, do_create_order

MAX_CALLBACK_DAYS = 30  # a promise further out is a typo, not a plan (its message says 30)


class Outcome(StrEnum):
    SAVE = "save"  # register only (Ctrl+Enter)
    ANSWER = "answer"  # 直接办结
    DISPATCH = "dispatch"  # 派单
    CALLBACK = "callback"  # 暂无法答复: register and promise a call back


@dataclass(frozen=True)
class CallOrder:
    order: Order
    created: bool  # False when the form was sent again (same idempotency key)
    callback: ScheduledCallback | None = None
    recordings: int = 0  # recordings attached now


def attach_call_recordings(order: Order, contact: Contact | int | None) -> list[Attachment]:
    """Give ``order`` each recording of ``contact`` as an attachment of kind ``recording``.

    Idempotent: a recording already attached (same contact and checksum) is not attached again,
    so the desk calls this when the order is made and the gateway again when a recording is
    finished later. The attachment points at the recording's stored file instead of copying it:
    recordings are large and never change once written."""
    contact_id = contact.pk if isinstance(contact, Contact) else contact
    if contact_id is None:
        return []
    made = []
    with transaction.atomic():
        # Lock the order so a desk and a gateway attaching at once do not both see "missing".
        Order.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True).first()
        have = set(Attachment.objects.filter(order=order, contact_id=contact_id,
                                             kind=Attachment.Kind.RECORDING)
                   .values_list("sha256", flat=True))
        for recording in CallRecording.objects.filter(contact_id=contact_id).order_by("created_at",
                                                                                      "pk"):
            if recording.sha256 in have:
                continue
            attachment = do_attach_file(
                None, order, recording.file, Attachment.Kind.RECORDING,
                name=f"call-{recording.created_at:%Y%m%d-%H%M%S}-{recording.pk}.wav",
                contact_id=contact_id, stored=True, digest=(recording.sha256, recording.size),
                now=recording.created_at,
            )
            have.add(recording.sha256)
            made.append(attachment)
    return made


def attach_recording_to_orders(recording: CallRecording) -> list[Attachment]:
    """For the gateway, when a recording is finished: every order linked to its contact gets it."""
    made = []
    for order in Order.objects.filter(contacts=recording.contact_id):
        made += attach_call_recordings(order, recording.contact_id)
    return made


def check_call_is_mine(actor: User, call: QueuedCall) -> None:
    """The agent who was offered or took the call works on it; a shift monitor may too."""
    if actor.role not in DESK_ROLES:
        raise Forbidden(gettext_noop("only agents and shift monitors work at the desk"))
    if call.agent_id != actor.pk and actor.role != Role.MONITOR:
        raise Forbidden(gettext_noop("this is not your call"))


def get_call_for(actor: User, call_id: int) -> QueuedCall:
    call = QueuedCall.objects.select_related("queue", "citizen", "contact").filter(
        pk=call_id).first()
    if call is None:
        raise NotFound(gettext_noop("no such call"), "call")
    check_call_is_mine(actor, call)
    return call


def check_callback_due(due_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if due_at is None:
        raise InvalidInput(gettext_noop("say when to call the citizen back"), "callback_due")
    if due_at < now - dt.timedelta(minutes=5):
        raise InvalidInput(gettext_noop("the call back time is in the past"), "callback_due")
    if due_at > now + dt.timedelta(days=MAX_CALLBACK_DAYS):
        # Written out (not formatted) so that the catalogue finds it; keep it with the limit.
        raise InvalidInput(gettext_noop("a call back is due within 30 days"), "callback_due")
    return due_at


def do_order_from_call(actor: User, call: QueuedCall, data: NewOrder, outcome: str, *,
                       reply: str = "", unit: str = "", callback_due: dt.datetime | None = None,
                       callback_note: str = "", idempotency_key: str | None = None,
                       now: dt.datetime | None = None) -> CallOrder:
    """Register the request made on ``call`` and apply the chosen outcome, in one transaction.

    The order links to the call's contact (so it shows the call and its recordings); a call
    without a contact yet gets the contact the order registers."""
    check_call_is_mine(actor, call)
    try:
        chosen = Outcome(outcome)
    except ValueError:
        raise InvalidInput(gettext_noop("unknown outcome"), "outcome") from None
    when = now or timezone.now()
    if chosen == Outcome.ANSWER and not reply.strip():
        raise InvalidInput(gettext_noop("write the answer given to the citizen"), "reply")
    if chosen == Outcome.CALLBACK:
        callback_due = check_callback_due(callback_due, when)
        if not data.citizen_phone:
            raise InvalidInput(gettext_noop("a call back needs the citizen's phone number"), "citizen_phone")
    data.contact_id = call.contact_id
    with transaction.atomic():
        order, created = do_create_order(actor, data, idempotency_key=idempotency_key, now=when)
        if not created:
            found = ScheduledCallback.objects.filter(order=order).first()
            return CallOrder(order, False, found)
        if call.contact_id is None:
            contact_id = Contact.objects.filter(orders=order).order_by("pk") \
                .values_list("pk", flat=True).first()
            QueuedCall.objects.filter(pk=call.pk, contact__isnull=True).update(
                contact_id=contact_id)
            call.contact_id = contact_id
        callback = None
        if chosen == Outcome.ANSWER:
            order = do_action(actor, order.number, Action.ANSWER, {"reply": reply}, now=when)
        elif chosen == Outcome.DISPATCH:
            order = do_action(actor, order.number, Action.DISPATCH,
                              {"unit": unit} if unit else {}, now=when)
        elif chosen == Outcome.CALLBACK:
            assert callback_due is not None
            callback = ScheduledCallback.objects.create(
                order=order, contact_id=call.contact_id, phone=order.citizen.phone,
                due_at=callback_due, note=callback_note.strip(), created_by=actor,
                created_at=when)
        attached = attach_call_recordings(order, call.contact_id)
    return CallOrder(order, True, callback, len(attached))


def open_callbacks(actor: User) -> QuerySet[ScheduledCallback]:
    """The agent's promised call backs not yet made, the most urgent first."""
    return (ScheduledCallback.objects.filter(created_by=actor, done_at__isnull=True)
            .select_related("order").order_by("due_at", "pk"))


def do_mark_called_back(actor: User, callback_id: int, *,
                        now: dt.datetime | None = None) -> ScheduledCallback:
    """已回电: the agent who promised the call back (or a shift monitor) marks it done, once."""
    callback = ScheduledCallback.objects.filter(pk=callback_id).select_related("order").first()
    if callback is None or (callback.created_by_id != actor.pk and actor.role != Role.MONITOR):
        raise NotFound(gettext_noop("no such call back"), "callback")
    when = now or timezone.now()
    done = ScheduledCallback.objects.filter(pk=callback_id, done_at__isnull=True).update(
        done_at=when)
    if not done:
        raise Conflict(gettext_noop("this call back is already marked done"), "callback")
    callback.done_at = when
    return callback
