"""A partner service provider's states (the 96180 model) as data, and the suspension rule
(pure: no Django).

active --suspend--> suspended   (automatically, after N dissatisfied ratings since the partner
                                 was registered or last reinstated; or by the centre)
suspended --reinstate--> active (the centre, after review, with a reason)
A suspended partner gets no new orders; its open assignments stay (the citizen is served).
"""

from __future__ import annotations

from enum import StrEnum


class PartnerState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class PartnerAction(StrEnum):
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


class PartnerTransitionError(Exception):
    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"partner action {action!r} is not allowed in state {state!r}")
        self.state = state
        self.action = action


TRANSITIONS: dict[PartnerState, dict[PartnerAction, PartnerState]] = {
    PartnerState.ACTIVE: {PartnerAction.SUSPEND: PartnerState.SUSPENDED},
    PartnerState.SUSPENDED: {PartnerAction.REINSTATE: PartnerState.ACTIVE},
}


def next_partner_state(state: str, action: str) -> PartnerState:
    try:
        return TRANSITIONS[PartnerState(state)][PartnerAction(action)]
    except (KeyError, ValueError):
        raise PartnerTransitionError(state, action) from None


def must_suspend(dissatisfied_since_reinstatement: int, threshold: int) -> bool:
    """Seed 001 (南京96180): a member rated dissatisfied three times loses its membership.
    ``threshold`` is the number of dissatisfied ratings that suspends (3 by default)."""
    if threshold < 1:
        raise ValueError("the suspension threshold is at least one rating")
    return dissatisfied_since_reinstatement >= threshold
