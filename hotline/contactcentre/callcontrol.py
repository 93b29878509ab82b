"""Call control as data: the states of an agent call and of its legs, the desk's commands and
the gateway's own events that change them, and what each change does (its effects).

No framework and no asyncio imports on purpose, like the order lifecycle: the tables below are
the whole state machine, ``call_step``, ``command_step`` and ``leg_step`` the only ways to read
them, and every pair is tested. The gateway (``hotline.voice.agentcalls`` and
``hotline.voice.call_commands``) asks the table for the next state and the effects and only
carries the effects out on its SIP legs and media bridge.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar


class CallState(StrEnum):
    """An agent call at the gateway, from the queue to the end."""

    WAITING = "waiting"  # in a queue: announcements and hold music
    RINGING = "ringing"  # an agent's phone rings for it (the music goes on)
    TALKING = "talking"  # bridged with an agent (or with whoever took it over)
    ENDED = "ended"


class Command(StrEnum):
    """The desk's commands on a live call; the values are the stored ``CommandAction``s."""

    HOLD = "hold"
    RESUME = "resume"
    HANG_UP = "hangup"
    BLIND_TRANSFER = "blind_transfer"
    CONSULT = "consult"  # the first half of an attended transfer
    COMPLETE_TRANSFER = "complete_transfer"
    CANCEL_CONSULT = "cancel_consult"
    CONFERENCE = "conference"  # three-way call
    EMERGENCY = "emergency"  # a blind transfer to an emergency number
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


class CallEvent(StrEnum):
    """What happens to a call at the gateway itself, not commanded by the desk."""

    OFFER = "offer"  # the ACD claimed an agent: their phone rings
    RING_FAILED = "ring_failed"  # that phone did not answer: the call waits again
    AGENT_ANSWERED = "agent_answered"
    REQUEUE = "requeue"  # a blind transfer to a queue: back into the ACD
    OVERFLOW = "overflow"  # nobody in time: mailbox or call-back request
    CALLER_GONE = "caller_gone"  # the caller's side ended


class LegRole(StrEnum):
    """Who is on one outgoing leg of a call."""

    AGENT = "agent"  # the agent who has the call
    CONSULT = "consult"  # the person an agent consults before an attended transfer
    PARTY = "party"  # a third party (three-way call, a transfer to a number)
    MONITOR = "monitor"  # a supervisor listening, whispering or barging in


class LegState(StrEnum):
    RINGING = "ringing"
    CONNECTED = "connected"
    ENDED = "ended"


class LegEvent(StrEnum):
    ANSWERED = "answered"  # 200 OK with media
    FAILED = "failed"  # refused, busy, or not answered in time
    HANG_UP = "hang_up"  # we end it (BYE, or CANCEL while it rings)
    GONE = "gone"  # the other side hung up


class TargetKind(StrEnum):
    """What a transfer, consultation or three-way call reaches (``CallCommand.target``)."""

    QUEUE = "queue"
    EXTENSION = "extension"
    NUMBER = "number"


class Effect(StrEnum):
    """What the gateway does on a change, in the order listed."""

    # calls
    START_WAITING = "start_waiting"  # announcements and hold music for the caller
    STOP_WAITING = "stop_waiting"
    BRIDGE_AGENT = "bridge_agent"  # join the answering agent's leg to the caller
    HANG_UP_LEGS = "hang_up_legs"  # every leg of the call ends, their queue entries close
    HANG_UP_CALLER = "hang_up_caller"
    HOLD_CALLER = "hold_caller"  # the caller hears hold music, the others do not hear them
    RESUME_CALLER = "resume_caller"
    REPORT = "report"  # tell the desk who is on the call (and whether it is on hold)
    TRANSFER = "transfer"  # to a queue, or ring the target with the caller held, then hand over
    CONSULT = "consult"  # ring the target with the caller held, bridge the consultee
    HAND_OVER_TO_CONSULTEE = "hand_over_to_consultee"
    RELEASE_CONSULTEE = "release_consultee"
    ADD_PARTY = "add_party"  # ring a third party and bridge them in
    MONITOR = "monitor"  # a supervisor's leg joins (or changes mode): listen, whisper, barge
    # legs
    ATTACH_MEDIA = "attach_media"
    SEND_HANGUP = "send_hangup"
    CLOSE_LEG = "close_leg"  # out of the bridge, the RTP port freed


StateT = TypeVar("StateT", bound=StrEnum)


@dataclass(frozen=True)
class Step(Generic[StateT]):
    state: StateT
    effects: tuple[Effect, ...] = ()


class TransitionError(Exception):
    """Raised for a (state, command or event) pair the tables do not allow."""

    def __init__(self, state: str, change: str) -> None:
        super().__init__(f"{change!r} is not allowed in state {state!r}")
        self.state = state
        self.change = change


C, E, X = CallState, CallEvent, Effect
QUEUED = frozenset({C.WAITING, C.RINGING})  # the caller hears the queue
LIVE = (C.WAITING, C.RINGING, C.TALKING)

