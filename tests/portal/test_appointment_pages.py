"""Appointment pages with the Django client: a citizen books with the SMS code and cancels by
the link or by code; bad input is a 4xx with a message; staff see their scope, cancel with a
reason and mark visits; an agent books for a caller."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from hotline.intake.sms.outbound import LOG_OUTBOX
from hotline.outreach import bookings
from hotline.outreach.models_appointments import (
    BookableService,
    Booking,
    BookingChannel,
    BookingState,
)
from tests.outreach.appointment_helpers import MONDAY_9, NOW, water_counter

if TYPE_CHECKING:
    from hotline.directory.models import User
    from tests.conftest import City

SLOT = MONDAY_9.isoformat()


@pytest.fixture(autouse=True)
def _at_now() -> Iterator[None]:
    LOG_OUTBOX.clear()
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def counter(city: City) -> BookableService:
    return water_counter(city.water)


def code_for(client: Client, url: str, phone: str) -> str:
    r = client.post(url, {"phone": phone, "send_code": "1", "slot": SLOT})
    assert r.status_code == 200
    sent = [s for s in LOG_OUTBOX if s.purpose == "verify" and s.phone == phone]
    match = re.search(r"\d{6}", sent[-1].text)
    assert match
    return match.group(0)


def book_on_portal(client: Client, service: BookableService, phone: str = "13800001111",
                   **extra: str) -> Any:
    url = reverse("appointments:book", args=[service.pk])
    code = code_for(client, url, phone)
    return client.post(url, {"slot": SLOT, "phone": phone, "code": code, "name": "陈女士",
                             **extra})


def test_the_services_page_and_the_free_times(client: Client, counter: BookableService) -> None:
    r = client.get(reverse("appointments:services"))
    assert r.status_code == 200 and counter.name in r.content.decode()
    page = client.get(reverse("appointments:book", args=[counter.pk])).content.decode()
    assert f'value="{SLOT}"' in page
    assert client.get(reverse("appointments:book", args=[999999])).status_code == 404


def test_a_citizen_books_with_the_code_and_cancels_by_the_link(
        client: Client, counter: BookableService,
        django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        r = book_on_portal(client, counter)
    assert r.status_code == 200, r.content.decode()
    booking = Booking.objects.get()
    assert booking.phone == "13800001111" and booking.channel == "portal"
    assert str(booking.pk) in r.content.decode()
    (sms,) = [s for s in LOG_OUTBOX if s.purpose == "requested"]
    link = re.search(r"http://testserver(/appointments/cancel/\S+/)", sms.text)
    assert link
    page = client.get(link.group(1))
    assert page.status_code == 200 and "13800001111" not in page.content.decode()
    r = client.post(link.group(1), {"confirm": "1"})
    assert r.status_code == 200
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED


def test_a_wrong_code_or_a_taken_slot_is_a_clear_4xx(client: Client,
                                                    counter: BookableService) -> None:
    url = reverse("appointments:book", args=[counter.pk])
    code_for(client, url, "13800001111")
    r = client.post(url, {"slot": SLOT, "phone": "13800001111", "code": "000000"})
    assert r.status_code == 400 and "The code is wrong" in r.content.decode()
    bookings.do_book(counter, MONDAY_9, phone="13800002222", channel=BookingChannel.PORTAL)
    r = book_on_portal(client, counter)  # the slot is no longer among the choices
    assert r.status_code == 400 and Booking.objects.count() == 1
    r = client.post(url, {"slot": "not-a-time", "phone": "13800001111", "code": "1"})
    assert r.status_code == 400
    assert client.post(url, {"website": "http://spam"}).status_code == 400


def test_cancelling_by_number_phone_and_code(client: Client, counter: BookableService) -> None:
    booking, code = bookings.do_book(counter, MONDAY_9, phone="13800001111", channel=BookingChannel.PORTAL)
    url = reverse("appointments:cancel")
    wrong = client.post(url, {"number": str(booking.pk), "phone": "13800001111",
                              "code": "999999" if code != "999999" else "111111"})
    assert wrong.status_code == 404 and "No booking matches" in wrong.content.decode()
    assert client.post(url, {"number": "x", "phone": "", "code": ""}).status_code == 400
    data = {"number": str(booking.pk), "phone": "138 0000 1111", "code": code}
    found = client.post(url, data)
    assert found.status_code == 200 and "Cancel this booking" in found.content.decode()
    client.post(url, {**data, "confirm": "1"})
    booking.refresh_from_db()
    assert booking.state == BookingState.CANCELLED
    assert client.get(reverse("appointments:cancel_link", args=["forged"])).status_code == 404


def test_staff_see_their_scope_and_phones_masked(login: Callable[[User], Client], city: City,
                                                counter: BookableService) -> None:
    booking, _code = bookings.do_book(counter, MONDAY_9, phone="13800001111", channel=BookingChannel.PORTAL)
    page = login(city.handler).get(reverse("appointments:staff")).content.decode()
    assert f'id="booking-{booking.pk}"' in page and "138****1111" in page
    assert "13800001111" not in page
    other = login(city.env_handler).get(reverse("appointments:staff")).content.decode()
    assert f'id="booking-{booking.pk}"' not in other
    assert login(city.leader).get(reverse("appointments:staff")).status_code == 403


def test_staff_cancel_with_a_reason_and_mark_after_the_time(
        login: Callable[[User], Client], city: City, counter: BookableService,
        settings: Any) -> None:
    settings.HOTLINE_IDLE_TIMEOUT_MINUTES = 0  # the test jumps over a weekend
    booking, _code = bookings.do_book(counter, MONDAY_9, phone="13800001111", channel=BookingChannel.PORTAL)
    client = login(city.handler)
    url = reverse("appointments:staff_action", args=[booking.pk, "cancel"])
    client.post(url, {"reason": ""})
    booking.refresh_from_db()
    assert booking.state == BookingState.BOOKED
    r = client.post(reverse("appointments:staff_action", args=[booking.pk, "attend"]))
    assert r.status_code == 302  # refused with a message: the time has not come
    booking.refresh_from_db()
    assert booking.state == BookingState.BOOKED
    with time_machine.travel(MONDAY_9 + dt.timedelta(minutes=5), tick=False):
        client.post(reverse("appointments:staff_action", args=[booking.pk, "attend"]))
    booking.refresh_from_db()
    assert booking.state == BookingState.ATTENDED and booking.closed_by == city.handler
    client = login(city.env_handler)
    assert client.post(reverse("appointments:staff_action",
                               args=[booking.pk, "no_show"])).status_code == 404
    client = login(city.handler)
    assert client.post(reverse("appointments:staff_action",
                               args=[booking.pk, "explode"])).status_code == 404


def test_an_agent_books_for_a_caller(login: Callable[[User], Client], city: City,
                                     counter: BookableService) -> None:
    client = login(city.agent)
    url = reverse("appointments:agent_book")
    assert SLOT in client.get(url, {"service": counter.pk}).content.decode()
    r = client.post(url, {"service": counter.pk, "slot": SLOT, "phone": "13800003333",
                          "name": "刘先生"})
    assert r.status_code == 302
    booking = Booking.objects.get()
    assert booking.booked_by == city.agent and booking.channel == "agent"
    again = client.post(url, {"service": counter.pk, "slot": SLOT, "phone": "13800004444"})
    assert again.status_code == 400
    assert login(city.handler).get(url).status_code == 403
