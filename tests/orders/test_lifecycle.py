"""Every (state, action) pair of the lifecycle: the allowed ones lead where the national
workflow says, every other pair is refused. The expected table is written out by hand here, not
derived from the module under test, so a change to either shows up."""

from __future__ import annotations

import itertools

import pytest

from hotline.orders.lifecycle import (
    ACTION_ROLES,
    TRANSITIONS,
    Action,
    State,
    TransitionError,
    allowed_actions,
    next_state,
)

RECORD_ONLY_IN_PROGRESS = ("dispatched", "handling", "suspended", "returned", "replied")
OPEN = ("accepted", "dispatched", "returned", "handling", "suspended", "replied", "callback")

EXPECTED: dict[tuple[str, str], str] = {
    ("new", "create"): "accepted",
    ("accepted", "answer"): "closed",
    ("accepted", "reject"): "rejected",
    ("accepted", "dispatch"): "dispatched",
    ("accepted", "merge"): "merged",
    ("dispatched", "sign"): "handling",
    ("dispatched", "return"): "returned",
    ("dispatched", "transfer"): "dispatched",
    ("dispatched", "merge"): "merged",
    ("returned", "approve_return"): "dispatched",
    ("returned", "deny_return"): "dispatched",
    ("returned", "answer"): "closed",
    ("returned", "merge"): "merged",
    ("handling", "reply"): "replied",
    ("handling", "transfer"): "dispatched",
    ("handling", "suspend"): "suspended",
    ("handling", "request_extension"): "handling",
    ("handling", "approve_extension"): "handling",
    ("handling", "deny_extension"): "handling",
    ("handling", "merge"): "merged",
    ("suspended", "resume"): "handling",
    ("replied", "approve_reply"): "callback",
    ("replied", "deny_reply"): "handling",
    ("callback", "callback"): "closed",
    ("callback", "reopen"): "handling",
    ("callback", "callback_attempt"): "callback",
    ("closed", "archive"): "archived",
    ("closed", "reopen"): "handling",
    ("rejected", "archive"): "archived",
    ("merged", "archive"): "archived",
}
for _state in RECORD_ONLY_IN_PROGRESS:
    EXPECTED[(_state, "urge")] = _state
    EXPECTED[(_state, "supervise")] = _state
for _state in OPEN:
    EXPECTED[(_state, "instruct")] = _state
    EXPECTED[(_state, "escalate")] = _state
    EXPECTED[(_state, "confirm_escalation")] = _state
    EXPECTED[(_state, "link")] = _state
    EXPECTED[(_state, "unlink")] = _state
for _state in ("dispatched", "handling"):
    EXPECTED[(_state, "remind")] = _state
    EXPECTED[(_state, "mark_overdue")] = _state
    EXPECTED[(_state, "escalate_overdue")] = _state
for _state in ("dispatched", "handling", "suspended"):
    EXPECTED[(_state, "co_reply")] = _state
for _state in ("handling", "suspended"):
    EXPECTED[(_state, "assign")] = _state

ALL_PAIRS = list(itertools.product([s.value for s in State], [a.value for a in Action]))


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
    actual = {(s.value, a.value): t.value for s, moves in TRANSITIONS.items() for a, t in moves.items()}
    assert actual == EXPECTED


@pytest.mark.parametrize("bad", [("nonsense", "sign"), ("handling", "nonsense"), ("", "")])
def test_unknown_names_are_refused(bad: tuple[str, str]) -> None:
    with pytest.raises(TransitionError):
        next_state(*bad)
    assert allowed_actions("nonsense") == []


def test_every_action_names_its_roles() -> None:
    assert set(ACTION_ROLES) == set(Action)
    assert all(ACTION_ROLES[a] for a in Action)


def test_archived_is_terminal_and_every_state_reachable() -> None:
    assert TRANSITIONS[State.ARCHIVED] == {}
    reached = {State.NEW}
    frontier = [State.NEW]
    while frontier:
        state = frontier.pop()
        for target in TRANSITIONS[state].values():
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(State)
