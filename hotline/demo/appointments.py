"""Demo appointments and partners (issue 13 items 8 and 9): two bookable services with their
windows and a few bookings, three partners with orders handed over and rated, one of them
suspended by its third dissatisfied rating (the 96180 rule), all through the real services."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hotline.directory.models import Category, OrderType, Unit, User
from hotline.orders.lifecycle import OPEN
from hotline.orders.models import Order
from hotline.outreach import bookings, partners
from hotline.outreach.models_appointments import BookableService, BookingChannel, ServiceWindow
from hotline.outreach.models_partners import Partner, RatingSource

SERVICES = [
    # (unit code, name, place, description, slot minutes, capacity, windows per weekday)
    ("water", "用水报装与过户窗口", "市民服务中心二楼B12窗口",
     "新装水表、用水过户、水表移位的咨询和受理，请带身份证和房产证明。", 30, 2,
     [(d, "09:00", "12:00") for d in range(5)] + [(d, "14:00", "17:00") for d in range(5)]),
    ("hrss", "社保业务现场办理", "市民服务中心一楼社保专区",
     "社保关系转移、待遇资格认证、社保卡补办。周六上午开放。", 20, 3,
     [(d, "09:00", "11:40") for d in range(6)]),
]
PARTNERS = [
    ("安心家政服务公司", "保洁、保姆、老人陪护", "13900000001", "王经理"),
    ("便民管道疏通中心", "管道疏通、下水道维修、水表后管道维修", "13900000002", "李师傅"),
    ("快修家电服务部", "家电维修、燃气灶维修", "13900000003", "陈师傅"),
]
DEMO_PHONES = ["13800000101", "13800000102", "13800000103", "13800000104"]


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def load_demo_appointments() -> str:
    """Load once (nothing when a bookable service exists already); says what it made."""
    if BookableService.objects.exists() or Partner.objects.exists():
        return "appointments and partners exist already: not loaded"
    made_services = []
    for code, name, place, description, minutes, capacity, windows in SERVICES:
        unit = Unit.objects.filter(code=code).first()
        if unit is None:
            continue
        service = BookableService.objects.create(
            name=name, unit=unit, place=place, description=description, slot_minutes=minutes,
            capacity=capacity, days_ahead=14, min_notice_minutes=60)
        ServiceWindow.objects.bulk_create(
            ServiceWindow(service=service, weekday=day, start=_time(a), end=_time(b))
            for day, a, b in windows)
        made_services.append(service)
    booked = 0
    now = timezone.now()
    for service in made_services:
        for phone, slot in zip(DEMO_PHONES, bookings.free_slots(service, now=now)[3:20:5],
                               strict=False):
            bookings.do_book(service, slot.start, phone=phone, name="示范市民",
                             channel=BookingChannel.PORTAL, now=now)
            booked += 1
    made_partners = [partners.do_register_partner(None, name=n, services=s, phone=p,
                                                  contact_name=c) for n, s, p, c in PARTNERS]
    water = Category.objects.filter(name__contains="供水").first()
    if water is not None:
        made_partners[1].categories.add(water)
    agent = User.objects.filter(role="agent", is_active=True).order_by("username").first()
    orders = list(Order.objects.filter(state__in=OPEN, confidential=False)
                  .exclude(type=OrderType.REPORT).order_by("-created_at")[:7])
    if agent is not None and len(orders) == 7:
        # Two good services for the first, and three dissatisfied ratings for the third: it is
        # suspended automatically, as seed 001 tells of 南京96180.
        plan = [(0, "satisfied"), (0, "basic"), (1, "satisfied"), (1, ""),
                (2, "unsatisfied"), (2, "unsatisfied"), (2, "unsatisfied")]
        for order, (which, rating) in zip(orders, plan, strict=True):
            assignment = partners.do_assign(agent, order, made_partners[which])
            if rating:
                partners.do_rate(assignment, rating, source=RatingSource.CALLBACK)
    return (f"appointments: {len(made_services)} services, {booked} bookings; "
            f"partners: {len(made_partners)}")
