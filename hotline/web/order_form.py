"""The form that registers a work order, shared by every face that registers one (the order
pages and the agent desk, which extends it with the call's outcome): one set of field names,
so the desk's and the portal's pages post the same fields to the same service."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.directory.models import OrderType
from hotline.orders.models import Channel, CitizenTag, Urgency
from hotline.web.forms import EMPTY, PortalForm, category_choices, district_choices, set_choices


class NewOrderForm(PortalForm):
    type = forms.ChoiceField(label=_("Type"), choices=OrderType.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices,
                                initial=Channel.PHONE)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices,
                                initial=Urgency.NORMAL)
    citizen_name = forms.CharField(label=_("Citizen name"), required=False, max_length=64)
    citizen_phone = forms.CharField(label=_("Citizen phone"), required=False, max_length=32)
    citizen_tags = forms.MultipleChoiceField(
        label=_("Citizen tags"), required=False, choices=CitizenTag.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    confidential = forms.BooleanField(
        label=_("Keep the citizen's identity confidential"), required=False
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(label=_("What the citizen says"), widget=forms.Textarea(
        attrs={"rows": 5}))
    address = forms.CharField(label=_("Address"), required=False, max_length=255)
    district = forms.ChoiceField(label=_("District"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=128)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "district", EMPTY + district_choices())
        set_choices(self, "category", EMPTY + category_choices(leaves_only=True))
        if not self.is_bound:
            # A double-click or a resent form registers the order once (idempotency key).
            self.initial["idempotency_key"] = uuid.uuid4().hex
