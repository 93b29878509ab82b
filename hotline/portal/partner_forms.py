"""Forms of the partner pages (the 96180 model)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.orders.models import Satisfaction
from hotline.web.forms import PortalForm


class AssignForm(PortalForm):
    number = forms.CharField(label=_("Acceptance number"), max_length=8)
    partner = forms.ChoiceField(label=_("Partner"), choices=[])
    note = forms.CharField(label=_("Note for the partner (optional)"), max_length=255,
                           required=False)


class RatingForm(PortalForm):
    satisfaction = forms.ChoiceField(label=_("How satisfied are you with the service?"),
                                     choices=Satisfaction.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("Anything to add (optional)"), max_length=500,
                              required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ReviewForm(PortalForm):
    reason = forms.CharField(label=_("Reason"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))
