"""The IVR's appointment services (预约服务 by telephone), on outreach's booking services.

Three service nodes of a flow (see the "6 预约服务" part of ``ivr/default_flow.yaml``):
"appointment_services" lists the bookable services (at most nine, one key each),
"appointment_slots" the next free slots of the one chosen (at most nine), and
"appointment_book" books the chosen slot for the caller's number, which the confirmation SMS
(with the cancellation code) goes to. A call without a caller number cannot book (outcome
"no_phone"); a slot taken in between is outcome "taken" (the flow offers the list again).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hotline.core.errors import ServiceError
from hotline.outreach.bookings import SlotFull, do_book, free_slots, local_zone
from hotline.outreach.models_appointments import BookableService, BookingChannel

if TYPE_CHECKING:
    from hotline.voice.services import CallContext

MAX_ITEMS = 9  # one key each


def spoken_time(moment: dt.datetime) -> str:
    """12月4日上午9点30分: how a time is read aloud."""
    local = moment.astimezone(local_zone())
    part = "上午" if local.hour < 12 else "下午"
    hour = local.hour if local.hour <= 12 else local.hour - 12
    minutes = f"{local.minute}分" if local.minute else "整"
    return f"{local.month}月{local.day}日{part}{hour}点{minutes}"


def _service(args: Mapping[str, str]) -> BookableService | None:
    raw = args.get("service", "")
    if not raw.isdigit():
        return None
    return BookableService.objects.filter(pk=int(raw), active=True).first()


def appointment_services(context: CallContext, args: Mapping[str, str]) -> dict[str, Any]:
    services = BookableService.objects.filter(active=True).order_by("name")[:MAX_ITEMS]
    found = [{"title": s.name, "text": s.description[:200], "id": str(s.pk)} for s in services]
    return {"outcome": "ok" if found else "empty", "appt_services": found}


def appointment_slots(context: CallContext, args: Mapping[str, str]) -> dict[str, Any]:
    service = _service(args)
    if service is None:
        return {"outcome": "empty", "appt_slots": []}
    found = [{"title": spoken_time(slot.start), "id": slot.start.isoformat()}
             for slot in free_slots(service, limit=MAX_ITEMS)]
    return {"outcome": "ok" if found else "empty", "appt_slots": found}


def appointment_book(context: CallContext, args: Mapping[str, str]) -> dict[str, Any]:
    if not context.caller:
        return {"outcome": "no_phone"}
    service = _service(args)
    try:
        starts_at = dt.datetime.fromisoformat(args.get("slot", ""))
    except ValueError:
        return {"outcome": "refused"}
    if service is None:
        return {"outcome": "refused"}
    try:
        booking, code = do_book(service, starts_at, phone=context.caller,
                                channel=BookingChannel.IVR)
    except SlotFull:
        return {"outcome": "taken"}
    except ServiceError:
        return {"outcome": "refused"}
    return {"outcome": "ok", "appt_number": str(booking.pk), "appt_code": code,
            "appt_when": spoken_time(booking.starts_at)}


SERVICES = {
    "appointment_services": appointment_services,
    "appointment_slots": appointment_slots,
    "appointment_book": appointment_book,
}
