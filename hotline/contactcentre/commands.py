"""Commands from a desk to the gateway that holds a live call: hold, transfers, three-way calls,
emergency transfer, and the supervisor's listen / whisper / barge.

The web process only records the command (``do_issue_command``) after checking who may do what;
the gateway named on the call reads its pending commands (``pending_commands``), carries them out
on its event loop and records the outcome (``do_finish_command``), which the desk sees as a
``command_done`` event. A command is never carried out twice: finishing is a conditional UPDATE
on ``status = pending``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.contactcentre import events
from hotline.contactcentre.models import (
    CallCommand,
    CallOutcome,
    CommandAction,
    CommandStatus,
    Queue,
    QueuedCall,
    SipExtension,
)
from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.core.roles import Role
from hotline.directory.models import Unit, User

AGENT_ACTIONS = frozenset({
    CommandAction.HOLD, CommandAction.RESUME, CommandAction.HANG_UP,
    CommandAction.BLIND_TRANSFER, CommandAction.CONSULT, CommandAction.COMPLETE_TRANSFER,
    CommandAction.CANCEL_CONSULT, CommandAction.CONFERENCE, CommandAction.EMERGENCY,
})
MONITOR_ACTIONS = frozenset({CommandAction.LISTEN, CommandAction.WHISPER, CommandAction.BARGE})
MONITOR_ROLES = frozenset({Role.MONITOR, Role.CENTRE_ADMIN})
NEEDS_TARGET = frozenset({CommandAction.BLIND_TRANSFER, CommandAction.CONSULT,
                          CommandAction.CONFERENCE, CommandAction.EMERGENCY})
# 110 police, 119 fire, 120 ambulance, 122 traffic accidents.
EMERGENCY_NUMBERS = {"110": "police", "119": "fire", "120": "ambulance", "122": "traffic"}
NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


class TargetKind:
    EXTENSION = "extension"  # an agent's (or leader's) registered phone
    QUEUE = "queue"  # back into the ACD, another queue
    NUMBER = "number"  # a department's transfer number or an emergency number, via the trunk


@dataclass(frozen=True)
class Target:
    kind: str
    value: str  # the extension number, the queue code or the number to dial
    label: str


def resolve_target(raw: str) -> Target:
    """What a transfer or conference target names: an enabled extension, an active queue
    (``queue:<code>`` or the bare code), a unit's transfer number or an emergency number."""
    text = raw.strip()
    if not text:
        raise InvalidInput(gettext_noop("say where to transfer the call"), "target")
    code = text.removeprefix("queue:")
    queue = Queue.objects.filter(code=code, active=True).first()
    if queue is not None:
        return Target(TargetKind.QUEUE, queue.code, queue.name)
    # Directory numbers are often written with a dash (0591-12345001): the unit is found by
    # the number as written, the trunk dials the digits.
    unit = Unit.objects.filter(phone=text).exclude(phone="").first()
    digits = text.replace("-", "") if unit is not None else text
    if unit is not None and NUMBER.match(digits):
        return Target(TargetKind.NUMBER, digits, unit.name)
    if not NUMBER.match(text):
        raise InvalidInput(gettext_noop("not an extension, queue or telephone number"), "target")
    extension = SipExtension.objects.filter(number=text, enabled=True).select_related(
        "agent").first()
    if extension is not None:
        who = extension.agent.display_name or extension.agent.username \
            if extension.agent else extension.number
        return Target(TargetKind.EXTENSION, extension.number, who)
    if text in EMERGENCY_NUMBERS:
        return Target(TargetKind.NUMBER, text, text)
    raise InvalidInput(gettext_noop("this number is not in the transfer directory"), "target")


