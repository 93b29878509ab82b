"""Mayor's-mailbox letters: the publication record written with the order, what the public list
shows (consent, an accepted reply, never a confidential order or a 举报, withdrawn letters),
and what it never shows of the writer."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone

from hotline.core.errors import Forbidden, InvalidInput
from hotline.intake.mailbox import ACKNOWLEDGE_WITHIN, Letter
from hotline.intake.mailbox_public import public_letters, published_letters
from hotline.intake.mailbox_services import (
    do_receive_letter,
    do_restore_letter,
    do_withdraw_letter,
)
from hotline.intake.messages import Outcome
from hotline.intake.models import MailboxLetter
from hotline.orders.models import Order
from hotline.orders.services import do_action

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_django.fixtures import Settings

    from tests.conftest import City

PHONE = "13800138000"


@pytest.fixture(autouse=True)
def media(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def receive(*, publish: bool = True, n: int = 1, **kw: object) -> Order:
    values: dict[str, object] = {
        "title": "小区路灯不亮", "text": "鼓楼区某小区路灯坏了三周，请尽快修复。张三 13800138000",
        "name": "张三", "phone": PHONE, "email": "zhangsan@example.com", "publish": publish}
    values.update(kw)
    receipt = do_receive_letter(Letter(**values),  # type: ignore[arg-type]
                                received_at=timezone.now(), submission_id=f"test-{n}-{publish}")
    assert receipt.outcome == Outcome.CREATED, receipt
    return Order.objects.get(number=receipt.order_number)


def answer(city: City, order: Order, reply: str = "已安排维修，路灯已恢复。") -> Order:
    do_action(city.agent, order.number, "dispatch", {"unit": "water"})
    do_action(city.handler, order.number, "sign")
    do_action(city.handler, order.number, "reply", {"reply": reply})
    return do_action(city.agent, order.number, "approve_reply")


def test_the_letter_is_recorded_masked_with_its_consent(city: City) -> None:
    before = timezone.now()
    order = receive()
    letter = MailboxLetter.objects.get(order=order)
    assert order.channel == "mailbox" and letter.publish_consent is True
    assert "张三" not in letter.text and PHONE not in letter.text
    assert "***" in letter.text and letter.title == "小区路灯不亮"
    assert before <= letter.received_at <= timezone.now()
    assert letter.acknowledge_by == letter.received_at + ACKNOWLEDGE_WITHIN
    # The order keeps what the writer wrote, for the staff who handle it.
    assert PHONE in order.text


def test_numbers_and_emails_in_the_text_are_masked(city: City) -> None:
    order = receive(text="我的身份证35010219900101123X，邻居电话13912345678，"
                         "邮箱 li.si@qq.com，办事处电话0591-87654321。")
    text = MailboxLetter.objects.get(order=order).text
    for secret in ("35010219900101123X", "13912345678", "li.si@qq.com", "87654321"):
        assert secret not in text
    assert "350****123X" in text and "139****5678" in text and "l***@qq.com" in text


def test_only_consented_letters_with_an_accepted_reply_are_listed(city: City) -> None:
    shown, unconsented = receive(n=1), receive(publish=False, n=2)
    assert not published_letters().exists()  # no reply yet
    do_action(city.agent, shown.number, "dispatch", {"unit": "water"})
    do_action(city.handler, shown.number, "sign")
    do_action(city.handler, shown.number, "reply", {"reply": "已修复。"})
    assert not published_letters().exists()  # replied, but not accepted by the centre
    do_action(city.agent, shown.number, "approve_reply")
    answer(city, unconsented)
    assert [le.order_id for le in published_letters()] == [shown.pk]
    (row,) = public_letters(list(published_letters()))
    assert row.reply == "已修复。" and row.replied_by == "市水务局"
    assert row.replied_on == timezone.localdate()


def test_the_centre_answering_itself_publishes_too(city: City) -> None:
    order = receive()
    do_action(city.agent, order.number, "answer", {"reply": "您好，路灯维修请拨打城管热线。"})
    (row,) = public_letters(list(published_letters()))
    assert row.replied_by == "市12345热线中心" and "城管热线" in row.reply


def test_confidential_and_reported_orders_are_never_listed(city: City) -> None:
    confidential, report = receive(n=1), receive(n=2)
    Order.objects.filter(pk=confidential.pk).update(confidential=True)
    Order.objects.filter(pk=report.pk).update(type="report")
    answer(city, confidential)
    answer(city, report)
    assert not published_letters().exists()


def test_a_reopened_order_leaves_the_list(city: City) -> None:
    order = answer(city, receive())
    assert published_letters().count() == 1
    do_action(city.agent, order.number, "reopen", {"reason": "没修好"})
    assert not published_letters().exists()


def test_the_reply_never_names_the_writer(city: City) -> None:
    order = answer(city, receive(), reply="张三您好，已电话13800138000联系您，"
                                          "并回复至zhangsan@example.com。咨询电话0591-12345001。")
    (row,) = public_letters(list(published_letters()))
    assert "张三" not in row.reply and PHONE not in row.reply
    assert "zhangsan@example.com" not in row.reply
    assert "0591-12345001" in row.reply  # the office's number is meant to be read
    assert order.reply_text.startswith("张三")


def test_search_finds_words_in_letters_and_replies(city: City) -> None:
    answer(city, receive(n=1, title="公交站台破损", text="幸福路公交站台的顶棚坏了。"))
    answer(city, receive(n=2), reply="已更换灯泡。")
    assert [le.title for le in published_letters("站台")] == ["公交站台破损"]
    assert [le.title for le in published_letters("灯泡")] == ["小区路灯不亮"]
    assert not published_letters("不存在的词").exists()
    # A number is matched against the masked letters only, never the replies.
    answer(city, receive(n=3), reply="已联系13700001111。")
    assert not published_letters("13700001111").exists()


def test_withdrawing_and_restoring(city: City) -> None:
    order = answer(city, receive())
    letter = MailboxLetter.objects.get(order=order)
    with pytest.raises(Forbidden):
        do_withdraw_letter(city.agent, letter.pk, "涉及个人隐私")
    with pytest.raises(InvalidInput):
        do_withdraw_letter(city.monitor, letter.pk, "  ")
    withdrawn = do_withdraw_letter(city.monitor, letter.pk, "涉及个人隐私",
                                   now=timezone.now() - dt.timedelta(minutes=1))
    assert withdrawn.withdrawn_by == city.monitor and not published_letters().exists()
    # A second withdrawal keeps the first one's reason and time.
    again = do_withdraw_letter(city.admin, letter.pk, "另一个理由")
    assert again.withdrawn_by == city.monitor and again.withdrawal_reason == "涉及个人隐私"
    do_restore_letter(city.admin, letter.pk)
    assert published_letters().count() == 1
