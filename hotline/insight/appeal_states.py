"""The life of an assessment appeal (考核申诉) as data: a unit submits it, the centre accepts or
refuses it, and that is final (a refused appeal may be followed by a new one with a better
reason; an accepted one excludes the order from the unit's month). No framework imports."""

from __future__ import annotations

from enum import StrEnum


class AppealState(StrEnum):
    SUBMITTED = "submitted"  # 待审核
    ACCEPTED = "accepted"  # 申诉成立: the order no longer counts for the unit's month
    REFUSED = "refused"  # 申诉驳回


class AppealAction(StrEnum):
    ACCEPT = "accept"
    REFUSE = "refuse"


class AppealTransitionError(Exception):
    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"appeal action {action!r} is not allowed in state {state!r}")
        self.state = state
        self.action = action


TRANSITIONS: dict[AppealState, dict[AppealAction, AppealState]] = {
    AppealState.SUBMITTED: {AppealAction.ACCEPT: AppealState.ACCEPTED,
                            AppealAction.REFUSE: AppealState.REFUSED},
    AppealState.ACCEPTED: {},
    AppealState.REFUSED: {},
}

# Appeals that stand in the way of another appeal of the same order, unit and month.
PENDING_OR_ACCEPTED = frozenset({AppealState.SUBMITTED, AppealState.ACCEPTED})


def next_state(state: str, action: str) -> AppealState:
    try:
        return TRANSITIONS[AppealState(state)][AppealAction(action)]
    except (KeyError, ValueError):
        raise AppealTransitionError(state, action) from None