def check_command(actor: User, call: QueuedCall, action: str, target: str = "") -> Target | None:
    """Who may do what: the agent on the call issues call-handling commands; shift monitors
    (and centre administrators) listen, whisper, barge and may hang up any live call."""
    if action not in CommandAction.values:
        raise InvalidInput(gettext_noop("unknown command"), "action")
    if action in MONITOR_ACTIONS:
        if actor.role not in MONITOR_ROLES:
            raise Forbidden("only a shift monitor may listen in, whisper or barge in")
    elif actor.role in MONITOR_ROLES and action == CommandAction.HANG_UP:
        pass
    elif call.agent_id != actor.pk:
        raise Forbidden(gettext_noop("this is not your call"))
    if call.outcome != CallOutcome.TALKING or not call.gateway:
        raise Conflict(gettext_noop("the call is not connected to an agent"), "call")
    if action in MONITOR_ACTIONS:
        phone = SipExtension.objects.filter(agent=actor, enabled=True).first()
        if phone is None:
            raise InvalidInput("you need a SIP extension to listen in", "target")
        return Target(TargetKind.EXTENSION, phone.number, actor.display_name or actor.username)
    if action == CommandAction.EMERGENCY:
        if target not in EMERGENCY_NUMBERS:
            raise InvalidInput(gettext_noop("emergency numbers are 110, 119, 120 and 122"), "target")
        return Target(TargetKind.NUMBER, target, target)
    if action in NEEDS_TARGET:
        resolved = resolve_target(target)
        if action != CommandAction.BLIND_TRANSFER and resolved.kind == TargetKind.QUEUE:
            raise InvalidInput(gettext_noop("a consultation or three-way call needs a person or a number"),
                               "target")
        return resolved
    return None


def do_issue_command(actor: User, call_id: int, action: str, target: str = "",
                     now: dt.datetime | None = None) -> CallCommand:
    call = QueuedCall.objects.filter(pk=call_id).first()
    if call is None:
        raise NotFound(gettext_noop("no such call"), "call")
    resolved = check_command(actor, call, action, target)
    stored = f"{resolved.kind}:{resolved.value}" if resolved is not None else ""
    return CallCommand.objects.create(call=call, gateway=call.gateway, action=action,
                                      target=stored, issued_by=actor,
                                      created_at=now or timezone.now())


def split_target(stored: str) -> Target | None:
    """The gateway's reading of ``CallCommand.target`` (``kind:value``)."""
    kind, sep, value = stored.partition(":")
    return Target(kind, value, value) if sep else None


def pending_commands(gateway: str, limit: int = 100) -> list[CallCommand]:
    return list(CallCommand.objects.filter(gateway=gateway, status=CommandStatus.PENDING)
                .order_by("id")[:limit])


def do_finish_command(command_id: int, ok: bool, result: str = "",
                      now: dt.datetime | None = None) -> bool:
    """Record the outcome once; False when the command was already finished."""
    when = now or timezone.now()
    with transaction.atomic():
        done = CallCommand.objects.filter(pk=command_id, status=CommandStatus.PENDING).update(
            status=CommandStatus.DONE if ok else CommandStatus.FAILED, done_at=when,
            result=result[:255])
        if not done:
            return False
        command = CallCommand.objects.get(pk=command_id)
        events.publish(events.Kind.COMMAND_DONE, agent_id=command.issued_by_id,
                       call_id=command.call_id, at=when, command=command.pk,
                       action=command.action, ok=ok, result=result[:255])
    return True


def do_update_call(call_id: int, *, agent_id: int | None = None, on_hold: bool | None = None,
                   now: dt.datetime | None = None, **details: object) -> None:
    """The gateway reports a change of a live call (hold, consultation, conference, monitors):
    stored where the desk reads it and published to the agent's desk and the wallboard."""
    when = now or timezone.now()
    with transaction.atomic():
        if on_hold is not None:
            record_hold(call_id, on_hold, when)
        events.publish(events.Kind.CALL_UPDATED, agent_id=agent_id, call_id=call_id,
                       at=when, on_hold=on_hold, **details)


def record_hold(call_id: int, on_hold: bool, when: dt.datetime) -> None:
    """Set the call's hold flag and account the hold time: a hold starts once (a repeated
    report does not restart it) and its seconds are added when it ends."""
    calls = QueuedCall.objects.filter(pk=call_id)
    if on_hold:
        calls.filter(held_at__isnull=True).update(on_hold=True, held_at=when)
        calls.update(on_hold=True)
        return
    held_at = calls.values_list("held_at", flat=True).first()
    if held_at is not None:
        calls.update(on_hold=False, held_at=None,
                     hold_s=F("hold_s") + max(0.0, (when - held_at).total_seconds()))
    else:
        calls.update(on_hold=False)
