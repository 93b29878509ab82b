"""An order on paper: its print view (工单打印) and the assignment letter (交办单) as a PDF.

Both load the order through ``get_order_for`` (scope: a department prints only its orders),
show the citizen as the page does (``orders.scope``: masked per role, a 举报 reporter hidden
from departments) and log an unmasked citizen view as the order page does.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.core.errors import NotFound, ServiceError
from hotline.orders import access_log, scope
from hotline.orders.disclosure import Disclosure
from hotline.orders.models import AccessKind, Order
from hotline.orders.services import get_order_for
from hotline.portal import letters, queries
from hotline.web.access import StaffRequest, staff_required


def _load(request: StaffRequest, number: str) -> Order:
    try:
        return get_order_for(request.user, number)
    except NotFound:
        raise Http404(_("No such work order.")) from None


@staff_required
def order_print(request: StaffRequest, number: str) -> HttpResponse:
    return _print_page(request, number)


def _print_page(request: StaffRequest, number: str, status: int = 200) -> HttpResponse:
    order = _load(request, number)
    user = request.user
    access_log.do_log_citizen_view(user, order, request, detail="print view")
    seen = Disclosure(user)
    events = seen.events(order, order.events.select_related("unit").order_by("seq"))
    return render(request, "portal/order_print.html", {
        "order": order, "now": timezone.now(),
        "order_title": seen.order_title(order), "order_text": seen.order_text(order),
        "citizen_name": scope.shown_name(user, order),
        "citizen_phone": scope.shown_phone(user, order),
        "citizen_hidden": scope.citizen_hidden(user, order),
        "events": queries.event_targets(events),
    }, status=status)


@staff_required
def assignment_letter(request: StaffRequest, number: str) -> HttpResponse:
    order = _load(request, number)
    try:
        pdf = letters.letter_pdf(order)
    except ServiceError as error:
        messages.error(request, error.message)
        return _print_page(request, number, status=error.status)
    # The letter names the citizen of an order that is not confidential, as a department sees
    # them: logged like the order page, before it leaves.
    if not letters.citizen_withheld(order):
        access_log.do_log_access(request.user, AccessKind.CITIZEN_VIEW, order=order,
                                 request=request, detail="assignment letter")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{letters.file_name(order)}"'
    return response
