"""Merging two records of one person (the same citizen registered twice: by phone on one
channel, by email or a chat session on another) into one history.

Everything that points at the merged record moves to the kept one: contacts, orders, channel
identities, call-queue entries; the merged record's phone and email become identities of the
kept one, so the registry still finds the person by them. Append-only logs (the access log)
keep the id they recorded; the ``CitizenMerge`` row says where that id went.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import ForeignKey
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.core.append_only import AppendOnly
from hotline.core.errors import Forbidden, InvalidInput
from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.orders.citizens import do_add_identity
from hotline.orders.models import (
    Citizen,
    CitizenIdentity,
    CitizenMerge,
    Contact,
    IdentityKind,
    Order,
)

MERGE_ROLES = frozenset({Role.CENTRE_ADMIN})


def may_merge_citizens(actor: User) -> bool:
    return bool(actor.is_superuser or actor.role in MERGE_ROLES)


def check_can_merge_citizens(actor: User, keep: Citizen, merge: Citizen) -> None:
    if not may_merge_citizens(actor):
        raise Forbidden(gettext_noop("only centre administrators merge citizen records"))
    if keep.pk == merge.pk:
        raise InvalidInput(gettext_noop("a citizen cannot be merged into itself"), field="merge")


def _move_other_references(keep: Citizen, merge: Citizen) -> None:
    """Every other foreign key to Citizen (a domain this one does not import, such as the call
    queue) follows too; append-only rows never change."""
    handled = {Order, Contact, CitizenIdentity, CitizenMerge}
    for relation in Citizen._meta.related_objects:
        model = relation.related_model
        if (not isinstance(model, type) or model in handled
                or not isinstance(relation.field, ForeignKey) or issubclass(model, AppendOnly)):
            continue
        name = relation.field.name
        model._base_manager.filter(**{name: merge}).update(**{name: keep})


def do_merge_citizens(actor: User, keep: Citizen, merge: Citizen, *,
                      now: dt.datetime | None = None) -> CitizenMerge:
    """Fold ``merge`` into ``keep``; returns the citizen history record of the merge."""
    check_can_merge_citizens(actor, keep, merge)
    with transaction.atomic():
        # Both rows locked, in id order so two opposite merges cannot deadlock.
        locked = {c.pk: c for c in Citizen.objects.select_for_update()
                  .filter(pk__in=[keep.pk, merge.pk]).order_by("pk")}
        if len(locked) != 2:
            raise InvalidInput(gettext_noop("one of the citizens no longer exists"), field="merge")
        keep, merge = locked[keep.pk], locked[merge.pk]
        numbers = list(Order.objects.filter(citizen=merge).order_by("pk")
                       .values_list("number", flat=True))
        Order.objects.filter(citizen=merge).update(citizen=keep)
        contacts = Contact.objects.filter(citizen=merge).update(citizen=keep)
        CitizenIdentity.objects.filter(citizen=merge).update(citizen=keep)
        CitizenMerge.objects.filter(keep=merge).update(keep=keep)
        _move_other_references(keep, merge)
        record = CitizenMerge.objects.create(
            keep=keep, merged_id=merge.pk, merged_name=merge.name, merged_phone=merge.phone,
            merged_email=merge.email, orders=numbers, contacts=contacts,
            actor=actor if actor.pk else None, created_at=now or timezone.now(),
        )
        merged_phone, merged_email = merge.phone, merge.email
        merge.delete()  # after it: its phone is free for the kept record (unique phones)
        keep.name = keep.name or merge.name
        keep.tags = [*keep.tags, *(t for t in merge.tags if t not in keep.tags)]
        # Confidential if either record asked for it: merging must never expose anyone.
        keep.confidential = keep.confidential or merge.confidential
        if merged_phone and not keep.phone:
            keep.phone = merged_phone
        elif merged_phone and merged_phone != keep.phone:
            do_add_identity(keep, IdentityKind.PHONE, merged_phone)
        if merged_email and not keep.email:
            keep.email = merged_email
        elif merged_email and merged_email.lower() != keep.email.lower():
            do_add_identity(keep, IdentityKind.EMAIL, merged_email.lower())
        keep.save(update_fields=["name", "tags", "confidential", "phone", "email"])
    return record
