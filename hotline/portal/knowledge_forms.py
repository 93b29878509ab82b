from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.directory.models import Category, Unit, UnitKind
from hotline.knowledge.models import Entry, EntryKind
from hotline.knowledge.services import EntryData, authored_unit_ids


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False,
                        widget=forms.TextInput(attrs={"type": "search", "autofocus": True,
                                                      "placeholder": _("e.g. 停水 or 居住证办理")}))
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("All kinds")), *EntryKind.choices])


class EntryForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=EntryKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Body"), widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Plain text (blank lines separate paragraphs) or simple HTML: paragraphs, "
                    "lists, bold, tables and links."),
    )
    keywords = forms.CharField(label=_("Keywords"), max_length=500, required=False,
                               help_text=_("Words separated by spaces or commas."))
    owner = forms.ModelChoiceField(label=_("Owner department"), queryset=Unit.objects.none())
    categories = forms.ModelMultipleChoiceField(
        label=_("Categories"), required=False,
        queryset=Category.objects.filter(active=True).order_by("code"),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    valid_from = forms.DateField(label=_("Valid from"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("Valid until"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    public = forms.BooleanField(label=_("Public (shown to citizens)"), required=False, initial=True)
    for_voice = forms.BooleanField(label=_("May be read aloud by the voice menu"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = authored_unit_ids(user)
        owners = Unit.objects.filter(active=True).exclude(kind=UnitKind.STREET)
        if units is not None:
            owners = Unit.objects.filter(pk__in=units)
        self.fields["owner"].queryset = owners.order_by("code")  # type: ignore[attr-defined]
        if user.unit_id and "owner" not in self.initial:
            self.initial["owner"] = user.unit_id

    @classmethod
    def initial_for(cls, entry: Entry) -> dict[str, Any]:
        return {
            "kind": entry.kind, "title": entry.title, "body": entry.body,
            "keywords": entry.keywords, "owner": entry.owner_id,
            "categories": list(entry.categories.values_list("pk", flat=True)),
            "valid_from": entry.valid_from, "valid_until": entry.valid_until,
            "public": entry.public, "for_voice": entry.for_voice,
        }

    def entry_data(self) -> EntryData:
        data = self.cleaned_data
        return EntryData(
            kind=data["kind"], title=data["title"], body=data["body"], keywords=data["keywords"],
            owner=data["owner"].code, categories=[c.code for c in data["categories"]],
            valid_from=data["valid_from"], valid_until=data["valid_until"],
            public=data["public"], for_voice=data["for_voice"],
        )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Excel workbook (.xlsx)"))
