"""The agent state machine as data: 签出 → 签入 → 示闲 ⇄ 示忙, 示闲 → 振铃 → 通话 → 话后整理 → 示闲.

No framework imports on purpose: ``TRANSITIONS[state][action]`` is the whole machine,
``next_state`` the only way to read it, and every pair is tested against a hand-written table
(tests/desk/test_states.py). The desk services apply a transition to the agent's state row and
append the change to the state log in the same transaction.
"""

from __future__ import annotations

from enum import StrEnum


class AgentState(StrEnum):
    SIGNED_OUT = "signed_out"  # 签出: not at the desk
    SIGNED_IN = "signed_in"  # 签入: logged in, not yet ready for calls
    IDLE = "idle"  # 示闲: ready; the ACD may offer a call
    BUSY = "busy"  # 示忙: not ready, always with a reason code
    RINGING = "ringing"  # 振铃: a call is offered to the agent's phone
    TALKING = "talking"  # 通话
    WRAP_UP = "wrap_up"  # 话后整理: after the call, for a configurable time


class AgentAction(StrEnum):
    SIGN_IN = "sign_in"  # 签入
    SIGN_OUT = "sign_out"  # 签出
    READY = "ready"  # 示闲 (also ends wrap-up early)
    NOT_READY = "not_ready"  # 示忙, with a reason; again while busy changes the reason
    OFFER = "offer"  # the ACD rings the agent (claimed with one conditional UPDATE)
    ANSWER = "answer"  # the agent's phone answered
    NO_ANSWER = "no_answer"  # ring timeout or the phone declined: the agent is made busy
    CALLER_GONE = "caller_gone"  # the caller hung up while the agent's phone rang
    HANG_UP = "hang_up"  # the call ended (either side)
    WRAP_UP_END = "wrap_up_end"  # the wrap-up time ran out


class BusyReason(StrEnum):
    """Reason codes for 示忙. NO_ANSWER is set by the system, the others by the agent."""

    REST = "rest"  # 小休
    MEAL = "meal"  # 用餐
    MEETING = "meeting"  # 会议
    TRAINING = "training"  # 培训
    OUTBOUND = "outbound"  # 外呼回访
    PAPERWORK = "paperwork"  # 工单处理
    OTHER = "other"  # 其他
    NO_ANSWER = "no_answer"  # 未接: the phone rang out; keeps the ACD from ringing it again


class TransitionError(Exception):
    """Raised for a (state, action) pair the state machine does not allow."""

    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"agent action {action!r} is not allowed in state {state!r}")
        self.state = state
        self.action = action


class ReasonError(ValueError):
    """Raised when 示忙 comes without a valid reason code, or another action with one."""


S, A = AgentState, AgentAction

TRANSITIONS: dict[AgentState, dict[AgentAction, AgentState]] = {
    S.SIGNED_OUT: {A.SIGN_IN: S.SIGNED_IN},
    S.SIGNED_IN: {A.READY: S.IDLE, A.NOT_READY: S.BUSY, A.SIGN_OUT: S.SIGNED_OUT},
    S.IDLE: {A.NOT_READY: S.BUSY, A.OFFER: S.RINGING, A.SIGN_OUT: S.SIGNED_OUT},
    S.BUSY: {A.READY: S.IDLE, A.NOT_READY: S.BUSY, A.SIGN_OUT: S.SIGNED_OUT},
    S.RINGING: {A.ANSWER: S.TALKING, A.NO_ANSWER: S.BUSY, A.CALLER_GONE: S.IDLE},
    # No sign-out or 示忙 in the middle of a call: the call must end first.
    S.TALKING: {A.HANG_UP: S.WRAP_UP},
    S.WRAP_UP: {
        A.WRAP_UP_END: S.IDLE,
        A.READY: S.IDLE,
        A.NOT_READY: S.BUSY,
        A.SIGN_OUT: S.SIGNED_OUT,
    },
}

# States in which the agent is at the desk (counts as staffed for overflow and estimates).
SIGNED_IN_STATES = frozenset(set(AgentState) - {S.SIGNED_OUT})
# States in which the agent will be free soon without doing anything (sticky routing waits).
BECOMING_FREE = frozenset({S.IDLE, S.RINGING, S.TALKING, S.WRAP_UP})
# Reasons an agent may choose; NO_ANSWER is the system's.
AGENT_REASONS = frozenset(set(BusyReason) - {BusyReason.NO_ANSWER})


def next_state(state: str, action: str) -> AgentState:
    """The state ``action`` leads to from ``state``; TransitionError if not allowed."""
    try:
        return TRANSITIONS[AgentState(state)][AgentAction(action)]
    except (KeyError, ValueError):
        raise TransitionError(state, action) from None


def allowed_actions(state: str) -> list[AgentAction]:
    try:
        return list(TRANSITIONS[AgentState(state)])
    except ValueError:
        return []


def check_reason(action: str, reason: str, *, by_system: bool = False) -> str:
    """The reason code to store with ``action``: 示忙 needs one, every other action none.

    NO_ANSWER makes the agent busy with the system's reason; an agent cannot choose it.
    """
    if action == A.NO_ANSWER:
        return BusyReason.NO_ANSWER.value
    if action != A.NOT_READY:
        if reason:
            raise ReasonError(f"action {action!r} takes no reason")
        return ""
    allowed = set(BusyReason) if by_system else AGENT_REASONS
    if reason not in {r.value for r in allowed}:
        raise ReasonError(f"unknown busy reason {reason[:40]!r}")
    return reason
