"""Forms of the appointment pages (public booking and cancelling, the agents' and the
departments' pages). The slot is chosen among the free slots computed when the page is drawn;
the service checks it again when the booking is made."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.outreach.bookings import FreeSlot, when_text
from hotline.web.forms import PortalForm, set_choices

TEL = {"inputmode": "tel", "autocomplete": "tel"}


def slot_choices(slots: list[FreeSlot]) -> list[tuple[str, str]]:
    return [(s.start.isoformat(), f"{when_text(s.start)}–{s.end.astimezone(s.start.tzinfo):%H:%M}"
             + (f" ({s.left})" if s.left > 1 else "")) for s in slots]


class SlotForm(PortalForm):
    slot = forms.ChoiceField(label=_("Time"), choices=[])

    def __init__(self, *args: Any, slots: list[FreeSlot], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "slot", slot_choices(slots))


class CitizenBookingForm(SlotForm):
    name = forms.CharField(label=_("Your name (optional)"), max_length=64, required=False)
    phone = forms.CharField(label=_("Mobile phone number"), max_length=32,
                            widget=forms.TextInput(attrs=TEL))
    code = forms.CharField(label=_("Confirmation code from the SMS"), max_length=8,
                           required=False, widget=forms.TextInput(
                               attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))
    website = forms.CharField(required=False, label=_("Leave this field empty"))


class AgentBookingForm(SlotForm):
    phone = forms.CharField(label=_("Caller's phone number"), max_length=32,
                            widget=forms.TextInput(attrs=TEL))
    name = forms.CharField(label=_("Caller's name (optional)"), max_length=64, required=False)


class CancelByCodeForm(PortalForm):
    number = forms.CharField(label=_("Booking number"), max_length=12,
                             widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    phone = forms.CharField(label=_("Mobile phone number"), max_length=32,
                            widget=forms.TextInput(attrs=TEL))
    code = forms.CharField(label=_("Cancellation code from the SMS"), max_length=8,
                           widget=forms.TextInput(attrs={"inputmode": "numeric"}))


class StaffCancelForm(PortalForm):
    reason = forms.CharField(label=_("Reason"), max_length=255)
