"""The supervisor's wallboard pages (/desk/wallboard/), for shift monitors and centre admins.

- ``/desk/wallboard/``            the big-screen page; its websocket sends fresh figures
- ``/desk/wallboard/live/``       the live part alone (the page polls it when the socket is down)
- ``/desk/wallboard/agents/N/``   the action panel for one agent (示闲 / 示忙 / 签出, and on a
                                  live call 监听 / 耳语 / 强插 / 强拆)
- ``.../agents/N/state/`` and ``.../calls/N/command/``  the actions (POST), through the desk
  services; htmx gets the panel back with the outcome, a plain form post a redirect.

Thin: ``stats.wallboard`` computes, ``present`` formats, the services decide what is allowed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hotline.contactcentre import commands, services, stats
from hotline.contactcentre.acd import states
from hotline.contactcentre.acd.states import AgentAction
from hotline.contactcentre.models import (
    AgentStatus,
    CallCommand,
    CommandAction,
    CommandStatus,
    QueuedCall,
    Reason,
    SipExtension,
    State,
)
from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from hotline.core.phones import mask_phone
from hotline.web.access import StaffRequest, role_required

STATE_ACTIONS = (AgentAction.READY, AgentAction.NOT_READY, AgentAction.SIGN_OUT)
CALL_ACTIONS = (CommandAction.LISTEN, CommandAction.WHISPER, CommandAction.BARGE,
                CommandAction.HANG_UP)
NEEDS_PHONE = (CommandAction.LISTEN, CommandAction.WHISPER, CommandAction.BARGE)

def supervisor_label(action: str) -> str:
    """监听 / 耳语 / 强插 / 强拆: the supervisor's names for the commands (an agent's own
    hang-up is 挂断, the supervisor's is 强拆)."""
    labels = {CommandAction.LISTEN: _("Listen in"), CommandAction.WHISPER: _("Whisper"),
              CommandAction.BARGE: _("Barge in"), CommandAction.HANG_UP: _("Force hang-up")}
    if action in labels:
        return str(labels[CommandAction(action)])
    return str(CommandAction(action).label) if action in CommandAction.values else action


STATE_TONE = {State.IDLE: "ready", State.BUSY: "busy", State.RINGING: "ringing",
              State.TALKING: "talking", State.WRAP_UP: "wrap", State.SIGNED_IN: "signed-in"}


def may_watch(user: Any) -> bool:
    return bool(user.is_authenticated and user.role in commands.MONITOR_ROLES)


def has_phone(user: Any) -> bool:
    return SipExtension.objects.filter(agent=user, enabled=True).exists()


# --- formatting -------------------------------------------------------------------------------

