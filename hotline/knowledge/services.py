"""Every write to the knowledge base: creating and editing entries and moving them through the
workflow (``workflow.TRANSITIONS``), each step recorded as an ``EntryEvent`` with who and when.
Publishing freezes the working copy into a new ``EntryVersion`` and indexes it; retiring takes
the entry out of the index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.core.roles import Role
from hotline.directory.models import Category, Unit, User
from hotline.knowledge import indexing, workflow
from hotline.knowledge.models import Entry, EntryEvent, EntryKind, EntryVersion, State
from hotline.knowledge.richtext import clean_body
from hotline.knowledge.workflow import EntryAction, WorkflowError

MAX_REASON = 2000


@dataclass
class EntryData:
    """What an author writes; validated by ``check_entry_data``."""

    kind: str
    title: str
    body: str
    keywords: str = ""
    owner: str = ""  # unit code; empty: the author's own unit
    categories: list[str] = field(default_factory=list)  # category codes
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    public: bool = True
    for_voice: bool = False


def _name(user: User) -> str:
    return user.display_name or user.get_username()


def is_reviewer(user: Any) -> bool:
    return bool(user.is_authenticated and (
        user.is_superuser or user.role in workflow.REVIEWER_ROLES))


def authored_unit_ids(user: Any) -> list[int] | None:
    """Units whose entries ``user`` may write; None means every unit."""
    if not user.is_authenticated:
        return []
    if user.is_superuser or user.role == Role.CENTRE_ADMIN:
        return None
    if user.role not in workflow.AUTHOR_ROLES or user.unit is None:
        return []
    return user.unit.descendant_ids()


def may(user: Any, action: str, entry: Entry | None = None, owner_id: int | None = None) -> bool:
    """Role and unit check for ``action`` (not the state: see ``workflow.next_state``)."""
    if not user.is_authenticated or not user.is_active:
        return False
    act = EntryAction(action)
    if not (user.is_superuser or user.role in workflow.ACTION_ROLES[act]):
        return False
    if act in workflow.OWN_UNIT_ACTIONS:
        units = authored_unit_ids(user)
        unit_id = entry.owner_id if entry is not None else owner_id
        return units is None or unit_id in units
    return True


def available_actions(user: Any, entry: Entry) -> list[EntryAction]:
    return [a for a in workflow.allowed_actions(entry.state)
            if a != EntryAction.EDIT and may(user, a, entry)]


def check_entry_data(actor: User, data: EntryData) -> tuple[Unit, list[Category]]:
    if data.kind not in EntryKind.values:
        raise InvalidInput(_("Unknown kind of entry."), "kind")
    if not data.title.strip():
        raise InvalidInput(_("A title is required."), "title")
    if len(data.title.strip()) > 200:
        raise InvalidInput(_("The title is too long (200 characters at most)."), "title")
    if not data.body.strip():
        raise InvalidInput(_("The body is required."), "body")
    if len(data.keywords) > 500:
        raise InvalidInput(_("Too many keywords (500 characters at most)."), "keywords")
    if data.valid_from and data.valid_until and data.valid_until < data.valid_from:
        raise InvalidInput(_("The end of validity is before its start."), "valid_until")
    if data.owner:
        owner = Unit.objects.filter(code=data.owner).first()
        if owner is None:
            raise InvalidInput(_("Unknown owner unit."), "owner")
    elif actor.unit is not None:
        owner = actor.unit
    else:
        raise InvalidInput(_("An owner unit is required."), "owner")
    codes = [c.strip() for c in data.categories if c and c.strip()]
    categories = list(Category.objects.filter(code__in=codes))
    unknown = set(codes) - {c.code for c in categories}
    if unknown:
        raise InvalidInput(_("Unknown categories: %(codes)s") % {"codes": ", ".join(sorted(unknown))},
                           "categories")
    return owner, categories


def _record(entry: Entry, actor: User, action: str, from_state: str, note: str = "",
            version: EntryVersion | None = None, now: dt.datetime | None = None) -> EntryEvent:
    return EntryEvent.objects.create(
        entry=entry, action=action, from_state=from_state, to_state=entry.state, actor=actor,
        actor_name=_name(actor), note=note, version=version, created_at=now or timezone.now(),
    )


def _apply(entry: Entry, data: EntryData, owner: Unit, categories: list[Category]) -> None:
    entry.kind = data.kind
    entry.title = data.title.strip()
    entry.body = clean_body(data.body)
    entry.keywords = data.keywords.strip()
    entry.owner = owner
    entry.valid_from = data.valid_from
    entry.valid_until = data.valid_until
    entry.public = data.public
    entry.for_voice = data.for_voice


def do_create_entry(actor: User, data: EntryData, now: dt.datetime | None = None) -> Entry:
    owner, categories = check_entry_data(actor, data)
    if not may(actor, EntryAction.CREATE, owner_id=owner.pk):
        raise Forbidden(_("You may not write entries for this unit."))
    now = now or timezone.now()
    with transaction.atomic():
        entry = Entry(created_by=actor, updated_by=actor, created_at=now, updated_at=now,
                      state=workflow.next_state(workflow.EntryState.NEW, EntryAction.CREATE))
        _apply(entry, data, owner, categories)
        entry.save()
        entry.categories.set(categories)
        _record(entry, actor, EntryAction.CREATE, workflow.EntryState.NEW, now=now)
    return entry


def _locked(entry_id: int) -> Entry:
    entry = Entry.objects.select_for_update().filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(_("No such entry."))
    return entry


def _transition(entry: Entry, actor: User, action: EntryAction) -> str:
    if not may(actor, action, entry):
        raise Forbidden(_("You may not do this with this entry."))
    try:
        new_state = workflow.next_state(entry.state, action)
    except WorkflowError:
        raise Conflict(_("This cannot be done while the entry is %(state)s.")
                       % {"state": State(entry.state).label}) from None
    from_state = entry.state
    entry.state = new_state
    return from_state


def do_edit_entry(actor: User, entry_id: int, data: EntryData,
                  now: dt.datetime | None = None) -> Entry:
    now = now or timezone.now()
    with transaction.atomic():
        entry = _locked(entry_id)
        if not data.owner:
            data = replace(data, owner=entry.owner.code)
        owner, categories = check_entry_data(actor, data)
        from_state = _transition(entry, actor, EntryAction.EDIT)
        if owner.pk != entry.owner_id and not may(actor, EntryAction.CREATE, owner_id=owner.pk):
            raise Forbidden(_("You may not move the entry to this unit."), "owner")
        _apply(entry, data, owner, categories)
        entry.updated_by = actor
        entry.updated_at = now
        entry.save()
        entry.categories.set(categories)
        _record(entry, actor, EntryAction.EDIT, from_state, now=now)
    return entry


def _publish(entry: Entry, actor: User, now: dt.datetime) -> EntryVersion:
    last = entry.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = EntryVersion.objects.create(
        entry=entry, number=last + 1, kind=entry.kind, title=entry.title, body=entry.body,
        keywords=entry.keywords, public=entry.public, for_voice=entry.for_voice,
        valid_from=entry.valid_from, valid_until=entry.valid_until,
        category_codes=sorted(entry.categories.values_list("code", flat=True)),
        author=entry.updated_by, published_by=actor, published_at=now,
    )
    entry.published = version
    return version


def do_entry_action(actor: User, entry_id: int, action: str, note: str = "",
                    now: dt.datetime | None = None) -> Entry:
    """submit, withdraw, publish, reject (with a reason), revise, retire or restore."""
    try:
        act = EntryAction(action)
    except ValueError:
        raise InvalidInput(_("Unknown action."), "action") from None
    if act in (EntryAction.CREATE, EntryAction.EDIT):
        raise InvalidInput(_("Unknown action."), "action")
    note = (note or "").strip()
    if act == EntryAction.REJECT and not note:
        raise InvalidInput(_("Say why the entry is rejected."), "note")
    if len(note) > MAX_REASON:
        raise InvalidInput(_("The note is too long."), "note")
    now = now or timezone.now()
    with transaction.atomic():
        entry = _locked(entry_id)
        from_state = _transition(entry, actor, act)
        version = None
        if act == EntryAction.PUBLISH:
            version = _publish(entry, actor, now)
            entry.review_note = ""
        elif act == EntryAction.REJECT:
            entry.review_note = note
        elif act == EntryAction.RETIRE:
            # Off the air at once; the versions stay as history, a restore starts a new draft.
            entry.published = None
        entry.updated_at = now
        entry.save()
        _record(entry, actor, act, from_state, note=note, version=version, now=now)
        if act == EntryAction.PUBLISH:
            indexing.index_entry(entry)
        elif act == EntryAction.RETIRE:
            indexing.unindex_entry(entry.pk)
    return entry


def entries_owned_by(user: Any) -> QuerySet[Entry]:
    """Every entry of the units ``user`` writes for, in any state, expired ones included."""
    units = authored_unit_ids(user)
    qs = Entry.objects.select_related("owner", "published")
    if units is None:
        return qs
    return qs.filter(owner_id__in=units)


def review_queue() -> QuerySet[Entry]:
    return Entry.objects.filter(state=State.SUBMITTED).select_related("owner", "updated_by") \
        .order_by("updated_at")
