"""Import and export of the directory (districts, units, the catalogue with its dispatch routes)
as an Excel workbook.

One workbook holds up to three sheets, each with a header row and one record per row; column
order does not matter and English or Chinese headers are accepted:

``districts`` (区县)
    code (编码), name (名称)
``units`` (单位)
    code (编码), name (名称), kind (类型: centre/subcentre/department/street or
    中心/分中心/部门/街道), parent (上级编码), district (区县编码), phone (电话), duties (职责)
``catalogue`` (事项目录)
    code (编码), name (名称), level (层级: 1-3), parent (上级编码), types (受理类型: comma list
    of 咨询/投诉/举报/求助/建议/表扬/其他 or consultation/complaint/...; empty = all), sign_hours
    (签收时限), handle_days (办理时限), urgent_sign_hours (紧急签收时限), urgent_handle_hours
    (紧急办理时限), lead_unit (主办单位编码), district (区县编码; empty = the default route),
    co_units (协办单位编码, comma list)

A category with routes for several districts takes one row per route: the later rows repeat
the code and name with another district code. Rows are validated one by one; the good rows are
upserted by code in one transaction, the bad ones are reported with their row number and the
reason, and they do not stop the good ones. ``export_workbook`` writes the same columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook

from hotline.core.spreadsheets import ImportRefused, Limits, SafeWorkbook, open_workbook, write_row
from hotline.directory.models import (
    Category,
    CategoryRoute,
    District,
    OrderType,
    Unit,
    UnitKind,
)

SHEET_DISTRICTS, SHEET_UNITS, SHEET_CATALOGUE = "districts", "units", "catalogue"
SHEET_ALIASES = {
    SHEET_DISTRICTS: ("districts", "区县"),
    SHEET_UNITS: ("units", "单位"),
    SHEET_CATALOGUE: ("catalogue", "catalog", "事项目录"),
}

DISTRICT_COLUMNS = ("code", "name")
UNIT_COLUMNS = ("code", "name", "kind", "parent", "district", "phone", "duties")
CATALOGUE_COLUMNS = (
    "code", "name", "level", "parent", "types", "sign_hours", "handle_days",
    "urgent_sign_hours", "urgent_handle_hours", "lead_unit", "district", "co_units",
)
HEADER_ALIASES = {
    "编码": "code", "代码": "code", "名称": "name", "类型": "kind", "单位类型": "kind",
    "上级编码": "parent", "上级": "parent", "parent code": "parent", "区县编码": "district",
    "区县": "district", "district code": "district", "电话": "phone", "转接电话": "phone",
    "职责": "duties", "层级": "level", "受理类型": "types", "accepted types": "types",
    "签收时限": "sign_hours", "办理时限": "handle_days", "紧急签收时限": "urgent_sign_hours",
    "紧急办理时限": "urgent_handle_hours", "主办单位编码": "lead_unit", "主办单位": "lead_unit",
    "lead unit": "lead_unit", "lead unit code": "lead_unit", "协办单位编码": "co_units",
    "协办单位": "co_units", "co-handlers": "co_units", "co_handlers": "co_units",
}

MAX_CODE_LENGTH = 32  # Unit.code, District.code and Category.code
# A city's catalogue with one row per district route stays well under this; the whole sheet is
# validated in memory before anything is written, so the bound is also a memory bound.
MAX_ROWS = 50_000
MAX_COLUMNS = 64

COLUMN_HELP = {
    SHEET_DISTRICTS: DISTRICT_COLUMNS,
    SHEET_UNITS: UNIT_COLUMNS,
    SHEET_CATALOGUE: CATALOGUE_COLUMNS,
}

KIND_NAMES = {
    "中心": UnitKind.CENTRE, "热线中心": UnitKind.CENTRE, "分中心": UnitKind.SUBCENTRE,
    "部门": UnitKind.DEPARTMENT, "单位": UnitKind.DEPARTMENT, "街道": UnitKind.STREET,
    "乡镇": UnitKind.STREET,
}
TYPE_NAMES = {
    "咨询": OrderType.CONSULTATION, "投诉": OrderType.COMPLAINT, "举报": OrderType.REPORT,
    "求助": OrderType.HELP, "建议": OrderType.SUGGESTION, "表扬": OrderType.PRAISE,
    "其他": OrderType.OTHER,
}
LIST_SEPARATORS = re.compile(r"[,，、;；\s]+")
TYPE_SEPARATORS = re.compile(r"[,，、;；]+")  # labels such as "Request for help" have spaces


@dataclass
class RowError:
    sheet: str
    row: int
    code: str
    reason: str

    def __str__(self) -> str:
        return _("%(sheet)s row %(row)d (%(code)s): %(reason)s") % {
            "sheet": self.sheet, "row": self.row, "code": self.code or "-", "reason": self.reason,
        }


@dataclass
class SheetResult:
    sheet: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def reject(self, row: int, code: str, reason: str) -> None:
        self.errors.append(RowError(self.sheet, row, code, reason))


@dataclass
class ImportReport:
    sheets: list[SheetResult] = field(default_factory=list)

    @property
    def errors(self) -> list[RowError]:
        return [error for sheet in self.sheets for error in sheet.errors]

    def sheet(self, name: str) -> SheetResult | None:
        return next((s for s in self.sheets if s.sheet == name), None)

    def summary(self) -> str:
        if not self.sheets:
            return _("The workbook has no districts, units or catalogue sheet.")
        parts = [
            _("%(sheet)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
              "%(rejected)d rejected") % {
                "sheet": s.sheet, "created": s.created, "updated": s.updated,
                "unchanged": s.unchanged, "rejected": len(s.errors)}
            for s in self.sheets
        ]
        return "; ".join(parts)

    def lines(self) -> list[str]:
        return [self.summary(), *(str(error) for error in self.errors)]


# --- reading -------------------------------------------------------------------------------

def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _read_rows(workbook: SafeWorkbook, sheet: Any) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) for every non-empty row after the header."""
    rows = workbook.rows(sheet)
    header = next(rows, None)
    if header is None:
        return []
    columns = []
    for title in header:
        key = _cell_text(title).lower()
        columns.append(HEADER_ALIASES.get(key, key.replace(" ", "_")))
    records = []
    for number, values in enumerate(rows, start=2):
        texts = [_cell_text(v) for v in values]
        if not any(texts):
            continue
        records.append((number, {col: text for col, text in zip(columns, texts, strict=False)
                                 if col}))
    return records


