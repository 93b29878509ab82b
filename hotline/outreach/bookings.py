"""Appointments (预约服务): free slots, booking, cancelling, marking attended or not come, and
the SMS the citizen gets (the confirmation with a cancellation code and link at booking, one
reminder HOTLINE_APPOINTMENT_REMINDER_HOURS before the slot, never in the quiet hours and only
when ``consent`` allows). The citizen cancels with the link, with the code on the portal or
the IVR, or by replying 取消 (QX) to our SMS (``take_sms_reply``, an intake reply handler);
the department marks 爽约 (no-show) once the slot is over. Every face (the portal, the agents'
page, the IVR) calls these functions.

A slot's bookings are counted in its ``BookedSlot`` row: booking raises ``taken`` with one
conditional UPDATE (``taken < capacity``), so of two citizens taking the last place at once
exactly one wins; cancelling gives the place back. Every change of a booking is one
``BookingEvent`` written in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

import chinese_calendar
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.core.phones import is_plausible_phone, normalise_phone
from hotline.core.roles import Role
from hotline.directory.calendar_service import current_calendar
from hotline.directory.models import CalendarDay, User
from hotline.intake.sms.inbound import TakenReply
from hotline.intake.sms.outbound import OPT_OUT_HINT, send_sms
from hotline.orders.citizens import find_or_register_citizen
from hotline.outreach import calls, consent
from hotline.outreach import slots as pure
from hotline.outreach.booking_states import BookingTransitionError, next_booking_state
from hotline.outreach.models_appointments import (
    BookableService,
    BookedSlot,
    Booking,
    BookingAction,
    BookingChannel,
    BookingEvent,
    BookingState,
    ReminderStatus,
)

CENTRE_ROLES = frozenset({Role.AGENT, Role.MONITOR, Role.CENTRE_ADMIN})
DEPARTMENT_ROLES = frozenset({Role.DEPT_HANDLER, Role.DEPT_ADMIN})
# Who opens the appointments pages: the centre (every service) and departments (their own).
BOOKING_STAFF_ROLES = CENTRE_ROLES | DEPARTMENT_ROLES


class SlotFull(Conflict):
    """The slot was taken (by someone else a moment ago, or it was full already)."""


@dataclass(frozen=True)
class FreeSlot:
    start: dt.datetime
    end: dt.datetime
    left: int


def local_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


# --- the calendar -------------------------------------------------------------------------

def _holiday_checker() -> tuple[Callable[[dt.date], bool], Callable[[dt.date], bool]]:
    """(is_workday, is_holiday) with the centre's overrides first: an override that makes a day
    a rest day closes it like a holiday; otherwise chinese-calendar's named holidays close."""
    calendar = current_calendar()
    overrides = dict(CalendarDay.objects.values_list("date", "is_workday"))

    def is_holiday(day: dt.date) -> bool:
        if day in overrides:
            return not overrides[day]
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:  # a year the package does not know: no holidays known
            return False
        return bool(on_holiday and name)

    return calendar.is_workday, is_holiday


def windows_of(service: BookableService) -> list[pure.Window]:
    return [pure.Window(w.weekday, w.start, w.end) for w in service.windows.all()]


def bookable_range(service: BookableService, now: dt.datetime) -> tuple[dt.datetime, dt.date]:
    """(earliest start, last day) a booking may take now."""
    earliest = now + dt.timedelta(minutes=service.min_notice_minutes)
    last_day = now.astimezone(local_zone()).date() + dt.timedelta(days=service.days_ahead)
    return earliest, last_day


