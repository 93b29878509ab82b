"""A bookable service for the appointment tests: 市水务局's counter, Monday to Friday
09:00-12:00 in 30-minute slots."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from hotline.outreach.models_appointments import BookableService, ServiceWindow

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
# Friday 4 December 2026, 10:00: the tests' "now". Monday 7 December is an ordinary weekday.
NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=TZ)
MONDAY_9 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=TZ)


def water_counter(unit: Any, *, capacity: int = 1, **kw: Any) -> BookableService:
    service = BookableService.objects.create(
        name="用水报装窗口", unit=unit, place="市民服务中心2楼", slot_minutes=30,
        capacity=capacity, days_ahead=kw.pop("days_ahead", 14),
        min_notice_minutes=kw.pop("min_notice_minutes", 60), **kw)
    for weekday in range(5):
        ServiceWindow.objects.create(service=service, weekday=weekday, start=dt.time(9),
                                     end=dt.time(12))
    return service