def _find_sheet(workbook: SafeWorkbook, name: str) -> Any:
    for alias in SHEET_ALIASES[name]:
        for title in workbook.sheetnames:
            if title.strip().lower() == alias:
                return workbook[title]
    return None


class WorkbookError(ValueError):
    """The file is not a readable .xlsx workbook."""


def _open(path_or_file: str | IO[bytes] | Any) -> SafeWorkbook:
    """The workbook after the size, zip and sheet checks of ``hotline.core.spreadsheets``."""
    try:
        return open_workbook(path_or_file, Limits.default(max_rows=MAX_ROWS,
                                                          max_columns=MAX_COLUMNS))
    except ImportRefused as exc:
        raise WorkbookError(exc.message) from exc


def _split(text: str) -> list[str]:
    return [part for part in LIST_SEPARATORS.split(text) if part]


def _optional_int(text: str, column: str) -> int | None:
    if not text:
        return None
    try:
        number = int(text)
    except ValueError:
        raise ValueError(_("%(column)s must be a whole number, not %(value)r")
                         % {"column": column, "value": text}) from None
    if number < 0:
        raise ValueError(_("%(column)s must not be negative") % {"column": column})
    return number


def _parse_types(text: str) -> list[str]:
    if not text:
        return list(OrderType.values)
    labels = {str(label).lower(): value for value, label in OrderType.choices}
    types: list[str] = []
    for raw in TYPE_SEPARATORS.split(text):
        part = raw.strip()
        if not part:
            continue
        value = TYPE_NAMES.get(part) or labels.get(part.lower()) or (
            part.lower() if part.lower() in OrderType.values else None)
        if value is None:
            raise ValueError(_("unknown order type %(type)r") % {"type": part})
        if value not in types:
            types.append(value)
    return types


