from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone

from hotline.intake.mailbox import ACKNOWLEDGE_WITHIN, Letter, letter_message
from hotline.intake.messages import Outcome
from hotline.intake.models import ReceivedMessage
from hotline.intake.services import do_receive
from hotline.orders.models import Order

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_django.fixtures import Settings

    from tests.conftest import City


@pytest.fixture(autouse=True)
def media(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def _letter(**kw: object) -> Letter:
    values: dict[str, object] = {"title": "小区路灯不亮", "text": "鼓楼区某小区路灯坏了三周。",
                                 "name": "张三", "phone": "13800138000", "publish": True}
    values.update(kw)
    return Letter(**values)  # type: ignore[arg-type]


def test_a_letter_becomes_a_mailbox_order_once(city: City) -> None:
    now = timezone.now()
    msg = letter_message(_letter(), received_at=now, submission_id="form-1")
    receipt = do_receive(msg)
    assert receipt.outcome == Outcome.CREATED
    order = Order.objects.get(number=receipt.order_number)
    assert order.channel == "mailbox" and order.title == "小区路灯不亮"
    assert receipt.record_id is not None
    record = ReceivedMessage.objects.get(pk=receipt.record_id)
    assert record.meta["publish"] is True
    assert dt.datetime.fromisoformat(record.meta["acknowledge_by"]) == now + ACKNOWLEDGE_WITHIN
    again = do_receive(letter_message(_letter(), received_at=now, submission_id="form-1"))
    assert again.outcome == Outcome.DUPLICATE and again.order_number == order.number


def test_an_empty_letter_is_refused(city: City) -> None:
    msg = letter_message(_letter(title="", text=" "), received_at=timezone.now(),
                         submission_id="form-2")
    assert do_receive(msg).outcome == Outcome.REFUSED


def test_publishing_defaults_to_no() -> None:
    assert Letter(title="t", text="x").publish is False
