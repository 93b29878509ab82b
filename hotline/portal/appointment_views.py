"""Appointment pages (预约服务).

Public (no login): the bookable services, booking a slot (the phone proven by the SMS code the
citizen portal uses, bookings counted per client address), the confirmation, and cancelling
by the link in the SMS or by booking number, phone and cancellation code (tries counted per
address). Staff: the bookings list (the centre sees every service, a department its own),
cancelling with a reason, marking attended or not come, and agents booking for a caller.
Views stay thin: every change goes through ``hotline.outreach.bookings``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.core.clientaddr import client_address
from hotline.core.errors import ServiceError
from hotline.core.phones import mask_phone
from hotline.intake import phone_codes
from hotline.orders.lookup_limits import address_key
from hotline.outreach import bookings
from hotline.outreach.models_appointments import (
    BookableService,
    BookingAction,
    BookingChannel,
    BookingState,
)
from hotline.portal import citizen_guard as guard
from hotline.portal.appointment_forms import (
    AgentBookingForm,
    CancelByCodeForm,
    CitizenBookingForm,
    StaffCancelForm,
)
from hotline.portal.citizen_portal_views import error_summary
from hotline.web.access import StaffRequest, public_page, role_required
from hotline.web.forms import add_service_error

MAX_SLOTS_SHOWN = 80
CANCEL_TRIES_PER_ADDRESS = 20


def _service(service_id: int) -> BookableService:
    service = BookableService.objects.select_related("unit").filter(pk=service_id,
                                                                   active=True).first()
    if service is None:
        raise Http404
    return service


def _parse_slot(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


# --- public ---------------------------------------------------------------------------------

@public_page
def services(request: HttpRequest) -> HttpResponse:
    found = BookableService.objects.filter(active=True).select_related("unit") \
        .prefetch_related("windows")
    return render(request, "citizen/appointments/services.html", {"services": found})


def _render_book(request: HttpRequest, service: BookableService, form: CitizenBookingForm, *,
                 status: int = 200, notice: str = "") -> HttpResponse:
    return render(request, "citizen/appointments/book.html", {
        "service": service, "form": form, "notice": notice,
        "errors": error_summary(form) if form.is_bound else []}, status=status)


@public_page
def book(request: HttpRequest, service_id: int) -> HttpResponse:
    service = _service(service_id)
    slots = bookings.free_slots(service, limit=MAX_SLOTS_SHOWN)
    if request.method != "POST":
        return _render_book(request, service, CitizenBookingForm(slots=slots))
    form = CitizenBookingForm(request.POST, slots=slots)
    back = reverse("appointments:book", args=[service.pk])
    if guard.caught_by_honeypot(request):
        return guard.refused_robot(request, back=back)
    if "send_code" in request.POST:
        form.is_valid()
        status, notice = guard.send_code(request)
        return _render_book(request, service, form, status=status, notice=notice)
    if not form.is_valid():
        return _render_book(request, service, form, status=400)
    data = form.cleaned_data
    if not guard.code_is_right(data["phone"], data.get("code", "")):
        form.add_error("code", _("The code is wrong or has expired. Ask for a new one."))
        return _render_book(request, service, form, status=400)
    if not phone_codes.count("appointment-address", address_key(client_address(request)),
                             settings.HOTLINE_APPOINTMENT_BOOKINGS_PER_ADDRESS):
        return guard.refused_too_many(request, back=back)
    try:
        booking, _code = bookings.do_book(
            service, _parse_slot(data["slot"]), phone=data["phone"], name=data.get("name", ""),
            channel=BookingChannel.PORTAL, link_for=lambda token: request.build_absolute_uri(
                reverse("appointments:cancel_link", args=[token])))
    except ServiceError as error:
        add_service_error(form, error)
        return _render_book(request, service, form, status=error.status)
    return render(request, "citizen/appointments/done.html", {
        "booking": booking, "when": bookings.when_text(booking.starts_at)})


@public_page
def cancel_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        booking = bookings.booking_for_token(token)
    except ServiceError:
        raise Http404 from None
    return _cancel_page(request, booking)


def _cancel_page(request: HttpRequest, booking: bookings.Booking) -> HttpResponse:
    """Shows the booking (its service and time, not the citizen) and cancels it on POST."""
    error, status = "", 200
    if request.method == "POST" and request.POST.get("confirm") == "1":
        try:
            booking = bookings.do_cancel(booking, actor=None)
        except ServiceError as refused:
            error, status = refused.message, refused.status
    return render(request, "citizen/appointments/cancel.html", {
        "booking": booking, "when": bookings.when_text(booking.starts_at), "error": error,
        "cancelled": booking.state == BookingState.CANCELLED}, status=status)


@public_page
def cancel_by_code(request: HttpRequest) -> HttpResponse:
    form = CancelByCodeForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST" and form.is_valid():
        if not phone_codes.count("appointment-cancel", address_key(client_address(request)),
                                 CANCEL_TRIES_PER_ADDRESS):
            return guard.refused_too_many(request, back=reverse("appointments:cancel"))
        data = form.cleaned_data
        booking = bookings.booking_for_code(data["number"], data["phone"], data["code"])
        if booking is not None:
            return _cancel_page(request, booking) if request.POST.get("confirm") == "1" \
                else render(request, "citizen/appointments/cancel.html", {
                    "booking": booking, "when": bookings.when_text(booking.starts_at),
                    "form": form, "cancelled": booking.state == BookingState.CANCELLED})
        error, status = _("No booking matches this number, phone and code."), 404
    elif request.method == "POST":
        status = 400
    return render(request, "citizen/appointments/cancel_find.html",
                  {"form": form, "error": error}, status=status)


# --- staff ----------------------------------------------------------------------------------

def _books(user: object) -> bool:
    return True  # the roles below; the services narrow by unit


staff_page = role_required(_books, roles=bookings.BOOKING_STAFF_ROLES)
agent_page = role_required(_books, roles=bookings.CENTRE_ROLES)


@staff_page
def staff_list(request: StaffRequest) -> HttpResponse:
    found = bookings.bookings_for(request.user).prefetch_related("events")
    state = request.GET.get("state", BookingState.BOOKED)
    if state in BookingState.values:
        found = found.filter(state=state)
    service_id = request.GET.get("service", "")
    if service_id.isdigit():
        found = found.filter(service_id=int(service_id))
    day = request.GET.get("day", "")
    try:
        chosen = dt.date.fromisoformat(day) if day else None
    except ValueError:
        chosen = None
    if chosen is not None:
        start = dt.datetime.combine(chosen, dt.time.min, tzinfo=bookings.local_zone())
        found = found.filter(starts_at__gte=start, starts_at__lt=start + dt.timedelta(days=1))
    page = Paginator(found.order_by("starts_at"), 50).get_page(request.GET.get("page"))
    services_shown = BookableService.objects.all()
    if not (request.user.role in bookings.CENTRE_ROLES or request.user.is_superuser):
        services_shown = services_shown.filter(unit__pk=request.user.unit_id or 0)
    rows = [{"booking": b, "phone": mask_phone(b.phone), "when": bookings.when_text(b.starts_at),
             "may_cancel": b.state == BookingState.BOOKED and b.starts_at > timezone.now(),
             "may_mark": b.state == BookingState.BOOKED and b.starts_at <= timezone.now()}
            for b in page]
    return render(request, "portal/outreach/bookings.html", {
        "rows": rows, "page": page, "states": BookingState.choices, "state": state,
        "services": services_shown, "service_id": service_id, "day": day,
        "may_book": request.user.role in bookings.CENTRE_ROLES or request.user.is_superuser,
    })


@staff_page
def staff_action(request: StaffRequest, booking_id: int, action: str) -> HttpResponse:
    if request.method != "POST":
        return redirect("appointments:staff")
    try:
        booking = bookings.get_booking_for(request.user, booking_id)
        if action == "cancel":
            form = StaffCancelForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Say why the booking is cancelled."))
                return redirect("appointments:staff")
            bookings.do_cancel(booking, actor=request.user, reason=form.cleaned_data["reason"])
        elif action in (BookingAction.ATTEND, BookingAction.NO_SHOW):
            bookings.do_mark(booking, BookingAction(action), actor=request.user,
                             note=request.POST.get("note", "")[:255])
        else:
            raise Http404
    except ServiceError as error:
        if error.status == 404:
            raise Http404 from None
        messages.error(request, error.message)
        return redirect("appointments:staff")
    messages.success(request, _("Booking %(number)s: done.") % {"number": booking_id})
    return redirect("appointments:staff")


@agent_page
def agent_book(request: StaffRequest) -> HttpResponse:
    """An agent books for a caller: the caller's phone gets the confirmation SMS."""
    services_list = BookableService.objects.filter(active=True).select_related("unit")
    raw = request.GET.get("service") or request.POST.get("service") or ""
    service = services_list.filter(pk=int(raw)).first() if raw.isdigit() else None
    slots = bookings.free_slots(service, limit=MAX_SLOTS_SHOWN) if service else []
    form = AgentBookingForm(request.POST or None, slots=slots)
    status = 200
    if request.method == "POST" and service is not None:
        if form.is_valid():
            data = form.cleaned_data
            try:
                booking, _code = bookings.do_book(
                    service, _parse_slot(data["slot"]), phone=data["phone"],
                    name=data.get("name", ""), channel=BookingChannel.AGENT,
                    actor=request.user)
            except ServiceError as error:
                add_service_error(form, error)
                status = error.status
            else:
                messages.success(request, _(
                    "Booked: number %(number)s, %(when)s. The caller gets the cancellation "
                    "code by SMS.") % {"number": booking.pk,
                                       "when": bookings.when_text(booking.starts_at)})
                return redirect("appointments:staff")
        else:
            status = 400
    return render(request, "portal/outreach/agent_book.html", {
        "services": services_list, "service": service, "form": form,
        "errors": error_summary(form) if form.is_bound else []}, status=status)