def _parse_kind(text: str) -> str:
    kind = KIND_NAMES.get(text) or (text.lower() if text.lower() in UnitKind.values else None)
    if kind is None:
        raise ValueError(_("unknown unit kind %(kind)r (centre, subcentre, department, street)")
                         % {"kind": text})
    return kind


def _save(obj: Any, values: dict[str, Any], result: SheetResult) -> None:
    """Upsert bookkeeping: count created/updated/unchanged and save only when needed."""
    if obj.pk is None:
        for name, value in values.items():
            setattr(obj, name, value)
        obj.save()
        result.created += 1
        return
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=changed)
        result.updated += 1
    else:
        result.unchanged += 1


def _identity_problem(record: dict[str, str]) -> str | None:
    """Why a row cannot be identified (no code, no name, code too long), or None."""
    code = record.get("code", "")
    if not code:
        return str(_("missing code"))
    if not record.get("name"):
        return str(_("missing name"))
    if len(code) > MAX_CODE_LENGTH:
        return str(_("code longer than %(max)d characters") % {"max": MAX_CODE_LENGTH})
    return None


def _first_seen(result: SheetResult, rows: list[tuple[int, dict[str, str]]]) -> list[
        tuple[int, dict[str, str]]]:
    """Rows with a code and name; later rows repeating a code are rejected."""
    seen: dict[str, int] = {}
    kept = []
    for number, record in rows:
        code = record.get("code", "")
        problem = _identity_problem(record)
        if problem:
            result.reject(number, code, problem)
            continue
        if code in seen:
            result.reject(number, code, _("duplicate code in the sheet (first on row %(row)d)")
                          % {"row": seen[code]})
            continue
        seen[code] = number
        kept.append((number, record))
    return kept


# --- districts -----------------------------------------------------------------------------

def _import_districts(rows: list[tuple[int, dict[str, str]]]) -> SheetResult:
    result = SheetResult(SHEET_DISTRICTS)
    names_taken = dict(District.objects.values_list("name", "code"))
    for number, record in _first_seen(result, rows):
        code, name = record["code"], record["name"][:64]
        owner = names_taken.get(name)
        if owner is not None and owner != code:
            result.reject(number, code, _("name %(name)s is already used by district %(other)s")
                          % {"name": name, "other": owner})
            continue
        names_taken[name] = code
        district = District.objects.filter(code=code).first() or District(code=code)
        _save(district, {"name": name}, result)
    return result


# --- units ---------------------------------------------------------------------------------

def _import_units(rows: list[tuple[int, dict[str, str]]]) -> SheetResult:
    result = SheetResult(SHEET_UNITS)
    districts = {d.code: d for d in District.objects.all()}
    known_parents = dict(Unit.objects.values_list("code", "parent__code"))
    candidates: dict[str, tuple[int, dict[str, Any]]] = {}
    for number, record in _first_seen(result, rows):
        code = record["code"]
        try:
            kind = _parse_kind(record.get("kind", ""))
        except ValueError as exc:
            result.reject(number, code, str(exc))
            continue
        district_code = record.get("district", "")
        if district_code and district_code not in districts:
            result.reject(number, code, _("unknown district %(code)s") % {"code": district_code})
            continue
        parent = record.get("parent", "")
        if parent == code:
            result.reject(number, code, _("a unit cannot be its own parent"))
            continue
        candidates[code] = (number, {
            "name": record["name"][:128], "kind": kind, "parent": parent,
            "district": districts.get(district_code), "phone": record.get("phone", "")[:32],
            "duties": record.get("duties", ""),
        })
    _drop_orphans(candidates, set(known_parents), result, _("unknown parent unit %(code)s"))
    _drop_cycles(candidates, known_parents, result)
    for code in _parents_first(candidates):
        number, values = candidates[code]
        parent_code = values.pop("parent")
        values["parent"] = Unit.objects.get(code=parent_code) if parent_code else None
        unit = Unit.objects.filter(code=code).first() or Unit(code=code)
        _save(unit, values, result)
    return result


