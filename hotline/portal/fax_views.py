"""Send an order's reply by fax (for a citizen or unit that asked for the answer by fax): the
order page's small form posts here; a gateway with a trunk sends it (``contactcentre.faxes``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from hotline.contactcentre.faxes import SENDER_ROLES, do_queue_reply_fax, may_send_faxes
from hotline.core.errors import NotFound, ServiceError
from hotline.orders.services import get_order_for
from hotline.web.access import StaffRequest, role_required


@role_required(may_send_faxes, roles=SENDER_ROLES)
def send_reply_fax(request: StaffRequest, number: str) -> HttpResponse:
    try:
        order = get_order_for(request.user, number)
    except NotFound:
        raise Http404(_("No such work order.")) from None
    if request.method == "POST":
        try:
            do_queue_reply_fax(request.user, order, request.POST.get("fax_number", ""))
        except ServiceError as error:
            messages.error(request, _(error.message))
        else:
            messages.success(request, _("The reply is queued to go out by fax."))
    return redirect("portal:order_detail", number=order.number)
