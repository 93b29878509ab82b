"""The citizen's web chat (在线咨询): start a chat, talk to an agent, leave a message when no
agent comes, end it. The chat is named by its token in the address (a secret, like a reply
token); the live part runs over ``/ws/chat/<token>/`` (``hotline.desk.chat_consumers``) and
every action also works as a plain form post, so the page works without JavaScript too.
The rules are ``hotline.contactcentre.chat``'s."""

from __future__ import annotations

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.contactcentre import chat as chats
from hotline.contactcentre.acd_services import NoQueue
from hotline.contactcentre.models import ChatMessage, ChatSession, ChatState
from hotline.core.errors import NotFound, ServiceError
from hotline.portal import citizen_guard as guard
from hotline.web.access import public_page

TEXT_MAX = chats.MAX_TEXT


class StartForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=64, required=False)
    phone = forms.CharField(label=gettext_lazy("Mobile phone"), max_length=20, required=False,
                            help_text=gettext_lazy("So that we can call you back."))
    text = forms.CharField(label=gettext_lazy("Your question"), max_length=TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}))


class MessageForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Message"), max_length=TEXT_MAX, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    file = forms.FileField(label=gettext_lazy("Photo or file"), required=False)


def _chat(token: str) -> ChatSession:
    try:
        return chats.get_chat(token)
    except NotFound:
        raise Http404(_("No such chat.")) from None


def _page(request: HttpRequest, chat: ChatSession, *, error: str = "",
          status: int = 200) -> HttpResponse:
    return render(request, "citizen/chat.html", {
        "chat": chat, "messages_shown": chat.messages.order_by("at", "pk"),
        "position": chats.position(chat), "form": MessageForm(), "error": error,
        "open": chat.state in chats.OPEN_STATES, "waiting": chat.state == ChatState.WAITING,
        "ws_path": f"/ws/chat/{chat.token}/",
    }, status=status)


@public_page
def chat_start(request: HttpRequest) -> HttpResponse:
    back = reverse("citizen:chat_start")
    if request.method != "POST":
        return render(request, "citizen/chat_start.html", {"form": StartForm()})
    form = StartForm(request.POST)
    if guard.caught_by_honeypot(request):
        return guard.refused_robot(request, back=back)
    if not form.is_valid():
        return render(request, "citizen/chat_start.html", {"form": form}, status=400)
    if not guard.within_submission_limit(request):
        return guard.refused_too_many(request, back=back)
    try:
        chat = chats.do_start_chat(chats.ChatStart(
            text=form.cleaned_data["text"], name=form.cleaned_data["name"],
            phone=form.cleaned_data["phone"]))
    except NoQueue:
        return guard.refused(request, _("Online chat is not open now. Please call 12345."),
                             503, back=back)
    except ServiceError as error:
        form.add_error(error.field if error.field in form.fields else None, _(error.message))
        return render(request, "citizen/chat_start.html", {"form": form}, status=error.status)
    return redirect("citizen:chat", token=chat.token)


@public_page
def chat_page(request: HttpRequest, token: str) -> HttpResponse:
    chat = _chat(token)
    chats.do_seen(chat)
    return _page(request, chat)


@public_page
def chat_send(request: HttpRequest, token: str) -> HttpResponse:
    chat = _chat(token)
    if request.method != "POST":
        return redirect("citizen:chat", token=token)
    form = MessageForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, chat, error=_("The message could not be sent."), status=400)
    try:
        chats.do_post(chat, ChatMessage.Sender.CITIZEN, form.cleaned_data["text"] or "",
                      upload=form.cleaned_data.get("file"))
    except ServiceError as error:
        return _page(request, chat, error=_(error.message), status=error.status)
    if request.headers.get("x-requested-with") == "fetch":
        return HttpResponse(status=204)
    return redirect("citizen:chat", token=token)


@public_page
def chat_leave_message(request: HttpRequest, token: str) -> HttpResponse:
    chat = _chat(token)
    if request.method != "POST":
        return redirect("citizen:chat", token=token)
    try:
        order = chats.do_leave_message(chat, request.POST.get("text", ""),
                                       phone=request.POST.get("phone", ""))
    except ServiceError as error:
        return _page(request, chat, error=_(error.message), status=error.status)
    return render(request, "citizen/chat_left.html", {"order": order})


@public_page
def chat_close(request: HttpRequest, token: str) -> HttpResponse:
    chat = _chat(token)
    if request.method == "POST":
        chats.do_close_chat(chat)
    return redirect("citizen:chat", token=token)


@public_page
def chat_file(request: HttpRequest, token: str, message_id: int) -> FileResponse:
    chat = _chat(token)
    message = chat.messages.filter(pk=message_id).exclude(file="").first()
    if message is None:
        raise Http404(_("No such file."))
    return FileResponse(message.file.open("rb"), as_attachment=True,
                        filename=message.file_name or "file")
