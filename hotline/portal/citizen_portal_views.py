"""The citizen portal (public, no login): the home page, submitting a request (with an SMS
code or anonymously), the confirmation, the timeline of one request, rating and reopening.

Views stay thin: the submission goes through the web adapter into ``do_receive``; rating and
reopening through ``hotline.orders.citizen_feedback``. A citizen proves a request is theirs by
acceptance number and phone (counted like /status/), or by the reply token in the link sent to
them; the proven numbers are kept in the session for the rating and reopen forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.core.clientaddr import client_address
from hotline.core.errors import ServiceError
from hotline.directory.models import Unit
from hotline.intake import tokens
from hotline.intake.messages import InboundFile
from hotline.intake.services import do_receive
from hotline.intake.web import WebSubmission, web_message
from hotline.orders import citizen_feedback, lookup_limits, numbering
from hotline.orders.lifecycle import Action, State
from hotline.orders.lookup_limits import phone_digits
from hotline.orders.models import Order, OrderEvent
from hotline.portal import citizen_guard as guard
from hotline.portal.citizen_forms import FollowForm, RatingForm, ReopenForm, SubmitForm
from hotline.web.access import public_page

SESSION_KEY = "citizen_orders"


def prove(request: HttpRequest, number: str) -> None:
    """Remember in the session that this visitor proved the request is theirs."""
    numbers = [n for n in request.session.get(SESSION_KEY, []) if n != number][-19:]
    request.session[SESSION_KEY] = [*numbers, number]


def _proven(request: HttpRequest, number: str) -> bool:
    return number in request.session.get(SESSION_KEY, [])


@public_page
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "citizen/home.html")


def error_summary(form: forms.Form) -> list[tuple[str, str, str]]:
    """(field id, label, message) for the error summary at the top of the form."""
    rows = []
    for name, errors in form.errors.items():
        if name == "__all__":
            rows += [("", "", str(e)) for e in errors]
            continue
        field = form[name]
        rows += [(field.id_for_label or f"id_{name}", str(field.label), str(e)) for e in errors]
    return rows


def _render_form(request: HttpRequest, form: SubmitForm, *, status: int = 200,
                 notice: str = "") -> HttpResponse:
    return render(request, "citizen/submit.html", {
        "form": form, "errors": error_summary(form) if form.is_bound else [], "notice": notice,
        "anonymous_allowed": settings.HOTLINE_PORTAL_ANONYMOUS,
        "max_files": settings.HOTLINE_PORTAL_MAX_FILES,
        "max_mb": settings.HOTLINE_MAX_ATTACHMENT_BYTES // (1024 * 1024),
    }, status=status)


@public_page
def submit(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_form(request, SubmitForm())
    form = SubmitForm(request.POST, request.FILES)
    if guard.caught_by_honeypot(request):
        return guard.refused_robot(request)
    if "send_code" in request.POST:
        form.is_valid()
        status, notice = guard.send_code(request)
        return _render_form(request, form, status=status, notice=notice)
    if not form.is_valid():
        return _render_form(request, form, status=400)
    data = form.cleaned_data
    anonymous = bool(data.get("anonymous"))
    if not anonymous and not guard.code_is_right(data["phone"], data.get("code", "")):
        form.add_error("code", _("The code is wrong or has expired. Ask for a new one."))
        return _render_form(request, form, status=400)
    if not guard.within_submission_limit(request):
        return guard.refused_too_many(request)
    street = ""
    if data.get("street"):
        street = Unit.objects.filter(code=data["street"]).values_list("name", flat=True) \
            .first() or ""
    receipt = do_receive(web_message(WebSubmission(
        order_type=data["order_type"], category=data.get("category") or "", text=data["text"],
        district=data["district"], street=street, address=data.get("address") or "",
        phone="" if anonymous else data["phone"], email="" if anonymous else data.get("email") or "",
        name="" if anonymous else data.get("name") or "", anonymous=anonymous,
        latitude=data.get("latitude"), longitude=data.get("longitude"),
        files=[InboundFile(f.name, f.read(), f.content_type or "") for f in data["uploads"]],
    )))
    if not receipt.accepted or not receipt.order_number:
        return guard.refused(request, _(receipt.reason) if receipt.reason
                             else _("Your request was not taken."), 400)
    number = receipt.order_number
    token = tokens.reply_token(number)
    link = request.build_absolute_uri(reverse("citizen:track", args=[token]))
    if not anonymous:
        guard.tell_accepted(
            phone=data["phone"], email=data.get("email") or "",
            sms=_("12345: your request was accepted, number %(number)s. Follow it at %(link)s")
            % {"number": number, "link": link},
            subject=_("Your 12345 request %(number)s") % {"number": number},
            body=_("Your request was accepted. Acceptance number: %(number)s\n"
                   "Follow it here: %(link)s\n") % {"number": number, "link": link})
    prove(request, number)
    return render(request, "citizen/done.html", {"number": number, "link": link,
                                                  "anonymous": anonymous})


@public_page
def follow(request: HttpRequest) -> HttpResponse:
    form = FollowForm(request.POST or None)
    status = 200
    error = ""
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["number"].strip()
        phone = phone_digits(form.cleaned_data["phone"])
        try:
            attempt = lookup_limits.begin(client_address(request), number, phone)
        except lookup_limits.TooManyAttempts as exc:
            response = render(request, "citizen/follow.html",
                              {"form": form, "error": exc.message}, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        found = numbering.is_valid(number) and phone and Order.objects.filter(
            number=number, citizen__phone=phone).exists()
        if found:
            lookup_limits.succeeded(attempt)
            prove(request, number)
            return redirect("citizen:timeline", number=number)
        error = _("No request matches this acceptance number and phone number. "
                  "Please check both and try again.")
        status = 404
    elif request.method == "POST":
        status = 400
    return render(request, "citizen/follow.html", {"form": form, "error": error}, status=status)


@public_page
def track(request: HttpRequest, token: str) -> HttpResponse:
    number = tokens.order_number_for(token)
    if number is None or not Order.objects.filter(number=number).exists():
        raise Http404
    prove(request, number)
    return redirect("citizen:timeline", number=number)


# What a citizen is told of each step: the kind of step only, never its note or its actor.
STEPS = {
    Action.CREATE: gettext_lazy("Accepted"),
    Action.ANSWER: gettext_lazy("Answered"),
    Action.DISPATCH: gettext_lazy("Sent to %(unit)s"),
    Action.TRANSFER: gettext_lazy("Passed on to %(unit)s"),
    Action.APPROVE_REPLY: gettext_lazy("Replied"),
    Action.CALLBACK: gettext_lazy("Closed"),
    Action.REOPEN: gettext_lazy("Reopened: being handled again"),
    Action.REJECT: gettext_lazy("Not accepted"),
    Action.MERGE: gettext_lazy("Merged with another request about the same matter"),
}


def _timeline(order: Order) -> list[dict[str, Any]]:
    rows = []
    for event in OrderEvent.objects.filter(order=order, action__in=[str(a) for a in STEPS]) \
            .select_related("unit").order_by("seq"):
        action = Action(event.action)
        if action == Action.MERGE and event.to_state != State.MERGED:
            continue  # another request merged into this one: not this citizen's business
        label = str(STEPS[action])
        if action in (Action.DISPATCH, Action.TRANSFER):
            unit = order.lead_unit.name if order.lead_unit else _("the responsible unit")
            label = label % {"unit": unit}
        rows.append({"when": event.created_at, "label": label})
    return rows


def _load(request: HttpRequest, number: str) -> Order:
    if not _proven(request, number):
        raise Http404
    order = Order.objects.select_related("lead_unit").filter(number=number).first()
    if order is None:
        raise Http404
    return order


def _timeline_page(request: HttpRequest, order: Order, *, status: int = 200,
                   rating: RatingForm | None = None, reopen: ReopenForm | None = None,
                   error: str = "") -> HttpResponse:
    answered = order.state in (State.CALLBACK, State.CLOSED, State.ARCHIVED)
    return render(request, "citizen/timeline.html", {
        "order": order, "steps": _timeline(order), "reply": order.reply_text if answered else "",
        "rating": rating or RatingForm() if citizen_feedback.may_rate(order) else None,
        "reopen": reopen or ReopenForm() if citizen_feedback.may_reopen(order) else None,
        "reopen_days": settings.HOTLINE_PORTAL_REOPEN_DAYS, "error": error,
    }, status=status)


@public_page
def timeline(request: HttpRequest, number: str) -> HttpResponse:
    return _timeline_page(request, _load(request, number))


@public_page
def rate(request: HttpRequest, number: str) -> HttpResponse:
    order = _load(request, number)
    if request.method != "POST":
        return redirect("citizen:timeline", number=number)
    form = RatingForm(request.POST)
    if not form.is_valid():
        return _timeline_page(request, order, rating=form, status=400)
    try:
        citizen_feedback.do_citizen_rating(order, form.cleaned_data["satisfaction"],
                                           form.cleaned_data["words"])
    except ServiceError as refused:
        return _timeline_page(request, order, status=409, error=_(refused.message))
    return redirect("citizen:timeline", number=number)


@public_page
def reopen(request: HttpRequest, number: str) -> HttpResponse:
    order = _load(request, number)
    if request.method != "POST":
        return redirect("citizen:timeline", number=number)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        return _timeline_page(request, order, reopen=form, status=400)
    try:
        citizen_feedback.do_citizen_reopen(order, form.cleaned_data["reason"])
    except ServiceError as refused:
        return _timeline_page(request, order, status=409, error=_(refused.message))
    return redirect("citizen:timeline", number=number)
