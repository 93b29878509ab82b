"""The JSON body of each lifecycle action (``POST /orders/{number}/{action}``).

The types here are checked before the service runs, so a wrong type or an unknown field is a
422 naming the field. Whether a field is required is the action handler's decision
(``hotline/orders/actions.py``): the service first checks the caller's role and the order's state,
so a caller who may not act gets 403/409 rather than a list of missing fields.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictInt, StringConstraints

from hotline.api.schemas import Code, InputSchema, Note
from hotline.orders.lifecycle import Action
from hotline.orders.models import OrderLink, Satisfaction, Urgency

MAX_UNITS = 50
Text150 = Annotated[str, StringConstraints(max_length=150)]  # a user name (Django's limit)


class NoParams(InputSchema):
    """No parameters."""


class NoteParams(InputSchema):
    note: Note | None = None


class RequiredNoteParams(InputSchema):
    note: Note | None = Field(None, description="required")


class ReasonParams(InputSchema):
    reason: Note | None = Field(None, description="required")


class ReplyParams(InputSchema):
    reply: Note | None = Field(None, description="required")


class UnitParams(InputSchema):
    unit: Code | None = Field(None, description="required: the code of the unit")
    note: Note | None = None


class DispatchParams(InputSchema):
    unit: Code | None = Field(None, description="lead unit code; default: the category's route")
    co_units: list[Code] | None = Field(
        None, max_length=MAX_UNITS,
        description="co-handling unit codes; default (when absent): the category's route",
    )
    category: Code | None = None
    urgency: Urgency | None = None
    note: Note | None = None


class CallbackParams(InputSchema):
    resolved: StrictBool | None = Field(None, description="required")
    satisfaction: Satisfaction | None = Field(None, description="required")
    note: Note | None = None
    unreachable: StrictBool | None = Field(
        None, description="true: 联系不上, closed without resolved or satisfaction; note required")


class ReopenParams(InputSchema):
    resolved: StrictBool | None = None
    satisfaction: Satisfaction | None = None
    reason: Note | None = Field(None, description="required")


class ExtensionParams(InputSchema):
    days: StrictInt | None = Field(None, description="required: working days, 1 to 30")
    reason: Note | None = Field(None, description="required")


class MergeParams(InputSchema):
    into: Code | None = Field(None, description="required: the acceptance number to merge into")
    note: Note | None = None


class LinkParams(InputSchema):
    other: Code | None = Field(None, description="required: the acceptance number to link to")
    kind: OrderLink.Kind | None = Field(None, description="related (default) or duplicate")
    note: Note | None = None


class UnlinkParams(InputSchema):
    other: Code | None = Field(None, description="required: the linked order's number")
    note: Note | None = None


class EscalateParams(InputSchema):
    linkage_units: list[Code] | None = Field(None, max_length=MAX_UNITS)
    note: Note | None = Field(None, description="required")


class AssignParams(InputSchema):
    handler: Text150 | None = Field(
        None, description="required: the user name of a handler of the order's lead unit")
    note: Note | None = None


class DeadlineNoteParams(InputSchema):
    note: Note | None = None
    deadline: Code | None = Field(None, description="which deadline: sign or handle")


A = Action
ACTION_PARAMS: dict[Action, type[InputSchema]] = {
    A.ANSWER: ReplyParams,
    A.REJECT: ReasonParams,
    A.DISPATCH: DispatchParams,
    A.TRANSFER: UnitParams,
    A.SIGN: NoParams,
    A.RETURN: ReasonParams,
    A.APPROVE_RETURN: UnitParams,
    A.DENY_RETURN: ReasonParams,
    A.REPLY: ReplyParams,
    A.CO_REPLY: ReplyParams,
    A.APPROVE_REPLY: NoteParams,
    A.DENY_REPLY: ReasonParams,
    A.CALLBACK: CallbackParams,
    A.REOPEN: ReopenParams,
    A.CALLBACK_ATTEMPT: RequiredNoteParams,
    A.ARCHIVE: NoParams,
    A.URGE: NoteParams,
    A.SUPERVISE: NoteParams,
    A.INSTRUCT: RequiredNoteParams,
    A.REQUEST_EXTENSION: ExtensionParams,
    A.APPROVE_EXTENSION: NoteParams,
    A.DENY_EXTENSION: ReasonParams,
    A.SUSPEND: ReasonParams,
    A.RESUME: NoteParams,
    A.MERGE: MergeParams,
    A.ESCALATE: EscalateParams,
    A.CONFIRM_ESCALATION: NoteParams,
    A.REMIND: DeadlineNoteParams,
    A.MARK_OVERDUE: DeadlineNoteParams,
    A.ESCALATE_OVERDUE: DeadlineNoteParams,
    A.LINK: LinkParams,
    A.UNLINK: UnlinkParams,
    A.ASSIGN: AssignParams,
}
