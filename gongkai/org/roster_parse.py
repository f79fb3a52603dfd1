"""Reading an HR roster (.xlsx or .csv) into rows, with every row error located as the user
sees it in Excel (the header is row 1).

The file is read by :func:`gongkai.core.spreadsheets.read_spreadsheet` (.xlsx or CSV, told
apart by the content). A title line above the header is tolerated, other columns are ignored,
and English header aliases are accepted.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.core.spreadsheets import ZIP_MAGIC, CellError, SpreadsheetError, read_spreadsheet
from gongkai.core.text import normalize_text
from gongkai.core.uploads import MAX_UNPACKED_RATIO, too_large_message
from gongkai.org.models import OrgUnit

MAX_ROWS = 200_000
PROGRESS_ROWS = 500  # rows between two progress reports
# A title line or two above the header is common in HR exports; look this far for it.
HEADER_SEARCH_ROWS = 10
EMPLOYEE_NO_RE = re.compile(r"[0-9A-Za-z._-]+")
YES, NO = "是", "否"

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


RosterError = CellError  # a roster's problems are located like any spreadsheet's


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


def roster_parse(
    *, data: bytes | IO[bytes], progress: Callable[[int], None] | None = None
) -> ParsedRoster:
    """Read an .xlsx or .csv roster. Every row error is collected, not just the first.
    ``progress(rows read)`` is called every ``PROGRESS_ROWS`` rows."""
    try:
        sheet = read_spreadsheet(data, not_a_spreadsheet=_not_a_spreadsheet())
        table = ([_cell_text(value) for value in cells] for cells in sheet.rows)
        return _parse_table(table, progress)
    except (RosterFileError, SpreadsheetError) as error:
        return ParsedRoster(errors=[RosterError(None, "", error.message)], readable=False)


def roster_file_problem(data: bytes) -> str | None:
    """Why ``data`` cannot be a roster, found by checks that cost little, made before the
    file is stored for the dry run in the background: its size, its kind (a workbook's
    member list and unpacked size, a CSV's text encoding), as :func:`roster_parse` would
    refuse it. None: the file is worth reading; its rows are the dry run's business."""
    limit = settings.UPLOAD_MAX_BYTES
    if not data.startswith(ZIP_MAGIC):
        try:
            read_spreadsheet(data, not_a_spreadsheet=_not_a_spreadsheet())  # decodes a CSV
        except SpreadsheetError as error:
            return error.message
        return None
    if len(data) > limit:
        return too_large_message(limit)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return _not_a_spreadsheet()
    if sum(info.file_size for info in infos) > MAX_UNPACKED_RATIO * limit:
        return _("The workbook is too large once unpacked.")
    if "xl/workbook.xml" not in {info.filename for info in infos}:
        return _not_a_spreadsheet()
    return None


def _not_a_spreadsheet() -> str:
    return _("The file is not a spreadsheet. Upload the roster as an .xlsx workbook or a CSV file.")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 10023.0 from a numeric cell is employee number "10023"
    # NUL characters removed as from any text (the databases refuse them), ends stripped
    return normalize_text(str(value))


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


def _parse_table(
    table: Iterator[list[str]], progress: Callable[[int], None] | None = None
) -> ParsedRoster:
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
        if progress is not None and count % PROGRESS_ROWS == 0:
            progress(count)
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


def roster_from_records(
    records: Sequence[Mapping[str, str | bool | None]], *, first_row: int = 1
) -> ParsedRoster:
    """The rows of a roster given as records (a column's field name → its cell) rather than
    as a file, as the JSON API receives them: the same rows, the same row checks and the
    same messages as :func:`roster_parse` gives for a spreadsheet with these field names as
    its headers. The required columns are always there (a record without one has an empty
    cell); an optional column is there when any record carries it, so that, as in a file
    without the column, leaving ``position`` or ``representative`` out of every record
    leaves them as they are. ``representative`` may be given as true / false. Records are
    numbered from ``first_row``; blank ones are skipped, as blank rows are."""
    present = [
        column
        for column in COLUMNS
        if column.required or any(column.field in record for record in records)
    ]
    positions = {column.field: (index, column.field) for index, column in enumerate(present)}
    parsed = ParsedRoster()
    seen: dict[str, int] = {}
    count = 0
    for number, record in enumerate(records, start=first_row):
        cells = [_record_cell(record.get(column.field)) for column in present]
        if not any(cells):
            continue
        count += 1
        if count > MAX_ROWS:
            return _refused(
                _("There are more than %(max)s employee rows; split them by company.")
                % {"max": f"{MAX_ROWS:,}"}
            )
        row, row_errors = _parse_row(number, cells, positions, seen)
        parsed.errors.extend(row_errors)
        if row is not None:
            parsed.rows.append(row)
    if count == 0:
        return _refused(_("There are no employee rows."))
    return parsed


def _refused(message: str) -> ParsedRoster:
    return ParsedRoster(errors=[RosterError(None, "", message)], readable=False)


def _record_cell(value: str | bool | None) -> str:
    if isinstance(value, bool):
        return YES if value else NO
    return _cell_text(value)


def field_of(column: str) -> str | None:
    """The field (``employee_no``, ``name``…) of a column as an error names it (its header
    in the file, or its usual header), or None when it names no column."""
    found = HEADER_ALIASES.get(_normalise_header(column))
    return found.field if found is not None else None


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


@dataclass
class _RowReader:
    """One row's cells read by field, its errors collected in ``errors``."""

    number: int
    cells: list[str]
    positions: dict[str, tuple[int, str]]
    errors: list[RosterError] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        """The cell of the field, None when the file has no such column; a value longer
        than the field holds is an error (the representative flag is checked on its own)."""
        if name not in self.positions:
            return None
        index, _header = self.positions[name]
        text = self.cells[index] if index < len(self.cells) else ""
        limit = COLUMN_BY_FIELD[name].max_length
        if len(text) > limit and name != "representative":
            self.error(
                name, _("The value is too long (at most %(max)s characters).") % {"max": limit}
            )
        return text

    def column(self, name: str) -> str:
        """The column's header as written in the file, or its usual header."""
        return self.positions[name][1] if name in self.positions else COLUMN_BY_FIELD[name].header

    def error(self, name: str, message: str) -> None:
        self.errors.append(RosterError(self.number, self.column(name), message))


def _employee_no_problem(employee_no: str, seen: dict[str, int]) -> str | None:
    """Why the employee number is refused (empty, malformed, repeated), or None."""
    if not employee_no:
        return _("The employee number is empty.")
    if not EMPLOYEE_NO_RE.fullmatch(employee_no):
        return _("“%(value)s” is not a valid employee number (letters, digits, . _ - only).") % {
            "value": employee_no
        }
    if employee_no in seen:
        return _("The employee number %(no)s appears twice in the file (also in row %(row)s).") % {
            "no": employee_no,
            "row": seen[employee_no],
        }
    return None


def _representative(reader: _RowReader, flag: str | None) -> bool | None:
    """是 / 否 / empty (否); None when the file has no such column."""
    if flag is None:
        return None
    if flag in (YES, NO, ""):
        return flag == YES
    reader.error(
        "representative",
        _("“%(value)s” is not allowed: write 是 or 否 (empty means 否).") % {"value": flag[:20]},
    )
    return None


def _parse_row(
    number: int,
    cells: list[str],
    positions: dict[str, tuple[int, str]],
    seen: dict[str, int],
) -> tuple[RosterRow | None, list[RosterError]]:
    reader = _RowReader(number, cells, positions)
    employee_no = reader.value("employee_no") or ""
    name = reader.value("name") or ""
    department = reader.value("department") or ""
    team = reader.value("team") or ""
    position = reader.value("position")
    flag = reader.value("representative")
    problem = _employee_no_problem(employee_no, seen)
    if problem is None:
        seen[employee_no] = number
    else:
        reader.error("employee_no", problem)
    if not name:
        reader.error("name", _("The name is empty."))
    if team and not department:
        reader.error("team", _("A team is given without its department."))
    representative = _representative(reader, flag)
    if reader.errors:
        return None, reader.errors
    row = RosterRow(number, employee_no, name, department, team, position, representative)
    return row, reader.errors
