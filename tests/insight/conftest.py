"""A small city's recent orders with one planted hot issue: six calls in the last 20 hours
about a water cut at 丽发新城 in 鼓楼区, against two such calls in the four weeks before."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from hotline.orders.services import NewOrder, do_action, do_create_order
from tests.contactcentre.conftest import desk  # noqa: F401 - fixtures used by name
from tests.insight.call_fixtures import floor_day, rolled  # noqa: F401

OUTAGE = [
    ("丽发新城小区停水", "丽发新城小区从昨晚开始停水，到现在还没有来水"),
    ("丽发新城停水一天了", "丽发新城小区停水，家里老人孩子没水用"),
    ("投诉丽发新城小区停水", "丽发新城小区停水无人通知，物业说不清楚原因"),
    ("丽发新城小区停水没人管", "丽发新城小区停水一整天，打电话给物业没人接"),
    ("丽发新城又停水", "丽发新城小区又停水了，请尽快恢复供水"),
    ("丽发新城小区停水严重影响生活", "丽发新城小区停水，无法做饭洗漱"),
]
NOISE = [
    ("暮云街道搅拌站噪音扰民", "暮云街道搅拌站夜间施工噪音很大"),
    ("暮云街道搅拌站夜间噪音", "暮云街道搅拌站半夜噪音扰民睡不着"),
]
OTHER = [
    ("咨询社保卡补办", "社保卡丢了怎么补办"),
    ("地铁末班车建议", "建议地铁三号线延长末班车时间"),
    ("学校门口拥堵", "实验小学门口早上车辆拥堵"),
]


class Scenario:
    now: dt.datetime
    outage: list[Any]
    outage_old: list[Any]
    noise: list[Any]
    other: list[Any]


def make(city: Any, title: str, text: str, at: dt.datetime, **extra: Any) -> Any:
    fields: dict[str, Any] = dict(type="complaint", channel="phone", title=title, text=text,
                                  citizen_phone="13812341234", district="gulou",
                                  category="100101")
    fields.update(extra)
    order, _ = do_create_order(city.agent, NewOrder(**fields), now=at)
    return order


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"
    cache.clear()


@pytest.fixture
def scenario(city: Any) -> Scenario:
    s = Scenario()
    s.now = now = timezone.now()
    hours = dt.timedelta(hours=1)
    s.outage = [make(city, t, x, now - (2 + 3 * k) * hours,
                     address="鼓楼区丽发新城3栋" if k < 3 else "")
                for k, (t, x) in enumerate(OUTAGE)]
    s.outage_old = [make(city, "丽发新城小区停水", "丽发新城小区停水半天", now - d * 24 * hours)
                    for d in (10, 20)]
    s.noise = [make(city, t, x, now - d * 24 * hours, district="taijiang", category="100201")
               for d, (t, x) in zip((3, 5), NOISE, strict=True)]
    s.noise += [make(city, NOISE[0][0], NOISE[0][1], now - d * 24 * hours, district="taijiang",
                     category="100201") for d in (15, 25)]
    s.other = [make(city, t, x, now - (k + 1) * 30 * hours, category="")
               for k, (t, x) in enumerate(OTHER)]
    # The water department holds three of the outage orders (dispatched by their route).
    for order in s.outage[:3]:
        do_action(city.agent, order.number, "dispatch")
    return s


@pytest.fixture
def login(client: Client) -> Any:
    def as_user(user: Any) -> Client:
        client.force_login(user)
        return client

    return as_user
