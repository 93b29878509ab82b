"""Forms of the order pages: order filters, the new-order form and one small form per action.

Forms only check the shape of the input; the services check the meaning (and their
``ServiceError`` lands on the form field it names).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.directory.models import OrderType, User
from hotline.orders.lifecycle import Action
from hotline.orders.models import (
    Channel,
    Order,
    OrderLink,
    OrderState,
    Satisfaction,
    Urgency,
)
from hotline.portal.order_listing import SEARCH_IN_CHOICES, SORT_CHOICES
from hotline.web.forms import (
    ANY,
    EMPTY,
    PortalForm,
    category_choices,
    district_choices,
    set_choices,
    unit_choices,
)


class OrderFilterForm(PortalForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    search_in = forms.ChoiceField(label=_("Search in"), required=False,
                                  choices=SEARCH_IN_CHOICES)
    state = forms.ChoiceField(label=_("State"), required=False)
    type = forms.ChoiceField(label=_("Type"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    district = forms.ChoiceField(label=_("District"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    lead_unit = forms.ChoiceField(label=_("Lead unit"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    created_from = forms.DateField(
        label=_("Created from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=_("Created to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    # Set by the column headers' links; a hidden field so a new search keeps the order.
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "state", ANY + list(OrderState.choices))
        set_choices(self, "type", ANY + list(OrderType.choices))
        set_choices(self, "channel", ANY + list(Channel.choices))
        set_choices(self, "district", ANY + district_choices())
        set_choices(self, "category", ANY + category_choices(leaves_only=False))
        set_choices(self, "lead_unit", ANY + unit_choices())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", _("The end date is before the start date."))
        return data


# --- action forms ----------------------------------------------------------------------------

def _note(label: Any = None, *, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label or _("Note"), required=required, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ActionForm(PortalForm):
    """Base: cleaned data becomes the action's params, empty optional values left out."""

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None, [])}


class NoteForm(ActionForm):
    note = _note()


class RequiredNoteForm(ActionForm):
    note = _note(_("Instruction"), required=True)


class ReasonForm(ActionForm):
    reason = _note(_("Reason"), required=True)


class ReplyForm(ActionForm):
    reply = _note(_("Result"), required=True)


class AnswerForm(ActionForm):
    reply = _note(_("Answer given to the citizen"), required=True)


class ConfirmForm(ActionForm):
    """Actions without parameters: a button is enough."""


class UnitForm(ActionForm):
    unit = forms.ChoiceField(label=_("Unit"))
    note = _note()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "unit", EMPTY + unit_choices())


