"""Reading uploaded .xlsx workbooks within limits, and writing workbooks whose text is never a formula.

Reading. openpyxl trusts the file: it unpacks whatever the zip says, keeps every shared string
in memory and pads each row to the sheet's widest cell (a single cell in column XFD makes every
row 16,384 cells long, a row numbered 1,048,576 makes a million empty rows). ``open_workbook``
therefore checks, before openpyxl sees the file, the upload's size, the zip's member count, the
members' total uncompressed size and compression ratios (a zip bomb is a few hundred KB that
unpacks to hundreds of MB), then streams every worksheet's XML once through expat, counting the
rows and columns that hold a value and refusing a document type declaration (entity bombs).
Rows are then read with explicit row and column bounds so openpyxl never pads past them.

Writing. A cell whose text starts with ``=`` is stored by openpyxl as a formula, and one
starting with ``+ - @`` (or a tab or carriage return) becomes a formula as soon as someone edits
it in Excel or LibreOffice. ``write_row`` stores such text as a string cell with Excel's own
"quote prefix" flag (what typing an apostrophe does): shown as typed, never evaluated, and the
value read back is unchanged, so an export still imports as it was.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, WriteOnlyCell
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.utils.exceptions import InvalidFileException

DEFAULT_MAX_ROWS = 10_000
DEFAULT_MAX_COLUMNS = 64
MAX_MEMBERS = 500
# Real workbooks compress 5-30 times (shared strings, repeated styles); a bomb 1000 times and
# more. Small members are not judged: a 4 KB styles.xml of one repeated tag may be 150 to 1.
MAX_RATIO = 150
RATIO_FLOOR_BYTES = 1024 * 1024
MAX_SHARED_STRINGS = 1_000_000
# Text that a spreadsheet program treats as the start of a formula (also the full-width forms
# an input method produces).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_READ_CHUNK = 64 * 1024


class ImportRefused(ValueError):
    """The upload is not a workbook we read, or it is over one of the limits; the message says
    which, in words the uploader understands."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_unpacked_bytes: int
    max_rows: int  # rows with a value after the header row
    max_columns: int

    @classmethod
    def default(cls, *, max_rows: int = DEFAULT_MAX_ROWS,
                max_columns: int = DEFAULT_MAX_COLUMNS) -> Limits:
        return cls(
            max_bytes=settings.HOTLINE_IMPORT_MAX_BYTES,
            max_unpacked_bytes=settings.HOTLINE_IMPORT_MAX_UNPACKED_BYTES,
            max_rows=max_rows, max_columns=max_columns,
        )


@dataclass
class SheetExtent:
    """The highest row and column holding a value in one worksheet part."""

    rows: int = 0
    columns: int = 0


def _not_a_workbook(detail: object = "") -> ImportRefused:
    message = _("The file is not an Excel workbook (.xlsx).")
    if detail:
        message = f"{message} ({detail})"
    return ImportRefused(message)


def _size_of(source: str | Path | IO[bytes] | Any) -> int:
    size = getattr(source, "size", None)  # Django's UploadedFile
    if isinstance(size, int):
        return size
    if isinstance(source, (str, Path)):
        return Path(source).stat().st_size
    position = source.tell()
    source.seek(0, 2)
    end = int(source.tell())
    source.seek(position)
    return end


