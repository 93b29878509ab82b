"""The campaign builder's and the poll builder's forms: the shape of the input only; the
services (``hotline.outreach.campaigns`` and ``polls``) check the meaning."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.directory.models import Category, District, Unit, UnitKind
from hotline.orders.models import CitizenTag
from hotline.outreach.models import Campaign, Poll
from hotline.web.forms import EMPTY, PortalForm

SOURCE_CHOICES = [
    ("district", _("District")), ("street", _("Street")), ("tag", _("Citizen tag")),
    ("category", _("Past callers of a category")), ("upload", _("Uploaded list (.xlsx or .csv)")),
]


class CampaignForm(PortalForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    topic = forms.ChoiceField(label=_("Kind"), choices=Campaign.Topic.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Campaign.Channel.choices)
    message = forms.CharField(label=_("Notice"), required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 4}))
    subject = forms.CharField(label=_("Email subject"), required=False, max_length=200)
    recording = forms.FileField(label=_("Recorded notice (WAV)"), required=False)
    poll = forms.ChoiceField(label=_("Poll to send instead of a notice"), required=False)
    source = forms.ChoiceField(label=_("Recipients"), choices=SOURCE_CHOICES)
    district = forms.ChoiceField(label=_("District"), required=False)
    street = forms.ChoiceField(label=_("Street"), required=False)
    tag = forms.ChoiceField(label=_("Citizen tag"), required=False,
                            choices=EMPTY + list(CitizenTag.choices))
    category = forms.ChoiceField(label=_("Category"), required=False)
    since_days = forms.IntegerField(label=_("Callers of the last days"), initial=365,
                                    min_value=1, max_value=3660, required=False)
    upload = forms.FileField(label=_("List of recipients"), required=False)
    per_minute = forms.IntegerField(label=_("Calls per minute"), initial=10, min_value=1,
                                    max_value=600)
    concurrent = forms.IntegerField(label=_("Concurrent calls"), initial=5, min_value=1,
                                    max_value=300)
    max_attempts = forms.IntegerField(label=_("Attempts per recipient"), initial=2,
                                      min_value=1, max_value=5)
    starts_at = forms.DateTimeField(label=_("Start"), required=False,
                                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("Stop"), required=False,
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    daily_start = forms.TimeField(label=_("Each day from"), initial=dt.time(9, 0),
                                  widget=forms.TimeInput(attrs={"type": "time"}))
    daily_end = forms.TimeField(label=_("Each day until"), initial=dt.time(20, 0),
                                widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args: Any, district: District | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        districts = District.objects.order_by("code")
        streets = Unit.objects.filter(kind=UnitKind.STREET, active=True).order_by("code")
        polls = Poll.objects.filter(state=Poll.State.OPEN)
        if district is not None:
            districts = districts.filter(pk=district.pk)
            streets = streets.filter(district=district)
            polls = polls.filter(district=district)
        self._set("district", EMPTY + [(str(d.pk), d.name) for d in districts])
        self._set("street", EMPTY + [(str(u.pk), u.name) for u in streets])
        self._set("poll", EMPTY + [(str(p.pk), p.title) for p in polls])
        categories = Category.objects.filter(active=True).select_related("parent__parent")
        self._set("category", EMPTY + [(str(c.pk), " / ".join(c.path_names()))
                                       for c in categories.order_by("code")])

    def _set(self, name: str, choices: list[tuple[str, Any]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


class PollForm(PortalForm):
    title = forms.CharField(label=_("Title"), max_length=120)
    intro = forms.CharField(label=_("Introduction"), required=False, max_length=500,
                            widget=forms.Textarea(attrs={"rows": 2}))
    questions = forms.CharField(label=_("Questions"), max_length=20000,
                                widget=forms.Textarea(attrs={"rows": 16, "class": "mono"}))
    public = forms.BooleanField(label=_("Publish a link anyone may answer"), required=False)
