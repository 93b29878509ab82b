"""Web chat: a citizen's conversation with an agent, queued by the ACD like a call.

A chat starts waiting in a queue (the same queues, skills and priorities as calls) and is given
to a qualified agent who is at work and holds fewer than HOTLINE_CHAT_CAPACITY chats
(``acd.chats.select_chat_offers``). The claim is one conditional UPDATE of the chat, made while
the agent's status row is locked, so two routers can neither give one chat twice nor push an
agent over the capacity. The citizen's browser knows the chat by its token only; its contact
(channel "chat") is registered at the start and holds the transcript when the chat closes.
With no agent free, the citizen leaves a message instead: it becomes a work order like a
voicemail to the mayor's mailbox, so it is answered and can be followed by its number.

Every change publishes a desk event (``events``) in its transaction: the desk and the citizen's
websocket learn of it from the outbox.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.contactcentre import events
from hotline.contactcentre.acd import routing
from hotline.contactcentre.acd.chats import ChatAgent, position_in_queue, select_chat_offers
from hotline.contactcentre.acd_services import queue_for
from hotline.contactcentre.models import (
    AgentStatus,
    ChatMessage,
    ChatSession,
    ChatState,
)
from hotline.contactcentre.snapshot import agent_views, queue_rules
from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.core.files import FileRefused, inspect_upload
from hotline.core.roles import Role
from hotline.directory.models import OrderType, User
from hotline.orders.attachments import clean_file_name, max_attachment_bytes
from hotline.orders.contacts import NewContact, do_record_contact, do_set_contact_summary
from hotline.orders.models import Channel, IdentityKind, Order
from hotline.orders.services import NewOrder, do_create_order
from hotline.orders.sweeps import system_user

MAX_TEXT = 2000
OPEN_STATES = (ChatState.WAITING, ChatState.ACTIVE)
ROUTING_ROUNDS = 5
Sender = ChatMessage.Sender


def capacity() -> int:
    return int(settings.HOTLINE_CHAT_CAPACITY)


@dataclass(frozen=True)
class ChatStart:
    text: str = ""
    name: str = ""
    phone: str = ""
    queue: str = ""  # a queue code; "" for the first active queue


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _clean(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(gettext_noop("A message is at most 2000 characters."), field="text")
    return text


def get_chat(token: str) -> ChatSession:
    """The chat a citizen's browser names by its token."""
    chat = ChatSession.objects.select_related("queue").filter(token=token).first() \
        if token else None
    if chat is None:
        raise NotFound(gettext_noop("No such chat."))
    return chat


def do_start_chat(start: ChatStart, now: dt.datetime | None = None) -> ChatSession:
    when = _now(now)
    text = _clean(start.text)
    queue = queue_for(start.queue)
    token = secrets.token_urlsafe(24)
    with transaction.atomic():
        contact = do_record_contact(system_user(), NewContact(
            channel=Channel.CHAT, summary=text[:200], citizen_phone=start.phone,
            citizen_name=start.name.strip()[:64], occurred_at=when,
            identities=[(IdentityKind.CHAT, token)]))
        tags = contact.citizen.tags if contact.citizen is not None else []
        chat = ChatSession.objects.create(
            token=token, queue=queue, contact=contact, name=start.name.strip()[:64],
            phone=contact.citizen.phone if contact.citizen is not None else "",
            priority=routing.priority_for_tags(tags or []), created_at=when, last_seen_at=when)
        if text:
            ChatMessage.objects.create(chat=chat, sender=Sender.CITIZEN, text=text, at=when)
    do_route_chats(when)
    chat.refresh_from_db()
    return chat


def waiting_chats() -> list[routing.WaitingCall]:
    return [routing.WaitingCall(id=pk, queue=str(queue), queued_at=created.timestamp(),
                                priority=priority)
            for pk, queue, created, priority in ChatSession.objects.filter(
                state=ChatState.WAITING).values_list("pk", "queue_id", "created_at", "priority")]


def open_chat_counts() -> dict[int, int]:
    rows = (ChatSession.objects.filter(state=ChatState.ACTIVE, agent_id__isnull=False)
            .values("agent_id").annotate(n=Count("id")).order_by())
    return {row["agent_id"]: row["n"] for row in rows}


