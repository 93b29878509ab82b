"""The centre's page of mayor's-mailbox letters whose writers agreed to publication: which are
on the public list, and withdrawing one from it (or putting it back). Who may is decided by
``intake.mailbox_services``; this page only offers the buttons."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.core.errors import NotFound, ServiceError
from hotline.directory.models import OrderType
from hotline.intake.mailbox_public import published_letters
from hotline.intake.mailbox_services import (
    WITHDRAW_ROLES,
    do_restore_letter,
    do_withdraw_letter,
    may_withdraw_letters,
)
from hotline.intake.models import MailboxLetter
from hotline.web.access import StaffRequest, role_required

PAGE_SIZE = 25
STATUS = {
    "published": gettext_lazy("Published"),
    "withdrawn": gettext_lazy("Withdrawn"),
    "never": gettext_lazy("Never published: confidential or a report"),
    "waiting": gettext_lazy("Waiting for the accepted reply"),
}


def _status(letter: MailboxLetter, published: set[int]) -> str:
    if letter.withdrawn_at is not None:
        return "withdrawn"
    if letter.pk in published:
        return "published"
    order = letter.order
    if order.confidential or order.type == OrderType.REPORT or order.citizen.confidential:
        return "never"
    return "waiting"


def _list_page(request: StaffRequest, *, status: int = 200) -> HttpResponse:
    consented = (MailboxLetter.objects.filter(publish_consent=True)
                 .select_related("order__citizen", "withdrawn_by").order_by("-received_at", "-pk"))
    page = Paginator(consented, PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [letter.pk for letter in page.object_list]
    published = set(published_letters().filter(pk__in=ids).values_list("pk", flat=True))
    rows = [{"letter": letter, "status": _status(letter, published),
             "label": STATUS[_status(letter, published)]} for letter in page.object_list]
    return render(request, "portal/mailbox_letters.html", {"page": page, "rows": rows},
                  status=status)


@role_required(may_withdraw_letters, roles=WITHDRAW_ROLES)
def letters(request: StaffRequest) -> HttpResponse:
    return _list_page(request)


@role_required(may_withdraw_letters, roles=WITHDRAW_ROLES)
def publication(request: StaffRequest, letter_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("portal:mailbox_letters")
    try:
        if request.POST.get("action") == "restore":
            do_restore_letter(request.user, letter_id)
            messages.success(request, _("The letter is back on the public list if it qualifies."))
        else:
            do_withdraw_letter(request.user, letter_id, request.POST.get("reason", ""))
            messages.success(request, _("The letter was withdrawn from publication."))
    except NotFound:
        raise Http404(_("No such letter.")) from None
    except ServiceError as error:
        messages.error(request, _(error.message))
        return _list_page(request, status=error.status)
    return redirect("portal:mailbox_letters")
