"""The abuse controls every public citizen form shares (the request form, the mayor's mailbox):
the honeypot, the SMS code that proves the phone, the limit of submissions per client address,
and telling the citizen their acceptance number. One budget per address across the forms: a
flood does not get twice as far by switching forms."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from hotline.core.clientaddr import client_address
from hotline.core.errors import ServiceError
from hotline.intake import phone_codes
from hotline.intake.sms.outbound import send_sms
from hotline.orders.lookup_limits import address_key, phone_digits

HONEYPOT = "website"  # a field hidden from people (and from screen readers); robots fill it in


def caught_by_honeypot(request: HttpRequest) -> bool:
    return bool(request.POST.get(HONEYPOT))


def refused(request: HttpRequest, message: str, status: int, *, back: str = "") -> HttpResponse:
    """The page that says why nothing was taken; ``back`` is the form's address (the request
    form's when not given)."""
    return render(request, "citizen/refused.html", {"message": message, "back": back},
                  status=status)


def refused_robot(request: HttpRequest, *, back: str = "") -> HttpResponse:
    return refused(request, _("Your request could not be taken. Please call 12345."), 400,
                   back=back)


def send_code(request: HttpRequest) -> tuple[int, str]:
    """Send a confirmation code to the phone typed in the form: (status, notice for the form)."""
    phone = phone_digits(request.POST.get("phone", ""))
    if not (len(phone) == 11 and phone.startswith("1")):
        return 400, _("Enter an 11-digit mobile phone number first.")
    try:
        phone_codes.send_code(phone, client_address(request))
    except ServiceError as limited:
        return 429, limited.message
    return 200, _("A code was sent to your phone. Enter it below. Files you chose must be "
                  "chosen again before you submit.")


def code_is_right(phone: str, code: str) -> bool:
    return phone_codes.check_code(phone, code)


def within_submission_limit(request: HttpRequest) -> bool:
    """Count this submission against the client address; False once it is past the limit."""
    return phone_codes.count("submit-address", address_key(client_address(request)),
                             settings.HOTLINE_PORTAL_SUBMISSIONS_PER_ADDRESS)


def refused_too_many(request: HttpRequest, *, back: str = "") -> HttpResponse:
    return refused(request, _("Too many requests were sent from here. Please try again later "
                              "or call 12345."), 429, back=back)


def tell_accepted(*, phone: str, email: str, sms: str, subject: str, body: str,
                  purpose: str = "accepted") -> None:
    """The acceptance number by SMS and, when given, by email (a failed mail is not the
    citizen's problem: the page shows the number too)."""
    if phone:
        send_sms(phone, sms, purpose=purpose)
    if email:
        send_mail(subject, body, None, [email], fail_silently=True)
