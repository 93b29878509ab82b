"""The citizen's side of a web chat: ``/ws/chat/<token>/``.

Anyone with the chat's token may open it (the citizen has no account; the token is the secret
in the page's address). It sends the chat's messages so far and its state when it opens, then
every new message and change of state from the desk outbox (``fanout``: events that name a
chat go to its group), and, while the chat waits, the queue position every few seconds. The
socket's pings keep the chat alive (``do_seen``): a citizen who closed the page is swept.
Citizens send messages by a form post (``citizen:chat_send``), which also carries files.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation.trans_real import parse_accept_lang_header

from hotline.desk.fanout import chat_group, fanout

POSITION_EVERY_S = 5.0


def _message(token: str, message: Any) -> dict[str, Any]:
    text = gettext(message.text) if message.sender == "system" else message.text
    found: dict[str, Any] = {"kind": "message", "id": message.pk, "sender": message.sender,
                             "text": text, "at": message.at.isoformat()}
    if message.file:
        found["file_name"] = message.file_name
        found["file_url"] = reverse("citizen:chat_file", args=[token, message.pk])
    return found


def _language(scope: dict[str, Any]) -> str:
    """The citizen's language as a page would find it: the language cookie, then the
    browser's Accept-Language, then the default (no locale middleware runs for sockets)."""
    cookie = scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME, "")
    if cookie and translation.check_for_language(cookie):
        return str(cookie)
    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            for language, _quality in parse_accept_lang_header(value.decode("latin-1")):
                try:
                    return translation.get_supported_language_variant(language)
                except LookupError:
                    continue
    return str(settings.LANGUAGE_CODE)


def _load(token: str) -> Any:
    from hotline.contactcentre.models import ChatSession

    return ChatSession.objects.filter(token=token).first() if token else None


def _state(chat_id: int) -> dict[str, Any]:
    from hotline.contactcentre import chat as chats
    from hotline.contactcentre.models import ChatSession

    chat = ChatSession.objects.get(pk=chat_id)
    chats.do_seen(chat)
    return {"kind": "state", "state": chat.state, "position": chats.position(chat)}


def _messages(chat_id: int, token: str, ids: list[int] | None = None) -> list[dict[str, Any]]:
    from hotline.contactcentre.models import ChatMessage

    rows = ChatMessage.objects.filter(chat_id=chat_id).order_by("at", "pk")
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return [_message(token, m) for m in rows]


class CitizenChatConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    chat_id: int | None = None

    async def connect(self) -> None:
        self.token = str(self.scope["url_route"]["kwargs"].get("token", ""))
        chat = await database_sync_to_async(_load)(self.token)
        if chat is None:
            await self.close(code=4404)
            return
        self.chat_id = chat.pk
        self.language = _language(self.scope)
        await self.channel_layer.group_add(chat_group(chat.pk), self.channel_name)
        fanout.acquire()
        await self.accept()
        for message in await self._db(_messages, chat.pk, self.token):
            await self.send_json(message)
        await self.send_json(await self._db(_state, chat.pk))
        self.ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _db(self, function: Any, *args: Any) -> Any:
        def run() -> Any:
            with translation.override(self.language):
                return function(*args)
        return await database_sync_to_async(run)()

    async def _tick(self) -> None:
        while self.chat_id is not None:
            await asyncio.sleep(POSITION_EVERY_S)
            state = await self._db(_state, self.chat_id)
            if state["state"] == "waiting":
                await self.send_json(state)

    async def disconnect(self, code: int) -> None:
        if self.chat_id is None:
            return
        await self.channel_layer.group_discard(chat_group(self.chat_id), self.channel_name)
        self.chat_id = None
        ticker = getattr(self, "ticker", None)
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        await fanout.release()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        pass  # pings only: messages come by form post (they may carry files)

    async def desk_event(self, message: dict[str, Any]) -> None:
        event, chat_id = message["event"], self.chat_id
        if chat_id is None:
            return
        if event.get("kind") == "chat_message":
            for found in await self._db(_messages, chat_id, self.token, [event.get("message")]):
                await self.send_json(found)
        elif event.get("kind") in ("chat_offered", "chat_closed"):
            for found in await self._db(_messages, chat_id, self.token):
                await self.send_json(found)  # the system's line ("an agent has joined")
            await self.send_json(await self._db(_state, chat_id))