class DispatchForm(ActionForm):
    unit = forms.ChoiceField(
        label=_("Lead unit"), required=False,
        help_text=_("Leave empty to use the category's dispatch route."),
    )
    co_units = forms.MultipleChoiceField(
        label=_("Co-handling units"), required=False,
        help_text=_("Leave empty to use the category's dispatch route."),
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    urgency = forms.ChoiceField(label=_("Urgency"), required=False)
    note = _note()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = unit_choices()
        set_choices(self, "unit", EMPTY + units)
        set_choices(self, "co_units", units)
        set_choices(self, "category", EMPTY + category_choices(leaves_only=True))
        set_choices(self, "urgency", EMPTY + list(Urgency.choices))


class CallbackForm(ActionForm):
    """The return visit's outcome: the citizen's answer (nothing preselected: the agent must
    choose what the citizen said), or 联系不上 with the reason when the citizen could not be
    reached after the tries the centre's rule asks for (a single try that did not reach them
    is recorded on the call-back desk, not here)."""

    unreachable = forms.BooleanField(
        label=_("Could not reach the citizen (close without an answer)"), required=False)
    resolved = forms.TypedChoiceField(
        label=_("Resolved?"), choices=[("yes", _("Yes")), ("no", _("No"))], required=False,
        coerce=lambda value: value == "yes", empty_value=None, widget=forms.RadioSelect,
    )
    satisfaction = forms.ChoiceField(label=_("Satisfaction"), required=False,
                                     choices=EMPTY + list(Satisfaction.choices))
    note = _note(_("Note (when unreachable: the tries and why)"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("unreachable"):
            if not (data.get("note") or "").strip():
                self.add_error("note", _("Say why the citizen could not be reached."))
            return data
        if data.get("resolved") is None:
            self.add_error("resolved", _("Say whether the matter was resolved."))
        if not data.get("satisfaction"):
            self.add_error("satisfaction", _("Choose the citizen's satisfaction."))
        return data

    def params(self) -> dict[str, Any]:
        if self.cleaned_data.get("unreachable"):
            return {"unreachable": True, "note": self.cleaned_data["note"]}
        params = super().params()
        params.pop("unreachable", None)
        params["resolved"] = self.cleaned_data["resolved"]
        return params


class ReopenForm(ActionForm):
    reason = _note(_("Reason"), required=True)
    satisfaction = forms.ChoiceField(
        label=_("Satisfaction"), required=False, choices=EMPTY + list(Satisfaction.choices)
    )


class ExtensionForm(ActionForm):
    days = forms.IntegerField(label=_("Extra working days"), min_value=1, max_value=30)
    reason = _note(_("Reason"), required=True)


class MergeForm(ActionForm):
    into = forms.RegexField(label=_("Merge into (acceptance number)"), regex=r"^\d{8}$",
                            max_length=8)
    note = _note()


class LinkForm(ActionForm):
    other = forms.RegexField(label=_("Link to (acceptance number)"), regex=r"^\d{8}$",
                             max_length=8)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrderLink.Kind.choices,
                             initial=OrderLink.Kind.RELATED)
    note = _note()


class UnlinkForm(ActionForm):
    other = forms.RegexField(label=_("Linked order (acceptance number)"), regex=r"^\d{8}$",
                             max_length=8)
    note = _note()


class EscalateForm(ActionForm):
    linkage_units = forms.MultipleChoiceField(label=_("Linkage units"), required=False)
    note = _note(_("What happened"), required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "linkage_units", unit_choices())


class AssignForm(ActionForm):
    """分派承办人. The choices are the handlers of the order's unit (``for_order``)."""

    handler = forms.ChoiceField(label=_("Handler"))
    note = _note()

    def for_order(self, order: Order, actor: User) -> None:
        from hotline.orders.assignees import assigns_others, unit_handlers

        handlers = unit_handlers(order.lead_unit)
        if not assigns_others(actor):
            handlers = handlers.filter(pk=actor.pk)
        set_choices(self, "handler", [(u.username, str(u)) for u in handlers
                                      if u.pk != order.handler_id])


A = Action
ACTION_FORMS: dict[Action, type[ActionForm]] = {
    A.ANSWER: AnswerForm,
    A.REJECT: ReasonForm,
    A.DISPATCH: DispatchForm,
    A.TRANSFER: UnitForm,
    A.SIGN: ConfirmForm,
    A.RETURN: ReasonForm,
    A.APPROVE_RETURN: UnitForm,
    A.DENY_RETURN: ReasonForm,
    A.REPLY: ReplyForm,
    A.CO_REPLY: ReplyForm,
    A.APPROVE_REPLY: NoteForm,
    A.DENY_REPLY: ReasonForm,
    A.CALLBACK: CallbackForm,
    A.REOPEN: ReopenForm,
    A.ARCHIVE: ConfirmForm,
    A.URGE: NoteForm,
    A.SUPERVISE: NoteForm,
    A.INSTRUCT: RequiredNoteForm,
    A.REQUEST_EXTENSION: ExtensionForm,
    A.APPROVE_EXTENSION: NoteForm,
    A.DENY_EXTENSION: ReasonForm,
    A.SUSPEND: ReasonForm,
    A.RESUME: NoteForm,
    A.MERGE: MergeForm,
    A.ESCALATE: EscalateForm,
    A.CONFIRM_ESCALATION: NoteForm,
    A.LINK: LinkForm,
    A.UNLINK: UnlinkForm,
    A.ASSIGN: AssignForm,
}


def action_form(action: Action, data: Any = None, *, order: Order | None = None,
                actor: User | None = None) -> ActionForm:
    """The action's form; field ids are prefixed by the action so many fit on one page. A form
    whose choices depend on the order (``for_order``) gets them when an order is given."""
    form = ACTION_FORMS[action](data=data, prefix=action.value)
    if order is not None and actor is not None and isinstance(form, AssignForm):
        form.for_order(order, actor)
    return form


class StatusQueryForm(PortalForm):
    number = forms.CharField(
        label=_("Acceptance number"), max_length=16,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone number given when you called"), max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