def _drop_orphans(candidates: dict[str, tuple[int, dict[str, Any]]], in_db: set[str],
                  result: SheetResult, message: str) -> None:
    """Reject rows whose parent is neither in the database nor a good row of the sheet; repeat,
    because rejecting a parent orphans its children."""
    while True:
        orphans = [code for code, (_n, values) in candidates.items()
                   if values["parent"] and values["parent"] not in in_db
                   and values["parent"] not in candidates]
        if not orphans:
            return
        for code in orphans:
            number, values = candidates.pop(code)
            result.reject(number, code, message % {"code": values["parent"]})


def _drop_cycles(candidates: dict[str, tuple[int, dict[str, Any]]],
                 known_parents: Mapping[str, str | None], result: SheetResult) -> None:
    parents: dict[str, str | None] = dict(known_parents)
    parents.update({c: v["parent"] or None for c, (_n, v) in candidates.items()})
    for code in list(candidates):
        seen = {code}
        node = parents.get(code)
        while node is not None:
            if node in seen:
                number, _values = candidates.pop(code)
                result.reject(number, code, _("the parent chain loops back to this unit"))
                break
            seen.add(node)
            node = parents.get(node)


def _parents_first(candidates: dict[str, tuple[int, dict[str, Any]]]) -> list[str]:
    order: list[str] = []
    placed: set[str] = set()

    def place(code: str) -> None:
        if code in placed:
            return
        parent = candidates[code][1]["parent"]
        if parent in candidates:
            place(parent)
        placed.add(code)
        order.append(code)

    for code in candidates:
        place(code)
    return order


# --- catalogue -----------------------------------------------------------------------------

@dataclass
class _CategoryRow:
    number: int
    code: str
    values: dict[str, Any]
    parent: str
    routes: list[tuple[int, str, str, list[str]]]  # (row, district, lead unit, co units)


def _import_catalogue(rows: list[tuple[int, dict[str, str]]]) -> SheetResult:
    result = SheetResult(SHEET_CATALOGUE)
    districts = {d.code: d for d in District.objects.all()}
    units = {u.code: u for u in Unit.objects.all()}
    db_levels = dict(Category.objects.values_list("code", "level"))
    rows_by_code: dict[str, _CategoryRow] = {}
    for number, record in rows:
        code = record.get("code", "")
        problem = _identity_problem(record)
        if problem:
            result.reject(number, code, problem)
            continue
        try:
            route = _parse_route(record, districts, units)
            first = rows_by_code.get(code)
            if first is not None:
                _add_route_row(first, number, record, route)
                continue
            rows_by_code[code] = _parse_category(number, record, route)
        except ValueError as exc:
            result.reject(number, code, str(exc))
    # Levels and parents: a parent must exist (sheet or database) one level up.
    levels = {**db_levels, **{c: r.values["level"] for c, r in rows_by_code.items()}}
    changed = True
    while changed:
        changed = False
        for code, row in list(rows_by_code.items()):
            reason = _parent_problem(row, levels, rows_by_code, db_levels)
            if reason:
                del rows_by_code[code]
                if code not in db_levels:
                    levels.pop(code, None)
                else:
                    levels[code] = db_levels[code]
                result.reject(row.number, code, reason)
                changed = True
    for row in sorted(rows_by_code.values(), key=lambda r: r.values["level"]):
        values = dict(row.values)
        values["parent"] = Category.objects.get(code=row.parent) if row.parent else None
        category = Category.objects.filter(code=row.code).first() or Category(code=row.code)
        before = result.created + result.updated
        _save(category, values, result)
        if _save_routes(category, row.routes, districts, units) and (
                result.created + result.updated == before):
            result.unchanged -= 1
            result.updated += 1
    return result


