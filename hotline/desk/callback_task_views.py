"""The desk's call-back tasks (回访 and missed calls): the due list, one click to call (preview
dialling: the agent's own phone rings first), the call's progress and the outcome.

Every view admits agents and shift monitors (``desk_required``); the services check the task's
scope and who holds it. The citizen's number is shown masked: the gateway dials it, so the
agent never needs the digits (and a 举报/confidential order's citizen is not named at all).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from hotline.core.errors import ServiceError
from hotline.core.phones import mask_phone
from hotline.desk.views import desk_required, error_text
from hotline.orders.models import Satisfaction
from hotline.orders.scope import citizen_hidden
from hotline.outreach import callbacks
from hotline.outreach.models import OutboundCall
from hotline.outreach.models_callbacks import CallbackTask, TaskKind, TaskState
from hotline.web.access import StaffRequest

LIVE_CALL = (OutboundCall.State.QUEUED, OutboundCall.State.DIALLING)
CHANGED = "desk-callback-tasks-changed"


class VisitOutcomeForm(forms.Form):
    resolved = forms.TypedChoiceField(
        label=gettext_lazy("Resolved?"), coerce=lambda v: v == "yes",
        choices=[("yes", gettext_lazy("Resolved")), ("no", gettext_lazy("Not resolved"))])
    satisfaction = forms.ChoiceField(label=gettext_lazy("Satisfaction"),
                                     choices=Satisfaction.choices)
    words = forms.CharField(label=gettext_lazy("The citizen's words"), required=False,
                            max_length=callbacks.WORDS_CHARS, widget=forms.Textarea(attrs={
                                "rows": 3}))


class ReachedForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)


def shown_phone(user: Any, task: CallbackTask) -> str:
    if task.order is not None and citizen_hidden(user, task.order):
        return ""
    return mask_phone(task.phone)


def _row(request: StaffRequest, task: CallbackTask) -> dict[str, Any]:
    now = timezone.now()
    return {
        "task": task, "phone": shown_phone(request.user, task), "late": task.due_at <= now,
        "mine": task.state == TaskState.CALLING and task.agent_id == request.user.pk,
        "missed": list(task.missed_calls.all()) if task.kind == TaskKind.MISSED else [],
    }


def _panel(request: StaffRequest, task: CallbackTask, status: int = 200,
           form: forms.Form | None = None) -> HttpResponse:
    call = task.call
    # Once the citizen answered (the agent writes while they talk), not while it rings.
    may_record = (task.state == TaskState.CALLING and task.agent_id == request.user.pk
                  and call is not None and call.state not in (
                      OutboundCall.State.QUEUED, OutboundCall.State.CANCELLED,
                      OutboundCall.State.BLOCKED) and callbacks.citizen_answered(call))
    context = {
        **_row(request, task), "call": call, "may_record": may_record,
        # Polled while queued or ringing; not once the form is shown (a poll would replace
        # the form and what the agent is typing).
        "live": (call is not None and call.state in LIVE_CALL
                 and task.state == TaskState.CALLING and not may_record),
        "form": form or (VisitOutcomeForm() if task.kind == TaskKind.VISIT else ReachedForm()),
    }
    response = render(request, "desk/_callback_task.html", context, status=status)
    return response


def _refusal(request: StaffRequest, text: str, status: int) -> HttpResponse:
    """The panel with the reason (``desk-callbacks.js`` lets htmx show a 4xx)."""
    response = render(request, "desk/_callback_task_error.html", {"text": text}, status=status)
    response["HX-Trigger"] = CHANGED  # the list may have changed under the agent
    return response


def _failed(request: StaffRequest, error: ServiceError) -> HttpResponse:
    if request.htmx:
        return _refusal(request, error_text(error), error.status)
    messages.error(request, error_text(error))
    return redirect("desk:desk")


def _done(request: StaffRequest, task: CallbackTask, text: str) -> HttpResponse:
    if not request.htmx:
        messages.success(request, text)
        return redirect("desk:desk")
    task = callbacks.get_task_for(request.user, task.pk)
    response = _panel(request, task)
    response["HX-Trigger"] = CHANGED
    return response


@desk_required
@require_GET
def task_list(request: StaffRequest) -> HttpResponse:
    """「待回访 / 未接来电」: my calls in progress first, then what is due, overdue first."""
    rows = [_row(request, task) for task in callbacks.due_tasks(request.user)]
    return render(request, "desk/_callback_tasks.html", {"rows": rows})


@desk_required
@require_GET
def task_panel(request: StaffRequest, task_id: int) -> HttpResponse:
    """One task: the call's progress (polled while it is queued or under way) and the forms."""
    try:
        task = callbacks.get_task_for(request.user, task_id)
    except ServiceError as error:
        return _refusal(request, error_text(error), error.status)
    return _panel(request, task)


@desk_required
@require_POST
def task_call(request: StaffRequest, task_id: int) -> HttpResponse:
    try:
        task = callbacks.do_start_call(request.user, task_id)
    except ServiceError as error:
        return _failed(request, error)
    return _done(request, task, _("Your phone rings first; then the citizen is dialled."))


@desk_required
@require_POST
def task_record(request: StaffRequest, task_id: int) -> HttpResponse:
    form = VisitOutcomeForm(request.POST)
    if not form.is_valid():
        errors = " ".join(str(e) for field in form.errors.values() for e in field)
        return _refusal(request, errors or _("Invalid request."), 422)
    try:
        task = callbacks.do_record_visit(
            request.user, task_id, resolved=form.cleaned_data["resolved"],
            satisfaction=form.cleaned_data["satisfaction"], words=form.cleaned_data["words"])
    except ServiceError as error:
        return _failed(request, error)
    return _done(request, task, _("The call back is recorded."))


@desk_required
@require_POST
def task_reached(request: StaffRequest, task_id: int) -> HttpResponse:
    form = ReachedForm(request.POST)
    if not form.is_valid():
        return _refusal(request, _("Invalid request."), 422)
    try:
        task = callbacks.do_record_reached(request.user, task_id,
                                           note=form.cleaned_data["note"])
    except ServiceError as error:
        return _failed(request, error)
    return _done(request, task, _("The call back is recorded."))


@desk_required
@require_POST
def task_not_reached(request: StaffRequest, task_id: int) -> HttpResponse:
    try:
        task = callbacks.do_record_not_reached(request.user, task_id)
    except ServiceError as error:
        return _failed(request, error)
    return _done(request, task, _("Recorded as not reached."))


@desk_required
@require_POST
def task_release(request: StaffRequest, task_id: int) -> HttpResponse:
    try:
        task = callbacks.do_release_task(request.user, task_id)
    except ServiceError as error:
        return _failed(request, error)
    return _done(request, task, _("The call is cancelled; the task is back in the list."))
