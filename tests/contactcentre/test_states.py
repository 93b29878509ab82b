"""Every (state, action) pair of the agent state machine against a table written out by hand
here (not derived from the module), so a change to either shows up."""

from __future__ import annotations

import itertools

import pytest

from hotline.contactcentre.acd.states import (
    TRANSITIONS,
    AgentAction,
    AgentState,
    BusyReason,
    ReasonError,
    TransitionError,
    allowed_actions,
    check_reason,
    next_state,
)
from hotline.contactcentre.models import Action, Reason, State

EXPECTED: dict[tuple[str, str], str] = {
    ("signed_out", "sign_in"): "signed_in",
    ("signed_in", "ready"): "idle",
    ("signed_in", "not_ready"): "busy",
    ("signed_in", "sign_out"): "signed_out",
    ("idle", "not_ready"): "busy",
    ("idle", "offer"): "ringing",
    ("idle", "sign_out"): "signed_out",
    ("busy", "ready"): "idle",
    ("busy", "not_ready"): "busy",
    ("busy", "sign_out"): "signed_out",
    ("ringing", "answer"): "talking",
    ("ringing", "no_answer"): "busy",
    ("ringing", "caller_gone"): "idle",
    ("talking", "hang_up"): "wrap_up",
    ("wrap_up", "wrap_up_end"): "idle",
    ("wrap_up", "ready"): "idle",
    ("wrap_up", "not_ready"): "busy",
    ("wrap_up", "sign_out"): "signed_out",
}

ALL_PAIRS = list(itertools.product([s.value for s in AgentState],
                                   [a.value for a in AgentAction]))


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS)
def test_every_pair(state: str, action: str) -> None:
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(TransitionError) as info:
            next_state(state, action)
        assert info.value.state == state and info.value.action == action
        assert action not in allowed_actions(state)
    else:
        assert next_state(state, action) == expected
        assert action in allowed_actions(state)


def test_table_has_nothing_unexpected() -> None:
    actual = {(s.value, a.value): t.value for s, moves in TRANSITIONS.items()
              for a, t in moves.items()}
    assert actual == EXPECTED
    assert set(TRANSITIONS) == set(AgentState)


@pytest.mark.parametrize("bad", [("nonsense", "ready"), ("idle", "nonsense"), ("", "")])
def test_unknown_names_are_refused(bad: tuple[str, str]) -> None:
    with pytest.raises(TransitionError):
        next_state(*bad)
    assert allowed_actions("nonsense") == []


def test_every_state_reachable_and_signing_out_always_possible_between_calls() -> None:
    reached, frontier = {AgentState.SIGNED_OUT}, [AgentState.SIGNED_OUT]
    while frontier:
        for target in TRANSITIONS[frontier.pop()].values():
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(AgentState)
    for state in ("signed_in", "idle", "busy", "wrap_up"):
        assert next_state(state, "sign_out") == "signed_out"


def test_busy_needs_a_reason_the_agent_may_choose() -> None:
    assert check_reason("not_ready", "meal") == "meal"
    with pytest.raises(ReasonError):
        check_reason("not_ready", "")
    with pytest.raises(ReasonError):
        check_reason("not_ready", "holiday")
    with pytest.raises(ReasonError):
        check_reason("not_ready", "no_answer")  # the system's reason
    assert check_reason("not_ready", "no_answer", by_system=True) == "no_answer"
    assert check_reason("no_answer", "") == "no_answer"
    assert check_reason("ready", "") == ""
    with pytest.raises(ReasonError):
        check_reason("ready", "meal")


def test_model_choices_mirror_the_pure_enums() -> None:
    assert {c.value for c in State} == {s.value for s in AgentState}
    assert {c.value for c in Action} == {a.value for a in AgentAction}
    assert {c.value for c in Reason} == {r.value for r in BusyReason}
