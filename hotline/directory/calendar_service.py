"""The working calendar as configured: settings' working periods and the admin's overrides."""

from __future__ import annotations

import zoneinfo

from django.conf import settings

from hotline.directory.models import CalendarDay
from hotline.directory.workcalendar import WorkCalendar, parse_periods, with_overrides


def current_calendar() -> WorkCalendar:
    """A calendar reflecting the overrides stored now (a few dozen rows: read per call so an
    admin's change applies at once, without cache invalidation across processes)."""
    overrides = dict(CalendarDay.objects.values_list("date", "is_workday"))
    return WorkCalendar(
        is_workday=with_overrides(overrides),
        periods=parse_periods(settings.HOTLINE_WORK_PERIODS),
        tz=zoneinfo.ZoneInfo(settings.TIME_ZONE),
    )