def free_slots(service: BookableService, *, now: dt.datetime | None = None,
               limit: int | None = None) -> list[FreeSlot]:
    """The slots of ``service`` a citizen can book now, with the places left, in time order."""
    now = now or timezone.now()
    if not service.active:
        return []
    earliest, last_day = bookable_range(service, now)
    is_workday, is_holiday = _holiday_checker()
    zone = local_zone()
    candidates = [s for s in pure.slots_between(
        earliest.astimezone(zone).date(), last_day, windows_of(service),
        slot_minutes=service.slot_minutes, capacity=service.capacity, tz=zone,
        is_workday=is_workday, is_holiday=is_holiday) if s.start >= earliest]
    if not candidates:
        return []
    taken = dict(BookedSlot.objects.filter(
        service=service, starts_at__gte=candidates[0].start,
        starts_at__lte=candidates[-1].start).values_list("starts_at", "taken"))
    found = []
    for slot in candidates:
        left = slot.capacity - taken.get(slot.start, 0)
        if left > 0:
            found.append(FreeSlot(slot.start, slot.end, left))
            if limit is not None and len(found) >= limit:
                break
    return found


def check_slot(service: BookableService, starts_at: dt.datetime, now: dt.datetime) -> None:
    """A booking names a real slot of an active service, far enough ahead and not too far."""
    if not service.active:
        raise InvalidInput(_("This service cannot be booked at present."), "service")
    if starts_at.tzinfo is None:
        raise InvalidInput(_("The time of the slot is not valid."), "slot")
    earliest, last_day = bookable_range(service, now)
    if starts_at < earliest:
        raise InvalidInput(_("This time is too soon or has passed. Please choose a later one."),
                           "slot")
    if starts_at.astimezone(local_zone()).date() > last_day:
        raise InvalidInput(_("This time is too far ahead to book yet."), "slot")
    is_workday, is_holiday = _holiday_checker()
    if not pure.is_slot_start(starts_at, windows_of(service), slot_minutes=service.slot_minutes,
                              tz=local_zone(), is_workday=is_workday, is_holiday=is_holiday):
        raise InvalidInput(_("The service is not open at this time."), "slot")


# --- cancellation codes ------------------------------------------------------------------

def _code_hash(booking_id: int, code: str) -> str:
    message = f"booking-code:{booking_id}:{code.strip()}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def code_matches(booking: Booking, code: str) -> bool:
    return hmac.compare_digest(booking.code_hash, _code_hash(booking.pk, code))


CANCEL_SALT = "hotline.outreach.booking-cancel"


def cancel_token(booking: Booking) -> str:
    """The token of the cancellation link sent to the citizen (signed: names the booking)."""
    return signing.dumps(booking.pk, salt=CANCEL_SALT, compress=True)


def booking_for_token(token: str) -> Booking:
    try:
        pk = signing.loads(token, salt=CANCEL_SALT)
    except signing.BadSignature:
        raise NotFound(_("This link is not valid.")) from None
    found = Booking.objects.select_related("service").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("This link is not valid."))
    return found


def booking_for_code(number: str, phone: str, code: str) -> Booking | None:
    """The booking a citizen names by its number, their phone and the cancellation code."""
    if not number.strip().isdigit():
        return None
    found = Booking.objects.select_related("service").filter(
        pk=int(number.strip()), phone=normalise_phone(phone)).first()
    return found if found is not None and code_matches(found, code) else None


# --- booking --------------------------------------------------------------------------------

def _actor_name(actor: User | None) -> str:
    if actor is None:
        return "citizen"
    return actor.display_name or actor.username


def _record(booking: Booking, action: str, from_state: str, *, actor: User | None,
            note: str = "", now: dt.datetime) -> None:
    BookingEvent.objects.create(booking=booking, action=action, from_state=from_state,
                                to_state=booking.state, actor=actor,
                                actor_name=_actor_name(actor), note=note[:255], created_at=now)


def check_phone(raw: str) -> str:
    phone = normalise_phone(raw)
    if not phone or not is_plausible_phone(phone):
        raise InvalidInput(_("Enter a valid phone number."), "phone")
    return phone


