"""Order deadlines as the services set them, with the clock pinned by time-machine.

The fixture's 停水 category (100101) allows 7 working hours to sign for and 5 working days to
handle; working time is 09:00-12:00 and 13:30-17:30 (7 h a day) in Beijing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING, Any

import pytest
import time_machine

from hotline.directory.calendar_service import current_calendar
from hotline.directory.models import CalendarDay, Category
from hotline.orders import deadlines
from hotline.orders.services import NewOrder, do_action, do_create_order

if TYPE_CHECKING:
    from tests.conftest import City

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def new_order(city: City, category: str = "100101", urgency: str = "normal") -> str:
    order, _ = do_create_order(
        city.agent,
        NewOrder(type="complaint", channel="phone", title="停水", text="小区停水", category=category,
                 citizen_phone="13800000001", urgency=urgency),
    )
    return order.number


def dispatched_at(city: City, moment: str, **kwargs: Any) -> str:
    with time_machine.travel(at(moment), tick=False):
        number = new_order(city, **kwargs)
        do_action(city.agent, number, "dispatch")
    return number


def test_dispatch_on_the_last_day_before_national_day(city: City) -> None:
    number = dispatched_at(city, "2025-09-30 10:00")
    order = do_action(city.handler, number, "sign", now=at("2025-10-09 09:30"))
    # Sign: 6 h on 30 Sep, 1 h on 9 Oct. Handle (35 h): 6 + 7 (9 Oct) + 7 (10 Oct)
    # + 7 (make-up Saturday 11 Oct) + 7 (13 Oct) + 1 (14 Oct).
    assert order.sign_due == at("2025-10-09 10:00")
    assert order.handle_due == at("2025-10-14 10:00")
    assert order.events.get(action="dispatch").data["handle_due"] == at(
        "2025-10-14 10:00").isoformat()


def test_make_up_sunday_counts_for_the_sign_deadline(city: City) -> None:
    number = dispatched_at(city, "2025-09-26 17:00")  # Friday; Saturday off, Sunday works
    order = do_action(city.handler, number, "sign", now=at("2025-09-28 09:00"))
    assert order.sign_due == at("2025-09-28 17:00")  # 0.5 h + 3 h + 3.5 h


def test_dispatch_outside_working_hours_counts_from_the_next_period(city: City) -> None:
    number = dispatched_at(city, "2025-10-13 19:45")  # Monday evening
    order = do_action(city.handler, number, "sign", now=at("2025-10-14 09:10"))
    assert order.sign_due == at("2025-10-14 17:30")  # the whole of Tuesday
    assert order.handle_due == at("2025-10-20 17:30")  # Tue-Fri, then Monday


def test_calendar_overrides_win(city: City) -> None:
    CalendarDay.objects.create(date=dt.date(2025, 10, 9), is_workday=False, note="typhoon")
    number = dispatched_at(city, "2025-09-30 10:00")
    order = do_action(city.handler, number, "sign", now=at("2025-10-10 09:30"))
    assert order.sign_due == at("2025-10-10 10:00")


def test_unknown_year_falls_back_to_monday_to_friday(city: City) -> None:
    number = dispatched_at(city, "2030-01-04 16:30")  # a Friday the package does not know
    order = do_action(city.handler, number, "sign", now=at("2030-01-07 09:00"))
    assert order.sign_due == at("2030-01-07 16:30")  # 1 h on Friday, 6 h on Monday


def test_urgent_orders_count_clock_hours(city: City) -> None:
    number = dispatched_at(city, "2025-09-30 16:00", urgency="urgent")
    order = do_action(city.handler, number, "sign", now=at("2025-09-30 16:10"))
    assert order.sign_due == at("2025-09-30 17:00")
    assert order.handle_due == at("2025-10-01 16:00")  # the holiday does not stop the clock


def test_urgency_chosen_at_dispatch_counts(city: City) -> None:
    with time_machine.travel(at("2025-10-02 03:00"), tick=False):
        number = new_order(city)
        order = do_action(city.agent, number, "dispatch", {"urgency": "urgent"})
    assert order.sign_due == at("2025-10-02 04:00")


@pytest.mark.django_db
def test_category_limits_inherit_from_the_parent() -> None:
    top = Category.objects.create(code="20", name="市场监管", level=1, sign_limit_hours=3,
                                  handle_limit_days=10, urgent_sign_limit_hours=2)
    middle = Category.objects.create(code="2001", name="食品", level=2, parent=top,
                                     urgent_handle_limit_hours=12)
    leaf = Category.objects.create(code="200101", name="过期食品", level=3, parent=middle,
                                   handle_limit_days=4)
    cal = current_calendar()
    assert deadlines.limits_for(leaf, cal) == deadlines.Limits(
        sign_hours=3, handle_days=4, urgent_sign_hours=2, urgent_handle_hours=12)
    assert deadlines.limits_for(middle, cal).handle_days == 10


@pytest.mark.django_db
def test_defaults_without_category() -> None:
    cal = current_calendar()
    assert deadlines.limits_for(None, cal) == deadlines.Limits(
        sign_hours=7, handle_days=deadlines.DEFAULT_HANDLE_DAYS,
        urgent_sign_hours=deadlines.DEFAULT_URGENT_SIGN_HOURS,
        urgent_handle_hours=deadlines.DEFAULT_URGENT_HANDLE_HOURS)


def test_inherited_limits_apply_at_dispatch(city: City) -> None:
    city.cat_outage.sign_limit_hours = None
    city.cat_outage.handle_limit_days = None
    city.cat_outage.save()
    city.cat_water.handle_limit_days = 2
    city.cat_water.save()
    number = dispatched_at(city, "2025-10-13 09:00")
    order = do_action(city.handler, number, "sign", now=at("2025-10-13 09:30"))
    assert order.sign_due == at("2025-10-13 17:30")  # one working day by default
    assert order.handle_due == at("2025-10-14 17:30")


def test_approved_extension_moves_handle_due_by_working_days(city: City) -> None:
    number = dispatched_at(city, "2025-09-30 10:00")
    do_action(city.handler, number, "sign", now=at("2025-10-09 09:30"))
    order = do_action(city.handler, number, "request_extension",
                      {"days": 3, "reason": "需协调供水公司"}, now=at("2025-10-10 10:00"))
    assert order.handle_due == at("2025-10-14 10:00")  # unchanged until approved
    order = do_action(city.monitor, number, "approve_extension", now=at("2025-10-10 11:00"))
    assert order.handle_due == at("2025-10-17 10:00")
    assert order.extension_pending_days is None


def test_extension_approved_after_the_deadline_counts_from_approval(city: City) -> None:
    number = dispatched_at(city, "2025-09-30 10:00")
    do_action(city.handler, number, "sign", now=at("2025-10-09 09:30"))
    do_action(city.handler, number, "request_extension", {"days": 1, "reason": "等待配件"},
              now=at("2025-10-14 09:00"))
    order = do_action(city.monitor, number, "approve_extension", now=at("2025-10-15 14:00"))
    assert order.handle_due == at("2025-10-16 14:00")


def test_suspension_moves_handle_due_by_working_time_suspended(city: City) -> None:
    number = dispatched_at(city, "2025-09-30 10:00")
    do_action(city.handler, number, "sign", now=at("2025-10-09 09:30"))
    order = do_action(city.handler, number, "suspend", {"reason": "等待市民提供材料"},
                      now=at("2025-10-10 16:00"))
    assert order.state == "suspended"
    # Suspended from Friday 16:00 to Monday 10:00: 1.5 h (Fri) + 7 h (make-up Sat) + 1 h (Mon).
    order = do_action(city.handler, number, "resume", now=at("2025-10-13 10:00"))
    assert order.state == "handling"
    assert order.handle_due == at("2025-10-15 14:00")  # 14 Oct 10:00 + 9.5 working hours
    assert order.events.get(action="resume").data["paused_working_hours"] == 9.5
