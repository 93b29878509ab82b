"""Web chat pages: the citizen's (public, by token) and the agent's desk panel; the citizen's
websocket. The browser test with two contexts is ``tests/e2e/test_chat_browser.py``."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hotline.contactcentre.models import ChatMessage, ChatSession, ChatState
from hotline.contactcentre.services import do_set_state, do_sign_in
from hotline.orders.models import Order
from tests.conftest import verify_second_factor
from tests.core.test_files import minimal_pdf
from tests.portal.conftest import ensure_compiled_messages
from tests.portal.test_citizen_portal import _png

START = "/citizen/chat/"


def staff(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    verify_second_factor(client, user)
    return client


def ready(user: Any) -> None:
    do_sign_in(user)
    do_set_state(user, "ready")


def start(client: Client, text: str = "请问社保卡怎么补办？", **extra: str) -> ChatSession:
    response = client.post(START, {"text": text, **extra})
    assert response.status_code == 302, response.content.decode()[:500]
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    return ChatSession.objects.get(token=token)


def test_a_citizen_starts_a_chat_and_waits_with_a_position(desk: Any, client: Client) -> None:
    ensure_compiled_messages()
    client.cookies["django_language"] = "zh-hans"
    assert client.get(START).status_code == 200
    chat = start(client)
    page = client.get(f"/citizen/chat/{chat.token}/")
    body = page.content.decode()
    assert page.status_code == 200 and chat.state == ChatState.WAITING
    assert "请问社保卡怎么补办？" in body and 'data-testid="chat-leave"' in body
    assert 'data-position="您在队列中排第{n}位。"' in body  # for the page's JS
    assert "您在队列中排第1位。" in body


def test_bad_starts_are_refused_clearly(desk: Any, client: Client) -> None:
    assert client.post(START, {"text": ""}).status_code == 400
    assert client.post(START, {"text": "x", "website": "http://spam"}).status_code == 400
    assert client.get("/citizen/chat/not-a-token/").status_code == 404
    assert not ChatSession.objects.exists()


def test_agent_and_citizen_talk_with_files_both_ways(desk: Any, client: Client, settings: Any,
                                                    tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    ready(desk.agent)
    chat = start(client)
    chat.refresh_from_db()
    assert chat.agent_id == desk.agent.pk
    agent = staff(desk.agent)
    panel = agent.get("/desk/chats/").content.decode()
    assert f'id="desk-chat-{chat.pk}"' in panel and "请问社保卡怎么补办？" in panel
    assert agent.post(f"/desk/chats/{chat.pk}/send/", {
        "text": "请携带身份证到社保中心办理。",
        "file": SimpleUploadedFile("材料清单.pdf", minimal_pdf(), "application/pdf"),
    }).status_code == 200
    sent = client.post(f"/citizen/chat/{chat.token}/send/", {
        "text": "好的，谢谢", "file": SimpleUploadedFile("照片.png", _png(), "image/png")})
    assert sent.status_code == 302
    page = client.get(f"/citizen/chat/{chat.token}/").content.decode()
    assert "请携带身份证到社保中心办理。" in page and "材料清单.pdf" in page
    agents_file = ChatMessage.objects.get(file_name="材料清单.pdf")
    got = client.get(f"/citizen/chat/{chat.token}/files/{agents_file.pk}/")
    assert got.status_code == 200 and got.getvalue() == minimal_pdf()
    citizens_file = ChatMessage.objects.get(file_name="照片.png")
    assert agent.get(f"/desk/chats/{chat.pk}/files/{citizens_file.pk}/").status_code == 200
    # The agent's download of the citizen's file is in the access log, like an attachment's.
    from hotline.orders.models import AccessKind, AccessLog

    assert AccessLog.objects.filter(kind=AccessKind.ATTACHMENT_DOWNLOAD,
                                    detail=f"chat {chat.pk} file {citizens_file.pk}").exists()
    # A page disguised as a photo is refused on the chat too (the same checks as every upload).
    disguised = client.post(f"/citizen/chat/{chat.token}/send/", {"file": SimpleUploadedFile(
        "photo.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")})
    assert disguised.status_code == 422
    assert not ChatMessage.objects.filter(file_name="photo.jpg").exists()
    # Another agent sees nothing of it.
    other = staff(desk.bob)
    assert other.get(f"/desk/chats/{chat.pk}/log/").status_code == 404
    assert other.post(f"/desk/chats/{chat.pk}/send/", {"text": "冒充"}).status_code == 404


def test_the_agent_registers_an_order_and_the_citizen_gets_its_number(desk: Any,
                                                                    client: Client) -> None:
    ready(desk.agent)
    chat = start(client, phone="13800138000")
    agent = staff(desk.agent)
    response = agent.post(f"/desk/chats/{chat.pk}/order/", {
        "type": "consultation", "title": "社保卡补办", "text": "市民咨询社保卡补办。"})
    assert response.status_code == 200
    assert response["HX-Trigger"] == "desk-figures-changed"  # the idle desk's figures refresh
    order = Order.objects.get(channel="chat")
    assert order.citizen.phone == "13800138000"
    assert order.number in client.get(f"/citizen/chat/{chat.token}/").content.decode()
    assert agent.post(f"/desk/chats/{chat.pk}/close/").status_code == 200
    chat.refresh_from_db()
    assert chat.contact is not None
    assert chat.state == ChatState.CLOSED and "社保卡" in chat.contact.summary


def test_with_no_agent_the_citizen_leaves_a_message(desk: Any, client: Client) -> None:
    chat = start(client)
    response = client.post(f"/citizen/chat/{chat.token}/leave/",
                           {"text": "没人接，我留言：路灯坏了", "phone": "13800138009"})
    assert response.status_code == 200
    order = Order.objects.get(channel="chat")
    assert order.number in response.content.decode()
    assert client.post(f"/citizen/chat/{chat.token}/leave/", {"text": "again"}).status_code == 409


@pytest.mark.django_db(transaction=True)
def test_the_citizens_socket_gets_the_log_the_state_and_new_messages(desk: Any) -> None:
    from hotline.asgi import application
    from hotline.contactcentre import chat as chats

    chat = chats.do_start_chat(chats.ChatStart(text="在吗？"))

    async def scenario() -> None:
        bad = WebsocketCommunicator(application, "/ws/chat/nope/",
                                    headers=[(b"origin", b"http://testserver")])
        connected, _code = await bad.connect()
        assert not connected
        comm = WebsocketCommunicator(application, f"/ws/chat/{chat.token}/",
                                     headers=[(b"origin", b"http://testserver"),
                                              (b"accept-language", b"en")])
        connected, _code = await comm.connect()
        assert connected
        first = await comm.receive_json_from(timeout=20)
        assert first["kind"] == "message" and first["text"] == "在吗？"
        state = await comm.receive_json_from(timeout=20)
        assert state == {"kind": "state", "state": "waiting", "position": 1}

        from channels.db import database_sync_to_async

        def agent_comes() -> None:
            ready(desk.agent)
            chats.do_route_chats()
            fresh = ChatSession.objects.get(pk=chat.pk)
            chats.do_post(fresh, "agent", "您好，请讲。", author=desk.agent)

        await database_sync_to_async(agent_comes)()
        seen: dict[str, Any] = {}
        for _ in range(10):
            event = await comm.receive_json_from(timeout=30)
            if event["kind"] == "state":
                seen["state"] = event["state"]
            elif event["kind"] == "message":
                seen[event["text"]] = event["sender"]
            if "您好，请讲。" in seen and seen.get("state") == "active":
                break
        assert seen["您好，请讲。"] == "agent" and seen["state"] == "active"
        assert seen.get("An agent has joined the chat.") == "system"  # in the citizen's language
        await comm.disconnect()

    async_to_sync(scenario)()
