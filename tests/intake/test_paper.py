"""The letters-and-visits adapter and do_receive's actor: an agent's registration is recorded
as theirs, a message without an actor as the system account's."""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone

from hotline.intake.messages import InboundFile, InboundMessage, Outcome
from hotline.intake.paper import PaperRegistration, paper_message
from hotline.intake.services import do_receive
from hotline.orders.models import Contact, Order

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_django.fixtures import Settings

    from tests.conftest import City


@pytest.fixture(autouse=True)
def media(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def registration(**kw: object) -> PaperRegistration:
    values: dict[str, object] = {
        "channel": "visit", "text": "来访反映噪声扰民", "order_type": "complaint",
        "name": "钱七", "phone": "13600136000", "district": "gulou",
        "scans": [InboundFile("材料.txt", "手写材料".encode(), "text/plain")]}
    values.update(kw)
    return PaperRegistration(**values)  # type: ignore[arg-type]


def test_the_registration_is_the_agents(city: City) -> None:
    msg = paper_message(registration(), registered_at=timezone.now(), registration_id="r1")
    receipt = do_receive(msg, actor=city.agent)
    assert receipt.outcome == Outcome.CREATED
    order = Order.objects.get(number=receipt.order_number)
    assert order.channel == "visit" and order.created_by == city.agent
    assert Contact.objects.get(orders=order).agent == city.agent
    with zipfile.ZipFile(io.BytesIO(msg.raw)) as archive:
        assert archive.read("scans/01.txt") == "手写材料".encode()
    again = do_receive(paper_message(registration(), registered_at=timezone.now(),
                                     registration_id="r1"), actor=city.agent)
    assert again.outcome == Outcome.DUPLICATE and again.order_number == order.number


def test_without_an_actor_the_system_account_records(city: City) -> None:
    receipt = do_receive(InboundMessage(channel="web", text="自助提交", message_id="w1"))
    order = Order.objects.get(number=receipt.order_number)
    assert order.created_by is not None and order.created_by.role == "system"
    assert Contact.objects.get(orders=order).agent is None


def test_only_paper_channels() -> None:
    with pytest.raises(ValueError, match="not a paper channel"):
        paper_message(registration(channel="email"), registered_at=timezone.now(),
                      registration_id="x")
