"""The mayor's mailbox forms: writing a letter (public) and searching the published letters."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from hotline.directory.models import District
from hotline.portal.citizen_forms import (
    TEXT_CHARS,
    MultipleFileField,
    MultipleFileInput,
    checked_mobile,
    checked_uploads,
)

TITLE_CHARS = 100


class LetterForm(forms.Form):
    title = forms.CharField(label=_("Subject of your letter"), max_length=TITLE_CHARS)
    text = forms.CharField(label=_("Text of your letter"), max_length=TEXT_CHARS,
                           widget=forms.Textarea(attrs={"rows": 8}))
    district = forms.ChoiceField(label=_("District it concerns"), required=False)
    uploads = MultipleFileField(label=_("Photos and files"), required=False,
                                widget=MultipleFileInput())
    name = forms.CharField(label=_("Your name"), max_length=64,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = forms.CharField(label=_("Mobile phone number"), max_length=32,
                            widget=forms.TextInput(attrs={"inputmode": "tel",
                                                          "autocomplete": "tel"}))
    code = forms.CharField(label=_("Confirmation code from the SMS"), max_length=8,
                           required=False, widget=forms.TextInput(
                               attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))
    email = forms.EmailField(label=_("Email (optional, for the acceptance number)"),
                             required=False)
    publish = forms.BooleanField(
        label=_("The letter and its reply may be published on this site, without my name, "
                "phone number or email"), required=False)
    # Honeypot: hidden from people (and from screen readers); robots fill it in.
    website = forms.CharField(required=False, label=_("Leave this field empty"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["district"]).choices = [
            ("", _("The whole city, or not sure"))] + [
            (d.code, d.name) for d in District.objects.all()]

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data.get("title", "").split())
        if not title:
            raise forms.ValidationError(_("Give your letter a subject."))
        return title

    def clean_text(self) -> str:
        text = self.cleaned_data.get("text", "").strip()
        if not text:
            raise forms.ValidationError(_("Write your letter."))
        return text

    def clean_phone(self) -> str:
        return checked_mobile(self.cleaned_data.get("phone", ""))

    def clean_uploads(self) -> list[UploadedFile]:
        return checked_uploads(self.cleaned_data.get("uploads") or [],
                               settings.HOTLINE_PORTAL_MAX_FILES)


class LetterSearchForm(forms.Form):
    q = forms.CharField(label=_("Search the letters"), max_length=50, required=False,
                        widget=forms.TextInput(attrs={"type": "search"}))