def check_archive(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse a zip whose members are too many, unpack too large or compress too well.

    The sizes are the ones the zip declares; Python's zipfile never returns more than the
    declared size of a member (it stops there and the CRC check fails), so they are a bound on
    what openpyxl can unpack, not a hint."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise _not_a_workbook(_("more than %(count)d parts") % {"count": MAX_MEMBERS})
    total = 0
    for member in members:
        total += member.file_size
        if total > limits.max_unpacked_bytes:
            raise ImportRefused(
                _("The workbook unpacks to more than %(limit)d MB, the limit for an import. "
                  "Split it into smaller files.")
                % {"limit": limits.max_unpacked_bytes // (1024 * 1024)})
        if (member.file_size > RATIO_FLOOR_BYTES
                and member.file_size > MAX_RATIO * max(member.compress_size, 1)):
            raise ImportRefused(
                _("The workbook part %(part)s is compressed more than %(ratio)d to 1, which "
                  "real workbooks never are; it was not read.")
                % {"part": member.filename[:80], "ratio": MAX_RATIO})


class _SheetScanner:
    """One expat pass over a worksheet (or shared strings) part: the extent of the cells that
    hold a value, the shared string count, and no DOCTYPE. Column numbers follow openpyxl's
    rules (a cell without ``r`` is the one after the previous cell, a row without ``r`` the one
    after the previous row), so the bounds agree with what openpyxl would build."""

    def __init__(self, part: str, limits: Limits) -> None:
        self.part = part
        self.limits = limits
        self.extent = SheetExtent()
        self.shared_strings = 0
        self._in_sheet_data = False
        self._row = 0
        self._column = 0
        self._cell: tuple[int, int] | None = None
        self._cell_has_value = False
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        self._parser = parser

    def feed(self, data: bytes, final: bool = False) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise _not_a_workbook(f"{self.part}: {exc}") from None

    def _doctype(self, *_args: Any) -> None:
        raise _not_a_workbook(_("%(part)s declares a document type") % {"part": self.part})

    def _entity(self, *_args: Any) -> None:
        raise _not_a_workbook(_("%(part)s declares entities") % {"part": self.part})

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        namespace, _sep, local = name.rpartition(" ")
        if namespace != _MAIN_NS:
            return
        if local == "sheetData":
            self._in_sheet_data = True
        elif local == "si":
            self.shared_strings += 1
            if self.shared_strings > MAX_SHARED_STRINGS:
                raise ImportRefused(_("The workbook has more than %(count)d different texts.")
                                    % {"count": MAX_SHARED_STRINGS})
        elif not self._in_sheet_data:
            return
        elif local == "row":
            self._row = self._number(attrs.get("r"), self._row + 1)
            self._column = 0
        elif local == "c":
            self._row, self._column = self._coordinate(attrs.get("r"))
            self._cell = (self._row, self._column)
            self._cell_has_value = False
        elif local in ("v", "is", "f") and self._cell is not None:
            self._cell_has_value = True

    def _end(self, name: str) -> None:
        namespace, _sep, local = name.rpartition(" ")
        if namespace != _MAIN_NS:
            return
        if local == "sheetData":
            self._in_sheet_data = False
        elif local == "c" and self._cell is not None:
            if self._cell_has_value:
                self._count(*self._cell)
            self._cell = None

    def _number(self, raw: str | None, default: int) -> int:
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise _not_a_workbook(f"{self.part}: row {raw[:20]!r}") from None

    def _coordinate(self, raw: str | None) -> tuple[int, int]:
        if raw is None:
            return self._row or 1, self._column + 1
        try:
            letters, row = coordinate_from_string(raw)
            return row, column_index_from_string(letters)
        except ValueError:
            raise _not_a_workbook(f"{self.part}: cell {raw[:20]!r}") from None

    def _count(self, row: int, column: int) -> None:
        # Refused at the first cell past a limit: the scan never walks a bomb to its end.
        if column > self.limits.max_columns:
            raise ImportRefused(
                _("The sheet has a value in column %(column)d (cell %(cell)s); at most "
                  "%(limit)d columns are read.")
                % {"column": column, "limit": self.limits.max_columns,
                   "cell": f"{_column_letters(column)}{row}"})
        if row > self.limits.max_rows + 1:  # the header row does not count
            raise ImportRefused(
                _("The sheet has more than %(limit)d rows (a value on row %(row)d); split it "
                  "into smaller files.") % {"limit": self.limits.max_rows, "row": row})
        self.extent.rows = max(self.extent.rows, row)
        self.extent.columns = max(self.extent.columns, column)


def _column_letters(column: int) -> str:
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def scan_parts(archive: zipfile.ZipFile, limits: Limits) -> SheetExtent:
    """Stream every XML part once; the largest extent of any sheet, or refuse."""
    extent = SheetExtent()
    for member in archive.infolist():
        if member.is_dir() or not member.filename.lower().endswith(".xml"):
            continue
        scanner = _SheetScanner(member.filename, limits)
        read = 0
        with archive.open(member) as stream:
            while chunk := stream.read(_READ_CHUNK):
                read += len(chunk)
                if read > member.file_size:  # cannot happen with zipfile; never trust it
                    raise _not_a_workbook(member.filename)
                scanner.feed(chunk)
        scanner.feed(b"", final=True)
        extent.rows = max(extent.rows, scanner.extent.rows)
        extent.columns = max(extent.columns, scanner.extent.columns)
    return extent


class SafeWorkbook:
    """A read-only openpyxl workbook that passed the checks, with bounded row reading."""

    def __init__(self, book: Any, extent: SheetExtent) -> None:
        self.book = book
        self.extent = extent

    @property
    def sheetnames(self) -> list[str]:
        return list(self.book.sheetnames)

    @property
    def worksheets(self) -> list[Any]:
        return list(self.book.worksheets)

    def __getitem__(self, name: str) -> Any:
        return self.book[name]

    def rows(self, sheet: Any) -> Iterator[tuple[Any, ...]]:
        """The sheet's values row by row, never wider or longer than the checked extent (the
        ``<dimension>`` element the sheet claims is ignored)."""
        if self.extent.rows == 0 or self.extent.columns == 0:
            return iter(())
        return sheet.iter_rows(min_row=1, max_row=self.extent.rows, min_col=1,
                               max_col=self.extent.columns, values_only=True)

    def close(self) -> None:
        self.book.close()


def open_workbook(source: str | Path | IO[bytes] | Any, limits: Limits | None = None) -> SafeWorkbook:
    """Open an uploaded (or local) .xlsx for reading after the size, zip and sheet checks;
    ``ImportRefused`` with a translated message otherwise."""
    limits = limits or Limits.default()
    try:
        size = _size_of(source)
    except OSError as exc:
        raise _not_a_workbook(exc) from exc
    if size > limits.max_bytes:
        raise ImportRefused(
            _("The file is larger than %(limit)d MB, the limit for an import.")
            % {"limit": limits.max_bytes // (1024 * 1024)})
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        with zipfile.ZipFile(source) as archive:
            check_archive(archive, limits)
            if "xl/workbook.xml" not in archive.namelist():
                raise _not_a_workbook()
            extent = scan_parts(archive, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
            RuntimeError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression.
        raise _not_a_workbook(exc) from exc
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError,
            AttributeError, IndexError) as exc:  # openpyxl's many ways of saying "not a workbook"
        raise _not_a_workbook(exc) from exc
    return SafeWorkbook(book, extent)


# --- writing -------------------------------------------------------------------------------

def needs_neutralising(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def text_cell(sheet: Any, value: object) -> Any:
    """One cell for ``sheet``: text that could be read as a formula is a quote-prefixed string
    cell; characters XML cannot carry are dropped (openpyxl would refuse the whole export)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = Cell(sheet, value=value)
    if needs_neutralising(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def write_row(sheet: Any, values: Iterable[object]) -> None:
    """``sheet.append(values)`` with every text cell neutralised (see the module docstring)."""
    sheet.append([text_cell(sheet, value) for value in values])


def write_streamed_row(sheet: Any, values: Iterable[object]) -> None:
    """``write_row`` for a write-only (streamed) sheet, whose rows take cells it made itself:
    a large export never holds the whole sheet in memory."""
    cells = []
    for value in values:
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell = WriteOnlyCell(sheet, value=value)
        if needs_neutralising(value):
            cell.data_type = "s"
            cell.quotePrefix = True
        cells.append(cell)
    sheet.append(cells)


def new_workbook(title: str, header: Sequence[str]) -> tuple[Workbook, Any]:
    """A workbook with one sheet named ``title`` whose first row is ``header``."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    write_row(sheet, header)
    return book, sheet
