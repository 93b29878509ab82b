"""Booking services: free slots on the calendar, booking (the confirmation SMS and its code),
one place per slot, cancelling, marking, the day-before reminder, the history of a booking."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connections

from hotline.core.errors import Conflict, Forbidden, InvalidInput
from hotline.directory.models import CalendarDay
from hotline.intake.models import SmsOptOut
from hotline.intake.sms.outbound import LOG_OUTBOX
from hotline.outreach import bookings
from hotline.outreach.models_appointments import (
    BookedSlot,
    Booking,
    BookingAction,
    BookingChannel,
    BookingState,
    ReminderStatus,
)
from tests.outreach.appointment_helpers import MONDAY_9, NOW, TZ, water_counter

if TYPE_CHECKING:
    from tests.conftest import City

HOUR = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _empty_outbox() -> None:
    LOG_OUTBOX.clear()


def book(service: Any, start: dt.datetime = MONDAY_9, phone: str = "13800001111",
         **kw: Any) -> tuple[Booking, str]:
    kw.setdefault("now", NOW)
    kw.setdefault("channel", BookingChannel.PORTAL)
    return bookings.do_book(service, start, phone=phone, **kw)


def test_free_slots_follow_windows_notice_holidays_and_make_up_days(city: City) -> None:
    service = water_counter(city.water)
    CalendarDay.objects.create(date=dt.date(2026, 12, 8), is_workday=False, note="local day")
    CalendarDay.objects.create(date=dt.date(2026, 12, 12), is_workday=True, note="调休")
    slots = bookings.free_slots(service, now=NOW)
    days = sorted({s.start.astimezone(TZ).date() for s in slots})
    assert dt.date(2026, 12, 4) in days  # today, from 11:00 (60 minutes' notice)
    assert min(s.start for s in slots) == dt.datetime(2026, 12, 4, 11, 0, tzinfo=TZ)
    assert dt.date(2026, 12, 8) not in days and dt.date(2026, 12, 5) not in days
    assert dt.date(2026, 12, 12) in days  # a worked Saturday opens with Monday's hours
    assert max(days) <= dt.date(2026, 12, 18)
    assert all(s.left == 1 for s in slots)


def test_booking_takes_the_place_and_sends_the_code(
        city: City, django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    service = water_counter(city.water)
    with django_capture_on_commit_callbacks(execute=True):
        booking, code = book(service, name="陈女士",
                             link_for=lambda token: f"https://example.test/c/{token}/")
    assert booking.state == BookingState.BOOKED and booking.citizen.phone == "13800001111"
    assert bookings.code_matches(booking, code) and not bookings.code_matches(booking, "000000"
                                                                               if code != "000000"
                                                                               else "111111")
    assert code not in booking.code_hash
    (sms,) = [s for s in LOG_OUTBOX if s.phone == "13800001111"]
    assert code in sms.text and str(booking.pk) in sms.text and "https://example.test/c/" in sms.text
    assert sms.purpose == "requested"
    assert MONDAY_9 not in {s.start for s in bookings.free_slots(service, now=NOW)}
    assert list(booking.events.values_list("action", "to_state")) == [("book", "booked")]
    token = sms.text.rsplit("/c/", 1)[1].rstrip("/")
    assert bookings.booking_for_token(token) == booking


def test_a_full_slot_refuses_and_one_phone_holds_one_booking_per_service(city: City) -> None:
    service = water_counter(city.water)
    book(service)
    with pytest.raises(bookings.SlotFull):
        book(service, phone="13800002222")
    with pytest.raises(Conflict):
        book(service, MONDAY_9 + HOUR)
    slot = BookedSlot.objects.get(service=service, starts_at=MONDAY_9)
    assert slot.taken == 1 and Booking.objects.count() == 1


@pytest.mark.parametrize(("start", "why"), [
    (dt.datetime(2026, 12, 7, 9, 10, tzinfo=TZ), "not a slot start"),
    (dt.datetime(2026, 12, 7, 13, 0, tzinfo=TZ), "outside the windows"),
    (dt.datetime(2026, 12, 5, 9, 0, tzinfo=TZ), "a Saturday"),
    (NOW + dt.timedelta(minutes=30), "too soon"),
    (dt.datetime(2026, 12, 28, 9, 0, tzinfo=TZ), "too far ahead"),
    (dt.datetime(2026, 12, 7, 9, 0), "naive"),
])
def test_a_booking_names_a_real_bookable_slot(city: City, start: dt.datetime, why: str) -> None:
    service = water_counter(city.water)
    with pytest.raises(InvalidInput):
        book(service, start)
    assert not BookedSlot.objects.exists(), why


def test_bad_phone_and_inactive_service_are_refused(city: City) -> None:
    service = water_counter(city.water)
    with pytest.raises(InvalidInput):
        book(service, phone="12")
    service.active = False
    service.save()
    with pytest.raises(InvalidInput):
        book(service)
    assert bookings.free_slots(service, now=NOW) == []


def test_only_centre_agents_book_for_a_caller(city: City) -> None:
    service = water_counter(city.water)
    with pytest.raises(Forbidden):
        book(service, actor=city.handler, channel=BookingChannel.AGENT)
    booking, _code = book(service, actor=city.agent, channel=BookingChannel.AGENT)
    assert booking.booked_by == city.agent


def test_cancelling_gives_the_place_back_and_is_recorded(city: City) -> None:
    service = water_counter(city.water)
    booking, _code = book(service)
    bookings.do_cancel(booking, actor=None, now=NOW)
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED
    assert BookedSlot.objects.get(service=service, starts_at=MONDAY_9).taken == 0
    again, _code = book(service, phone="13800002222")
    assert again.state == BookingState.BOOKED
    with pytest.raises(Conflict):
        bookings.do_cancel(booking, actor=None, now=NOW)
    assert list(booking.events.values_list("action", "actor_name")) == [
        ("book", "citizen"), ("cancel", "citizen")]


def test_staff_cancel_with_a_reason_within_their_scope(city: City) -> None:
    service = water_counter(city.water)
    booking, _code = book(service)
    with pytest.raises(Forbidden):
        bookings.do_cancel(booking, actor=city.housing_handler, reason="x", now=NOW)
    with pytest.raises(InvalidInput):
        bookings.do_cancel(booking, actor=city.handler, reason=" ", now=NOW)
    bookings.do_cancel(booking, actor=city.handler, reason="窗口临时关闭", now=NOW)
    booking.refresh_from_db()
    assert booking.closed_by == city.handler and booking.close_note == "窗口临时关闭"


def test_no_cancelling_once_the_time_has_begun(city: City) -> None:
    booking, _code = book(water_counter(city.water))
    with pytest.raises(Conflict):
        bookings.do_cancel(booking, actor=None, now=MONDAY_9)


def test_attended_after_the_start_and_not_come_after_the_end(city: City) -> None:
    service = water_counter(city.water, capacity=2)
    first, _c = book(service)
    second, _c = book(service, phone="13800002222")
    with pytest.raises(Conflict):
        bookings.do_mark(first, BookingAction.ATTEND, actor=city.handler, now=NOW)
    bookings.do_mark(first, BookingAction.ATTEND, actor=city.handler, now=MONDAY_9)
    with pytest.raises(Conflict):  # the slot has not ended yet
        bookings.do_mark(second, BookingAction.NO_SHOW, actor=city.handler, now=MONDAY_9)
    with pytest.raises(Forbidden):
        bookings.do_mark(second, BookingAction.NO_SHOW, actor=city.env_handler,
                         now=MONDAY_9 + HOUR)
    bookings.do_mark(second, BookingAction.NO_SHOW, actor=city.dept_admin, now=MONDAY_9 + HOUR)
    with pytest.raises(Conflict):
        bookings.do_mark(first, BookingAction.NO_SHOW, actor=city.handler, now=MONDAY_9 + HOUR)
    assert Booking.objects.get(pk=first.pk).state == BookingState.ATTENDED
    assert Booking.objects.get(pk=second.pk).state == BookingState.NO_SHOW
    assert BookedSlot.objects.get(service=service).taken == 2  # a visit keeps its place


def test_departments_see_their_own_services_bookings(city: City) -> None:
    booking, _c = book(water_counter(city.water))
    assert list(bookings.bookings_for(city.handler)) == [booking]
    assert list(bookings.bookings_for(city.agent)) == [booking]
    assert list(bookings.bookings_for(city.env_handler)) == []
    assert list(bookings.bookings_for(city.leader)) == []


def test_the_reminder_goes_once_at_the_lead_time_in_daytime(city: City) -> None:
    service = water_counter(city.water, capacity=3)
    reminded, _c = book(service)
    opted, _c = book(service, phone="13800002222")
    later, _c = book(service, dt.datetime(2026, 12, 8, 9, 0, tzinfo=TZ), phone="13800003333")
    SmsOptOut.objects.create(phone="13800002222", at=NOW)
    LOG_OUTBOX.clear()
    sunday = dt.datetime(2026, 12, 6, 9, 0, tzinfo=TZ)  # 24 hours (the default) before 9:00
    assert bookings.do_send_reminders(sunday - dt.timedelta(minutes=1)) == 0  # not yet due
    assert bookings.do_send_reminders(sunday) == 1
    assert bookings.do_send_reminders(sunday + 3 * HOUR) == 0  # once
    (sms,) = LOG_OUTBOX
    assert sms.phone == "13800001111" and sms.purpose == "reminder" and "12月7日 09:00" in sms.text
    assert "QX" in sms.text and sms.text.endswith("回复TD退订")
    states = dict(Booking.objects.values_list("pk", "reminder"))
    assert states == {reminded.pk: ReminderStatus.SENT, opted.pk: ReminderStatus.SKIPPED,
                      later.pk: ReminderStatus.PENDING}
    assert reminded.events.filter(action=BookingAction.REMIND).count() == 1
    assert "opted out (TD)" in opted.events.get(action=BookingAction.REMIND).note


def test_the_lead_time_is_the_centres_and_the_quiet_hours_hold_it_back(
        city: City, settings: Any) -> None:
    settings.HOTLINE_APPOINTMENT_REMINDER_HOURS = 2
    booking, _c = book(water_counter(city.water))  # Monday 9:00: due at 7:00, in quiet hours
    LOG_OUTBOX.clear()
    assert bookings.do_send_reminders(dt.datetime(2026, 12, 6, 10, 0, tzinfo=TZ)) == 0
    assert bookings.do_send_reminders(dt.datetime(2026, 12, 7, 7, 30, tzinfo=TZ)) == 0  # night
    assert bookings.do_send_reminders(dt.datetime(2026, 12, 7, 8, 0, tzinfo=TZ)) == 1
    assert Booking.objects.get(pk=booking.pk).reminder == ReminderStatus.SENT


def test_a_booking_made_inside_the_lead_time_has_only_its_confirmation(city: City) -> None:
    service = water_counter(city.water)
    friday_11 = dt.datetime(2026, 12, 4, 11, 0, tzinfo=TZ)  # booked at NOW, two hours ahead
    booking, _c = book(service, friday_11)
    LOG_OUTBOX.clear()
    assert bookings.do_send_reminders(dt.datetime(2026, 12, 4, 10, 0, tzinfo=TZ)) == 0
    assert Booking.objects.get(pk=booking.pk).reminder == ReminderStatus.PENDING


def test_the_reminder_honours_the_citizens_preference(city: City) -> None:
    from hotline.outreach.models import ContactPreference

    booking, _c = book(water_counter(city.water))
    ContactPreference.objects.create(citizen=booking.citizen, notices=False)
    LOG_OUTBOX.clear()
    assert bookings.do_send_reminders(dt.datetime(2026, 12, 6, 10, 0, tzinfo=TZ)) == 0
    assert not LOG_OUTBOX
    booking.refresh_from_db()
    assert booking.reminder == ReminderStatus.SKIPPED
    assert "opted out (preference)" in booking.events.get(action=BookingAction.REMIND).note


def test_replying_qx_cancels_the_phones_coming_booking(city: City) -> None:
    from hotline.intake.sms.inbound import receive_sms
    from hotline.orders.models import Order

    service = water_counter(city.water, capacity=3)
    first, _c = book(service, phone="13800001111")
    LOG_OUTBOX.clear()
    assert receive_sms(provider="log", provider_id="in-1", phone="13800001111", text="取消",
                       at=NOW) is not None
    first.refresh_from_db()
    assert first.state == BookingState.CANCELLED and first.close_note
    assert BookedSlot.objects.get(service=service).taken == 0  # the place is free again
    assert any("已取消" in m.text or "cancelled" in m.text for m in LOG_OUTBOX)
    assert not Order.objects.exists()  # the reply is the booking's, not a new request
    # Two coming bookings: the number is asked for, and then names the one to cancel.
    other = water_counter(city.water)
    other.name = "排污许可窗口"
    other.save(update_fields=["name"])
    a, _c = book(service, phone="13800005555")
    b, _c = book(other, phone="13800005555")
    receive_sms(provider="log", provider_id="in-2", phone="13800005555", text="QX", at=NOW)
    assert Booking.objects.get(pk=a.pk).state == BookingState.BOOKED
    assert "QX" in LOG_OUTBOX[-1].text  # asked which one
    receive_sms(provider="log", provider_id="in-3", phone="13800005555", text=f"QX {b.pk}",
                at=NOW)
    assert Booking.objects.get(pk=b.pk).state == BookingState.CANCELLED
    assert Booking.objects.get(pk=a.pk).state == BookingState.BOOKED


def test_qx_from_a_phone_without_bookings_is_an_ordinary_message(city: City) -> None:
    assert bookings.take_sms_reply(phone="13700001111", text="取消", at=NOW) is None
    assert bookings.take_sms_reply(phone="13800001111", text="你好", at=NOW) is None


def test_a_cancelled_booking_gets_no_reminder(city: City) -> None:
    booking, _c = book(water_counter(city.water))
    bookings.do_cancel(booking, actor=None, now=NOW)
    LOG_OUTBOX.clear()
    assert bookings.do_send_reminders(dt.datetime(2026, 12, 6, 12, 0, tzinfo=TZ)) == 0
    assert not LOG_OUTBOX


@pytest.mark.django_db(transaction=True)
def test_two_citizens_taking_the_last_place_at_once_exactly_one_wins(city: City) -> None:
    service = water_counter(city.water, capacity=3)
    book(service, phone="13800000001")
    book(service, phone="13800000002")  # one place left
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def attempt(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            book(service, phone=f"1390000000{n}")
            outcomes.append("won")
        except bookings.SlotFull:
            outcomes.append("full")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["full", "full", "full", "won"]
    slot = BookedSlot.objects.get(service=service, starts_at=MONDAY_9)
    assert slot.taken == 3
    assert Booking.objects.filter(slot=slot, state=BookingState.BOOKED).count() == 3
