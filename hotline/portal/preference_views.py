"""The citizen's preference page (public, no login): how the hotline may reach them (SMS, email
or not at all), in which language, notices about their requests on or off, campaigns and polls
on or off.

Two ways in: the signed link every mail carries (holding the mail proves the address), or the
phone with an SMS code (the portal's codes and abuse controls, ``citizen_guard``), after which
the proven phone is kept in the session for a short while. The mail's List-Unsubscribe header
points at ``one_click`` (RFC 8058: the mail program POSTs without a page; no CSRF token can come
with it, the signed token is the proof). Every change goes through
``outreach.preferences.do_change_preference``, recorded and honoured at once."""

from __future__ import annotations

import time

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from hotline.core.errors import ServiceError
from hotline.core.phones import mask_phone
from hotline.orders.lookup_limits import phone_digits
from hotline.outreach import preferences
from hotline.outreach.models import ContactPreference, PreferenceChange
from hotline.portal import citizen_guard as guard
from hotline.portal.citizen_forms import checked_mobile
from hotline.web.access import public_page

SESSION_KEY = "citizen_preference_phone"
PROVEN_SECONDS = 1800  # the phone stays proven this long after the code

CHANNELS = [
    (ContactPreference.Channel.AUTO, gettext_lazy("The way I contact 12345")),
    (ContactPreference.Channel.SMS, gettext_lazy("SMS")),
    (ContactPreference.Channel.EMAIL, gettext_lazy("Email")),
    (ContactPreference.Channel.NONE, gettext_lazy("Do not send me notices")),
]
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]


class PreferenceForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("How we may write to you"), choices=CHANNELS,
                                widget=forms.RadioSelect)
    language = forms.ChoiceField(label=gettext_lazy("Language of our messages"),
                                 choices=LANGUAGES, widget=forms.RadioSelect)
    notices = forms.BooleanField(label=gettext_lazy("Notices about my own requests"),
                                 required=False)
    campaigns = forms.BooleanField(label=gettext_lazy("Public notices and opinion polls"),
                                   required=False)


class PhonePreferenceForm(PreferenceForm):
    sms_stopped = forms.BooleanField(
        label=gettext_lazy("Stop every SMS from 12345 (the same as replying TD)"), required=False)


class PhoneForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Mobile phone number"), max_length=20)
    code = forms.CharField(label=gettext_lazy("Code from the SMS"), max_length=8, required=False)

    def clean_phone(self) -> str:
        phone = checked_mobile(self.cleaned_data["phone"])
        if not phone:
            raise forms.ValidationError(_("Enter an 11-digit mobile phone number."))
        return phone


def _initial(current: preferences.Current) -> dict[str, object]:
    c = current.choice
    return {"channel": c.channel, "language": c.language, "notices": c.notices,
            "campaigns": c.campaigns, "sms_stopped": current.sms_stopped}


def _page(request: HttpRequest, current: preferences.Current, form: forms.Form, *,
          shown: str, saved: bool = False, status: int = 200) -> HttpResponse:
    return render(request, "citizen/preferences.html", {
        "form": form, "shown": shown, "saved": saved, "sms_stopped": current.sms_stopped,
        "phone_route": isinstance(form, PhonePreferenceForm)}, status=status)


def _choice(data: dict[str, object]) -> preferences.Choice:
    return preferences.Choice(channel=str(data["channel"]), language=str(data["language"]),
                              notices=bool(data["notices"]), campaigns=bool(data["campaigns"]))


def _bad_link(request: HttpRequest, refused: ServiceError) -> HttpResponse:
    return guard.refused(request, _(refused.message), refused.status,
                         back=reverse("citizen:preferences_start"))


@public_page
def by_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        address, _kind = preferences.read_token(token)
    except preferences.LinkRefused as refused:
        return _bad_link(request, refused)
    current = preferences.current(address)
    shown = preferences.shown_address(address)
    if request.method != "POST":
        return _page(request, current, PreferenceForm(initial=_initial(current)), shown=shown)
    form = PreferenceForm(request.POST)
    if not form.is_valid():
        return _page(request, current, form, shown=shown, status=400)
    try:
        current = preferences.do_change_preference(
            address, _choice(form.cleaned_data), via=PreferenceChange.Via.EMAIL_LINK)
    except ServiceError as refused:
        return guard.refused(request, _(refused.message), 400)
    return _page(request, current, PreferenceForm(initial=_initial(current)), shown=shown,
                 saved=True)


@csrf_exempt  # RFC 8058: the mail program's POST carries no CSRF token; the signed link is it
@public_page
def one_click(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        return redirect("citizen:preferences", token=token)
    try:
        preferences.do_one_click(token)
    except preferences.LinkRefused as refused:
        return _bad_link(request, refused)
    return render(request, "citizen/unsubscribed.html")


def _proven_phone(request: HttpRequest) -> str:
    entry = request.session.get(SESSION_KEY)
    if not isinstance(entry, dict) or time.time() - float(entry.get("at", 0)) > PROVEN_SECONDS:
        return ""
    return str(entry.get("phone", ""))


@public_page
def start(request: HttpRequest) -> HttpResponse:
    """Phone and SMS code: the way in for a citizen without a mail from us."""
    form = PhoneForm(request.POST or None)
    notice, status = "", 200
    if request.method == "POST":
        if guard.caught_by_honeypot(request):
            return guard.refused_robot(request, back=reverse("citizen:preferences_start"))
        if not form.is_valid():
            status = 400
        elif "send_code" in request.POST:
            status, notice = guard.send_code(request)
            if status == 200:
                notice = _("A code was sent to your phone. Enter it below.")
        elif not guard.code_is_right(form.cleaned_data["phone"], form.cleaned_data["code"]):
            form.add_error("code", _("The code is wrong or has expired. Ask for a new one."))
            status = 400
        else:
            request.session.cycle_key()  # a new session for the proven visitor
            request.session[SESSION_KEY] = {"phone": phone_digits(form.cleaned_data["phone"]),
                                            "at": time.time()}
            return redirect("citizen:preferences_phone")
    return render(request, "citizen/preferences_start.html",
                  {"form": form, "notice": notice}, status=status)


@public_page
def by_phone(request: HttpRequest) -> HttpResponse:
    phone = _proven_phone(request)
    if not phone:
        return redirect("citizen:preferences_start")
    current = preferences.current(phone)
    shown = mask_phone(phone)
    if request.method != "POST":
        return _page(request, current, PhonePreferenceForm(initial=_initial(current)),
                     shown=shown)
    form = PhonePreferenceForm(request.POST)
    if not form.is_valid():
        return _page(request, current, form, shown=shown, status=400)
    try:
        current = preferences.do_change_preference(
            phone, _choice(form.cleaned_data), via=PreferenceChange.Via.PHONE_CODE,
            sms_stopped=bool(form.cleaned_data["sms_stopped"]))
    except ServiceError as refused:
        return guard.refused(request, _(refused.message), 400)
    return _page(request, current, PhonePreferenceForm(initial=_initial(current)), shown=shown,
                 saved=True)
