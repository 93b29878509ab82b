"""The work-order lifecycle as data (国办发〔2020〕53号): 受理 → (直接答复办结 | 派单) → 签收 → 办理
→ 回复 → 回访 → 评价 → 办结/归档, with 督办 and 催办 along the way.

This module has no framework imports on purpose: the table below is the whole state machine,
``next_state`` is the only way to read it, and every pair is tested. Services apply a transition
inside a database transaction and record the event.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    NEW = "new"  # before creation; only "create" leaves it
    ACCEPTED = "accepted"  # 已受理: registered, not yet answered or dispatched
    DISPATCHED = "dispatched"  # 已派单: waiting for the department to sign for it
    RETURNED = "returned"  # 已退单: the department sent it back; the centre reviews
    HANDLING = "handling"  # 办理中: signed for
    SUSPENDED = "suspended"  # 已挂起: waiting for the citizen; the deadline clock stops
    REPLIED = "replied"  # 已回复: the department replied; the centre checks the reply
    CALLBACK = "callback"  # 待回访: reply accepted; the citizen is to be called back
    CLOSED = "closed"  # 已办结
    REJECTED = "rejected"  # 不予受理
    MERGED = "merged"  # 已并单: merged into another order
    ARCHIVED = "archived"  # 已归档


class Action(StrEnum):
    CREATE = "create"  # 受理
    ANSWER = "answer"  # 直接答复办结
    REJECT = "reject"  # 不予受理
    DISPATCH = "dispatch"  # 派单
    TRANSFER = "transfer"  # 转办: a sub-centre re-dispatches to a street or another unit
    SIGN = "sign"  # 签收
    RETURN = "return"  # 退单
    APPROVE_RETURN = "approve_return"  # the centre accepts the return and re-dispatches
    DENY_RETURN = "deny_return"  # the centre refuses the return: the unit must handle it
    REPLY = "reply"  # 办理回复
    APPROVE_REPLY = "approve_reply"  # 审核通过
    DENY_REPLY = "deny_reply"  # 审核退回
    CALLBACK = "callback"  # 回访 and 评价: resolved? satisfied? then closed
    REOPEN = "reopen"  # 重办: unsatisfied or unresolved, back to the department
    CALLBACK_ATTEMPT = "callback_attempt"  # 回访未接通: a call back that did not reach the citizen
    ARCHIVE = "archive"  # 归档
    URGE = "urge"  # 催办
    SUPERVISE = "supervise"  # 督办
    INSTRUCT = "instruct"  # 领导批示
    REQUEST_EXTENSION = "request_extension"  # 延期申请
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    SUSPEND = "suspend"  # 挂起
    RESUME = "resume"
    MERGE = "merge"  # 并单
    ESCALATE = "escalate"  # 重大突发事件 escalation to leaders and linkage units
    CONFIRM_ESCALATION = "confirm_escalation"  # a linkage unit confirms it has the alert
    CO_REPLY = "co_reply"  # 协办回复: a co-handling unit sends its part to the lead
    REMIND = "remind"  # the worker's reminder before a deadline
    MARK_OVERDUE = "mark_overdue"  # the worker marks a missed deadline
    ESCALATE_OVERDUE = "escalate_overdue"  # 超期上报: long overdue, reported to the leaders
    LINK = "link"  # 关联: another order about the same or a related matter; neither closes
    UNLINK = "unlink"  # removes a link made by mistake (the history keeps both)
    ASSIGN = "assign"  # 分派承办人: the department gives the order to one of its handlers


class TransitionError(Exception):
    """Raised for a (state, action) pair the lifecycle does not allow."""

    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"action {action!r} is not allowed in state {state!r}")
        self.state = state
        self.action = action


S, A = State, Action

# States in which an order is still in the departments' or the centre's hands.
IN_PROGRESS = (S.DISPATCHED, S.RETURNED, S.HANDLING, S.SUSPENDED, S.REPLIED)
OPEN = (S.ACCEPTED, *IN_PROGRESS, S.CALLBACK)
FINAL = (S.CLOSED, S.REJECTED, S.MERGED, S.ARCHIVED)


def _stay(states: tuple[State, ...], action: Action) -> dict[State, dict[Action, State]]:
    return {state: {action: state} for state in states}


def _build() -> dict[State, dict[Action, State]]:
    table: dict[State, dict[Action, State]] = {
        S.NEW: {A.CREATE: S.ACCEPTED},
        S.ACCEPTED: {
            A.ANSWER: S.CLOSED,
            A.REJECT: S.REJECTED,
            A.DISPATCH: S.DISPATCHED,
            A.MERGE: S.MERGED,
        },
        S.DISPATCHED: {
            A.SIGN: S.HANDLING,
            A.RETURN: S.RETURNED,
            A.TRANSFER: S.DISPATCHED,
            A.MERGE: S.MERGED,
        },
        S.RETURNED: {
            A.APPROVE_RETURN: S.DISPATCHED,
            A.DENY_RETURN: S.DISPATCHED,
            A.ANSWER: S.CLOSED,
            A.MERGE: S.MERGED,
        },
        S.HANDLING: {
            A.REPLY: S.REPLIED,
            A.TRANSFER: S.DISPATCHED,
            A.SUSPEND: S.SUSPENDED,
            A.REQUEST_EXTENSION: S.HANDLING,
            A.APPROVE_EXTENSION: S.HANDLING,
            A.DENY_EXTENSION: S.HANDLING,
            A.MERGE: S.MERGED,
        },
        S.SUSPENDED: {A.RESUME: S.HANDLING},
        S.REPLIED: {A.APPROVE_REPLY: S.CALLBACK, A.DENY_REPLY: S.HANDLING},
        S.CALLBACK: {A.CALLBACK: S.CLOSED, A.REOPEN: S.HANDLING},
        S.CLOSED: {A.ARCHIVE: S.ARCHIVED, A.REOPEN: S.HANDLING},
        S.REJECTED: {A.ARCHIVE: S.ARCHIVED},
        S.MERGED: {A.ARCHIVE: S.ARCHIVED},
        S.ARCHIVED: {},
    }
    # Actions that record something without moving the order.
    for action, states in (
        (A.URGE, (S.DISPATCHED, S.HANDLING, S.SUSPENDED, S.RETURNED, S.REPLIED)),
        (A.SUPERVISE, (S.DISPATCHED, S.HANDLING, S.SUSPENDED, S.RETURNED, S.REPLIED)),
        (A.INSTRUCT, OPEN),
        (A.ESCALATE, OPEN),
        (A.CONFIRM_ESCALATION, OPEN),
        (A.CO_REPLY, (S.DISPATCHED, S.HANDLING, S.SUSPENDED)),
        (A.REMIND, (S.DISPATCHED, S.HANDLING)),
        (A.MARK_OVERDUE, (S.DISPATCHED, S.HANDLING)),
        (A.ESCALATE_OVERDUE, (S.DISPATCHED, S.HANDLING)),
        (A.LINK, OPEN),
        (A.UNLINK, OPEN),
        (A.CALLBACK_ATTEMPT, (S.CALLBACK,)),
        # Inside the department, once signed for: who of its handlers works on it.
        (A.ASSIGN, (S.HANDLING, S.SUSPENDED)),
    ):
        for state, move in _stay(states, action).items():
            table[state].update(move)
    return table


TRANSITIONS: dict[State, dict[Action, State]] = _build()


def next_state(state: str, action: str) -> State:
    """The state an order reaches by ``action`` from ``state``; TransitionError if not allowed."""
    try:
        return TRANSITIONS[State(state)][Action(action)]
    except (KeyError, ValueError):
        raise TransitionError(state, action) from None


def allowed_actions(state: str) -> list[Action]:
    try:
        return list(TRANSITIONS[State(state)])
    except ValueError:
        return []


# Who may take each action. Scope (which unit, which district) is checked by the services.
CENTRE_DESK = frozenset({"agent", "monitor", "centre_admin"})
CENTRE_SUPERVISION = frozenset({"monitor", "centre_admin"})
DEPARTMENT = frozenset({"dept_handler", "dept_admin"})

ACTION_ROLES: dict[Action, frozenset[str]] = {
    A.CREATE: CENTRE_DESK | {"system"},
    A.ANSWER: CENTRE_DESK,
    A.REJECT: CENTRE_SUPERVISION,
    A.DISPATCH: CENTRE_DESK,
    A.TRANSFER: CENTRE_DESK | DEPARTMENT,
    A.SIGN: DEPARTMENT,
    A.RETURN: DEPARTMENT,
    A.APPROVE_RETURN: CENTRE_SUPERVISION,
    A.DENY_RETURN: CENTRE_SUPERVISION,
    A.REPLY: DEPARTMENT,
    A.APPROVE_REPLY: CENTRE_DESK,
    A.DENY_REPLY: CENTRE_DESK,
    A.CALLBACK: CENTRE_DESK | {"system"},
    A.REOPEN: CENTRE_DESK | {"system"},  # the citizen asks on the portal
    A.CALLBACK_ATTEMPT: CENTRE_DESK | {"system"},
    A.ARCHIVE: CENTRE_SUPERVISION | {"system"},
    A.URGE: CENTRE_DESK | {"system"},
    A.SUPERVISE: CENTRE_SUPERVISION | {"leader"},
    A.INSTRUCT: frozenset({"leader"}),
    A.REQUEST_EXTENSION: DEPARTMENT,
    A.APPROVE_EXTENSION: CENTRE_SUPERVISION,
    A.DENY_EXTENSION: CENTRE_SUPERVISION,
    A.SUSPEND: DEPARTMENT | CENTRE_SUPERVISION,
    A.RESUME: DEPARTMENT | CENTRE_SUPERVISION,
    A.MERGE: CENTRE_DESK,
    A.ESCALATE: CENTRE_DESK | {"system"},
    A.CONFIRM_ESCALATION: DEPARTMENT | {"leader"},
    A.CO_REPLY: DEPARTMENT,
    A.REMIND: frozenset({"system"}),
    A.MARK_OVERDUE: frozenset({"system"}),
    A.ESCALATE_OVERDUE: frozenset({"system"}),
    A.LINK: CENTRE_DESK,
    A.UNLINK: CENTRE_DESK,
    # The department administrator assigns and reassigns; a handler may only take an order
    # nobody holds yet (the action's handler checks which).
    A.ASSIGN: DEPARTMENT,
}
