"""预约服务 by telephone: the default flow's branch driven with digits through the engine, its
service calls answered by the real services (hotline/voice/ivr_appointments.py) on the
database, as the gateway would run them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import time_machine

from hotline.outreach.bookings import do_book
from hotline.outreach.models_appointments import Booking, BookingChannel
from hotline.voice.ivr.engine import CallService, Digit, FlowRun, Play, ServiceDone, Wait
from hotline.voice.ivr.flow import DEFAULT_FLOW, Flow, Say, SayDigits, load_flow
from hotline.voice.services import SERVICES, CallContext, run_service
from tests.outreach.appointment_helpers import NOW, water_counter

if TYPE_CHECKING:
    from tests.conftest import City

CALLER = "13800005555"


@pytest.fixture(autouse=True)
def _at_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow(DEFAULT_FLOW, services=SERVICES)


def said(actions: list[Any]) -> str:
    parts = []
    for play in (a for a in actions if isinstance(a, Play)):
        for s in play.segments:
            parts.append(s.text if isinstance(s, Say) else getattr(s, "variable", ""))
    return " ".join(parts)


def serve(run: FlowRun, actions: list[Any], context: CallContext) -> list[Any]:
    """Answer every service call the way the gateway does, until the flow waits for keys."""
    while True:
        calls = [a for a in actions if isinstance(a, CallService)]
        if not calls:
            return actions
        (call,) = calls
        result = run_service(call.name, context, call.args)
        actions = actions + run.handle(ServiceDone(call.token, result))
        actions = [a for a in actions if a is not call]


def press(run: FlowRun, keys: str, context: CallContext) -> list[Any]:
    actions: list[Any] = []
    for key in keys:
        actions = serve(run, run.handle(Digit(key)), context)
    return actions


@pytest.mark.django_db(transaction=True)
def test_a_caller_books_the_first_free_time_by_keys(city: City, flow: Flow) -> None:
    service = water_counter(city.water)
    context = CallContext("call-1", CALLER)
    run = FlowRun(flow, {"caller": CALLER})
    run.start()
    menu = press(run, "26", context)  # self-service, then 6 预约服务
    assert f"{service.name}请按1" in said(menu)
    slots = press(run, "1", context)
    assert "12月4日上午11点整请按1" in said(slots)  # today, after an hour's notice
    booked = press(run, "1", context)
    booking = Booking.objects.get()
    assert booking.phone == CALLER and booking.channel == BookingChannel.IVR
    assert "预约成功" in said(booked)
    digits = [s.variable for p in booked if isinstance(p, Play) for s in p.segments
              if isinstance(s, SayDigits)]
    assert digits == [str(booking.pk), run.variables["appt_code"]]
    assert [a for a in booked if isinstance(a, Wait)]  # back at the self-service menu


@pytest.mark.django_db(transaction=True)
def test_a_taken_time_is_offered_again_and_no_number_cannot_book(city: City,
                                                                 flow: Flow) -> None:
    service = water_counter(city.water)
    context = CallContext("call-2", CALLER)
    run = FlowRun(flow, {"caller": CALLER})
    run.start()
    press(run, "261", context)  # the slots are listed: 11:00 first
    first = dt.datetime.fromisoformat(run.variables["appt_slots"][0]["id"])
    assert first == NOW.replace(hour=11)
    do_book(service, first, phone="13800006666", channel=BookingChannel.PORTAL)  # someone else
    again = press(run, "1", context)
    assert "刚刚被约满" in said(again) and "12月4日上午11点整" not in said(again)
    assert Booking.objects.count() == 1

    nobody = FlowRun(flow, {})
    nobody.start()
    quiet = CallContext("call-3", "")
    press(nobody, "261", quiet)
    assert "无法识别您的来电号码" in said(press(nobody, "1", quiet))


@pytest.mark.django_db(transaction=True)
def test_no_service_means_a_clear_message(city: City, flow: Flow) -> None:
    context = CallContext("call-4", CALLER)
    run = FlowRun(flow, {"caller": CALLER})
    run.start()
    assert "暂时没有可以预约的服务" in said(press(run, "26", context))


@pytest.mark.django_db(transaction=True)
def test_the_slot_service_refuses_nonsense_without_an_error() -> None:
    context = CallContext("call-5", CALLER)
    assert run_service("appointment_slots", context, {"service": "x"})["outcome"] == "empty"
    assert run_service("appointment_book", context, {"service": "1", "slot": "nonsense"}) == {
        "outcome": "refused"}