def _claim_place(service: BookableService, start: dt.datetime) -> BookedSlot:
    """Take one place of the slot starting at ``start``: one conditional UPDATE; SlotFull when
    no place is left (another booking got there first)."""
    end = start + dt.timedelta(minutes=service.slot_minutes)
    try:
        with transaction.atomic():
            slot, _created = BookedSlot.objects.get_or_create(
                service=service, starts_at=start,
                defaults={"ends_at": end, "capacity": service.capacity})
    except IntegrityError:  # created by a concurrent booking between our read and insert
        slot = BookedSlot.objects.get(service=service, starts_at=start)
    won = BookedSlot.objects.filter(pk=slot.pk, taken__lt=F("capacity")).update(
        taken=F("taken") + 1)
    if won != 1:
        raise SlotFull(_("Sorry, this time has just been taken. Please choose another."), "slot")
    return slot


def do_book(service: BookableService, starts_at: dt.datetime, *, phone: str, name: str = "",
            channel: BookingChannel, actor: User | None = None, now: dt.datetime | None = None,
            link_for: Callable[[str], str] | None = None) -> tuple[Booking, str]:
    """Book the slot of ``service`` at ``starts_at`` for the citizen of ``phone``; returns the
    booking and its cancellation code (sent by SMS, never stored in clear). ``actor`` is the
    agent booking for a caller (None: the citizen themselves, on the portal or the IVR);
    ``link_for`` makes the cancellation link from its token (a face knows its addresses)."""
    now = now or timezone.now()
    phone = check_phone(phone)
    name = name.strip()[:64]
    if actor is not None and actor.role not in CENTRE_ROLES and not actor.is_superuser:
        raise Forbidden(_("Only the centre's agents book for a caller."))
    check_slot(service, starts_at, now)
    if Booking.objects.filter(service=service, phone=phone, state=BookingState.BOOKED,
                              starts_at__gte=now).exists():
        raise Conflict(_("This phone number already has a booking for this service. Cancel "
                         "it first to choose another time."), "phone")
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        slot = _claim_place(service, starts_at)
        citizen = find_or_register_citizen(phone=phone, name=name)
        assert citizen is not None  # a phone is always given
        booking = Booking.objects.create(
            service=service, slot=slot, starts_at=slot.starts_at, ends_at=slot.ends_at,
            citizen=citizen, phone=phone, name=name, channel=channel,
            state=BookingState.BOOKED, code_hash="", booked_by=actor, created_at=now)
        booking.code_hash = _code_hash(booking.pk, code)
        booking.save(update_fields=["code_hash"])
        _record(booking, BookingAction.BOOK, "", actor=actor,
                note=str(BookingChannel(channel).label), now=now)
        link = link_for(cancel_token(booking)) if link_for is not None else ""
        transaction.on_commit(lambda: _confirm(booking, code, link))
    return booking, code


def when_text(moment: dt.datetime) -> str:
    local = moment.astimezone(local_zone())
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _confirm(booking: Booking, code: str, link: str) -> None:
    """The confirmation the citizen asked for (sent even to a phone that opted out of
    notices: it answers their own request)."""
    text = _("12345: your booking %(number)s for %(service)s at %(when)s is confirmed"
             ) % {"number": booking.pk, "service": booking.service.name,
                  "when": when_text(booking.starts_at)}
    if booking.service.place:
        text += _(", at %(place)s") % {"place": booking.service.place}
    text += _(". Cancellation code %(code)s.") % {"code": code}
    if link:
        text += " " + _("Cancel: %(link)s") % {"link": link}
    send_sms(booking.phone, text, purpose="requested")


# --- cancelling and marking ----------------------------------------------------------------

def may_handle(actor: User, service: BookableService) -> bool:
    """The centre handles every service's bookings; a department its own services'."""
    if actor.is_superuser or actor.role in CENTRE_ROLES:
        return True
    return actor.role in DEPARTMENT_ROLES and actor.unit_id == service.unit_id


def bookings_for(actor: User) -> QuerySet[Booking]:
    """The bookings ``actor`` may see (a QuerySet)."""
    found = Booking.objects.select_related("service", "service__unit")
    if actor.is_superuser or actor.role in CENTRE_ROLES:
        return found
    if actor.role in DEPARTMENT_ROLES and actor.unit_id:
        return found.filter(service__unit_id=actor.unit_id)
    return found.none()


