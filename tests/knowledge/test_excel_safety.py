"""Finding 7 of issue 10 for the knowledge base: imports within limits, exports without formulas."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from hotline.directory.models import User
from hotline.knowledge import excel
from hotline.knowledge.models import Entry
from tests.core.test_spreadsheets import FORMULAS, MIB, NS, sheet, xlsx_with_sheet
from tests.knowledge.conftest import entry_data

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pytest
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse

    from tests.conftest import City

HEADER = ('<row r="1"><c r="A1" t="inlineStr"><is><t>kind</t></is></c>'
          '<c r="B1" t="inlineStr"><is><t>title</t></is></c>'
          '<c r="C1" t="inlineStr"><is><t>body</t></is></c></row>')


def _row(n: int, title: str = "标题") -> str:
    return (f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>faq</t></is></c>'
            f'<c r="B{n}" t="inlineStr"><is><t>{title}{n}</t></is></c>'
            f'<c r="C{n}" t="inlineStr"><is><t>正文</t></is></c></row>')


def _post(client: Client, upload: BytesIO) -> _MonkeyPatchedWSGIResponse:
    file = SimpleUploadedFile("entries.xlsx", upload.getvalue())
    return client.post(reverse("knowledge:import"), {"file": file})


def test_a_zip_bomb_is_refused_as_a_whole(city: City, login: Callable[[User], Client]) -> None:
    def bomb() -> Iterator[bytes]:
        yield f'<worksheet {NS}><sheetData>{HEADER}'.encode()
        block = b'<row><c t="inlineStr"><is><t>faq</t></is></c></row>' * 20000
        for _ in range(200 * MIB // len(block)):
            yield block
        yield b"</sheetData></worksheet>"

    response = _post(login(city.handler), xlsx_with_sheet(chunks=bomb()))
    assert response.status_code == 422
    report = response.context["report"]
    assert report.created == 0 and len(report.rejected) == 1
    assert report.rejected[0][0] == 0 and "unpacks to more than 50 MB" in report.rejected[0][1]


def test_a_sheet_reaching_column_xfd_is_refused(city: City, login: Callable[[User], Client]) -> None:
    wide = HEADER.replace("</row>", '<c r="XFD1" t="inlineStr"><is><t>x</t></is></c></row>')
    response = _post(login(city.handler), xlsx_with_sheet(sheet(wide + _row(2), "A1:XFD2")))
    assert response.status_code == 422
    assert response.context["report"].rejected == [
        (0, "The sheet has a value in column 16384 (cell XFD1); at most 64 columns are read.")]
    assert not Entry.objects.filter(title="标题2").exists()


def test_too_many_rows_import_nothing(city: City, login: Callable[[User], Client],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(excel, "MAX_ROWS", 3)
    rows = HEADER + "".join(_row(n) for n in range(2, 7))
    before = Entry.objects.count()
    response = _post(login(city.handler), xlsx_with_sheet(sheet(rows)))
    assert response.status_code == 422
    assert response.context["report"].rejected == [
        (0, "The sheet has more than 3 rows (a value on row 5); split it into smaller files.")]
    assert Entry.objects.count() == before
    ok = _post(login(city.handler), xlsx_with_sheet(sheet(HEADER + _row(2) + _row(3))))
    assert ok.status_code == 200 and ok.context["report"].created == 2


def test_export_writes_formula_like_text_as_text(city: City, login: Callable[[User], Client]) -> None:
    from hotline.knowledge.services import do_create_entry

    for text in FORMULAS[:4]:
        do_create_entry(city.handler, entry_data(title=f"{text}", body=text, keywords=text))
    exported = login(city.handler).get(reverse("knowledge:export"))
    sheet_ = load_workbook(BytesIO(exported.content)).active
    header = [c.value for c in sheet_[1]]
    titles = [row[header.index("title")] for row in sheet_.iter_rows(min_row=2)]
    assert sorted(c.value for c in titles if c.value in FORMULAS) == sorted(FORMULAS[:4])
    assert all(c.data_type == "s" and c.quotePrefix for c in titles if c.value in FORMULAS)
    bodies = [row[header.index("body")] for row in sheet_.iter_rows(min_row=2)]
    assert {c.data_type for c in bodies} == {"s"}
