"""Web chat services: queued by the ACD, held several at once, the transcript is the contact, a
message left becomes an order, a chat becomes an order in one step."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from hotline.contactcentre import chat as chats
from hotline.contactcentre.models import ChatSession, ChatState, DeskEvent
from hotline.contactcentre.services import do_set_state, do_sign_in
from hotline.core.errors import Conflict, Forbidden, InvalidInput
from hotline.orders.models import Citizen, Contact, IdentityKind
from hotline.orders.services import NewOrder
from tests.portal.test_citizen_portal import _png


def ready(user: Any) -> None:
    do_sign_in(user)
    do_set_state(user, "ready")


def start(text: str = "请问公积金怎么提取？", **kw: Any) -> ChatSession:
    return chats.do_start_chat(chats.ChatStart(text=text, **kw))


def test_with_nobody_at_work_the_chat_waits_with_its_position(desk: Any) -> None:
    first, second = start(), start("我也有问题")
    assert first.state == second.state == ChatState.WAITING
    assert (chats.position(first), chats.position(second)) == (1, 2)
    contact = Contact.objects.get(chat=first)
    assert contact.channel == "chat"
    assert Citizen.objects.get(identities__kind=IdentityKind.CHAT,
                               identities__value=first.token) == contact.citizen


def test_an_agent_takes_up_to_the_capacity_and_the_next_waits(desk: Any, settings: Any) -> None:
    settings.HOTLINE_CHAT_CAPACITY = 2
    ready(desk.agent)
    started = [start(f"问题{i}") for i in range(3)]
    states = [ChatSession.objects.get(pk=c.pk) for c in started]
    assert [c.state for c in states] == [ChatState.ACTIVE, ChatState.ACTIVE, ChatState.WAITING]
    assert {c.agent_id for c in states[:2]} == {desk.agent.pk}
    assert DeskEvent.objects.filter(kind="chat_offered", agent=desk.agent).count() == 2
    chats.do_close_chat(states[0], actor=desk.agent)  # room again: the waiting one is taken
    assert ChatSession.objects.get(pk=started[2].pk).agent_id == desk.agent.pk


def test_an_agent_on_a_break_gets_no_chat(desk: Any) -> None:
    do_sign_in(desk.agent)
    do_set_state(desk.agent, "not_ready", reason="rest")
    assert start().state == ChatState.WAITING


def test_messages_both_ways_and_the_transcript_becomes_the_contact(desk: Any,
                                                                 settings: Any,
                                                                 tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    ready(desk.agent)
    session = start("我家停水了")
    chats.do_post(session, "agent", "请问您的地址？", author=desk.agent)
    chats.do_post(session, "citizen", "鼓楼区东街1号",
                  upload=SimpleUploadedFile("meter.png", _png(), "image/png"))
    with pytest.raises(Forbidden):
        chats.do_post(session, "agent", "冒充", author=desk.bob)
    chats.do_close_chat(session)
    summary = Contact.objects.get(chat=session).summary
    assert "市民: 我家停水了" in summary and "坐席: 请问您的地址？" in summary
    assert "[meter.png]" in summary
    with pytest.raises(Conflict):
        chats.do_post(session, "citizen", "还在吗")


def test_bad_input_is_refused_clearly(desk: Any) -> None:
    session = start()
    with pytest.raises(InvalidInput):
        chats.do_post(session, "citizen", "")
    with pytest.raises(InvalidInput):
        chats.do_post(session, "citizen", "长" * 2001)


def test_with_no_agent_the_citizen_leaves_a_message_that_becomes_an_order(desk: Any) -> None:
    session = start(phone="13800138000")
    order = chats.do_leave_message(session, "路灯坏了一周了，请派人修理。")
    session.refresh_from_db()
    assert session.state == ChatState.LEFT_MESSAGE
    assert order.channel == "chat" and order.citizen.phone == "13800138000"
    assert Contact.objects.filter(orders=order, chat=session).exists()
    with pytest.raises(Conflict):
        chats.do_leave_message(session, "again")


def test_the_agent_turns_the_chat_into_an_order(desk: Any) -> None:
    ready(desk.agent)
    session = start("咨询社保卡补办", phone="13800138001")
    session.refresh_from_db()
    order = chats.do_chat_to_order(desk.agent, session, NewOrder(
        type="consultation", channel="phone", title="社保卡补办", text="市民咨询社保卡补办。"))
    assert order.channel == "chat" and order.citizen.phone == "13800138001"
    assert Contact.objects.filter(orders=order, chat=session).exists()
    with pytest.raises(Forbidden):
        chats.do_chat_to_order(desk.bob, session, NewOrder(
            type="consultation", channel="chat", title="x", text="y"))


def test_a_citizen_gone_while_waiting_is_swept(desk: Any) -> None:
    session = start()
    later = timezone.now() + dt.timedelta(minutes=10)
    assert chats.do_sweep_chats(later) == 1
    session.refresh_from_db()
    assert session.state == ChatState.ABANDONED and chats.position(session) == 0
