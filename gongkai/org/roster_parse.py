"""Reading an HR roster (.xlsx or .csv) into rows, with every row error located as the user
sees it in Excel (the header is row 1).

The format is detected by content, not by the file name: an .xlsx is a zip read with openpyxl
in read-only mode; anything else is CSV in UTF-8 (with or without a BOM), GB18030 (what
Chinese Excel saves) or UTF-16. A title line above the header is tolerated, other columns are
ignored, and English header aliases are accepted.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import openpyxl
from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.core.uploads import too_large_message
from gongkai.org.models import OrgUnit

MAX_ROWS = 200_000
# A title line or two above the header is common in HR exports; look this far for it.
HEADER_SEARCH_ROWS = 10
# An .xlsx is a zip: refuse archives that unpack to far more than the upload limit.
MAX_UNPACKED_RATIO = 20
EMPLOYEE_NO_RE = re.compile(r"[0-9A-Za-z._-]+")
CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
YES, NO = "是", "否"
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls format

UnitKey = tuple[str, str]  # (department name, team name); ("", "") is the company itself


def max_length(model: type[models.Model], name: str) -> int:
    model_field = model._meta.get_field(name)
    assert isinstance(model_field, models.CharField)  # noqa: S101 - only used on CharFields
    assert model_field.max_length is not None  # noqa: S101
    return model_field.max_length


@dataclass(frozen=True)
class Column:
    field: str
    header: str  # the header an HR department's export uses
    aliases: tuple[str, ...]
    required: bool
    max_length: int


COLUMNS: tuple[Column, ...] = (
    Column(
        "employee_no",
        "工号",
        ("employee_no", "employee_number"),
        True,
        max_length(User, "employee_no"),
    ),
    Column("name", "姓名", ("name",), True, max_length(User, "name")),
    Column("department", "部门", ("department", "dept"), True, max_length(OrgUnit, "name")),
    Column("team", "班组", ("team",), False, max_length(OrgUnit, "name")),
    Column("position", "岗位", ("position",), False, max_length(User, "position")),
    Column("representative", "是否职工代表", ("representative",), False, 1),
)
COLUMN_BY_FIELD = {column.field: column for column in COLUMNS}
HEADER_ALIASES = {alias: column for column in COLUMNS for alias in (column.header, *column.aliases)}


# --- Rows and errors ------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterError:
    """One problem, located as the user sees it in Excel: the header is row 1."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return _("row %(row)s, column %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class RosterRow:
    row: int
    employee_no: str
    name: str
    department: str
    team: str
    position: str | None  # None: the file has no 岗位 column, positions stay as they are
    representative: bool | None  # None: no 是否职工代表 column, the flags stay as they are

    @property
    def unit_key(self) -> UnitKey:
        return (self.department, self.team)


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RosterError] = field(default_factory=list)
    readable: bool = True  # False: the file itself is refused (not a spreadsheet, too big…)


# --- Parsing ----------------------------------------------------------------------------------


class RosterFileError(Exception):
    """The file as a whole is refused; the message is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def roster_parse(*, data: bytes | IO[bytes]) -> ParsedRoster:
    """Read an .xlsx or .csv roster. Every row error is collected, not just the first."""
    try:
        raw = _read_limited(data)
        return _parse_table(_table(raw))
    except RosterFileError as error:
        return ParsedRoster(errors=[RosterError(None, "", error.message)], readable=False)


def _read_limited(data: bytes | IO[bytes]) -> bytes:
    limit = settings.UPLOAD_MAX_BYTES
    raw = data if isinstance(data, bytes) else data.read(limit + 1)
    if len(raw) > limit:
        raise RosterFileError(too_large_message(limit))
    if not raw.strip():
        raise RosterFileError(_("The file is empty."))
    return raw


def _table(raw: bytes) -> Iterator[list[str]]:
    """The cells of each row as stripped strings, by the content, not the file name."""
    if raw.startswith(ZIP_MAGIC):
        return _xlsx_rows(raw)
    if raw.startswith(OLE2_MAGIC):
        raise RosterFileError(
            _("This is an old .xls workbook. Save it as .xlsx or .csv and upload that.")
        )
    return _csv_rows(_decode(raw))


def _not_a_spreadsheet() -> RosterFileError:
    return RosterFileError(
        _("The file is not a spreadsheet. Upload the roster as an .xlsx workbook or a CSV file.")
    )


def zip_unpacked_size(raw: bytes) -> int:
    """The total size of a zip's members once unpacked, as its directory declares it
    (nothing is unpacked). Raises zipfile.BadZipFile, ValueError or OSError on a damaged or
    non-zip file. Shared with the disclosure tables and attachments (zip-bomb guard)."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return sum(info.file_size for info in archive.infolist())


def _xlsx_rows(raw: bytes) -> Iterator[list[str]]:
    try:
        unpacked = zip_unpacked_size(raw)
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _not_a_spreadsheet() from error
    if unpacked > MAX_UNPACKED_RATIO * settings.UPLOAD_MAX_BYTES:
        raise RosterFileError(_("The workbook is too large once unpacked."))
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a file that is no workbook
        raise _not_a_spreadsheet() from error
    return _sheet_rows(workbook)


def _sheet_rows(workbook: Any) -> Iterator[list[str]]:
    """The first worksheet's rows; empty rows come through, so numbering matches Excel."""
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the stored dimension may be wrong; read every row
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
    except RosterFileError:
        raise
    except Exception as error:  # a damaged sheet inside a valid zip
        raise _not_a_spreadsheet() from error
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 10023.0 from a numeric cell is employee number "10023"
    return str(value).strip()


