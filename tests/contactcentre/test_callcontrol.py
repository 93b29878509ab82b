"""Every (state, command or event) pair of call control: the allowed ones lead where the gateway
expects with the listed effects, every other pair is refused. The expected tables are written out
by hand here, not derived from the module under test, so a change to either shows up."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from hotline.contactcentre.callcontrol import (
    CALL_TRANSITIONS,
    COMMAND_TRANSITIONS,
    LEG_TRANSITIONS,
    CallEvent,
    CallState,
    Command,
    LegEvent,
    LegState,
    TransitionError,
    allowed_commands,
    call_step,
    command_step,
    leg_step,
)
from hotline.contactcentre.models import CommandAction

LIVE = ("waiting", "ringing", "talking")

EXPECTED_COMMANDS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("talking", "hold"): ("talking", ("hold_caller", "report")),
    ("talking", "resume"): ("talking", ("resume_caller", "report")),
    ("talking", "blind_transfer"): ("talking", ("transfer",)),
    ("talking", "emergency"): ("talking", ("transfer",)),
    ("talking", "consult"): ("talking", ("consult",)),
    ("talking", "complete_transfer"): ("talking", ("hand_over_to_consultee",)),
    ("talking", "cancel_consult"): ("talking", ("release_consultee", "resume_caller", "report")),
    ("talking", "conference"): ("talking", ("add_party", "report")),
    ("talking", "listen"): ("talking", ("monitor", "report")),
    ("talking", "whisper"): ("talking", ("monitor", "report")),
    ("talking", "barge"): ("talking", ("monitor", "report")),
}
for _state in LIVE:  # the call ends with the caller's side, not with the command
    EXPECTED_COMMANDS[(_state, "hangup")] = (_state, ("hang_up_caller",))

EXPECTED_EVENTS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("waiting", "offer"): ("ringing", ()),
    ("ringing", "ring_failed"): ("waiting", ()),
    ("waiting", "agent_answered"): ("talking", ("stop_waiting", "bridge_agent")),
    ("ringing", "agent_answered"): ("talking", ("stop_waiting", "bridge_agent")),
    ("talking", "requeue"): ("waiting", ("start_waiting",)),
    ("waiting", "overflow"): ("ended", ("stop_waiting",)),
    ("ringing", "overflow"): ("ended", ("stop_waiting",)),
}
for _state in LIVE:
    EXPECTED_EVENTS[(_state, "caller_gone")] = ("ended", ("stop_waiting", "hang_up_legs"))

EXPECTED_LEGS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("ringing", "answered"): ("connected", ("attach_media",)),
    ("ringing", "failed"): ("ended", ("close_leg",)),
    ("ringing", "hang_up"): ("ended", ("send_hangup", "close_leg")),
    ("ringing", "gone"): ("ended", ("close_leg",)),
    ("connected", "hang_up"): ("ended", ("send_hangup", "close_leg")),
    ("connected", "gone"): ("ended", ("close_leg",)),
    ("ended", "gone"): ("ended", ("close_leg",)),
}

COMMAND_PAIRS = list(itertools.product([s.value for s in CallState], [c.value for c in Command]))
EVENT_PAIRS = list(itertools.product([s.value for s in CallState], [e.value for e in CallEvent]))
LEG_PAIRS = list(itertools.product([s.value for s in LegState], [e.value for e in LegEvent]))


@pytest.mark.parametrize(("state", "command"), COMMAND_PAIRS)
def test_every_command_pair(state: str, command: str) -> None:
    expected = EXPECTED_COMMANDS.get((state, command))
    if expected is None:
        with pytest.raises(TransitionError) as info:
            command_step(state, command)
        assert info.value.state == state and info.value.change == command
        assert command not in allowed_commands(state)
    else:
        step = command_step(state, command)
        assert (step.state, step.effects) == expected
        assert command in allowed_commands(state)


@pytest.mark.parametrize(("state", "event"), EVENT_PAIRS)
def test_every_call_event_pair(state: str, event: str) -> None:
    expected = EXPECTED_EVENTS.get((state, event))
    if expected is None:
        with pytest.raises(TransitionError):
            call_step(state, event)
    else:
        step = call_step(state, event)
        assert (step.state, step.effects) == expected


@pytest.mark.parametrize(("state", "event"), LEG_PAIRS)
def test_every_leg_pair(state: str, event: str) -> None:
    expected = EXPECTED_LEGS.get((state, event))
    if expected is None:
        with pytest.raises(TransitionError):
            leg_step(state, event)
    else:
        step = leg_step(state, event)
        assert (step.state, step.effects) == expected


def test_tables_have_nothing_unexpected() -> None:
    def flat(table: dict[Any, Any]) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
        return {(s.value, c.value): (t.state.value, tuple(e.value for e in t.effects))
                for (s, c), t in table.items()}

    assert flat(COMMAND_TRANSITIONS) == EXPECTED_COMMANDS
    assert flat(CALL_TRANSITIONS) == EXPECTED_EVENTS
    assert flat(LEG_TRANSITIONS) == EXPECTED_LEGS


@pytest.mark.parametrize("bad", [("nonsense", "hold"), ("talking", "nonsense"), ("", "")])
def test_unknown_names_are_refused(bad: tuple[str, str]) -> None:
    for step in (command_step, call_step, leg_step):
        with pytest.raises(TransitionError, match="not allowed"):
            step(*bad)
    assert allowed_commands("nonsense") == []


def test_commands_are_the_stored_command_actions() -> None:
    assert {c.value for c in Command} == set(CommandAction.values)


def test_ended_is_terminal() -> None:
    assert allowed_commands("ended") == []
    assert not [pair for pair in CALL_TRANSITIONS if pair[0] is CallState.ENDED]
