"""The agent desk (坐席工作台): the page, the agent's state buttons and the call backs.

The page itself is server-rendered; the desk's script (``static/desk/desk.js``) listens on the
desk websocket and fetches the server-rendered partials of ``views_calls`` when a call is
offered. Every view checks the role (agents and shift monitors) and, for a call, that it is the
agent's (``callbacks.check_call_is_mine``). Service errors become a 4xx with a message in the
user's language, never a 500.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline.contactcentre import callbacks
from hotline.contactcentre.acd import states
from hotline.contactcentre.callbacks import open_callbacks
from hotline.contactcentre.commands import EMERGENCY_NUMBERS
from hotline.contactcentre.models import Action, AgentStatus, ScheduledCallback, SipExtension, State
from hotline.contactcentre.services import DESK_ROLES, do_set_state, do_sign_in, do_sign_out
from hotline.core.errors import Conflict, ServiceError
from hotline.desk.figures import figures_context
from hotline.desk.forms import DeskOrderForm, StateForm, reason_choices
from hotline.desk.pop import do_log_pop, screen_pop
from hotline.directory.models import User
from hotline.orders.access_log import do_log_access
from hotline.orders.models import AccessKind
from hotline.web.access import StaffRequest, role_required

LIVE_STATES = frozenset({State.RINGING, State.TALKING, State.WRAP_UP})


def may_use_desk(user: Any) -> bool:
    return bool(user.is_authenticated and user.role in DESK_ROLES)


desk_required = role_required(may_use_desk, roles=DESK_ROLES)


def wants_json(request: StaffRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def error_text(error: ServiceError) -> str:
    """The service's message in the user's language (the catalogue has the desk's ones)."""
    return _(error.message)


def state_conflict_text(action: str, state: str) -> str:
    labels = dict(Action.choices)
    return _("“%(action)s” is not possible while you are “%(state)s”.") % {
        "action": labels.get(action, action), "state": State(state).label}


def status_of(user: User) -> AgentStatus | None:
    return AgentStatus.objects.select_related("call__queue", "extension").filter(
        pk=user.pk).first()


def state_snapshot(status: AgentStatus | None) -> dict[str, Any]:
    """What the page needs to show the agent's state; also sent when the websocket opens."""
    now = timezone.now().isoformat()  # the page's timers correct for the browser's clock
    if status is None:
        return {"now": now, "state": State.SIGNED_OUT.value, "reason": "", "since": None,
                "wrap_up_until": None, "call": None, "call_outcome": None, "on_hold": False,
                "answered_at": None, "extension": ""}
    call = status.call if status.state in LIVE_STATES else None
    return {
        "now": now, "state": status.state, "reason": status.reason, "since": status.since.isoformat(),
        "wrap_up_until": status.wrap_up_until.isoformat() if status.wrap_up_until else None,
        "call": call.pk if call else None,
        "call_outcome": call.outcome if call else None,
        "on_hold": bool(call and call.on_hold),
        "answered_at": call.answered_at.isoformat() if call and call.answered_at else None,
        "extension": status.extension.number if status.extension else "",
    }


def page_config() -> dict[str, Any]:
    """Labels and the state machine as data for the script: which buttons each state offers."""
    return {
        "states": {value: str(label) for value, label in State.choices},
        "reasons": {value: str(label) for value, label in reason_choices()},
        "allowed": {state.value: [a.value for a in states.allowed_actions(state)]
                    for state in states.AgentState},
        "text": {
            "offered": _("Incoming call"), "talking": _("On a call"),
            "wrap_up": _("Wrap-up"), "ended": _("The caller hung up."),
            "gone": _("The caller hung up before the call was answered."),
            "missed": _("The call was not answered: you are set to not ready."),
            "sent": _("Sent to the phone system…"), "done": _("Carried out"),
            "failed": _("Failed"), "hold": _("Put on hold"),
            "resume": _("Resume the call"),
            "on_hold": _("Caller on hold"), "consulting": _("Consulting"),
            "conference": _("In a three-way call"), "monitored": _("Monitored by"),
            "reconnecting": _("Connection lost, reconnecting…"),
            "confirm_emergency": _("Transfer this call to %(number)s?"),
            "need_reason": _("Choose a reason for not being ready."),
            "modes": {"listen": _("listening in"), "whisper": _("whispering"),
                      "barge": _("barged in")},
        },
    }


@desk_required
@require_GET
def desk(request: StaffRequest) -> HttpResponse:
    user = request.user
    status = status_of(user)
    snapshot = state_snapshot(status)
    call = status.call if status is not None and status.state in LIVE_STATES else None
    context: dict[str, Any] = {
        "snapshot": snapshot, "config": page_config(), "status": status,
        "state_label": State(snapshot["state"]).label, "reasons": reason_choices(),
        "extension": SipExtension.objects.filter(agent=user, enabled=True).first(),
        "callbacks": shown_callbacks(request), "now": timezone.now(),
        "emergency": sorted(EMERGENCY_NUMBERS.items()), "call": call,
    }
    if call is not None:
        context["pop"] = pop = screen_pop(user, call)
        context["form"] = DeskOrderForm.for_call(call)
        do_log_pop(user, call, pop.number, pop.name, request)  # the panel and the form
    else:
        context.update(figures_context(user))
    return render(request, "desk/desk.html", context)


@desk_required
@require_GET
def desk_status(request: StaffRequest) -> JsonResponse:
    return JsonResponse(state_snapshot(status_of(request.user)))


@desk_required
@require_POST
def desk_state(request: StaffRequest) -> HttpResponse:
    """签入 / 示闲 / 示忙 (with a reason) / 签出 for the agent at the desk."""
    form = StateForm(request.POST)
    if not form.is_valid():
        errors = [str(e) for field in form.errors.values() for e in field]
        return _answer(request, 422, " ".join(errors) or _("Invalid request."))
    action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
    user = request.user
    try:
        if action == "sign_in":
            do_sign_in(user)
        elif action == "sign_out":
            do_sign_out(user)
        else:
            do_set_state(user, action, reason=reason)
    except Conflict as error:
        current = status_of(user)
        text = state_conflict_text(action, current.state if current else State.SIGNED_OUT) \
            if error.field == "state" else error_text(error)
        return _answer(request, 409, text)
    except ServiceError as error:
        return _answer(request, error.status, error_text(error))
    if wants_json(request):
        return JsonResponse(state_snapshot(status_of(user)))
    return redirect("desk:desk")


def shown_callbacks(request: StaffRequest) -> list[ScheduledCallback]:
    """The agent's open call backs as the desk lists them, with the numbers to call in full:
    each row shown is an access to that citizen's number, logged before the page is built."""
    rows = list(open_callbacks(request.user)[:50])
    for callback in rows:
        do_log_access(request.user, AccessKind.CITIZEN_VIEW, order=callback.order,
                      request=request, detail=f"call back list #{callback.pk}")
    return rows


def _answer(request: StaffRequest, status: int, text: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": text}, status=status)
    messages.error(request, text)
    return redirect("desk:desk")


def _callbacks_partial(request: StaffRequest) -> HttpResponse:
    return render(request, "desk/_callbacks.html", {
        "callbacks": shown_callbacks(request), "now": timezone.now()})


@desk_required
@require_GET
def callback_list(request: StaffRequest) -> HttpResponse:
    """「我的待回电」, refreshed after an order promises a call back."""
    return _callbacks_partial(request)


@desk_required
@require_POST
def callback_done(request: StaffRequest, callback_id: int) -> HttpResponse:
    """已回电: the promised call back was made."""
    try:
        callbacks.do_mark_called_back(request.user, callback_id)
    except ServiceError as error:
        if request.htmx:
            return HttpResponse(error_text(error), status=error.status)
        return _answer(request, error.status, error_text(error))
    if request.htmx:
        return _callbacks_partial(request)
    messages.success(request, _("Call back marked as done."))
    return redirect("desk:desk")
