"""The desk's chats panel: the agent's open web chats side by side with calls. Each chat shows
its conversation, a reply box (text and files), answers from the public knowledge base for what
the citizen last wrote (inserted into the reply, never sent unread), "register an order" and
"end the chat". The panel and each chat's log are htmx partials refreshed from the desk's
websocket events (``desk-chat.js``). The rules are ``hotline.contactcentre.chat``'s."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline.contactcentre import chat as chats
from hotline.contactcentre.models import ChatMessage, ChatSession
from hotline.core.errors import ServiceError
from hotline.desk.views import desk_required, error_text
from hotline.directory.models import OrderType
from hotline.knowledge.richtext import plain_text
from hotline.knowledge.search import suggest_entries
from hotline.orders.access_log import do_log_access
from hotline.orders.models import AccessKind
from hotline.orders.services import NewOrder
from hotline.web.access import StaffRequest

ANSWERS_SHOWN = 3
ORDER_TYPES = [OrderType.CONSULTATION, OrderType.HELP, OrderType.COMPLAINT, OrderType.REPORT,
               OrderType.SUGGESTION]


def _answers(request: StaffRequest, chat: ChatSession) -> list[dict[str, Any]]:
    last = chat.messages.filter(sender=ChatMessage.Sender.CITIZEN).order_by("-at", "-pk").first()
    if last is None or not last.text:
        return []
    hits = suggest_entries(request.user, last.text, limit=ANSWERS_SHOWN)
    return [{"title": hit.version.title, "text": plain_text(hit.version.body)[:1500]}
            for hit in hits if hit.version.public]


def _chat_context(request: StaffRequest, chat: ChatSession) -> dict[str, Any]:
    first = chat.messages.filter(sender=ChatMessage.Sender.CITIZEN).order_by("at", "pk").first()
    return {"chat": chat, "messages_shown": chat.messages.order_by("at", "pk"),
            "answers": _answers(request, chat), "order_types": ORDER_TYPES,
            "first_text": first.text if first else ""}


def _panel(request: StaffRequest) -> HttpResponse:
    rows = [_chat_context(request, chat) for chat in chats.chats_of(request.user)]
    return render(request, "desk/_chats.html", {"rows": rows})


def _log(request: StaffRequest, chat: ChatSession, status: int = 200) -> HttpResponse:
    return render(request, "desk/_chat_log.html", _chat_context(request, chat), status=status)


def _chat(request: StaffRequest, chat_id: int) -> ChatSession:
    try:
        return chats.agent_chat(request.user, chat_id)
    except ServiceError:
        raise Http404(_("No such chat.")) from None


@desk_required
@require_GET
def chat_panel(request: StaffRequest) -> HttpResponse:
    return _panel(request)


@desk_required
@require_GET
def chat_log(request: StaffRequest, chat_id: int) -> HttpResponse:
    return _log(request, _chat(request, chat_id))


@desk_required
@require_POST
def chat_send(request: StaffRequest, chat_id: int) -> HttpResponse:
    chat = _chat(request, chat_id)
    try:
        chats.do_post(chat, ChatMessage.Sender.AGENT, request.POST.get("text", ""),
                      author=request.user, upload=request.FILES.get("file"))
    except ServiceError as error:
        return HttpResponse(error_text(error), status=error.status)
    return _log(request, chat)


@desk_required
@require_POST
def chat_close(request: StaffRequest, chat_id: int) -> HttpResponse:
    chats.do_close_chat(_chat(request, chat_id), actor=request.user)
    return _panel(request)


@desk_required
@require_POST
def chat_order(request: StaffRequest, chat_id: int) -> HttpResponse:
    """One click: the chat becomes a work order; the citizen is told its number in the chat."""
    chat = _chat(request, chat_id)
    kind = request.POST.get("type", OrderType.CONSULTATION)
    title = request.POST.get("title", "").strip()
    text = request.POST.get("text", "").strip()
    try:
        order = chats.do_chat_to_order(request.user, chat, NewOrder(
            type=kind, channel="chat", title=title, text=text))
        chats.do_post(chat, ChatMessage.Sender.AGENT, _(
            "Your request is registered. Its acceptance number is %(number)s.")
            % {"number": order.number}, author=request.user)
    except ServiceError as error:
        return HttpResponse(error_text(error), status=error.status)
    response = _log(request, chat)
    response["HX-Trigger"] = "desk-figures-changed"  # the idle desk counts the new order
    return response


@desk_required
@require_GET
def chat_file(request: StaffRequest, chat_id: int, message_id: int) -> FileResponse:
    chat = _chat(request, chat_id)
    message = chat.messages.filter(pk=message_id).exclude(file="").first()
    if message is None:
        raise Http404(_("No such file."))
    contact = chat.contact
    do_log_access(request.user, AccessKind.ATTACHMENT_DOWNLOAD, request=request,
                  citizen=contact.citizen if contact else None,
                  detail=f"chat {chat.pk} file {message.pk}")
    return FileResponse(message.file.open("rb"), as_attachment=True,
                        filename=message.file_name or "file")
