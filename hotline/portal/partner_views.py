"""Partner pages (the 96180 model): the registry with each partner's state and ratings, a
partner's page (its orders, ratings and reviews, with suspend and reinstate), handing an order
to a partner, recording a citizen's rating given on the phone, and the citizen's own rating
page behind the link sent to them. Every change goes through ``hotline.outreach.partners``;
the registry itself is edited in the admin (name, services, categories, contact)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from hotline.core.errors import ServiceError
from hotline.orders.models import Order, Satisfaction
from hotline.outreach import partners as service
from hotline.outreach.models_partners import (
    Partner,
    PartnerAssignment,
    PartnerState,
    RatingSource,
)
from hotline.portal.partner_forms import AssignForm, RatingForm, ReviewForm
from hotline.web.access import StaffRequest, public_page, role_required
from hotline.web.forms import add_service_error, set_choices


def _any(user: object) -> bool:
    return True  # the roles below decide


desk_page = role_required(_any, roles=service.PARTNER_DESK_ROLES)


@desk_page
def partner_list(request: StaffRequest) -> HttpResponse:
    unsatisfied = Q(ratings__satisfaction=Satisfaction.UNSATISFIED)
    found = Partner.objects.annotate(
        orders=Count("assignments", distinct=True),
        rated=Count("ratings", distinct=True),
        unsatisfied=Count("ratings", filter=unsatisfied, distinct=True),
    ).order_by("state", "name")
    return render(request, "portal/outreach/partners.html", {
        "partners": found, "threshold": settings.HOTLINE_PARTNER_SUSPEND_AFTER,
        "may_review": request.user.is_superuser
        or request.user.role in service.PARTNER_REVIEW_ROLES})


def _partner(partner_id: int) -> Partner:
    found = Partner.objects.filter(pk=partner_id).first()
    if found is None:
        raise Http404
    return found


@desk_page
def partner_detail(request: StaffRequest, partner_id: int) -> HttpResponse:
    partner = _partner(partner_id)
    may_review = request.user.is_superuser or request.user.role in service.PARTNER_REVIEW_ROLES
    form = ReviewForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not may_review:
            raise Http404
        if form.is_valid():
            try:
                if partner.state == PartnerState.ACTIVE:
                    service.do_suspend(request.user, partner, form.cleaned_data["reason"])
                else:
                    service.do_reinstate(request.user, partner, form.cleaned_data["reason"])
            except ServiceError as error:
                add_service_error(form, error)
                status = error.status
            else:
                messages.success(request, _("%(partner)s: saved.") % {"partner": partner.name})
                return redirect("partners:detail", partner_id=partner.pk)
        else:
            status = 400
    assignments = partner.assignments.select_related("order", "assigned_by", "rating") \
        .order_by("-assigned_at")[:100]
    return render(request, "portal/outreach/partner_detail.html", {
        "partner": partner, "assignments": assignments, "form": form, "may_review": may_review,
        "reviews": partner.reviews.select_related("actor")[:50],
        "dissatisfied": service.dissatisfied_count(partner),
        "threshold": settings.HOTLINE_PARTNER_SUSPEND_AFTER,
    }, status=status)


@desk_page
def assign(request: StaffRequest) -> HttpResponse:
    """Hand an order to a partner; the partner is told by SMS and the order's history says so."""
    number = (request.POST.get("number") or request.GET.get("number") or "").strip()
    order = Order.objects.select_related("category").filter(number=number).first() \
        if number else None
    choices = service.partners_for(order) if order is not None else \
        list(Partner.objects.filter(state=PartnerState.ACTIVE))
    form = AssignForm(request.POST or None, initial={"number": number})
    set_choices(form, "partner", [(str(p.pk), p.name) for p in choices])
    status = 200
    if request.method == "POST":
        if form.is_valid() and order is None:
            form.add_error("number", _("No order has this acceptance number."))
        if form.is_valid() and order is not None:
            partner = Partner.objects.get(pk=int(form.cleaned_data["partner"]))
            try:
                assignment = service.do_assign(request.user, order, partner,
                                               note=form.cleaned_data["note"])
            except ServiceError as error:
                add_service_error(form, error)
                status = error.status
            else:
                link = request.build_absolute_uri(reverse(
                    "partners:rate", args=[service.rating_token(assignment)]))
                messages.success(request, _(
                    "Order %(number)s handed to %(partner)s. The citizen's rating link: "
                    "%(link)s") % {"number": order.number, "partner": partner.name,
                                   "link": link})
                return redirect("partners:detail", partner_id=partner.pk)
        else:
            status = 400
    return render(request, "portal/outreach/partner_assign.html",
                  {"form": form, "order": order}, status=status)


@desk_page
def record_rating(request: StaffRequest, assignment_id: int) -> HttpResponse:
    """Staff record the rating a citizen gave on the phone (a call back, a call)."""
    assignment = PartnerAssignment.objects.select_related("partner", "order") \
        .filter(pk=assignment_id).first()
    if assignment is None:
        raise Http404
    if request.method == "POST" and request.POST.get("send_link") == "1":
        link = request.build_absolute_uri(reverse(
            "partners:rate", args=[service.rating_token(assignment)]))
        try:
            sent = service.do_send_rating_link(request.user, assignment, link)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            if sent:
                messages.success(request, _("The rating link was sent to the citizen."))
            else:
                messages.error(request, _("No SMS could be sent to the citizen (no phone, or "
                                          "they opted out of notices)."))
        return redirect("partners:record_rating", assignment_id=assignment.pk)
    form = RatingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                service.do_rate(assignment, form.cleaned_data["satisfaction"],
                                source=RatingSource.STAFF, actor=request.user,
                                comment=form.cleaned_data["comment"])
            except ServiceError as error:
                add_service_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Rating recorded."))
                return redirect("partners:detail", partner_id=assignment.partner_id)
        else:
            status = 400
    return render(request, "portal/outreach/partner_rate_staff.html",
                  {"assignment": assignment, "form": form}, status=status)


@public_page
def rate(request: HttpRequest, token: str) -> HttpResponse:
    """The citizen rates the partner's service through the link sent to them."""
    try:
        assignment = service.assignment_for_token(token)
    except ServiceError:
        raise Http404 from None
    form = RatingForm(request.POST or None)
    status, done = 200, hasattr(assignment, "rating")
    if request.method == "POST" and not done:
        if form.is_valid():
            try:
                service.do_rate(assignment, form.cleaned_data["satisfaction"],
                                source=RatingSource.PORTAL, comment=form.cleaned_data["comment"])
            except ServiceError as error:
                add_service_error(form, error)
                status = error.status
            else:
                done = True
        else:
            status = 400
    return render(request, "citizen/partner_rate.html", {
        "partner": assignment.partner, "order": assignment.order, "form": form, "done": done},
        status=status)
