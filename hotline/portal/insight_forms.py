"""The hot-issue page's filters: a window (24 h / 7 / 30 days or a date range), district and
category. Bad values are form errors on the page (status 400), never a 500."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.core.errors import InvalidInput
from hotline.directory.models import Category, District
from hotline.insight.services import MAX_RANGE_DAYS, Window, window_for

PERIODS = [("1", _("Last 24 hours")), ("7", _("Last 7 days")), ("30", _("Last 30 days")),
           ("range", _("Date range"))]


class HotIssuesForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False, initial="7")
    date_from = forms.DateField(label=_("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}),
                              help_text=_("At most %(days)d days.") % {"days": MAX_RANGE_DAYS})
    district = forms.ChoiceField(label=_("District"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        district, category = self.fields["district"], self.fields["category"]
        assert isinstance(district, forms.ChoiceField) and isinstance(category, forms.ChoiceField)
        district.choices = everything + [
            (d.code, d.name) for d in District.objects.order_by("code")]
        category.choices = everything + [
            (c.code, ("" if c.level == 1 else "— ") + c.name)
            for c in Category.objects.filter(level__lte=2, active=True).order_by("code")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        period = data.get("period") or "7"
        try:
            if period == "range":
                if data.get("date_from") is None and "date_from" not in self.errors:
                    raise InvalidInput(str(_("Give the first day of the range.")), "date_from")
                data["window"] = window_for(date_from=data.get("date_from"),
                                            date_to=data.get("date_to"))
            else:
                data["window"] = window_for(days=int(period))
        except InvalidInput as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data

    def window(self) -> Window:
        window: Window = self.cleaned_data["window"]
        return window