CALL_TRANSITIONS: dict[tuple[CallState, CallEvent], Step[CallState]] = {
    (C.WAITING, E.OFFER): Step(C.RINGING),
    (C.RINGING, E.RING_FAILED): Step(C.WAITING),
    (C.WAITING, E.AGENT_ANSWERED): Step(C.TALKING, (X.STOP_WAITING, X.BRIDGE_AGENT)),
    (C.RINGING, E.AGENT_ANSWERED): Step(C.TALKING, (X.STOP_WAITING, X.BRIDGE_AGENT)),
    (C.TALKING, E.REQUEUE): Step(C.WAITING, (X.START_WAITING,)),
    (C.WAITING, E.OVERFLOW): Step(C.ENDED, (X.STOP_WAITING,)),
    (C.RINGING, E.OVERFLOW): Step(C.ENDED, (X.STOP_WAITING,)),
    **{(state, E.CALLER_GONE): Step(C.ENDED, (X.STOP_WAITING, X.HANG_UP_LEGS))
       for state in LIVE},
}

_K = Command
# Every command but hanging up needs the caller bridged with someone.
COMMAND_TRANSITIONS: dict[tuple[CallState, Command], Step[CallState]] = {
    # The call ends when the caller's side has hung up (CallEvent.CALLER_GONE), not before.
    **{(state, _K.HANG_UP): Step(state, (X.HANG_UP_CALLER,)) for state in LIVE},
    (C.TALKING, _K.HOLD): Step(C.TALKING, (X.HOLD_CALLER, X.REPORT)),
    (C.TALKING, _K.RESUME): Step(C.TALKING, (X.RESUME_CALLER, X.REPORT)),
    (C.TALKING, _K.BLIND_TRANSFER): Step(C.TALKING, (X.TRANSFER,)),
    (C.TALKING, _K.EMERGENCY): Step(C.TALKING, (X.TRANSFER,)),
    (C.TALKING, _K.CONSULT): Step(C.TALKING, (X.CONSULT,)),
    (C.TALKING, _K.COMPLETE_TRANSFER): Step(C.TALKING, (X.HAND_OVER_TO_CONSULTEE,)),
    (C.TALKING, _K.CANCEL_CONSULT): Step(
        C.TALKING, (X.RELEASE_CONSULTEE, X.RESUME_CALLER, X.REPORT)),
    (C.TALKING, _K.CONFERENCE): Step(C.TALKING, (X.ADD_PARTY, X.REPORT)),
    (C.TALKING, _K.LISTEN): Step(C.TALKING, (X.MONITOR, X.REPORT)),
    (C.TALKING, _K.WHISPER): Step(C.TALKING, (X.MONITOR, X.REPORT)),
    (C.TALKING, _K.BARGE): Step(C.TALKING, (X.MONITOR, X.REPORT)),
}

L, LE = LegState, LegEvent
LEG_TRANSITIONS: dict[tuple[LegState, LegEvent], Step[LegState]] = {
    (L.RINGING, LE.ANSWERED): Step(L.CONNECTED, (X.ATTACH_MEDIA,)),
    (L.RINGING, LE.FAILED): Step(L.ENDED, (X.CLOSE_LEG,)),
    (L.RINGING, LE.HANG_UP): Step(L.ENDED, (X.SEND_HANGUP, X.CLOSE_LEG)),
    (L.RINGING, LE.GONE): Step(L.ENDED, (X.CLOSE_LEG,)),
    (L.CONNECTED, LE.HANG_UP): Step(L.ENDED, (X.SEND_HANGUP, X.CLOSE_LEG)),
    (L.CONNECTED, LE.GONE): Step(L.ENDED, (X.CLOSE_LEG,)),
    # The UA reports the end of a leg we hung up ourselves (at once, while we close it).
    (L.ENDED, LE.GONE): Step(L.ENDED, (X.CLOSE_LEG,)),
}


def call_step(state: str, event: str) -> Step[CallState]:
    """What ``event`` does to a call in ``state``; TransitionError if not allowed."""
    try:
        return CALL_TRANSITIONS[(CallState(state), CallEvent(event))]
    except (KeyError, ValueError):
        raise TransitionError(state, event) from None


def command_step(state: str, command: str) -> Step[CallState]:
    """What the desk's ``command`` does to a call in ``state``; TransitionError if not allowed."""
    try:
        return COMMAND_TRANSITIONS[(CallState(state), Command(command))]
    except (KeyError, ValueError):
        raise TransitionError(state, command) from None


def leg_step(state: str, event: str) -> Step[LegState]:
    """What ``event`` does to a leg in ``state``; TransitionError if not allowed."""
    try:
        return LEG_TRANSITIONS[(LegState(state), LegEvent(event))]
    except (KeyError, ValueError):
        raise TransitionError(state, event) from None


def allowed_commands(state: str) -> list[Command]:
    return [command for (at, command) in COMMAND_TRANSITIONS if at == state]
