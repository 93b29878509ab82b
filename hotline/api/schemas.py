"""Request and response bodies of the REST API.

Every text field is a ``Text`` with a maximum length matching its database column, so a bad
request is a 422 naming the field and never reaches the database (PostgreSQL refuses NUL
characters and lone surrogates with an error; we refuse them first).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from hotline.directory.models import OrderType
from hotline.orders.models import Channel, CitizenTag, OrderState, Urgency

MAX_DB_INT = 2**63 - 1
# Dates far outside these overflow when converted to UTC or moved by a day.
MIN_DATE = dt.date(1970, 1, 1)
MAX_DATE = dt.date(9998, 12, 31)


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _iso_date(value: Any) -> Any:
    # Pydantic would also read "0" or "1700000000" as a date (a Unix time); a date is YYYY-MM-DD.
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


def _email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("not a valid email address") from None
    return value


Storable = AfterValidator(_storable)
# Storable texts of at most N characters.
Code = Annotated[str, StringConstraints(max_length=32), Storable]
Text40 = Annotated[str, StringConstraints(max_length=40), Storable]
Text64 = Annotated[str, StringConstraints(max_length=64), Storable]
Text128 = Annotated[str, StringConstraints(max_length=128), Storable]
Text200 = Annotated[str, StringConstraints(max_length=200), Storable]
Text255 = Annotated[str, StringConstraints(max_length=255), Storable]
Note = Annotated[str, StringConstraints(max_length=5000), Storable]
LongText = Annotated[str, StringConstraints(max_length=20000), Storable]
Email = Annotated[str, StringConstraints(max_length=254), Storable, AfterValidator(_email)]


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class NewOrderIn(InputSchema):
    type: OrderType
    channel: Channel = Channel.API
    title: Text200
    text: LongText
    citizen_phone: Text40 = ""
    citizen_name: Text64 = ""
    citizen_email: Email = ""
    citizen_tags: list[CitizenTag] = Field(default_factory=list, max_length=len(CitizenTag))
    confidential: StrictBool = False
    address: Text255 = ""
    district: Code = ""
    category: Code = ""
    urgency: Urgency = Urgency.NORMAL
    contact_id: int | None = Field(None, ge=1, le=MAX_DB_INT)
    contact_summary: Note = ""
    external_id: Text128 = ""


class ErrorOut(Schema):
    detail: str
    field: str | None = None


class OrderSummaryOut(Schema):
    number: str
    state: OrderState
    type: OrderType
    channel: Channel
    urgency: Urgency
    title: str
    confidential: bool
    district: str | None
    category: str | None
    lead_unit: str | None
    created_at: dt.datetime
    sign_due: dt.datetime | None
    handle_due: dt.datetime | None
    closed_at: dt.datetime | None
    overdue: bool


class OrderPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[OrderSummaryOut]


class CitizenOut(Schema):
    name: str
    phone: str
    hidden: bool = Field(description="true when the caller may not know who the citizen is")


class EventOut(Schema):
    seq: int
    action: str
    action_label: str
    from_state: str
    to_state: str
    actor: str
    unit: str | None
    note: str
    data: dict[str, Any]
    created_at: dt.datetime


class AssignmentOut(Schema):
    unit: str
    unit_name: str
    role: str
    active: bool
    assigned_at: dt.datetime
    signed_at: dt.datetime | None
    replied_at: dt.datetime | None
    reply_text: str


class AttachmentOut(Schema):
    id: int
    kind: str
    name: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime
    url: str


class ContactOut(Schema):
    id: int
    channel: str
    direction: str
    occurred_at: dt.datetime
    summary: str


class OrderDetailOut(OrderSummaryOut):
    text: str
    address: str
    citizen: CitizenOut
    state_label: str
    dispatched_at: dt.datetime | None
    signed_at: dt.datetime | None
    replied_at: dt.datetime | None
    reply_text: str
    resolved: bool | None
    satisfaction: str
    supervised: bool
    major_event: bool
    extension_pending_days: int | None
    reopen_count: int
    merged_into: str | None
    allowed_actions: list[str]
    events: list[EventOut]
    assignments: list[AssignmentOut]
    attachments: list[AttachmentOut]
    contacts: list[ContactOut]


class OrderFilters(InputSchema):
    state: list[OrderState] | None = None
    type: list[OrderType] | None = None
    channel: list[Channel] | None = None
    district: Code | None = None
    category: Code | None = Field(
        None, description="a category code; orders of its sub-categories match too"
    )
    lead_unit: Code | None = None
    urgency: Urgency | None = None
    overdue: bool | None = None
    created_from: IsoDate | None = Field(
        None, ge=MIN_DATE, le=MAX_DATE, description="first day (local time), inclusive"
    )
    created_to: IsoDate | None = Field(
        None, ge=MIN_DATE, le=MAX_DATE, description="last day (local time), inclusive"
    )
    q: Text200 | None = Field(None, description="text the title contains")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


class SimilarIn(InputSchema):
    text: LongText = ""
    title: Text200 = ""
    address: Text255 = ""
    district: Code = Field("", description="district code (or name)")
    phone: Text40 = Field("", description="the caller's number: their own orders count more")
    limit: int = Field(10, ge=1, le=50)


class SimilarOut(Schema):
    number: str
    title: str
    state: OrderState
    district: str | None
    address: str
    created_at: dt.datetime
    score: float = Field(description="0 to 1: how likely the same matter")
    kind: str = Field(description="duplicate (likely the same matter) or related")
    kind_label: str
    reasons: list[str] = Field(description="why, for the agent (translated)")
    reason_codes: list[str]
    linked: str = Field("", description="kind of an existing link with the order asked about")


class SimilarPageOut(Schema):
    items: list[SimilarOut]


class PublicStatusOut(Schema):
    number: str
    state: OrderState
    state_label: dict[str, str] = Field(description='{"zh-hans": ..., "en": ...}')
    type: OrderType
    type_label: dict[str, str]
    created_date: dt.date
    lead_department: str | None
    reply: str | None = Field(description="the answer, once the order is closed")


class CategoryOut(Schema):
    code: str
    name: str
    level: int
    parent: str | None
    accepted_types: list[str]
    active: bool
    children: list[CategoryOut] | None = None


class UnitOut(Schema):
    code: str
    name: str
    kind: str
    parent: str | None
    district: str | None
    phone: str
    active: bool


class DistrictOut(Schema):
    code: str
    name: str