def _decode(raw: bytes) -> str:
    text = decode_text_file(raw)
    if text is None:
        raise _not_a_spreadsheet()
    return text


def decode_text_file(raw: bytes) -> str | None:
    """The text of a CSV file as Chinese Excel and others save it, or None when ``raw`` is
    not text. Shared with the disclosure tables."""
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


def _csv_rows(text: str) -> Iterator[list[str]]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            yield [cell.strip() for cell in cells]
    except csv.Error as error:
        raise RosterFileError(
            _("The CSV file is malformed near row %(row)s: %(reason)s")
            % {"row": reader.line_num, "reason": error}
        ) from error


def _normalise_header(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().strip("*").strip().lower())


def _header_index(rows: list[list[str]]) -> int | None:
    """The row holding the column headers: the first with a 工号 column, else the first
    non-blank row."""
    for index, cells in enumerate(rows):
        if any(
            HEADER_ALIASES.get(_normalise_header(c)) is COLUMN_BY_FIELD["employee_no"]
            for c in cells
        ):
            return index
    for index, cells in enumerate(rows):
        if any(cells):
            return index
    return None


def _parse_table(table: Iterator[list[str]]) -> ParsedRoster:
    head = list(itertools.islice(table, HEADER_SEARCH_ROWS))
    index = _header_index(head)
    if index is None:
        raise RosterFileError(_("The file is empty."))
    header_row = index + 1
    positions, errors = _map_columns(head[index], header_row)
    if errors:
        return ParsedRoster(errors=errors)
    parsed = ParsedRoster()
    seen: dict[str, int] = {}
    data_rows = itertools.chain(head[index + 1 :], table)
    count = 0
    for number, cells in enumerate(data_rows, start=header_row + 1):
        if not any(cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise RosterFileError(
                _("The file has more than %(max)s employee rows; split it by company.")
                % {"max": f"{MAX_ROWS:,}"}
            )
        row, row_errors = _parse_row(number, cells, positions, seen)
        parsed.errors.extend(row_errors)
        if row is not None:
            parsed.rows.append(row)
    if count == 0:
        raise RosterFileError(_("The file has column headers but no employee rows."))
    return parsed


def _map_columns(
    header: list[str], header_row: int
) -> tuple[dict[str, tuple[int, str]], list[RosterError]]:
    """field → (cell index, header text as written); errors for missing or repeated ones."""
    positions: dict[str, tuple[int, str]] = {}
    errors: list[RosterError] = []
    for index, text in enumerate(header):
        column = HEADER_ALIASES.get(_normalise_header(text))
        if column is None:
            continue  # HR exports carry many other columns (性别, 入职日期…): ignored
        if column.field in positions:
            errors.append(RosterError(header_row, text, _("This column appears twice.")))
            continue
        positions[column.field] = (index, text.strip())
    for column in COLUMNS:
        if column.required and column.field not in positions:
            errors.append(
                RosterError(header_row, column.header, _("The required column is missing."))
            )
    return positions, errors


def _parse_row(
    number: int,
    cells: list[str],
    positions: dict[str, tuple[int, str]],
    seen: dict[str, int],
) -> tuple[RosterRow | None, list[RosterError]]:
    errors: list[RosterError] = []

    def value(name: str) -> str | None:
        if name not in positions:
            return None
        index, header = positions[name]
        text = cells[index] if index < len(cells) else ""
        limit = COLUMN_BY_FIELD[name].max_length
        if len(text) > limit and name != "representative":
            errors.append(
                RosterError(
                    number,
                    header,
                    _("The value is too long (at most %(max)s characters).") % {"max": limit},
                )
            )
        return text

    def column(name: str) -> str:
        return positions[name][1] if name in positions else COLUMN_BY_FIELD[name].header

    employee_no = value("employee_no") or ""
    name = value("name") or ""
    department = value("department") or ""
    team = value("team") or ""
    position = value("position")
    flag = value("representative")

    if not employee_no:
        errors.append(
            RosterError(number, column("employee_no"), _("The employee number is empty."))
        )
    elif not EMPLOYEE_NO_RE.fullmatch(employee_no):
        errors.append(
            RosterError(
                number,
                column("employee_no"),
                _("“%(value)s” is not a valid employee number (letters, digits, . _ - only).")
                % {"value": employee_no},
            )
        )
    elif employee_no in seen:
        errors.append(
            RosterError(
                number,
                column("employee_no"),
                _("The employee number %(no)s appears twice in the file (also in row %(row)s).")
                % {"no": employee_no, "row": seen[employee_no]},
            )
        )
    else:
        seen[employee_no] = number
    if not name:
        errors.append(RosterError(number, column("name"), _("The name is empty.")))
    if team and not department:
        errors.append(
            RosterError(number, column("team"), _("A team is given without its department."))
        )
    representative: bool | None = None
    if flag is not None:
        if flag in (YES, NO, ""):
            representative = flag == YES
        else:
            errors.append(
                RosterError(
                    number,
                    column("representative"),
                    _("“%(value)s” is not allowed: write 是 or 否 (empty means 否).")
                    % {"value": flag[:20]},
                )
            )
    if errors:
        return None, errors
    row = RosterRow(number, employee_no, name, department, team, position, representative)
    return row, errors
