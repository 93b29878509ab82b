"""The desk's call views: the screen pop and the order form beside it (server-rendered partials
the desk's script fetches on ``call_offered``), the order made on the call, call commands and
the transfer directory.

A call is shown only to the agent it is offered to or talking with (and to shift monitors):
anyone else gets 403, an unknown call 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_POST

from hotline.contactcentre.callbacks import Outcome, do_order_from_call, get_call_for
from hotline.contactcentre.commands import do_issue_command
from hotline.contactcentre.models import AgentStatus, Queue, QueuedCall, SipExtension, State
from hotline.core.errors import Forbidden, InvalidInput, NotFound, ServiceError
from hotline.desk.forms import CommandForm, DeskOrderForm
from hotline.desk.pop import do_log_pop, screen_pop
from hotline.desk.views import desk_required, error_text
from hotline.directory.models import Unit, UnitKind
from hotline.orders.services import NewOrder
from hotline.web.access import StaffRequest
from hotline.web.forms import FilesForm

DIRECTORY_SHOWN = 20


def _call(request: StaffRequest, call_id: int) -> QueuedCall:
    try:
        return get_call_for(request.user, call_id)
    except NotFound:
        raise Http404 from None
    except Forbidden:
        raise PermissionDenied from None


@desk_required
@require_GET
def call_pop(request: StaffRequest, call_id: int) -> HttpResponse:
    """The caller's panel (弹屏) for one call."""
    call = _call(request, call_id)
    pop = screen_pop(request.user, call)
    do_log_pop(request.user, call, pop.number, pop.name, request)
    return render(request, "desk/_pop.html", {"pop": pop})


def _form_context(call: QueuedCall, form: DeskOrderForm) -> dict[str, Any]:
    return {"call": call, "form": form, "files": FilesForm()}


@desk_required
@require_GET
def call_form(request: StaffRequest, call_id: int) -> HttpResponse:
    """The new-order form prefilled from the call."""
    call = _call(request, call_id)
    form = DeskOrderForm.for_call(call)
    do_log_pop(request.user, call, form.initial.get("citizen_phone", ""),
               form.initial.get("citizen_name", ""), request, what="order form")
    return render(request, "desk/_order_form.html", _form_context(call, form))


@desk_required
@require_POST
def call_order(request: StaffRequest, call_id: int) -> HttpResponse:
    """Register the order made on the call with one of the outcomes: save, 直接办结, 派单,
    暂无法答复 (with a call back)."""
    call = _call(request, call_id)
    form = DeskOrderForm(request.POST)
    status = 422
    if form.is_valid():
        extra = form.cleaned_data
        try:
            made = do_order_from_call(
                request.user, call, NewOrder(**form.order_data()),
                extra.get("outcome") or Outcome.SAVE, reply=extra.get("reply") or "",
                unit=extra.get("unit") or "", callback_due=extra.get("callback_due"),
                callback_note=extra.get("callback_note") or "",
                idempotency_key=f"desk:{extra['idempotency_key']}")
        except ServiceError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error_text(error))
            status = error.status
        else:
            response = render(request, "desk/_order_done.html", {
                "call": call, "made": made, "order": made.order,
                "outcome": extra.get("outcome") or Outcome.SAVE})
            if made.callback is not None:
                response["HX-Trigger"] = "desk-callbacks-changed"
            return response
    return render(request, "desk/_order_form.html", _form_context(call, form),
                  status=200 if request.htmx else status)


@desk_required
@require_POST
def call_command(request: StaffRequest, call_id: int) -> JsonResponse:
    """Hold, resume, hang up, transfer, consult, three-way call, emergency: recorded for the
    gateway; the outcome comes back as a ``command_done`` event on the websocket."""
    try:
        call = get_call_for(request.user, call_id)
    except ServiceError as error:
        return JsonResponse({"error": error_text(error)}, status=error.status)
    form = CommandForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": error_text(InvalidInput(gettext_noop("unknown command")))}, status=422)
    try:
        command = do_issue_command(request.user, call.pk, form.cleaned_data["action"],
                                   form.cleaned_data["target"])
    except ServiceError as error:
        return JsonResponse({"error": error_text(error)}, status=error.status)
    return JsonResponse({"command": command.pk, "action": command.action,
                         "target": command.target, "status": command.status}, status=201)


@desk_required
@require_GET
def directory(request: StaffRequest) -> HttpResponse:
    """The transfer directory: departments with a transfer number, agents by extension with
    their state, queues; searched by name, code or number."""
    q = request.GET.get("q", "").strip()[:50]
    units = Unit.objects.filter(active=True).exclude(phone="").exclude(kind=UnitKind.CENTRE)
    extensions = SipExtension.objects.filter(enabled=True, agent__isnull=False) \
        .exclude(agent=request.user).select_related("agent")
    queues = Queue.objects.filter(active=True)
    if q:
        units = units.filter(Q(name__icontains=q) | Q(phone__contains=q) | Q(code__icontains=q))
        extensions = extensions.filter(Q(number__startswith=q)
                                       | Q(agent__display_name__icontains=q)
                                       | Q(agent__username__icontains=q))
        queues = queues.filter(Q(name__icontains=q) | Q(code__icontains=q))
    extension_rows = list(extensions[:DIRECTORY_SHOWN])
    states = dict(AgentStatus.objects.filter(
        agent_id__in=[e.agent_id for e in extension_rows]).values_list("agent_id", "state"))
    labels = dict(State.choices)
    agents = []
    for extension in extension_rows:
        state = states.get(extension.agent_id or 0, State.SIGNED_OUT)
        agents.append({"extension": extension, "state": state, "state_label": labels[state]})
    return render(request, "desk/_directory.html", {
        "q": q, "units": list(units.order_by("name")[:DIRECTORY_SHOWN]), "agents": agents,
        "queues": list(queues.order_by("code")[:DIRECTORY_SHOWN])})
