"""Forms of the desk: the agent's state buttons, call commands and the order form beside the pop.

The order form is the portal's new-order form (same field names and ids, so the triage
suggestions, the possible-duplicates panel and the knowledge lookup work on it unchanged) plus
what the three one-click outcomes need.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.contactcentre.acd.states import AGENT_REASONS
from hotline.contactcentre.callbacks import Outcome
from hotline.contactcentre.commands import AGENT_ACTIONS
from hotline.contactcentre.models import CommandAction, QueuedCall, Reason
from hotline.orders.models import Channel, Citizen
from hotline.web.forms import EMPTY, PortalForm, unit_choices
from hotline.web.order_form import NewOrderForm

STATE_ACTIONS = ("sign_in", "sign_out", "ready", "not_ready")
DEFAULT_CALLBACK_HOURS = 2


def reason_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Reason.choices if value in AGENT_REASONS]


class StateForm(PortalForm):
    action = forms.ChoiceField(choices=[(a, a) for a in STATE_ACTIONS])
    reason = forms.ChoiceField(label=_("Reason"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = EMPTY + reason_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "not_ready" and not data.get("reason"):
            self.add_error("reason", _("Choose a reason for not being ready."))
        if data.get("action") != "not_ready":
            data["reason"] = ""
        return data


class CommandForm(PortalForm):
    action = forms.ChoiceField(choices=[(a.value, a.label) for a in CommandAction
                                        if a in AGENT_ACTIONS])
    target = forms.CharField(required=False, max_length=64)


class DeskOrderForm(NewOrderForm):
    """The new-order form, prefilled from the call, with the outcome's own fields."""

    reply = forms.CharField(
        label=_("Answer given to the citizen"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed for Answer and close."),
    )
    unit = forms.ChoiceField(
        label=_("Lead unit"), required=False,
        help_text=_("Leave empty to use the category's dispatch route."),
    )
    callback_due = forms.DateTimeField(
        label=_("Call back by"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    callback_note = forms.CharField(label=_("Call back note"), required=False, max_length=2000)
    outcome = forms.ChoiceField(choices=[(o.value, o.value) for o in Outcome], required=False,
                                widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ChoiceField)
        # The empty choice says what it does, so the row needs no help line under the list.
        field.choices = [("", _("(the category's dispatch route)")), *unit_choices()]
        if not self.is_bound:
            due = timezone.localtime() + dt.timedelta(hours=DEFAULT_CALLBACK_HOURS)
            self.initial.setdefault("callback_due", due.replace(second=0, microsecond=0))

    @classmethod
    def for_call(cls, call: QueuedCall) -> DeskOrderForm:
        """An unbound form prefilled from the call: the caller's number, the citizen's name and
        tags if known, the phone channel."""
        citizen: Citizen | None = call.citizen
        if citizen is None and call.caller:
            citizen = Citizen.objects.filter(phone=call.caller).first()
        initial: dict[str, Any] = {"channel": Channel.PHONE, "citizen_phone": call.caller}
        if citizen is not None:
            initial["citizen_name"] = citizen.name
            initial["citizen_tags"] = list(citizen.tags or [])
            initial["confidential"] = citizen.confidential
        return cls(initial=initial)

    def order_data(self) -> dict[str, Any]:
        """The cleaned fields that make the ``NewOrder``."""
        data = dict(self.cleaned_data)
        for name in ("reply", "unit", "callback_due", "callback_note", "outcome",
                     "idempotency_key"):
            data.pop(name, None)
        return data