def _parse_category(number: int, record: dict[str, str],
                    route: tuple[str, str, list[str]] | None) -> _CategoryRow:
    code = record["code"]
    level = _optional_int(record.get("level", ""), "level")
    if level is None or not 1 <= level <= 3:
        raise ValueError(_("level must be 1, 2 or 3"))
    values: dict[str, Any] = {
        "name": record["name"][:128], "level": level,
        "accepted_types": _parse_types(record.get("types", "")),
        "sign_limit_hours": _optional_int(record.get("sign_hours", ""), "sign_hours"),
        "handle_limit_days": _optional_int(record.get("handle_days", ""), "handle_days"),
        "urgent_sign_limit_hours": _optional_int(
            record.get("urgent_sign_hours", ""), "urgent_sign_hours"),
        "urgent_handle_limit_hours": _optional_int(
            record.get("urgent_handle_hours", ""), "urgent_handle_hours"),
    }
    parent = record.get("parent", "")
    if parent == code:
        raise ValueError(_("a category cannot be its own parent"))
    routes = [(number, *route)] if route else []
    return _CategoryRow(number, code, values, parent, routes)


def _add_route_row(first: _CategoryRow, number: int, record: dict[str, str],
                   route: tuple[str, str, list[str]] | None) -> None:
    """A repeated code is another district's route for the same category, nothing else."""
    if record["name"][:128] != first.values["name"] or route is None:
        raise ValueError(_("duplicate code in the sheet (first on row %(row)d)")
                         % {"row": first.number})
    if any(existing[1] == route[0] for existing in first.routes):
        raise ValueError(_("duplicate route: this code and district already appear on row "
                           "%(row)d") % {"row": first.number})
    first.routes.append((number, *route))


def _parse_route(record: dict[str, str], districts: dict[str, District],
                 units: dict[str, Unit]) -> tuple[str, str, list[str]] | None:
    lead = record.get("lead_unit", "")
    district = record.get("district", "")
    co_units = _split(record.get("co_units", ""))
    if not lead:
        if district or co_units:
            raise ValueError(_("a district or co-handlers need a lead unit"))
        return None
    for code in (lead, *co_units):
        unit = units.get(code)
        if unit is None:
            raise ValueError(_("unknown unit %(code)s") % {"code": code})
        if unit.kind == UnitKind.CENTRE:
            raise ValueError(_("the centre cannot handle orders: %(code)s") % {"code": code})
    if district and district not in districts:
        raise ValueError(_("unknown district %(code)s") % {"code": district})
    return district, lead, [c for c in dict.fromkeys(co_units) if c != lead]


def _parent_problem(row: _CategoryRow, levels: dict[str, int],
                    rows_by_code: dict[str, _CategoryRow], db_levels: dict[str, int]) -> str:
    level = row.values["level"]
    if level == 1:
        return _("a level 1 category has no parent") if row.parent else ""
    if not row.parent:
        return _("a level %(level)d category needs a parent") % {"level": level}
    if row.parent not in rows_by_code and row.parent not in db_levels:
        return _("unknown parent category %(code)s") % {"code": row.parent}
    parent_level = levels.get(row.parent)
    if parent_level != level - 1:
        return _("bad level: the parent %(code)s is on level %(parent)s, this row needs "
                 "level %(needed)d") % {"code": row.parent, "parent": parent_level,
                                        "needed": level - 1}
    return ""


