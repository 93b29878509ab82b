"""Deadlines of an order: sign-for and handling, from its category and urgency.

Normal orders count in working time on the centre's calendar (sign for within the category's
working hours, one working day by default; handle within its working days, 15 by default).
Urgent orders count in clock hours (sign in 1 h, handle in 24 h by default): an emergency does
not wait for Monday.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hotline.directory.models import Category
from hotline.directory.workcalendar import WorkCalendar
from hotline.orders.models import Urgency

DEFAULT_HANDLE_DAYS = 15
DEFAULT_URGENT_SIGN_HOURS = 1
DEFAULT_URGENT_HANDLE_HOURS = 24


@dataclass(frozen=True)
class Limits:
    sign_hours: float  # working hours (normal) or clock hours (urgent)
    handle_days: int  # working days (normal)
    urgent_sign_hours: int
    urgent_handle_hours: int


def limits_for(category: Category | None, calendar: WorkCalendar) -> Limits:
    """The category's limits; a missing value is inherited from the parent category."""
    sign = handle = urgent_sign = urgent_handle = None
    node = category
    while node is not None:
        sign = sign if sign is not None else node.sign_limit_hours
        handle = handle if handle is not None else node.handle_limit_days
        urgent_sign = urgent_sign if urgent_sign is not None else node.urgent_sign_limit_hours
        urgent_handle = (
            urgent_handle if urgent_handle is not None else node.urgent_handle_limit_hours
        )
        node = node.parent
    return Limits(
        sign_hours=float(sign) if sign is not None else calendar.hours_per_day,
        handle_days=handle if handle is not None else DEFAULT_HANDLE_DAYS,
        urgent_sign_hours=urgent_sign if urgent_sign is not None else DEFAULT_URGENT_SIGN_HOURS,
        urgent_handle_hours=(
            urgent_handle if urgent_handle is not None else DEFAULT_URGENT_HANDLE_HOURS
        ),
    )


def sign_due(start: dt.datetime, urgency: str, limits: Limits, cal: WorkCalendar) -> dt.datetime:
    if urgency == Urgency.URGENT:
        return start + dt.timedelta(hours=limits.urgent_sign_hours)
    return cal.add_working_hours(start, limits.sign_hours)


def handle_due(
    start: dt.datetime, urgency: str, limits: Limits, cal: WorkCalendar
) -> dt.datetime:
    if urgency == Urgency.URGENT:
        return start + dt.timedelta(hours=limits.urgent_handle_hours)
    return cal.add_working_days(start, limits.handle_days)
