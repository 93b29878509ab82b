"""Login security pages: the lockout answer, the second factor (enrol, verify), the password
change, and the security administrator's settings page (lockouts, second factors, policy)."""

from __future__ import annotations

import io
from base64 import b32encode
from typing import Any
from urllib.parse import urlencode

import segno
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotline.core.roles import Role
from hotline.directory import security
from hotline.directory.duties import may_change_security
from hotline.directory.models import User
from hotline.web.access import role_required, staff_required


def locked_out(request: HttpRequest, original_response: Any = None,
               credentials: Any = None) -> HttpResponse:
    """django-axes' answer to a login from a locked account or address (AXES_LOCKOUT_CALLABLE):
    the login page again with the reason, status 429, the same for /login/ and /admin/login/."""
    minutes = security.policy_in_force().cooloff_minutes
    form = AuthenticationForm(request)
    return render(request, "portal/login.html", {
        "form": form,
        "locked_out": _("Too many failed logins for this account or from this address. Please "
                        "try again in %(minutes)d minutes or ask the security administrator to "
                        "unlock it.") % {"minutes": minutes},
        "next": request.POST.get("next", "") if request.method == "POST" else "",
    }, status=429)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


class CodeForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Six-digit code"), min_length=6, max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autofocus": True}),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if not token.isdigit():
            raise forms.ValidationError(_("The code is made of digits only."))
        return token


@staff_required
def two_factor(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    if not security.needs_second_factor(user) or user.is_verified():
        return redirect(_next_url(request))
    if security.confirmed_device(user) is None:
        return redirect(reverse("portal:two_factor_enrol") + _keep_next(request))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            device = security.check_second_factor(user, form.cleaned_data["token"])
            if device is not None:
                otp_login(request, device)
                return redirect(_next_url(request))
            form.add_error("token", _("The code is wrong or has expired. Enter the code the app "
                                      "shows now."))
        status = 400
    return render(request, "portal/two_factor.html",
                  {"form": form, "next": _next_url(request)}, status=status)


def _keep_next(request: HttpRequest) -> str:
    target = request.GET.get("next")
    return "?" + urlencode({"next": target}) if target else ""


def _qr_svg(uri: str) -> str:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, xmldecl=False, svgns=True,
                                    title=_("QR code for the authenticator app"))
    return buffer.getvalue().decode()


@staff_required
def two_factor_enrol(request: HttpRequest) -> HttpResponseBase:
    """First login of an administrator: add the key to an authenticator app, confirm a code.
    Once a device is confirmed only the security administrator can remove it, so whoever learns
    a password cannot enrol an authenticator of their own."""
    user: Any = request.user
    if not security.needs_second_factor(user):
        return redirect(_next_url(request))
    if security.confirmed_device(user) is not None:
        return redirect(reverse("portal:two_factor") + _keep_next(request))
    device = security.do_start_enrolment(user)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            confirmed = security.do_confirm_enrolment(user, form.cleaned_data["token"])
            if confirmed is not None:
                otp_login(request, confirmed)
                messages.success(request, _("Your authenticator is set up. Future logins ask "
                                            "for its code."))
                return redirect(_next_url(request))
            form.add_error("token", _("The code is wrong. Check the app's clock and enter the "
                                      "code it shows now."))
        status = 400
    secret = b32encode(device.bin_key).decode()
    return render(request, "portal/two_factor_enrol.html", {
        "form": form, "next": _next_url(request), "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308 - segno's own SVG
        "secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
        "uri": device.config_url,
    }, status=status)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Staff change their own password; an expired one leads here before any other page."""

    template_name = "portal/password_change.html"
    success_url = reverse_lazy("portal:home")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["expired"] = security.password_expired(self.request.user)
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed."))
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400
        return response


password_change = staff_required(PasswordChangeView.as_view())


# --- the security administrator's page -----------------------------------------------------

class UnlockForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150, required=False)
    ip_address = forms.GenericIPAddressField(label=gettext_lazy("Client address"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("username") and not data.get("ip_address"):
            raise forms.ValidationError(_("Give a user name, a client address or both."))
        return data


class ResetDeviceForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150)

    def clean_username(self) -> User:
        user = User.objects.filter(username=self.cleaned_data["username"]).first()
        if user is None:
            raise forms.ValidationError(_("No staff member has this user name."))
        return user


@role_required(may_change_security, roles=[Role.SECURITY_ADMIN])
def security_settings(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    unlock = UnlockForm(request.POST if request.POST.get("do") == "unlock" else None,
                        prefix="unlock")
    reset = ResetDeviceForm(request.POST if request.POST.get("do") == "reset" else None,
                            prefix="reset")
    status = 200
    if request.method == "POST":
        if request.POST.get("do") == "unlock" and unlock.is_valid():
            count = security.do_unlock(actor, username=unlock.cleaned_data["username"],
                                       ip_address=unlock.cleaned_data["ip_address"])
            messages.success(request, _("Unlocked: %(count)d failed-login records removed.")
                             % {"count": count})
            return redirect("portal:security_settings")
        if request.POST.get("do") == "reset" and reset.is_valid():
            target = reset.cleaned_data["username"]
            security.do_reset_second_factor(actor, target)
            messages.success(request, _("The second factor of %(user)s was reset; they set up "
                                        "a new authenticator at their next login.")
                             % {"user": target.username})
            return redirect("portal:security_settings")
        status = 400
    policy = security.policy_in_force()
    cooloff_start = timezone.now() - settings.AXES_COOLOFF_TIME
    attempts = (AccessAttempt.objects.filter(attempt_time__gte=cooloff_start)
                .order_by("-attempt_time")[:200])
    enrolled = set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    admins = User.objects.filter(
        Q(is_superuser=True) | Q(role__in=security.SECOND_FACTOR_ROLES), is_active=True,
    ).order_by("username")
    return render(request, "portal/security_settings.html", {
        "policy": policy, "attempts": attempts, "unlock": unlock, "reset": reset,
        "admins": [(u, u.pk in enrolled) for u in admins],
        "limit": policy.failure_limit,
    }, status=status)
