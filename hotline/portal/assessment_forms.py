"""The assessment pages' forms: which month and ranking, an appeal, a decision."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.insight.assessment import MAX_REASON


class RankingForm(forms.Form):
    month = forms.CharField(label=_("Month"), required=False, max_length=7,
                            widget=forms.TextInput(attrs={"placeholder": "2026-11",
                                                          "type": "month"}))
    group = forms.ChoiceField(label=_("Ranking"), required=False, choices=[
        ("", _("All")), ("departments", _("Departments")), ("districts", _("Districts")),
        ("streets", _("Streets")),
    ])


class AppealForm(forms.Form):
    number = forms.CharField(max_length=8, widget=forms.HiddenInput)
    month = forms.CharField(max_length=7, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason for the appeal"), max_length=MAX_REASON,
                             widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.FileField(label=_("Evidence (optional)"), required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[
        ("accept", _("Accept: the order no longer counts")), ("refuse", _("Refuse")),
    ])
    reason = forms.CharField(label=_("Reason"), max_length=MAX_REASON,
                             widget=forms.Textarea(attrs={"rows": 2}))
