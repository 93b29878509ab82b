"""The knowledge-base editorial workflow as data.

Departments write entries (draft), send them for review (submitted), and the centre publishes
or rejects them (back to draft with a reason). A published entry can be revised: it goes back to
draft while its last published version stays visible to agents and citizens until the revision
is published. A published entry can be retired, and a retired one restored as a draft.

No framework imports on purpose: the tables below are the whole state machine, ``next_state``
is the only way to read them, and every pair is tested. Services apply a transition inside a
transaction and record who did it and when.
"""

from __future__ import annotations

from enum import StrEnum


class EntryState(StrEnum):
    NEW = "new"  # before creation; only "create" leaves it
    DRAFT = "draft"  # 草稿: being written or revised by the owning unit
    SUBMITTED = "submitted"  # 待审核: waiting for the centre's review
    PUBLISHED = "published"  # 已发布
    RETIRED = "retired"  # 已下线


class EntryAction(StrEnum):
    CREATE = "create"
    EDIT = "edit"
    SUBMIT = "submit"
    WITHDRAW = "withdraw"  # the author takes a submission back to edit it again
    PUBLISH = "publish"
    REJECT = "reject"  # back to draft, with a reason
    REVISE = "revise"  # start a new revision of a published entry
    RETIRE = "retire"
    RESTORE = "restore"  # a retired entry becomes a draft again


class WorkflowError(Exception):
    """Raised for a (state, action) pair the workflow does not allow."""

    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"action {action!r} is not allowed in state {state!r}")
        self.state = state
        self.action = action


S, A = EntryState, EntryAction

TRANSITIONS: dict[EntryState, dict[EntryAction, EntryState]] = {
    S.NEW: {A.CREATE: S.DRAFT},
    S.DRAFT: {A.EDIT: S.DRAFT, A.SUBMIT: S.SUBMITTED, A.RETIRE: S.RETIRED},
    S.SUBMITTED: {A.WITHDRAW: S.DRAFT, A.PUBLISH: S.PUBLISHED, A.REJECT: S.DRAFT},
    S.PUBLISHED: {A.REVISE: S.DRAFT, A.RETIRE: S.RETIRED},
    S.RETIRED: {A.RESTORE: S.DRAFT},
}

# Role values (the directory's Role choices) allowed to take each action. Authoring actions are
# further limited to the entry's own unit by the services.
AUTHOR_ROLES = frozenset({"dept_handler", "dept_admin", "centre_admin"})
REVIEWER_ROLES = frozenset({"monitor", "centre_admin"})
ACTION_ROLES: dict[EntryAction, frozenset[str]] = {
    A.CREATE: AUTHOR_ROLES,
    A.EDIT: AUTHOR_ROLES,
    A.SUBMIT: AUTHOR_ROLES,
    A.WITHDRAW: AUTHOR_ROLES,
    A.REVISE: AUTHOR_ROLES,
    A.PUBLISH: REVIEWER_ROLES,
    A.REJECT: REVIEWER_ROLES,
    # Taking an entry off the air is the department administrator's or the centre's decision.
    A.RETIRE: frozenset({"dept_admin", "centre_admin"}),
    A.RESTORE: frozenset({"dept_admin", "centre_admin"}),
}
# Actions limited to the owning unit (the centre's reviewers act on every unit's entries).
OWN_UNIT_ACTIONS = frozenset({A.CREATE, A.EDIT, A.SUBMIT, A.WITHDRAW, A.REVISE, A.RETIRE, A.RESTORE})


def next_state(state: str, action: str) -> EntryState:
    try:
        return TRANSITIONS[EntryState(state)][EntryAction(action)]
    except (KeyError, ValueError):
        raise WorkflowError(state, action) from None


def allowed_actions(state: str) -> list[EntryAction]:
    return list(TRANSITIONS.get(EntryState(state), {}))
