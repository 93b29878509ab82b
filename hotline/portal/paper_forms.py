"""The form agents register a paper letter (来信) or a walk-in visit (来访) with."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from hotline.core.files import FileKind, FileRefused, sniff
from hotline.directory.models import OrderType
from hotline.intake.paper import LETTER, VISIT
from hotline.portal.citizen_forms import MultipleFileField, MultipleFileInput, checked_uploads
from hotline.web.forms import EMPTY, PortalForm, category_choices, district_choices, set_choices

MAX_SCANS = 20  # a long letter with its enclosures; each file within the attachment limit
TEXT_CHARS = 4000
SCAN_KINDS = frozenset({FileKind.JPEG, FileKind.PNG, FileKind.GIF, FileKind.WEBP, FileKind.PDF})
# An ID card number (15 or 18 characters): the address field is not the place for it.
_ID_NUMBER = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?![\dXx])")


class PaperForm(PortalForm):
    channel = forms.ChoiceField(label=_("What came in"), widget=forms.RadioSelect,
                                choices=[(LETTER, _("A letter")), (VISIT, _("A walk-in visit"))],
                                initial=LETTER)
    order_type = forms.ChoiceField(label=_("Type"), choices=OrderType.choices)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    text = forms.CharField(label=_("Summary of what the citizen asks"), max_length=TEXT_CHARS,
                           widget=forms.Textarea(attrs={"rows": 6}))
    district = forms.ChoiceField(label=_("District"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    address = forms.CharField(label=_("Address of the matter"), max_length=255, required=False,
                              help_text=_("Where it happened; never an ID card number."))
    citizen_name = forms.CharField(label=_("Citizen name"), max_length=64, required=False)
    citizen_phone = forms.CharField(label=_("Citizen phone"), max_length=32, required=False)
    confidential = forms.BooleanField(label=_("Keep the citizen's identity confidential"),
                                      required=False)
    scans = MultipleFileField(label=_("Scanned pages (images or PDF)"), required=False,
                              widget=MultipleFileInput())
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "district", EMPTY + district_choices())
        set_choices(self, "category", EMPTY + category_choices(leaves_only=True))
        if not self.is_bound:
            # A double click or a reload registers the letter once (the registration's id).
            self.initial["idempotency_key"] = uuid.uuid4().hex

    def clean_address(self) -> str:
        address = self.cleaned_data.get("address", "").strip()
        if _ID_NUMBER.search(address):
            raise forms.ValidationError(_("An address has no ID card number: leave it out."))
        return address

    def clean_idempotency_key(self) -> str:
        key = self.cleaned_data.get("idempotency_key", "")
        if not re.fullmatch(r"[0-9a-f]{32}", key):
            raise forms.ValidationError(_("The form has expired: open it again."))
        return key

    def clean_scans(self) -> list[UploadedFile]:
        files = checked_uploads(self.cleaned_data.get("scans") or [], MAX_SCANS)
        for item in files:
            # By content, as the attachment service judges it; a scan is a picture or a PDF.
            try:
                kind = sniff(item)
            except FileRefused as refused:
                raise forms.ValidationError(refused.message) from None
            finally:
                item.seek(0)
            if kind not in SCAN_KINDS:
                raise forms.ValidationError(
                    _("%(name)s is not a scan: scanned pages are images or PDF files.")
                    % {"name": item.name})
        total = sum(f.size or 0 for f in files)
        # The scans are kept as they came too (the raw payload), which has its own limit.
        if total > settings.HOTLINE_MAX_INBOUND_BYTES:
            raise forms.ValidationError(
                _("The scans together are larger than %(mb)d MB.")
                % {"mb": settings.HOTLINE_MAX_INBOUND_BYTES // (1024 * 1024)})
        return files

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("channel") == LETTER and not data.get("scans") and "scans" not in self.errors:
            self.add_error("scans", _("Scan the letter's pages: a letter is registered with "
                                      "them."))
        return data