def _save_routes(category: Category, routes: list[tuple[int, str, str, list[str]]],
                 districts: dict[str, District], units: dict[str, Unit]) -> bool:
    """Upsert the category's routes named in the sheet; others stay. True if any changed."""
    changed = False
    for _number, district_code, lead, co_codes in routes:
        district = districts.get(district_code) if district_code else None
        route = CategoryRoute.objects.filter(category=category, district=district).first()
        if route is None:
            route = CategoryRoute.objects.create(
                category=category, district=district, lead_unit=units[lead])
            changed = True
        elif route.lead_unit_id != units[lead].pk:
            route.lead_unit = units[lead]
            route.save(update_fields=["lead_unit"])
            changed = True
        wanted = {units[c].pk for c in co_codes}
        if set(route.co_units.values_list("pk", flat=True)) != wanted:
            route.co_units.set(wanted)
            changed = True
    return changed


# --- entry points --------------------------------------------------------------------------

def _import(path_or_file: Any, only: Iterable[str]) -> ImportReport:
    workbook = _open(path_or_file)
    report = ImportReport()
    importers = {
        SHEET_DISTRICTS: _import_districts, SHEET_UNITS: _import_units,
        SHEET_CATALOGUE: _import_catalogue,
    }
    wanted = list(only)
    sheets = {name: _find_sheet(workbook, name) for name in wanted}
    if len(wanted) == 1 and sheets[wanted[0]] is None and len(workbook.sheetnames) == 1:
        sheets[wanted[0]] = workbook.worksheets[0]  # a one-sheet workbook for one kind of data
    with transaction.atomic():
        for name in (SHEET_DISTRICTS, SHEET_UNITS, SHEET_CATALOGUE):  # references point up
            if name in wanted and sheets[name] is not None:
                report.sheets.append(importers[name](_read_rows(workbook, sheets[name])))
    workbook.close()
    return report


def import_workbook(path_or_file: Any) -> ImportReport:
    """Import every directory sheet the workbook has (districts, then units, then catalogue)."""
    return _import(path_or_file, (SHEET_DISTRICTS, SHEET_UNITS, SHEET_CATALOGUE))


def import_units(path_or_file: Any) -> ImportReport:
    return _import(path_or_file, (SHEET_UNITS,))


def import_catalogue(path_or_file: Any) -> ImportReport:
    return _import(path_or_file, (SHEET_CATALOGUE,))


def build_workbook() -> Workbook:
    """The directory as a workbook with the import's sheets and columns (a round trip)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET_DISTRICTS
    write_row(sheet, DISTRICT_COLUMNS)
    for district in District.objects.order_by("code"):
        write_row(sheet, (district.code, district.name))
    sheet = workbook.create_sheet(SHEET_UNITS)
    write_row(sheet, UNIT_COLUMNS)
    for unit in Unit.objects.select_related("parent", "district").order_by("code"):
        write_row(sheet, (
            unit.code, unit.name, unit.kind, unit.parent.code if unit.parent else "",
            unit.district.code if unit.district else "", unit.phone, unit.duties,
        ))
    sheet = workbook.create_sheet(SHEET_CATALOGUE)
    write_row(sheet, CATALOGUE_COLUMNS)
    categories = Category.objects.select_related("parent").prefetch_related(
        "routes__district", "routes__lead_unit", "routes__co_units").order_by("level", "code")
    for category in categories:
        base = (
            category.code, category.name, category.level,
            category.parent.code if category.parent else "",
            ",".join(category.accepted_types), category.sign_limit_hours,
            category.handle_limit_days, category.urgent_sign_limit_hours,
            category.urgent_handle_limit_hours,
        )
        routes = sorted(category.routes.all(),
                        key=lambda r: (r.district is not None, r.district.code if r.district
                                       else ""))
        if not routes:
            write_row(sheet, (*base, "", "", ""))
        for route in routes:
            write_row(sheet, (
                *base, route.lead_unit.code, route.district.code if route.district else "",
                ",".join(sorted(u.code for u in route.co_units.all())),
            ))
    return workbook


def export_workbook(destination: str | IO[bytes] | Any) -> None:
    build_workbook().save(destination)
