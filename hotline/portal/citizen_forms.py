"""The citizen portal's forms: the request, the follow-up look-up and the rating."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from hotline.directory.models import Category, District, OrderType, Unit, UnitKind
from hotline.orders.lookup_limits import phone_digits
from hotline.orders.models import Satisfaction

TEXT_CHARS = 4000
TYPE_CHOICES = [
    (OrderType.CONSULTATION, _("Ask a question")),
    (OrderType.COMPLAINT, _("Complain about a problem")),
    (OrderType.REPORT, _("Report wrongdoing")),
    (OrderType.HELP, _("Ask for help")),
    (OrderType.SUGGESTION, _("Make a suggestion")),
    (OrderType.PRAISE, _("Praise good service")),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def checked_mobile(raw: str) -> str:
    """The digits of a mobile number typed into a form ("" when none was typed)."""
    phone = phone_digits(raw) if raw else ""
    if raw and not (phone.isdigit() and len(phone) == 11 and phone.startswith("1")):
        raise forms.ValidationError(_("Enter an 11-digit mobile phone number."))
    return phone


def checked_uploads(files: list[UploadedFile], max_files: int) -> list[UploadedFile]:
    """At most ``max_files`` files, each within the attachment limit (the attachment service
    judges their content later; this spares the citizen an upload that cannot be kept)."""
    if len(files) > max_files:
        raise forms.ValidationError(_("Attach at most %(count)d files.") % {"count": max_files})
    limit = settings.HOTLINE_MAX_ATTACHMENT_BYTES
    for item in files:
        if item.size is not None and item.size > limit:
            raise forms.ValidationError(
                _("The file %(name)s is larger than %(mb)d MB.")
                % {"name": item.name, "mb": limit // (1024 * 1024)})
    return files


def _category_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """Top-level categories as option groups of their active leaves (a two-step pick that works
    as one select without JS; the script splits it in two)."""
    rows: list[dict[str, Any]] = [dict(r) for r in Category.objects.filter(active=True)
                                  .values("code", "name", "level", "parent_id", "pk")]
    by_pk = {r["pk"]: r for r in rows}

    def top(row: dict[str, Any]) -> dict[str, Any]:
        while row["parent_id"] in by_pk:
            row = by_pk[row["parent_id"]]
        return row

    groups: dict[str, list[tuple[str, str]]] = {}
    parents = {r["parent_id"] for r in rows}
    for row in rows:
        if row["pk"] in parents:
            continue
        groups.setdefault(top(row)["name"], []).append((row["code"], row["name"]))
    return sorted(groups.items())


class SubmitForm(forms.Form):
    order_type = forms.ChoiceField(label=_("What would you like to do?"), choices=TYPE_CHOICES,
                                   widget=forms.RadioSelect)
    category = forms.ChoiceField(label=_("What is it about?"), required=False)
    text = forms.CharField(label=_("Describe the matter"), max_length=TEXT_CHARS,
                           widget=forms.Textarea(attrs={"rows": 6}))
    district = forms.ChoiceField(label=_("District"))
    street = forms.ChoiceField(label=_("Street"), required=False)
    address = forms.CharField(label=_("Address or place"), max_length=200, required=False)
    latitude = forms.FloatField(label=_("Latitude"), required=False, min_value=-90,
                                max_value=90)
    longitude = forms.FloatField(label=_("Longitude"), required=False, min_value=-180,
                                 max_value=180)
    uploads = MultipleFileField(label=_("Photos and files"), required=False,
                              widget=MultipleFileInput())
    anonymous = forms.BooleanField(label=_("Submit without giving my phone number"),
                                   required=False)
    phone = forms.CharField(label=_("Mobile phone number"), max_length=32, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel",
                                                          "autocomplete": "tel"}))
    code = forms.CharField(label=_("Confirmation code from the SMS"), max_length=8,
                           required=False, widget=forms.TextInput(
                               attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))
    email = forms.EmailField(label=_("Email (optional, for the acceptance number)"),
                             required=False)
    name = forms.CharField(label=_("Your name (optional)"), max_length=64, required=False)
    # Honeypot: hidden from people (and from screen readers); robots fill it in.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        not_sure: list[Any] = [("", _("Not sure"))]
        cast(forms.ChoiceField, self.fields["category"]).choices = not_sure + _category_groups()
        self.fields["category"].widget.attrs["data-group-label"] = _("Area")
        cast(forms.ChoiceField, self.fields["district"]).choices = [("", _("Choose a district"))] + [
            (d.code, d.name) for d in District.objects.all()]
        streets = Unit.objects.filter(kind=UnitKind.STREET, active=True) \
            .select_related("district")
        cast(forms.ChoiceField, self.fields["street"]).choices = [("", _("Not sure"))] + [
            (u.code, f"{u.district.name} · {u.name}" if u.district else u.name)
            for u in streets]
        if not settings.HOTLINE_PORTAL_ANONYMOUS:
            del self.fields["anonymous"]

    def clean_phone(self) -> str:
        return checked_mobile(self.cleaned_data.get("phone", ""))

    def clean_uploads(self) -> list[UploadedFile]:
        return checked_uploads(self.cleaned_data.get("uploads") or [],
                               settings.HOTLINE_PORTAL_MAX_FILES)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("anonymous") and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("Enter your mobile phone number, or submit anonymously."))
        street = data.get("street")
        if street and data.get("district"):
            unit = Unit.objects.filter(code=street).select_related("district").first()
            if unit and unit.district and unit.district.code != data["district"]:
                self.add_error("street", _("This street is not in the district chosen."))
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error("latitude", _("Give both latitude and longitude, or neither."))
        return data


class FollowForm(forms.Form):
    number = forms.CharField(label=_("Acceptance number"), max_length=16,
                             widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                           "autocomplete": "off"}))
    phone = forms.CharField(label=_("Mobile phone number"), max_length=32,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}))


class RatingForm(forms.Form):
    satisfaction = forms.ChoiceField(label=_("How satisfied are you with the answer?"),
                                     choices=Satisfaction.choices, widget=forms.RadioSelect)
    words = forms.CharField(label=_("Anything you want to add (optional)"), max_length=1000,
                            required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why should it be handled again?"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))
