"""Reference cases beside the suggestions (seed 003: 原有事例作为参考答案): closed orders with
their official replies, in the viewer's scope, never reports or confidential orders, masked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from hotline.orders.models import Order
from hotline.orders.services import NewOrder, do_action, do_create_order
from hotline.triage import similar
from hotline.triage.reference_cases import reference_cases

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.test import Client

    from hotline.directory.models import User
    from tests.conftest import City

pytestmark = pytest.mark.django_db

TEXT = "幸福小区5栋从昨天开始停水，一直没有恢复，也没有看到停水通知"
REPLY = "经核实，幸福小区停水系管网抢修所致，已于当日恢复供水。联系人张师傅13900139000。"


@pytest.fixture(autouse=True)
def _fresh_idf() -> None:
    similar.cache.clear()


def closed(city: City, *, title: str = "幸福小区停水", text: str = TEXT, district: str = "gulou",
           order_type: str = "complaint", confidential: bool = False, reply: str = REPLY,
           name: str = "陈大明", phone: str = "13800138000") -> Order:
    order, _created = do_create_order(city.agent, NewOrder(
        type=order_type, channel="phone", title=title, text=f"{text}，我是{name}，电话{phone}",
        citizen_phone=phone, citizen_name=name, district=district, confidential=confidential))
    return do_action(city.agent, order.number, "answer", {"reply": reply})


def numbers(user: User, text: str = "我们小区停水了，没有通知") -> set[str]:
    return {case.number for case in reference_cases(user, text, limit=10)}


def test_closed_orders_with_replies_are_reference_cases_masked(city: City) -> None:
    order = closed(city)
    cases = reference_cases(city.agent, "我们小区停水了，没有通知")
    assert [case.number for case in cases] == [order.number]
    case = cases[0]
    assert "恢复供水" in case.reply
    assert "13900139000" not in case.reply and "139****9000" in case.reply
    assert "陈大明" not in case.text and "13800138000" not in case.text
    assert "138****8000" not in case.text  # the citizen's own number is blotted out entirely
    assert case.unit


def test_open_unreplied_unrelated_orders_are_not(city: City) -> None:
    open_order, _created = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="幸福小区停水", text=TEXT, district="gulou"))
    closed(city, title="路灯不亮", text="东街路口的路灯坏了三天，晚上很黑", reply="已修复路灯。")
    assert open_order.number not in numbers(city.agent)
    assert numbers(city.agent) == set()


def test_never_reports_or_confidential_orders(city: City) -> None:
    normal = closed(city)
    report = closed(city, order_type="report", title="举报幸福小区停水", phone="13700137000")
    secret = closed(city, confidential=True, phone="13600136000")
    found = numbers(city.agent)
    assert normal.number in found
    assert report.number not in found
    assert secret.number not in found


def test_only_in_the_viewers_scope(city: City) -> None:
    in_gulou = closed(city)
    elsewhere = closed(city, district="taijiang", phone="13500135000")
    assert {in_gulou.number, elsewhere.number} <= numbers(city.agent)
    # The district sub-centre sees its district's orders, not the other district's.
    assert numbers(city.sub_agent) == {in_gulou.number}
    # Roles off the desk get none (they do not answer callers).
    assert numbers(city.handler) == set()
    assert numbers(city.auditor) == set()


def test_the_suggestion_panel_shows_them(city: City, login: Callable[[User], Client]) -> None:
    order = closed(city)
    suggest = reverse("knowledge:suggest")
    body = login(city.agent).get(suggest, {"text": "我们小区停水了，没有通知"}).content.decode()
    assert 'data-testid="kb-reference-cases"' in body
    assert order.number in body and "恢复供水" in body
    assert "13800138000" not in body and "陈大明" not in body
    body = login(city.handler).get(suggest, {"text": "我们小区停水了，没有通知"}).content.decode()
    assert order.number not in body