def get_booking_for(actor: User, booking_id: int) -> Booking:
    booking = bookings_for(actor).filter(pk=booking_id).first()
    if booking is None:
        raise NotFound(_("No such booking."))
    return booking


def _move(booking: Booking, action: BookingAction, *, actor: User | None, note: str,
          now: dt.datetime) -> Booking:
    with transaction.atomic():
        locked = Booking.objects.select_for_update().select_related("service").get(pk=booking.pk)
        try:
            target = next_booking_state(locked.state, action)
        except BookingTransitionError:
            raise Conflict(_("This booking is already %(state)s.") % {
                "state": locked.get_state_display()}) from None
        before = locked.state
        locked.state = target
        locked.closed_at, locked.closed_by, locked.close_note = now, actor, note[:255]
        locked.save(update_fields=["state", "closed_at", "closed_by", "close_note"])
        if action == BookingAction.CANCEL:  # the place is free again
            BookedSlot.objects.filter(pk=locked.slot_id, taken__gt=0).update(
                taken=F("taken") - 1)
        _record(locked, action, before, actor=actor, note=note, now=now)
    return locked


def do_cancel(booking: Booking, *, actor: User | None, reason: str = "",
              now: dt.datetime | None = None) -> Booking:
    """Cancel before the slot starts: by the citizen (``actor`` None, after their code or link
    was checked) or by staff who may handle the service."""
    now = now or timezone.now()
    if actor is not None and not may_handle(actor, booking.service):
        raise Forbidden(_("You may not change bookings of this service."))
    if booking.starts_at <= now:
        raise Conflict(_("The time of this booking has begun: it can no longer be cancelled."))
    reason = reason.strip() or (_("Cancelled by the citizen") if actor is None else "")
    if actor is not None and not reason:
        raise InvalidInput(_("Say why the booking is cancelled."), "reason")
    return _move(booking, BookingAction.CANCEL, actor=actor, note=reason, now=now)


def do_mark(booking: Booking, action: BookingAction, *, actor: User, note: str = "",
            now: dt.datetime | None = None) -> Booking:
    """Attended (once the slot has begun) or not come (once it has ended), by the service's
    department (or the centre)."""
    now = now or timezone.now()
    if action not in (BookingAction.ATTEND, BookingAction.NO_SHOW):
        raise InvalidInput(_("Unknown mark."), "action")
    if not may_handle(actor, booking.service):
        raise Forbidden(_("You may not change bookings of this service."))
    if action == BookingAction.ATTEND and now < booking.starts_at:
        raise Conflict(_("The booking's time has not begun yet."))
    if action == BookingAction.NO_SHOW and now < booking.ends_at:
        raise Conflict(_("A citizen can be marked as not come only after the booked time."))
    return _move(booking, action, actor=actor, note=note, now=now)


# --- reminders ----------------------------------------------------------------------------

def reminder_lead() -> dt.timedelta:
    return dt.timedelta(hours=int(settings.HOTLINE_APPOINTMENT_REMINDER_HOURS))


def reminders_due(now: dt.datetime) -> QuerySet[Booking]:
    """Bookings whose slot starts within the lead time and that were not reminded yet, outside
    the quiet hours (no SMS at night: one due then goes when they end). A booking made inside
    the lead time has just had its confirmation: it gets no reminder on top."""
    local = now.astimezone(local_zone())
    if calls.calling_rules().in_quiet_hours(local):
        return Booking.objects.none()
    lead = reminder_lead()
    return Booking.objects.filter(state=BookingState.BOOKED, reminder=ReminderStatus.PENDING,
                                  starts_at__gt=now, starts_at__lte=now + lead,
                                  created_at__lte=F("starts_at") - lead)


def reminder_text(booking: Booking) -> str:
    return _("12345 reminder: your booking %(number)s for %(service)s is at %(when)s. To "
             "cancel, reply QX (取消), use the link or code we sent, or call 12345."
             ) % {"number": booking.pk, "service": booking.service.name,
                  "when": when_text(booking.starts_at)} + " " + OPT_OUT_HINT