def _claim(chat_id: int, agent_id: int, when: dt.datetime) -> bool:
    """Give the chat to the agent if it still waits and the agent still has room."""
    with transaction.atomic():
        # The agent's row is the lock: one router at a time counts and adds this agent's chats.
        # (Evaluated, not .exists(): the row must really be read FOR UPDATE.)
        if not list(AgentStatus.objects.select_for_update().filter(pk=agent_id)
                    .values_list("pk", flat=True)):
            return False
        held = ChatSession.objects.filter(agent_id=agent_id, state=ChatState.ACTIVE).count()
        if held >= capacity():
            return False
        taken = ChatSession.objects.filter(pk=chat_id, state=ChatState.WAITING).update(
            state=ChatState.ACTIVE, agent_id=agent_id, assigned_at=when)
        if not taken:
            return False
        ChatMessage.objects.create(chat_id=chat_id, sender=Sender.SYSTEM, at=when,
                                   text=gettext_noop("An agent has joined the chat."))
        events.publish(events.Kind.CHAT_OFFERED, agent_id=agent_id, at=when, chat=chat_id)
    return True


def do_route_chats(now: dt.datetime | None = None) -> list[routing.Offer]:
    """Give waiting chats to agents with room; safe in several processes at once."""
    when = _now(now)
    given: list[routing.Offer] = []
    for _ in range(ROUTING_ROUNDS):
        chats = waiting_chats()
        if not chats:
            break
        load = open_chat_counts()
        agents = [ChatAgent(view, load.get(view.id, 0)) for view in agent_views()]
        proposed = select_chat_offers(chats, agents, queue_rules(), capacity())
        if not proposed:
            break
        lost = 0
        for offer in proposed:
            if _claim(offer.call, offer.agent, when):
                given.append(offer)
            else:
                lost += 1
        if not lost:
            break
    return given


def position(chat: ChatSession) -> int:
    """The chat's place in its queue (1 = next), 0 once it no longer waits."""
    if chat.state != ChatState.WAITING:
        return 0
    return position_in_queue(chat.pk, waiting_chats())


def _check_agent(actor: User, chat: ChatSession) -> None:
    if actor.is_superuser or actor.role == Role.MONITOR:
        return
    if chat.agent_id != actor.pk:
        raise Forbidden(gettext_noop("This chat is another agent's."))


def agent_chat(actor: User, chat_id: int) -> ChatSession:
    chat = ChatSession.objects.select_related("contact").filter(pk=chat_id).first()
    if chat is None:
        raise NotFound(gettext_noop("No such chat."))
    _check_agent(actor, chat)
    return chat


def chats_of(agent: User) -> list[ChatSession]:
    """The agent's open chats, oldest first."""
    return list(ChatSession.objects.filter(agent=agent, state=ChatState.ACTIVE)
                .order_by("assigned_at", "pk"))


def do_post(chat: ChatSession, sender: str, text: str = "", *, author: User | None = None,
            upload: UploadedFile | None = None, now: dt.datetime | None = None) -> ChatMessage:
    """A message from the citizen (``author`` None) or the chat's agent; text or a file."""
    when = _now(now)
    text = _clean(text)
    if sender == Sender.AGENT:
        if author is None:
            raise Forbidden(gettext_noop("Only the chat's agent writes as the agent."))
        _check_agent(author, chat)
        if chat.state != ChatState.ACTIVE:
            raise Conflict(gettext_noop("The chat is closed."))
    elif chat.state not in OPEN_STATES:
        raise Conflict(gettext_noop("The chat is closed."))
    if upload is not None and (upload.size or 0) > max_attachment_bytes():
        raise InvalidInput(gettext_noop("The file is too large."), field="file")
    if not text and upload is None:
        raise InvalidInput(gettext_noop("Write a message or choose a file."), field="text")
    content: File | None = None
    if upload is not None:
        # The same content checks as every other upload: the type is what the bytes are,
        # images are re-encoded (no hidden payload, no location data), the rest refused.
        try:
            checked = inspect_upload(upload)
        except FileRefused as refused:
            raise InvalidInput(refused.message, field="file") from None
        upload.seek(0)
        content = ContentFile(checked.content) if checked.content is not None else upload
        file_name = checked.display_name(clean_file_name(upload.name or "file"))
    with transaction.atomic():
        message = ChatMessage(chat=chat, sender=sender, author=author, text=text, at=when)
        if content is not None:
            message.file_name = file_name[-255:]
            message.file.save(f"{chat.pk}-{secrets.token_hex(6)}{checked.extension}", content,
                              save=False)
        message.save()
        if sender == Sender.CITIZEN:
            ChatSession.objects.filter(pk=chat.pk).update(last_seen_at=when)
        events.publish(events.Kind.CHAT_MESSAGE, agent_id=chat.agent_id, at=when, chat=chat.pk,
                       message=message.pk, sender=sender)
    return message


