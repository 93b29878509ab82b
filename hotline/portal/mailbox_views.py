"""The mayor's mailbox (市长信箱) on the citizen portal, public and without login: writing a
letter, the list of published letters with their replies, one letter.

Writing goes through ``intake.mailbox_services.do_receive_letter`` (the letter becomes an
order on channel "mailbox", dispatched like any other) behind the same abuse controls as the
request form (``citizen_guard``). What the list shows, and of each letter only what it may, is
``intake.mailbox_public``'s decision, never the page's."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.intake import tokens
from hotline.intake.mailbox import Letter, acknowledge_by
from hotline.intake.mailbox_public import public_letters, published_letter, published_letters
from hotline.intake.mailbox_services import do_receive_letter
from hotline.intake.messages import InboundFile
from hotline.portal import citizen_guard as guard
from hotline.portal.citizen_portal_views import error_summary, prove
from hotline.portal.mailbox_forms import LetterForm, LetterSearchForm
from hotline.web.access import public_page

PAGE_SIZE = 10


def _form_url() -> str:
    return reverse("citizen:mailbox_write")


def _render_form(request: HttpRequest, form: LetterForm, *, status: int = 200,
                 notice: str = "") -> HttpResponse:
    return render(request, "citizen/mailbox_write.html", {
        "form": form, "errors": error_summary(form) if form.is_bound else [], "notice": notice,
        "max_files": settings.HOTLINE_PORTAL_MAX_FILES,
        "max_mb": settings.HOTLINE_MAX_ATTACHMENT_BYTES // (1024 * 1024),
    }, status=status)


@public_page
def write(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_form(request, LetterForm())
    form = LetterForm(request.POST, request.FILES)
    if guard.caught_by_honeypot(request):
        return guard.refused_robot(request, back=_form_url())
    if "send_code" in request.POST:
        form.is_valid()
        status, notice = guard.send_code(request)
        return _render_form(request, form, status=status, notice=notice)
    if not form.is_valid():
        return _render_form(request, form, status=400)
    data = form.cleaned_data
    if not guard.code_is_right(data["phone"], data.get("code", "")):
        form.add_error("code", _("The code is wrong or has expired. Ask for a new one."))
        return _render_form(request, form, status=400)
    if not guard.within_submission_limit(request):
        return guard.refused_too_many(request, back=_form_url())
    received_at = timezone.now()
    receipt = do_receive_letter(Letter(
        title=data["title"], text=data["text"], name=data["name"], phone=data["phone"],
        email=data.get("email") or "", district=data.get("district") or "",
        publish=bool(data.get("publish")),
        files=[InboundFile(f.name, f.read(), f.content_type or "") for f in data["uploads"]],
    ), received_at=received_at, submission_id=f"mailbox-{uuid.uuid4().hex}")
    if not receipt.accepted or not receipt.order_number:
        return guard.refused(request, _(receipt.reason) if receipt.reason
                             else _("Your letter was not taken."), 400, back=_form_url())
    number = receipt.order_number
    due = timezone.localtime(acknowledge_by(received_at))
    link = request.build_absolute_uri(reverse("citizen:track", args=[tokens.reply_token(number)]))
    values = {"number": number, "link": link, "due": due.strftime("%Y-%m-%d %H:%M")}
    guard.tell_accepted(
        phone=data["phone"], email=data.get("email") or "",
        sms=_("12345 mayor's mailbox: your letter was received, number %(number)s. We answer "
              "by %(due)s. Follow it at %(link)s") % values,
        subject=_("Your letter to the mayor's mailbox, number %(number)s") % values,
        body=_("Your letter was received. Acceptance number: %(number)s\n"
               "It will be acknowledged by %(due)s.\nFollow it here: %(link)s\n") % values)
    prove(request, number)
    return render(request, "citizen/mailbox_done.html", {
        "number": number, "link": link, "acknowledge_by": due,
        "publish": bool(data.get("publish"))})


@public_page
def letters(request: HttpRequest) -> HttpResponse:
    form = LetterSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_bound and form.is_valid() else ""
    page = Paginator(published_letters(query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "citizen/mailbox_list.html", {
        "form": form, "query": query, "page": page,
        "letters": public_letters(list(page.object_list)),
    })


@public_page
def letter(request: HttpRequest, letter_id: int) -> HttpResponse:
    found = published_letter(letter_id)
    if found is None:
        raise Http404
    (shown,) = public_letters([found])
    return render(request, "citizen/mailbox_letter.html", {"letter": shown})
