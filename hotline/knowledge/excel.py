"""Excel import and export of knowledge entries (openpyxl).

One sheet, one entry per row, the header row naming the columns (any order; unknown columns are
ignored). Import goes through the services like a page would: a row with an ``id`` of an entry
in draft updates it, any other row creates a new draft of the importer's unit (or of ``owner``).
Every rejected row is reported with its row number and the reason; the other rows are kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from typing import IO, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from hotline.core.errors import ServiceError
from hotline.core.spreadsheets import ImportRefused, Limits, new_workbook, open_workbook, write_row
from hotline.directory.models import User
from hotline.knowledge.models import Entry, EntryKind, State
from hotline.knowledge.services import EntryData, do_create_entry, do_edit_entry

COLUMNS = ["id", "kind", "title", "body", "keywords", "owner", "categories", "valid_from",
           "valid_until", "public", "for_voice", "state", "published_version"]
REQUIRED = ("kind", "title", "body")
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "是", "公开", "对", "√"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "否", "内部", "", "×"})
MAX_ROWS = 5000  # each row goes through the services: more is a job for several files
MAX_COLUMNS = 64


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)

    @property
    def refused(self) -> bool:
        """The file as a whole was refused (row 0: not a workbook, or over a limit)."""
        return any(row == 0 for row, _reason in self.rejected)


def export_entries(entries: QuerySet[Entry]) -> bytes:
    book, sheet = new_workbook("entries", COLUMNS)
    for entry in entries.select_related("owner", "published").prefetch_related("categories"):
        write_row(sheet, [
            entry.pk, entry.kind, entry.title, entry.body, entry.keywords, entry.owner.code,
            " ".join(sorted(c.code for c in entry.categories.all())), entry.valid_from,
            entry.valid_until, entry.public, entry.for_voice, entry.state,
            entry.published.number if entry.published else None,
        ])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _kind(value: str) -> str:
    value = value.strip()
    for code, label in EntryKind.choices:
        if value in (code, str(label), _(str(label))):
            return code
    if value in ("政策", "法规", "办事指南", "部门职能", "城市指南", "常见问题"):
        return {"政策": "policy", "法规": "regulation", "办事指南": "guide", "部门职能": "department",
                "城市指南": "city", "常见问题": "faq"}[value]
    raise ValueError(_("unknown kind %(value)r") % {"value": value})


def _bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(_("not a yes/no value: %(value)r") % {"value": value})


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip().replace("/", "-"))
    except ValueError:
        raise ValueError(_("not a date (YYYY-MM-DD): %(value)r") % {"value": value}) from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _row_data(row: dict[str, Any]) -> EntryData:
    for column in REQUIRED:
        if not _text(row.get(column)):
            raise ValueError(_("the column %(column)s is empty") % {"column": column})
    categories = _text(row.get("categories")).replace(",", " ").replace("，", " ").split()
    return EntryData(
        kind=_kind(_text(row.get("kind"))), title=_text(row.get("title")),
        body=_text(row.get("body")), keywords=_text(row.get("keywords")),
        owner=_text(row.get("owner")), categories=categories,
        valid_from=_date(row.get("valid_from")), valid_until=_date(row.get("valid_until")),
        public=_bool(row.get("public"), True), for_voice=_bool(row.get("for_voice"), False),
    )


def import_entries(actor: User, file: IO[bytes]) -> ImportReport:
    """Import the first sheet. A file over a limit (size, unpacked size, rows, columns) is
    refused as a whole before any row is imported: row 0 of the report says which limit."""
    report = ImportReport()
    try:
        book = open_workbook(file, Limits.default(max_rows=MAX_ROWS, max_columns=MAX_COLUMNS))
    except ImportRefused as refused:
        report.rejected.append((0, refused.message))
        return report
    try:
        if not book.worksheets:
            report.rejected.append((0, _("The file is not an Excel workbook (.xlsx).")))
            return report
        rows = book.rows(book.worksheets[0])
        header = [(_text(h)).lower() for h in next(rows, ())]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            report.rejected.append(
                (1, _("Missing columns: %(columns)s") % {"columns": ", ".join(missing)}))
            return report
        _import_rows(actor, header, rows, report)
    finally:
        book.close()
    return report


def _import_rows(actor: User, header: list[str], rows: Iterator[tuple[Any, ...]],
                 report: ImportReport) -> None:
    for number, values in enumerate(rows, start=2):
        if values is None or all(v in (None, "") for v in values):
            continue
        row = dict(zip(header, values, strict=False))
        try:
            data = _row_data(row)
            entry_id = _text(row.get("id"))
            with transaction.atomic():
                if entry_id:
                    existing = Entry.objects.filter(pk=int(entry_id)).first()
                    if existing is None:
                        raise ValueError(_("no entry with id %(id)s") % {"id": entry_id})
                    if existing.state != State.DRAFT:
                        raise ValueError(_("entry %(id)s is not a draft; start a revision first")
                                         % {"id": entry_id})
                    do_edit_entry(actor, existing.pk, data)
                    report.updated += 1
                else:
                    do_create_entry(actor, data)
                    report.created += 1
        except ServiceError as error:
            report.rejected.append((number, error.message))
        except ValueError as error:
            report.rejected.append((number, str(error)))
