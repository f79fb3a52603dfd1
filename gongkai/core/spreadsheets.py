"""Spreadsheets in and out: the one place that reads uploaded .xlsx and .csv files and writes
.xlsx downloads.

Reading: :func:`read_spreadsheet` tells the format by the content, not the file name. An
.xlsx is a zip read with openpyxl in read-only mode (first sheet, every row, so row numbers
match Excel; cells keep their types: numbers, dates). Anything else is CSV in UTF-8 (with or
without a BOM), GB18030 (what Chinese Excel saves) or UTF-16 (with its BOM), comma- or
tab-separated; its cells are text. The file size is limited by ``UPLOAD_MAX_BYTES``, a
workbook also once unpacked. What the columns mean (a roster, a disclosure table) is the
caller's business.

Writing: :class:`XlsxWorkbook` is a write-only workbook whose every text cell goes through
:func:`formula_safe` (formula injection: text starting with = + - @, a tab or a carriage
return gets a leading apostrophe, so a spreadsheet shows it instead of running it);
:func:`xlsx_response` is the download.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import openpyxl
from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from gongkai.core.files import download_response
from gongkai.core.uploads import MAX_UNPACKED_RATIO, too_large_message, zip_unpacked_size

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls format
NOT_SPREADSHEETS = (b"%PDF-", b"\x89PNG", b"\xff\xd8\xff")  # PDF, PNG, JPEG
CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SHEET_TITLE_MAX = 31  # Excel's limit on a sheet's name


class SpreadsheetError(Exception):
    """The file as a whole is refused; the message is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spreadsheet:
    """The rows of an uploaded file, read lazily: a damaged sheet or a malformed CSV raises
    :class:`SpreadsheetError` while they are iterated."""

    is_workbook: bool  # True: an .xlsx, cells keep their types; False: CSV, cells are str
    rows: Iterator[list[Any]]  # every row, blank ones too, from row 1


def read_spreadsheet(data: bytes | IO[bytes], *, not_a_spreadsheet: str) -> Spreadsheet:
    """Read an uploaded .xlsx or .csv (at most ``UPLOAD_MAX_BYTES``; a stream is read only
    that far). ``not_a_spreadsheet`` is the caller's message for content that is neither.
    Raises :class:`SpreadsheetError`."""
    limit = settings.UPLOAD_MAX_BYTES
    raw = data if isinstance(data, bytes) else data.read(limit + 1)
    if len(raw) > limit:
        raise SpreadsheetError(too_large_message(limit))
    if not raw.strip():
        raise SpreadsheetError(_("The file is empty."))
    if raw.startswith(ZIP_MAGIC):
        return Spreadsheet(True, _xlsx_rows(raw, not_a_spreadsheet))
    if raw.startswith(OLE2_MAGIC):
        raise SpreadsheetError(
            _("This is an old .xls workbook. Save it as .xlsx or .csv and upload that.")
        )
    if raw.startswith(NOT_SPREADSHEETS):
        raise SpreadsheetError(not_a_spreadsheet)
    text = _decode(raw)
    if text is None:
        raise SpreadsheetError(not_a_spreadsheet)
    return Spreadsheet(False, _csv_rows(text))


def _xlsx_rows(raw: bytes, not_a_spreadsheet: str) -> Iterator[list[Any]]:
    try:
        unpacked = zip_unpacked_size(raw)
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise SpreadsheetError(not_a_spreadsheet) from error
    if unpacked > MAX_UNPACKED_RATIO * settings.UPLOAD_MAX_BYTES:
        raise SpreadsheetError(_("The workbook is too large once unpacked."))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a file that is no workbook
        raise SpreadsheetError(not_a_spreadsheet) from error
    return _sheet_rows(workbook, not_a_spreadsheet)


def _sheet_rows(workbook: Any, not_a_spreadsheet: str) -> Iterator[list[Any]]:
    """The first worksheet's rows; empty rows come through, so numbering matches Excel."""
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the stored dimension may be wrong; read every row
        for values in sheet.iter_rows(values_only=True):
            yield list(values)
    except Exception as error:  # a damaged sheet inside a valid zip
        raise SpreadsheetError(not_a_spreadsheet) from error
    finally:
        workbook.close()


def _decode(raw: bytes) -> str | None:
    """The text of a CSV file as Chinese Excel and others save it, or None when ``raw`` is
    not text."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        # UTF-8 (with or without a BOM), else GB18030: what Chinese Excel saves as CSV.
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if CONTROL_CHARS_RE.search(text[:65536]):
            break  # binary content that happens to decode
        return text
    return None


def _csv_rows(text: str) -> Iterator[list[Any]]:
    """Tab-separated when the first line has tabs and no comma, else comma-separated."""
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0  # rows read so far
    try:
        for cells in reader:
            number += 1
            yield cells
    except csv.Error as error:
        raise SpreadsheetError(
            _("The CSV file is malformed near row %(row)s: %(reason)s")
            % {"row": number + 1, "reason": error}
        ) from error


# --- Writing ----------------------------------------------------------------------------------


def formula_safe(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (CSV/formula
    injection); anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class XlsxSheet:
    """One sheet of an :class:`XlsxWorkbook`: rows are appended, every cell formula-safe."""

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self._sheet = sheet

    def append(self, values: Iterable[object], *, bold: bool = False) -> None:
        cells: list[Any] = [formula_safe(value) for value in values]
        if bold:
            cells = [self._bold(value) for value in cells]
        self._sheet.append(cells)

    def _bold(self, value: Any) -> Cell:  # Any: what a cell can hold is openpyxl's business
        cell = WriteOnlyCell(self._sheet, value=value)
        cell.font = Font(bold=True)
        return cell


class XlsxWorkbook:
    """A write-only .xlsx workbook (openpyxl): sheets in the order they are added."""

    def __init__(self) -> None:
        self._book = openpyxl.Workbook(write_only=True)

    def sheet(self, title: str) -> XlsxSheet:
        return XlsxSheet(self._book.create_sheet(title[:SHEET_TITLE_MAX]))

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self._book.save(out)
        return out.getvalue()


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    """The .xlsx as a download named ``filename`` (:func:`gongkai.core.files.download_response`:
    quoted, or RFC 6266-encoded when it is not plain ASCII)."""
    return download_response(content, content_type=XLSX_CONTENT_TYPE, filename=filename)


@dataclass(frozen=True)
class CellError:
    """One problem in a table, located as the user sees it: the header is row 1 (line 1 when
    typed); without a row it concerns the whole file, without a column the whole row."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        if not self.column:
            return _("row %(row)s: %(message)s") % {"row": self.row, "message": self.message}
        return _("row %(row)s, column %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }
