"""The base forms of every face's pages and the choices they share.

Forms only check the shape of the input; the services check the meaning (and their
``ServiceError`` lands on the form field it names, see ``add_service_error``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.core.errors import ServiceError
from hotline.directory.models import Category, District, Unit, UnitKind

EMPTY: list[tuple[str, Any]] = [("", "---------")]
ANY: list[tuple[str, Any]] = [("", _("All"))]  # a filter left empty does not filter


# Units in the order staff look for them: sub-centres, then departments, then street offices,
# each by name (the internal code means nothing to the person choosing).
KIND_ORDER = {UnitKind.SUBCENTRE: 0, UnitKind.DEPARTMENT: 1, UnitKind.STREET: 2}


def unit_choices() -> list[tuple[str, str]]:
    units = Unit.objects.filter(active=True).exclude(kind=UnitKind.CENTRE)
    ordered = sorted(units, key=lambda u: (KIND_ORDER.get(UnitKind(u.kind), 9), u.name, u.code))
    return [(u.code, u.name) for u in ordered]


def category_choices(*, leaves_only: bool) -> list[tuple[str, str]]:
    qs = Category.objects.filter(active=True).select_related("parent__parent").order_by("code")
    if leaves_only:
        qs = qs.filter(level=3)
    return [(c.code, " / ".join(c.path_names())) for c in qs]


def district_choices() -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in District.objects.order_by("code")]


def set_choices(form: forms.Form, name: str, choices: list[tuple[str, Any]]) -> None:
    """Fill a choice field when the form is made (the choices come from the database)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def add_service_error(form: forms.Form, error: ServiceError) -> None:
    """Put a service's complaint on the field it names, or on the whole form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class PortalForm(forms.Form):
    """Labels stand above their fields, so no colon after them (in either language)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesForm(PortalForm):
    """Files sent with a reply. Only renders the input: the view reads
    ``request.FILES.getlist("uploads")`` and hands each file to the attachment service."""

    uploads = forms.FileField(label=_("Files"), required=False, widget=MultipleFileInput)