def transcript(chat: ChatSession) -> str:
    names: dict[str, str] = {Sender.CITIZEN: "市民", Sender.AGENT: "坐席", Sender.SYSTEM: "系统"}
    lines = []
    for message in chat.messages.order_by("at", "pk"):
        stamp = timezone.localtime(message.at).strftime("%H:%M:%S")
        body = message.text + (f" [{message.file_name}]" if message.file_name else "")
        lines.append(f"{stamp} {names.get(str(message.sender), str(message.sender))}: {body}")
    return "\n".join(lines)


def _finish(chat: ChatSession, state: str, when: dt.datetime) -> bool:
    closed = ChatSession.objects.filter(pk=chat.pk, state__in=OPEN_STATES).update(
        state=state, closed_at=when)
    if not closed:
        return False
    chat.state, chat.closed_at = state, when
    if chat.contact_id is not None:
        do_set_contact_summary(chat.contact_id, transcript(chat))
    events.publish(events.Kind.CHAT_CLOSED, agent_id=chat.agent_id, at=when, chat=chat.pk,
                   state=state)
    return True


def do_close_chat(chat: ChatSession, *, actor: User | None = None,
                  now: dt.datetime | None = None) -> ChatSession:
    """Closed by the citizen (``actor`` None) or the chat's agent; the transcript becomes the
    contact's summary. Closing a closed chat changes nothing."""
    when = _now(now)
    if actor is not None:
        _check_agent(actor, chat)
    with transaction.atomic():
        if _finish(chat, ChatState.CLOSED, when):
            ChatMessage.objects.create(chat=chat, sender=Sender.SYSTEM, at=when,
                                       text=gettext_noop("The chat has ended."))
    do_route_chats(when)  # the agent has room again
    return chat


def do_leave_message(chat: ChatSession, text: str, *, phone: str = "",
                     now: dt.datetime | None = None) -> Order:
    """No agent came: the citizen leaves a message, which becomes a work order (its number is
    what the citizen follows)."""
    when = _now(now)
    text = _clean(text)
    if not text:
        raise InvalidInput(gettext_noop("Write your message."), field="text")
    if chat.state != ChatState.WAITING:
        raise Conflict(gettext_noop("An agent has taken the chat: write to them."))
    with transaction.atomic():
        ChatMessage.objects.create(chat=chat, sender=Sender.CITIZEN, text=text, at=when)
        if not _finish(chat, ChatState.LEFT_MESSAGE, when):
            raise Conflict(gettext_noop("An agent has taken the chat: write to them."))
        order, _created = do_create_order(system_user(), NewOrder(
            type=OrderType.CONSULTATION, channel=Channel.CHAT, title=text[:30], text=text,
            citizen_phone=phone or chat.phone, citizen_name=chat.name,
            contact_id=chat.contact_id), now=when)
    return order


def do_chat_to_order(actor: User, chat: ChatSession, data: NewOrder) -> Order:
    """One click on the desk: the chat becomes a work order with the chat as its contact."""
    _check_agent(actor, chat)
    data.channel = Channel.CHAT
    data.contact_id = chat.contact_id
    if not data.citizen_phone:
        data.citizen_phone = chat.phone
    if chat.contact_id is not None:
        do_set_contact_summary(chat.contact_id, transcript(chat))
    order, _created = do_create_order(actor, data)
    return order


def do_sweep_chats(now: dt.datetime | None = None) -> int:
    """Waiting citizens not seen for HOTLINE_CHAT_IDLE_SECONDS have gone: abandoned."""
    when = _now(now)
    limit = when - dt.timedelta(seconds=int(settings.HOTLINE_CHAT_IDLE_SECONDS))
    gone = 0
    for chat in ChatSession.objects.filter(state=ChatState.WAITING, last_seen_at__lt=limit):
        with transaction.atomic():
            gone += _finish(chat, ChatState.ABANDONED, when)
    return gone


def do_seen(chat: ChatSession, now: dt.datetime | None = None) -> None:
    """The citizen's page is still open (its websocket pings)."""
    ChatSession.objects.filter(pk=chat.pk, state__in=OPEN_STATES).update(
        last_seen_at=_now(now))