def do_send_reminders(now: dt.datetime | None = None, batch: int = 200) -> int:
    """Send the reminders that are due; returns how many were sent. Each booking is claimed
    first (one conditional UPDATE), so two schedulers never remind one booking twice; a crash
    after the claim leaves it "being sent": at most one reminder, never two. A citizen who
    replied TD, chose no notices or writing by email only, or reached the daily limit, gets
    none ("skipped" with the reason)."""
    now = now or timezone.now()
    sent = 0
    for booking_id in list(reminders_due(now).values_list("pk", flat=True)[:batch]):
        claimed = Booking.objects.filter(pk=booking_id, reminder=ReminderStatus.PENDING,
                                         state=BookingState.BOOKED).update(
            reminder=ReminderStatus.CLAIMED, reminder_at=now)
        if claimed != 1:
            continue
        booking = Booking.objects.select_related("service", "citizen").get(pk=booking_id)
        refused = consent.refusal(booking.phone, "sms", purpose="reminder")
        if not refused and not consent.within_daily_limit(booking.citizen, now):
            refused = "daily limit for this citizen reached"
        if refused:
            status, note = ReminderStatus.SKIPPED, refused
        else:
            result = send_sms(booking.phone, reminder_text(booking), purpose="reminder")
            status = ReminderStatus.SENT if result.sent else ReminderStatus.FAILED
            note = result.error
            sent += int(result.sent)
        with transaction.atomic():
            Booking.objects.filter(pk=booking_id).update(reminder=status)
            booking.reminder = status
            _record(booking, BookingAction.REMIND, booking.state, actor=None,
                    note=f"{ReminderStatus(status).label} {note}".strip(), now=now)
    return sent


# --- cancelling by SMS reply --------------------------------------------------------------

CANCEL_WORDS = ("QX", "取消", "取消预约")


def _cancel_request(text: str) -> tuple[bool, int | None]:
    """(is a cancellation, the booking number named or None): "取消", "QX 123", "取消123"."""
    words = text.strip().upper().replace("：", " ").replace(":", " ")
    for word in sorted(CANCEL_WORDS, key=len, reverse=True):
        if words.startswith(word):
            rest = words[len(word):].strip()
            if not rest:
                return True, None
            return (True, int(rest)) if rest.isdigit() and len(rest) < 10 else (False, None)
    return False, None


def take_sms_reply(*, phone: str, text: str, at: dt.datetime) -> TakenReply | None:
    """An intake reply handler: 取消 / QX (with the booking number when the phone has more
    than one coming booking) cancels the phone's booking; anything else is not ours. The
    message comes from the booking's own phone, which is what the link and code prove too."""
    wanted, number = _cancel_request(text)
    if not wanted:
        return None
    phone = normalise_phone(phone)
    coming = Booking.objects.filter(phone=phone, state=BookingState.BOOKED,
                                    starts_at__gt=at).select_related("service").order_by(
        "starts_at")
    if number is not None:
        coming = coming.filter(pk=number)
    found = list(coming[:2])
    if not found:
        if number is None and not Booking.objects.filter(phone=phone).exists():
            return None  # not a booking's phone: the words are a citizen's message to read
        return TakenReply("booking", _("12345: no coming booking of this phone matches. Call "
                                       "12345 for help."))
    if len(found) > 1:
        return TakenReply("booking", _("12345: you have several bookings. Reply QX and the "
                                       "booking number, e.g. QX %(number)s.")
                          % {"number": found[0].pk})
    try:
        booking = do_cancel(found[0], actor=None, reason=_("Cancelled by the citizen's SMS"),
                            now=at)
    except Conflict as refused:
        return TakenReply("booking", f"12345: {refused.message}")
    return TakenReply("booking", _("12345: your booking %(number)s for %(service)s at %(when)s "
                                   "is cancelled.") % {
        "number": booking.pk, "service": booking.service.name,
        "when": when_text(booking.starts_at)})
