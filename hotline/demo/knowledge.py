"""Loading the demo knowledge base (``manage.py load_demo_knowledge``): every entry goes
through the services (created, submitted, published), so it has a real history and is indexed.
Entries whose owner unit does not exist are given to the centre; titles already present are
skipped, so the command can run again safely."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from hotline.core import segmentation
from hotline.core.roles import Role
from hotline.demo.knowledge_entries import ENTRIES, SYNONYMS
from hotline.directory.models import Category, Unit, UnitKind, User
from hotline.knowledge.models import Entry, Synonym
from hotline.knowledge.services import EntryData, do_create_entry, do_entry_action

EDITOR_USERNAME = "kb_editor"


class NoDirectory(Exception):
    pass


def demo_editor(centre: Unit) -> User:
    """The centre administrator the demo entries are written and published by."""
    editor = User.objects.filter(role=Role.CENTRE_ADMIN, is_active=True, unit=centre).first()
    if editor is None:
        editor = User.objects.filter(username=EDITOR_USERNAME).first()
    if editor is None:
        editor = User(username=EDITOR_USERNAME, role=Role.CENTRE_ADMIN, unit=centre,
                      display_name="知识库编辑")
        editor.set_unusable_password()  # no login: it only signs the demo's history
        editor.save()
    return editor


def _categories(names: tuple[str, ...]) -> list[str]:
    codes = []
    for name in names:
        category = Category.objects.filter(name=name).order_by("-level", "code").first()
        if category is not None:
            codes.append(category.code)
    return codes


def _department_entries() -> list[tuple[Unit, EntryData]]:
    found = []
    for unit in Unit.objects.filter(kind=UnitKind.DEPARTMENT, active=True).exclude(duties=""):
        phone = f"\n\n转接电话：{unit.phone}" if unit.phone else ""
        body = f"主要职责：{unit.duties}{phone}\n\n紧急情况请拨打110、119、120。"
        found.append((unit, EntryData(
            kind="department", title=f"{unit.name}职能和转接电话",
            keywords=f"{unit.name} 职能 转接电话 联系电话", body=body, owner=unit.code,
            for_voice=True,
        )))
    return found


def load_demo_knowledge() -> dict[str, int]:
    centre = Unit.objects.filter(kind=UnitKind.CENTRE).order_by("pk").first()
    if centre is None:
        raise NoDirectory("no hotline centre unit: load the directory (load_demo) first")
    for term, equivalents in SYNONYMS:
        Synonym.objects.get_or_create(term=term, defaults={"equivalents": equivalents})
    # The synonyms are dictionary words: loaded before the entries are segmented and indexed.
    segmentation.reload_user_words()
    editor = demo_editor(centre)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    units = {u.code: u for u in Unit.objects.all()}
    items: list[tuple[Unit, EntryData]] = []
    for code, kind, title, keywords, body, categories, options in ENTRIES:
        owner = units.get(code, centre)
        items.append((owner, EntryData(
            kind=kind, title=title, keywords=keywords, body=body, owner=owner.code,
            categories=_categories(categories), public=options.get("public", True),
            for_voice=options.get("for_voice", False),
            valid_from=yesterday - dt.timedelta(days=365) if options.get("expired") else None,
            valid_until=yesterday if options.get("expired") else None,
        )))
    items.extend(_department_entries())
    created = skipped = 0
    with transaction.atomic():
        for owner, data in items:
            if Entry.objects.filter(owner=owner, title=data.title).exists():
                skipped += 1
                continue
            entry = do_create_entry(editor, data)
            do_entry_action(editor, entry.pk, "submit")
            do_entry_action(editor, entry.pk, "publish")
            created += 1
    return {"created": created, "skipped": skipped}