def clock(seconds: float | None) -> str:
    """12:05 or 1:02:05 (the page's script ticks the same format on)."""
    if seconds is None:
        return "—"
    total = int(max(0.0, seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def sl_tone(share: float | None, target: float) -> str:
    if share is None:
        return ""
    return "ok" if share >= target else ("warn" if share >= target - 0.1 else "bad")


def _pair(a: object, b: object) -> str:
    return f"{a} / {b}"


def present(board: stats.Wallboard) -> dict[str, Any]:
    """The template's view of the board: numbers formatted, tones chosen, epochs for ticking."""
    now = board.now.timestamp()
    target = board.target_share
    queues = []
    for q in board.queues:
        w15, w60 = q.last15, q.last60
        queues.append({
            "id": q.id, "code": q.code, "name": q.name, "waiting": q.waiting,
            "longest": clock(q.longest_wait_s),
            "longest_since": now - q.longest_wait_s if q.longest_wait_s is not None else None,
            "longest_tone": "bad" if (q.longest_wait_s or 0) > q.service_level_s else "",
            "target_s": q.service_level_s,
            "sl15": percent(w15.service_level), "sl15_tone": sl_tone(w15.service_level, target),
            "sl60": percent(w60.service_level), "sl60_tone": sl_tone(w60.service_level, target),
            "answered": _pair(w15.answered, w60.answered),
            "abandoned": _pair(w15.abandoned, w60.abandoned),
            "abandon_rate": _pair(percent(w15.abandon_rate), percent(w60.abandon_rate)),
            "wait": _pair(clock(w15.average_wait_s), clock(w60.average_wait_s)),
            "talk": _pair(clock(w15.average_talk_s), clock(w60.average_talk_s)),
            "offered60": w60.offered,
            "needed": q.forecast.agents_needed, "serving": q.forecast.serving,
            "short_by": q.forecast.short_by, "load": f"{q.forecast.load:.2f}",
            "aht": clock(q.forecast.aht_s),
        })
    agents = []
    for row in board.agent_rows:
        agents.append({
            "id": row.id, "name": row.name, "extension": row.extension or "—",
            "state": row.state, "state_label": row.state_label,
            "tone": STATE_TONE.get(State(row.state), ""),
            "reason": row.reason_label if row.reason else "",
            "in_state": clock(row.seconds_in_state), "since": row.since.timestamp(),
            "caller": row.caller, "on_hold": row.on_hold, "calls_today": row.calls_today,
            "on_call": row.on_call,
        })
    reasons = [(str(Reason(code).label) if code in Reason.values else code, n)
               for code, n in board.agents.not_ready_by_reason.items()]
    t15, t60 = board.last15, board.last60
    return {
        "now": now, "now_local": timezone.localtime(board.now),
        "utc_offset": (timezone.localtime(board.now).utcoffset() or dt.timedelta()).total_seconds(),
        "waiting": board.waiting, "longest": clock(board.longest_wait_s),
        "longest_since": now - board.longest_wait_s if board.longest_wait_s is not None else None,
        "longest_tone": "bad" if board.longest_wait_s and board.service_level_s
        and board.longest_wait_s > board.service_level_s else "",
        "sl15": percent(t15.service_level), "sl15_tone": sl_tone(t15.service_level, target),
        "sl60": percent(t60.service_level), "sl60_tone": sl_tone(t60.service_level, target),
        "target": percent(target), "target_s": board.service_level_s,
        "answered15": t15.answered, "answered60": t60.answered,
        "abandoned15": t15.abandoned, "abandoned60": t60.abandoned,
        "abandon_rate60": percent(t60.abandon_rate),
        "short_abandoned60": t60.short_abandoned,
        "counts": board.agents, "reasons": reasons, "queues": queues, "agents": agents,
    }


def render_live(language: str | None = None, now: dt.datetime | None = None) -> str:
    """The live part of the page as HTML, for the websocket (which has no request)."""
    with translation.override(language):
        return render_to_string("desk/wallboard_live.html", present(stats.wallboard(now)))


def render_command_done(event: dict[str, Any], language: str | None = None) -> str:
    """One line for the page's list of command outcomes (from a ``command_done`` event): what,
    on whose call (agent and masked caller), and how it went."""
    call_id = event.get("call")
    call = (QueuedCall.objects.filter(pk=int(call_id))
            .values("caller", "agent__display_name", "agent__username").first()
            if call_id is not None else None)
    with translation.override(language):
        return render_to_string("desk/wallboard_command.html", {
            "label": supervisor_label(event.get("action", "")), "ok": bool(event.get("ok")),
            "result": event.get("result", ""),
            "at": timezone.localtime(dt.datetime.fromisoformat(event["at"]))
            if event.get("at") else None,
            "agent": (call["agent__display_name"] or call["agent__username"] or "")
            if call else "",
            "caller": mask_phone(call["caller"]) if call else "",
            "command": event.get("command"),
        })


# --- pages --------------------------------------------------------------------------------

@require_GET
@role_required(may_watch, roles=commands.MONITOR_ROLES)
def wallboard_page(request: StaffRequest) -> HttpResponse:
    return render(request, "desk/wallboard.html", {
        **present(stats.wallboard()), "has_phone": has_phone(request.user),
    })


@require_GET
@role_required(may_watch, roles=commands.MONITOR_ROLES)
def wallboard_live(request: StaffRequest) -> HttpResponse:
    return render(request, "desk/wallboard_live.html", present(stats.wallboard()))


def _status(agent_id: int) -> AgentStatus:
    status = (AgentStatus.objects.select_related("agent", "extension", "call")
              .filter(pk=agent_id).first())
    if status is None:
        raise Http404
    return status


def _panel(request: StaffRequest, agent_id: int, *, error: str = "", notice: str = "",
           status: int = 200) -> HttpResponse:
    agent = _status(agent_id)
    allowed = set(states.allowed_actions(agent.state))
    call = agent.call if agent.state == State.TALKING else None
    recent = [(c, supervisor_label(c.action)) for c in CallCommand.objects.filter(
        call=call, issued_by=request.user).order_by("-id")[:5]] if call is not None else []
    return render(request, "desk/wallboard_agent.html", {
        "agent": agent, "name": agent.agent.display_name or agent.agent.username,
        "in_state": clock((timezone.now() - agent.since).total_seconds()),
        "may_ready": AgentAction.READY in allowed,
        "may_not_ready": AgentAction.NOT_READY in allowed,
        "may_sign_out": AgentAction.SIGN_OUT in allowed,
        "reasons": [(value, label) for value, label in Reason.choices
                    if value in states.AGENT_REASONS],
        "call": call, "caller": mask_phone(call.caller) if call else "",
        "phone_note": not has_phone(request.user) and error != no_phone_message(),
        "recent": recent,
        "pending": CommandStatus.PENDING, "error": error, "notice": notice,
    }, status=status)


@require_GET
@role_required(may_watch, roles=commands.MONITOR_ROLES)
def agent_panel(request: StaffRequest, agent_id: int) -> HttpResponse:
    return _panel(request, agent_id)


def _answer(request: StaffRequest, agent_id: int, *, error: str = "", notice: str = "",
            status: int = 200) -> HttpResponse:
    if request.htmx:
        return _panel(request, agent_id, error=error, notice=notice, status=status)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect("wallboard:page")


def _state_error(exc: ServiceError, name: str, state: str, action: str) -> str:
    if isinstance(exc, Conflict):
        return _("%(name)s is %(state)s now: “%(action)s” is not possible.") % {
            "name": name, "state": State(state).label if state in State.values else state,
            "action": ACTION_LABELS[AgentAction(action)]()}
    if isinstance(exc, InvalidInput) and exc.field == "reason":
        return _("Choose a reason for not ready.")
    if isinstance(exc, Forbidden):
        return _("Your role may not change another agent's state.")
    return exc.message


ACTION_LABELS = {
    AgentAction.READY: lambda: _("Ready for calls"),
    AgentAction.NOT_READY: lambda: _("Not ready"),
    AgentAction.SIGN_OUT: lambda: _("Sign out"),
}


@require_POST
@role_required(may_watch, roles=commands.MONITOR_ROLES)
def agent_state(request: StaffRequest, agent_id: int) -> HttpResponse:
    """示闲 / 示忙 (with a reason) / 签出 for another agent, as the monitor."""
    status = _status(agent_id)
    action = request.POST.get("action", "")
    if action not in STATE_ACTIONS:
        return _answer(request, agent_id, error=_("Unknown action."), status=422)
    name = status.agent.display_name or status.agent.username
    try:
        if action == AgentAction.SIGN_OUT:
            services.do_sign_out(request.user, agent=status.agent)
        else:
            services.do_set_state(request.user, action, agent=status.agent,
                                  reason=request.POST.get("reason", "")[:16]
                                  if action == AgentAction.NOT_READY else "")
    except ServiceError as exc:
        now_in = AgentStatus.objects.filter(pk=agent_id).values_list("state", flat=True).first()
        return _answer(request, agent_id, error=_state_error(exc, name, now_in or status.state,
                                                             action), status=exc.status)
    return _answer(request, agent_id, notice=_("%(name)s: %(action)s done.") % {
        "name": name, "action": ACTION_LABELS[AgentAction(action)]()})


def no_phone_message() -> str:
    return _("You need a SIP extension of your own to listen in, whisper or barge in: "
             "the gateway rings it and joins it to the call. Ask a centre administrator "
             "for one.")


def _command_error(exc: ServiceError) -> str:
    if isinstance(exc, InvalidInput) and exc.field == "target":
        return no_phone_message()
    if isinstance(exc, Conflict):
        return _("The call is no longer connected to an agent.")
    if isinstance(exc, Forbidden):
        return _("Your role may not do this.")
    if isinstance(exc, NotFound):
        return _("There is no such call.")
    return exc.message


@require_POST
@role_required(may_watch, roles=commands.MONITOR_ROLES)
def call_command(request: StaffRequest, call_id: int) -> HttpResponse:
    """监听 / 耳语 / 强插 / 强拆 on a live call: recorded as a CallCommand for its gateway."""
    call = QueuedCall.objects.filter(pk=call_id).values("agent_id").first()
    if call is None:
        raise Http404
    agent_id = call["agent_id"]
    if agent_id is None or not AgentStatus.objects.filter(pk=agent_id).exists():
        return _no_agent(request)
    action = request.POST.get("action", "")
    if action not in CALL_ACTIONS:
        return _answer(request, agent_id, error=_("Unknown action."), status=422)
    try:
        command = commands.do_issue_command(request.user, call_id, action)
    except ServiceError as exc:
        return _answer(request, agent_id, error=_command_error(exc), status=exc.status)
    label = supervisor_label(action)
    if action in NEEDS_PHONE:
        phone = (command.target.partition(":")[2]) or "?"
        notice = _("%(action)s requested: your phone %(extension)s will ring.") % {
            "action": label, "extension": phone}
    else:
        notice = _("%(action)s requested.") % {"action": label}
    return _answer(request, agent_id, notice=notice)


def _no_agent(request: StaffRequest) -> HttpResponse:
    error = _("The call is no longer connected to an agent.")
    if request.htmx:
        return render(request, "desk/wallboard_agent.html", {"agent": None, "error": error},
                      status=409)
    messages.error(request, error)
    return redirect("wallboard:page")
