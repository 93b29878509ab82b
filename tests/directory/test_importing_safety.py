"""Finding 7 of issue 10 for the directory: imports within limits, exports without formulas."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from hotline.directory import importing
from hotline.directory.models import Unit, UnitKind
from tests.core.test_spreadsheets import MIB, NS, sheet, xlsx_with_sheet
from tests.directory.test_admin import admin_client  # noqa: F401 (the fixture)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.test import Client

    from tests.conftest import City


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _text(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


UNITS_HEADER = f'<row r="1">{_text("A1", "code")}{_text("B1", "name")}{_text("C1", "kind")}</row>'


def _unit_row(n: int) -> str:
    return f'<row r="{n}">{_text(f"A{n}", f"u{n}")}{_text(f"B{n}", f"单位{n}")}{_text(f"C{n}", "部门")}</row>'


def test_a_zip_bomb_is_refused_before_any_row_is_read(db: None) -> None:
    def bomb() -> Iterator[bytes]:
        yield f"<worksheet {NS}><sheetData>{UNITS_HEADER}".encode()
        block = _unit_row(2).replace(' r="2"', "").replace(' r="A2"', "").replace(
            ' r="B2"', "").replace(' r="C2"', "").encode() * 10000
        for _ in range(200 * MIB // len(block)):
            yield block
        yield b"</sheetData></worksheet>"

    with pytest.raises(importing.WorkbookError, match="unpacks to more than 50 MB"):
        importing.import_units(xlsx_with_sheet(chunks=bomb()))
    assert not Unit.objects.filter(code="u2").exists()


def test_a_value_in_column_xfd_is_refused(db: None) -> None:
    wide = UNITS_HEADER.replace("</row>", _text("XFD1", "x") + "</row>")
    with pytest.raises(importing.WorkbookError, match=r"column 16384 \(cell XFD1\)"):
        importing.import_units(xlsx_with_sheet(sheet(wide + _unit_row(2), "A1:XFD2")))
    assert not Unit.objects.filter(code="u2").exists()


def test_too_many_rows_are_refused_as_a_whole(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "MAX_ROWS", 2)
    rows = UNITS_HEADER + "".join(_unit_row(n) for n in range(2, 5))
    with pytest.raises(importing.WorkbookError, match="more than 2 rows"):
        importing.import_units(xlsx_with_sheet(sheet(rows)))
    assert not Unit.objects.filter(code__in=["u2", "u3", "u4"]).exists()
    report = importing.import_units(xlsx_with_sheet(sheet(UNITS_HEADER + _unit_row(2))))
    assert report.sheets[0].created == 1


def test_the_admin_import_refuses_a_hostile_workbook_with_422(admin_client: Client) -> None:  # noqa: F811
    wide = UNITS_HEADER.replace("</row>", _text("XFD1", "x") + "</row>")
    upload = xlsx_with_sheet(sheet(wide))
    upload.name = "units.xlsx"
    response = admin_client.post(reverse("admin:directory_unit_import"), {"file": upload})
    assert response.status_code == 422
    assert "at most 64 columns" in response.content.decode()


def test_export_writes_formula_like_text_as_text(city: City) -> None:
    Unit.objects.create(code="evil", name="=cmd|' /C calc'!A0", kind=UnitKind.DEPARTMENT,
                        phone="+1", duties="@SUM(A1)")
    out = io.BytesIO()
    importing.export_workbook(out)
    units = load_workbook(io.BytesIO(out.getvalue()))["units"]
    header = [c.value for c in units[1]]
    row = next(r for r in units.iter_rows(min_row=2) if r[0].value == "evil")
    cells = {name: row[header.index(name)] for name in ("name", "phone", "duties")}
    assert {k: c.value for k, c in cells.items()} == {
        "name": "=cmd|' /C calc'!A0", "phone": "+1", "duties": "@SUM(A1)"}
    assert all(c.data_type == "s" and c.quotePrefix for c in cells.values())
    # And the export still imports as it was.
    out.seek(0)
    report = importing.import_units(out)
    assert not report.errors
    assert Unit.objects.get(code="evil").name == "=cmd|' /C calc'!A0"
