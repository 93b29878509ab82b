"""Entry pages: the home page that sends each role to its work, and the citizens' status query."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hotline.core.clientaddr import client_address
from hotline.core.phones import normalise_phone
from hotline.core.roles import Role
from hotline.orders import lookup_limits, numbering
from hotline.orders.lifecycle import State
from hotline.orders.models import Order
from hotline.portal.order_access import is_department_user
from hotline.web.access import PortalRequest, public_page


@public_page
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return render(request, "portal/landing.html")
    if is_department_user(user):
        return redirect("portal:workbench")
    if user.role == Role.LEADER:  # a leader comes for the figures, not to work orders
        return redirect("insight:reports")
    return redirect("portal:order_list")


def _citizen_state(order: Order) -> str:
    """What the citizen is told: the four answers of the phone status query."""
    if order.state == State.ACCEPTED:
        return _("Accepted")
    if order.state in (State.CLOSED, State.ARCHIVED):
        return _("Closed")
    if order.state == State.REJECTED:
        return _("Not accepted")
    if order.state == State.MERGED:
        return _("Merged with another request about the same matter")
    return _("Being handled")


@public_page
def status(request: PortalRequest) -> HttpResponse:
    """Citizens follow their request with the acceptance number and their phone number. A wrong
    phone, an unknown number and a mistyped one all get the same answer, so the page says
    nothing about orders the asker is not the citizen of. Failures count against the address,
    the number and the phone together with the API's (``hotline.orders.lookup_limits``)."""
    from hotline.portal.forms import StatusQueryForm

    form = StatusQueryForm(request.POST or None)
    context: dict[str, object] = {"form": form}
    http_status = 200
    retry_after = 0
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["number"].strip()
        phone = normalise_phone(form.cleaned_data["phone"])
        try:
            attempt = lookup_limits.begin(client_address(request), number, phone)
        except lookup_limits.TooManyAttempts as exc:
            context["error"] = exc.message
            http_status, retry_after = 429, exc.retry_after
        else:
            order = None
            if numbering.is_valid(number) and phone:
                order = (
                    Order.objects.select_related("lead_unit")
                    .filter(number=number, citizen__phone=phone).first()
                )
            if order is None:
                context["error"] = _(
                    "No request matches this acceptance number and phone number. "
                    "Please check both and try again."
                )
                http_status = 404
            else:
                lookup_limits.succeeded(attempt)
                closed = order.state in (State.CLOSED, State.ARCHIVED)
                context.update(
                    order=order, citizen_state=_citizen_state(order),
                    reply=order.reply_text if closed else "",
                )
    if request.htmx and http_status != 200:
        http_status = 200  # htmx swaps only successful responses
    template = "portal/_status_card.html" if request.htmx else "portal/status.html"
    context["support_phone"] = settings.HOTLINE_PUBLIC_NUMBER
    response = render(request, template, context, status=http_status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
