"""Disclosure tables (expense lines and the like) with exact money totals.

A table is typed or pasted into the disclosure form, or uploaded as an .xlsx or .csv file.
Either way it becomes, all or nothing, the JSON kept in ``Disclosure.table`` and
``Revision.table``::

    {"columns": ["日期", "事由", "收款单位", "金额(元)", "审批人"],
     "rows": [["2026-07-03", "接待来访", "某酒店", "1,234.50", "张三"], ...],
     "money_columns": [3],
     "totalled": [3],
     "totals": {"3": "1234.50"},
     "total_row": ["", "", "", "1,234.50", ""]}

Money columns are those whose header ends with a word that names an amount (金额, 费用, 费,
合计, 总计, 小计, 总额, 价款, 单价; amount, total, cost, price, fee, sum) or with a currency unit
such as "(元)", which marks any other column as money. Every cell of a money column must be an
exact amount with at most two decimals: "1,234.50", "￥1234.5", "1234", full-width digits and a
leading minus for refunds are accepted; "12.3.4", "12,34", "abc", "12.345", an empty cell and
amounts over 10^12 are refused with their row and column. Money cells are stored as shown
(two decimals, thousands separators); ``totals`` are plain decimal strings summed with
:class:`~decimal.Decimal`, never float; ``total_row`` is the totals row as shown. A totals row at
the end of the input (合计 …) is checked against the sum and dropped: the server computes it.

Not every amount column adds up: a tender's competing bids or a list of unit prices summed
mean nothing. Which money columns are totalled (``totalled``) is the drafter's choice
(:class:`Totals`): as the catalog entry says (:data:`TOTALLED_ENTRIES`: spending and
distribution tables; never a tender's), every amount column, none, or the columns they name.
``totals`` and ``total_row`` cover only those columns; without any, there is no totals row.
Tables stored before ``totalled`` existed totalled every money column and keep the totals row
they were published with (:func:`totalled_columns`).
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongkai.core.spreadsheets import CellError, SpreadsheetError, read_spreadsheet
from gongkai.core.uploads import too_large_message

MAX_ROWS = 2_000
MAX_COLUMNS = 20
MAX_CELL = 200
MAX_AMOUNT = Decimal(10) ** 12
CENT = Decimal("0.01")
TITLE_ROWS = 10  # title lines above an uploaded table's header, at most
LAST_SHEET_ROW = 20_000  # a workbook with anything below this row is refused
MAX_ERRORS = 100  # collected; the form shows the first MAX_ERRORS_SHOWN
MAX_ERRORS_SHOWN = 30

UNIT_SUFFIX_RE = re.compile(r"\((?:元|万元|人民币|¥|yuan|rmb|cny)\)$")
MONEY_SUFFIXES = ("金额", "费用", "费", "合计", "总计", "小计", "总额", "价款", "单价")
MONEY_WORD_RE = re.compile(r"\b(?:amount|total|subtotal|cost|price|fee|sum)$")
AMOUNT_RE = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
TOTAL_LABELS = frozenset({"合计", "总计", "共计", "小计", "total", "sum", "subtotal"})
# Amounts that are rates or offers, not parts of a whole: never totalled unless named.
PRICE_RE = re.compile(
    r"单价|价格|报价|标价|投标|限价|底价|标准|\b(?:unit price|price|rate|bid|quote)\b"
)
NAMES_SPLIT_RE = re.compile(r"[,，、;；\n]+")
SPACES_RE = re.compile(r"\s{2,}")
WHITESPACE_RE = re.compile(r"\s+")
CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")

TABLE_TEXT_HELP = gettext_lazy(
    "Optional. The first line is the header. Separate the cells with tabs (paste from Excel), "
    "or with commas, or with two or more spaces — whichever the first line uses. Columns whose "
    "name ends with 金额, 费用, 合计 … or (元) hold amounts: write them like 1,234.50 (at most "
    "two decimals; in a comma-separated table, without the thousands commas). The totals are "
    "computed for the columns chosen below. An uploaded .xlsx or .csv file replaces the typed "
    "table."
)

# --- Which amount columns are totalled ---------------------------------------------------------

TOTAL_AUTO = "auto"
TOTAL_ALL = "all"
TOTAL_NONE = "none"
TOTAL_NAMED = "named"
TOTAL_CHOICES = [
    (TOTAL_AUTO, gettext_lazy("As usual for the catalog entry")),
    (TOTAL_ALL, gettext_lazy("Every amount column")),
    (TOTAL_NONE, gettext_lazy("No totals row")),
    (TOTAL_NAMED, gettext_lazy("Only the columns named below")),
]
TOTAL_HELP = gettext_lazy(
    "Spending and distribution tables (expenses, pay, bonuses, welfare …) are usually "
    "totalled; a tender's bids, unit prices and other catalog entries are not."
)
TOTAL_COLUMNS_HELP = gettext_lazy(
    "With “only the columns named below”: the amount columns to add up, as in the header, "
    "separated by commas."
)
# Catalog entries whose tables list spending or shares of a whole: their amounts add up. The
# other entries (tenders, recruitment, housing, evaluations …) are totalled only when asked.
TOTALLED_ENTRIES = frozenset(
    {
        "entertainment",
        "entertainment-use",
        "materials",
        "team-materials",
        "vehicles",
        "pay",
        "welfare",
        "team-bonus",
        "attendance",
    }
)


@dataclass(frozen=True)
class Totals:
    """The drafter's choice of the amount columns to total. ``entry_code`` decides for
    ``TOTAL_AUTO``; ``names`` are the headers for ``TOTAL_NAMED``."""

    mode: str = TOTAL_ALL
    names: tuple[str, ...] = ()
    entry_code: str = ""

    @classmethod
    def from_form(cls, mode: str | None, names: str | None, entry_code: str = "") -> Totals:
        parts = (n.strip() for n in NAMES_SPLIT_RE.split(names or ""))
        return cls(mode or TOTAL_AUTO, tuple(n for n in parts if n), entry_code)

    def pick(self, columns: list[str], money: list[int]) -> tuple[list[int], list[str]]:
        """The indices of the columns to total, and the problems with the choice."""
        if self.mode == TOTAL_NONE:
            return [], []
        if self.mode == TOTAL_ALL:
            return list(money), []
        if self.mode == TOTAL_AUTO:
            if self.entry_code not in TOTALLED_ENTRIES:
                return [], []
            return [i for i in money if not is_price_header(columns[i])], []
        if not self.names:
            return [], [_("Name the amount columns to total, or choose another totals row.")]
        picked: set[int] = set()
        errors: list[str] = []
        for name in self.names:
            index = columns.index(name) if name in columns else None
            if index is None or index not in money:
                errors.append(
                    _("“%(name)s” is not an amount column of the table; amount columns: %(list)s.")
                    % {
                        "name": name[:60],
                        "list": "、".join(columns[i] for i in money) or _("none"),
                    }
                )
            else:
                picked.add(index)
        return sorted(picked), errors


def is_price_header(name: str) -> bool:
    """A unit price, a rate or an offer: amounts that do not add up."""
    return bool(PRICE_RE.search(unicodedata.normalize("NFKC", name).lower()))


def totalled_columns(table: Mapping[str, Any]) -> list[int]:
    """The totalled columns of a stored table; every money column for tables stored before
    the choice existed (as they were published)."""
    totalled = table.get("totalled")
    if totalled is None:
        totalled = table.get("money_columns") or []
    return [int(i) for i in totalled]


def totals_initial(table: Mapping[str, Any] | None) -> dict[str, str]:
    """The form's totals choice for a stored table (to edit a draft without changing it)."""
    if not table:
        return {"table_total": TOTAL_AUTO, "table_total_columns": ""}
    columns = list(table.get("columns") or [])
    totalled = totalled_columns(table)
    money = [int(i) for i in table.get("money_columns") or []]
    if not totalled:
        return {"table_total": TOTAL_NONE, "table_total_columns": ""}
    if totalled == money:
        return {"table_total": TOTAL_ALL, "table_total_columns": ""}
    names = "，".join(columns[i] for i in totalled if i < len(columns))
    return {"table_total": TOTAL_NAMED, "table_total_columns": names}


TableError = CellError  # a table's problems are located like any spreadsheet's


@dataclass
class ParsedTable:
    """Either the table to store or the errors; never both, never a partial table."""

    table: dict[str, Any] | None = None
    errors: list[TableError] = field(default_factory=list)


class TableFileError(Exception):
    """The input as a whole is refused; the message is safe to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AmountError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Amounts --------------------------------------------------------------------------------


def parse_amount(value: object) -> Decimal:
    """An exact amount with two decimals, from text as people write it or from a number that
    a workbook holds. Raises :class:`AmountError` with a message to show."""
    if isinstance(value, bool):
        raise AmountError(_not_an_amount(str(value)))
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = _float_amount(value)
    elif isinstance(value, Decimal):
        amount = value
    else:
        amount = _text_amount(cell_text(value))
    if not amount.is_finite():
        raise AmountError(_not_an_amount(str(value)))
    if abs(amount) > MAX_AMOUNT:
        raise AmountError(_("The amount is too large (at most 1,000,000,000,000)."))
    if amount != amount.quantize(CENT):
        raise AmountError(_("An amount has at most two decimal places."))
    return amount.quantize(CENT) + 0  # + 0 turns -0.00 into 0.00


def format_amount(amount: Decimal) -> str:
    """1234.5 → "1,234.50", exactly (Decimal formatting, no float)."""
    return f"{amount:,.2f}"


def _not_an_amount(text: str) -> str:
    return _("“%(value)s” is not an amount; write it like 1,234.50.") % {"value": text[:30]}


def _text_amount(text: str) -> Decimal:
    value = unicodedata.normalize("NFKC", text).replace("\u2212", "-").strip()
    if not value:
        raise AmountError(_("The amount is empty; write 0 if there is none."))
    negative = value.startswith("-")
    value = value.removeprefix("-").strip().removeprefix("¥").strip()  # NFKC: ￥ → ¥
    if not negative and value.startswith("-"):
        negative, value = True, value[1:].strip()
    value = value.removesuffix("元").strip()
    if not AMOUNT_RE.fullmatch(value):
        raise AmountError(_not_an_amount(text))
    amount = Decimal(value.replace(",", ""))
    return -amount if negative else amount


def _float_amount(value: float) -> Decimal:
    """A workbook's number is binary floating point: 1234.5 is exact, but a formula's
    0.1 + 0.2 is 0.30000000000000004. Read it as Excel shows it (15 significant digits)
    when that has at most two decimals; otherwise it is refused as having too many."""
    if not math.isfinite(value):
        raise AmountError(_not_an_amount(repr(value)))
    amount = Decimal(repr(value))
    if abs(amount) <= MAX_AMOUNT and amount != amount.quantize(CENT):
        shown = Decimal(format(value, ".15g"))
        if shown == shown.quantize(CENT):
            return shown
    return amount


# --- Cells and columns ----------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as one line of text: dates as 2026-07-03, whitespace runs as one space."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="minutes")
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g")
    text = WHITESPACE_RE.sub(" ", str(value))
    return CONTROL_RE.sub("", text).strip()


def is_money_header(name: str) -> bool:
    """Does the column hold amounts? See the module's docstring for the rule."""
    key = WHITESPACE_RE.sub(" ", unicodedata.normalize("NFKC", name)).strip().lower()
    if UNIT_SUFFIX_RE.search(key.replace(" ", "")):
        return True
    key = re.sub(r"\s*\([^)]*\)$", "", key)  # 金额(含税) is still 金额
    return key.replace(" ", "").endswith(MONEY_SUFFIXES) or bool(MONEY_WORD_RE.search(key))


def _is_totals_label(text: str) -> bool:
    key = WHITESPACE_RE.sub("", unicodedata.normalize("NFKC", text)).lower().rstrip(":")
    return key in TOTAL_LABELS


def _column_label(index: int) -> str:
    return _("column %(number)s") % {"number": index + 1}


# --- Assembling rows into a table -----------------------------------------------------------

Rows = Iterable[tuple[int, list[Any]]]  # (row number as the user sees it, raw cell values)


@dataclass
class _Row:
    number: int
    cells: list[str]
    amounts: dict[int, Decimal | None]  # None: the money cell is empty


def _header(rows: Iterator[tuple[int, list[Any]]], *, title_rows: bool) -> tuple[int, list[str]]:
    """The first non-blank row; for uploads, the first with two filled cells (title lines
    such as "2026年7月业务招待费明细" above it are skipped)."""
    skipped = 0
    for number, cells in rows:
        texts = [cell_text(c) for c in cells]
        filled = sum(1 for t in texts if t)
        if not filled:
            continue
        if filled >= 2 or not title_rows:
            return number, texts
        skipped += 1
        if skipped >= TITLE_ROWS:
            break
    if skipped:
        raise TableFileError(_("No header row with at least two column names was found."))
    raise TableFileError(_("The table is empty."))


def _columns(number: int, texts: list[str]) -> tuple[list[str], list[TableError]]:
    while texts and not texts[-1]:
        texts.pop()
    errors: list[TableError] = []
    if len(texts) < 2:
        errors.append(
            TableError(
                number,
                "",
                _(
                    "A table needs a header with at least two column names, separated by "
                    "tabs, commas or two or more spaces."
                ),
            )
        )
    if len(texts) > MAX_COLUMNS:
        errors.append(
            TableError(
                number,
                "",
                _("The table has %(count)s columns; at most %(max)s are allowed.")
                % {"count": len(texts), "max": MAX_COLUMNS},
            )
        )
    seen: set[str] = set()
    for index, name in enumerate(texts[:MAX_COLUMNS]):
        if not name:
            errors.append(TableError(number, _column_label(index), _("The column has no name.")))
        elif len(name) > MAX_CELL:
            errors.append(TableError(number, _column_label(index), _too_long()))
        elif name in seen:
            errors.append(TableError(number, name, _("This column name appears twice.")))
        seen.add(name)
    return texts, errors


def _too_long() -> str:
    return _("The cell is too long (at most %(max)s characters).") % {"max": MAX_CELL}


def _row(
    number: int, cells: list[Any], columns: list[str], money: set[int], extra_hint: str
) -> tuple[_Row, list[TableError]]:
    errors: list[TableError] = []
    if any(cell_text(c) for c in cells[len(columns) :]):
        message = _("This row has more cells than the header has columns.")
        errors.append(TableError(number, _column_label(len(columns)), f"{message} {extra_hint}"))
    texts: list[str] = []
    amounts: dict[int, Decimal | None] = {}
    for index, name in enumerate(columns):
        value = cells[index] if index < len(cells) else None
        text = cell_text(value)
        if index in money:
            amounts[index] = None
            if text:
                try:
                    amount = parse_amount(value)
                except AmountError as error:
                    errors.append(TableError(number, name, error.message))
                else:
                    amounts[index] = amount
                    text = format_amount(amount)
        elif len(text) > MAX_CELL:
            errors.append(TableError(number, name, _too_long()))
        texts.append(text)
    return _Row(number, texts, amounts), errors


def _totals_row_index(body: list[_Row], money: set[int]) -> int | None:
    """The row labelled 合计/total: its label is its first filled cell, outside the money
    columns, and its other non-money cells are empty."""
    for position, row in enumerate(body):
        filled = [i for i, text in enumerate(row.cells) if text and i not in money]
        if (
            len(filled) == 1
            and _is_totals_label(row.cells[filled[0]])
            and not any(row.cells[i] for i in money if i < filled[0])
        ):
            return position
    return None


def _assemble(
    rows: Rows,
    *,
    title_rows: bool,
    money_headers: Collection[str] = (),
    extra_hint: str = "",
    total: Totals = Totals(),
) -> ParsedTable:
    iterator = iter(rows)
    header_number, texts = _header(iterator, title_rows=title_rows)
    columns, errors = _columns(header_number, texts)
    if errors:
        return ParsedTable(errors=errors)
    money = {i for i, name in enumerate(columns) if is_money_header(name) or name in money_headers}
    totalled, problems = total.pick(columns, sorted(money))
    if problems:
        return ParsedTable(errors=[TableError(None, "", message) for message in problems])
    body: list[_Row] = []
    for number, cells in iterator:
        if not any(cell_text(c) for c in cells):
            continue
        if len(body) >= MAX_ROWS:
            raise TableFileError(
                _("The table has more than %(max)s rows; split it.") % {"max": f"{MAX_ROWS:,}"}
            )
        row, row_errors = _row(number, cells, columns, money, extra_hint)
        body.append(row)
        errors.extend(row_errors)
        if len(errors) >= MAX_ERRORS:
            break
    totals_at = _totals_row_index(body, money)
    if totals_at is not None:
        totals_row = body.pop(totals_at)
        if totals_at != len(body):
            errors.append(
                TableError(
                    totals_row.number,
                    "",
                    _("A totals row is allowed only at the end; the totals are computed."),
                )
            )
        elif not errors:
            errors.extend(_check_totals_row(totals_row, body, columns))
    if not body:
        raise TableFileError(_("The table has a header but no rows."))
    for row in body:
        for index, amount in row.amounts.items():
            if amount is None and row.cells[index] == "":
                errors.append(
                    TableError(
                        row.number,
                        columns[index],
                        _("The amount is empty; write 0 if there is none."),
                    )
                )
    if errors:
        errors.sort(key=lambda e: e.row or 0)
        return ParsedTable(errors=errors[:MAX_ERRORS])
    return ParsedTable(table=_table(columns, body, sorted(money), totalled))


def _sums(body: list[_Row], money: Iterable[int]) -> dict[int, Decimal]:
    sums = {index: Decimal("0.00") for index in money}
    for row in body:
        for index in sums:
            sums[index] += row.amounts[index] or 0
    return sums


def _check_totals_row(totals: _Row, body: list[_Row], columns: list[str]) -> list[TableError]:
    errors: list[TableError] = []
    sums = _sums(body, totals.amounts)
    for index, given in totals.amounts.items():
        if given is not None and given != sums[index]:
            errors.append(
                TableError(
                    totals.number,
                    columns[index],
                    _(
                        "The totals row says %(given)s but the rows add up to %(sum)s. "
                        "Leave the totals row out: the total is computed."
                    )
                    % {"given": format_amount(given), "sum": format_amount(sums[index])},
                )
            )
    return errors


def _table(
    columns: list[str], body: list[_Row], money: list[int], totalled: list[int]
) -> dict[str, Any]:
    sums = _sums(body, totalled)
    return {
        "columns": columns,
        "rows": [row.cells for row in body],
        "money_columns": money,
        "totalled": totalled,
        "totals": {str(index): str(total) for index, total in sums.items()},
        "total_row": (
            [format_amount(sums[i]) if i in sums else "" for i in range(len(columns))]
            if totalled
            else []
        ),
    }


# --- Typed text ------------------------------------------------------------------------------


def table_parse_text(
    text: str, *, money_headers: Collection[str] = (), total: Totals = Totals()
) -> ParsedTable:
    """A table typed or pasted into the form. The first non-blank line is the header and
    decides the separator for every line: a tab if it has one (pasted from Excel), else a
    comma ("," or "，", with "quotes" around cells that hold one), else two or more spaces.
    Row numbers are line numbers."""
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), None)
    if header is None:
        return ParsedTable(errors=[TableError(None, "", _("The table is empty."))])
    hint = ""
    if "\t" in header:

        def split(line: str) -> list[str]:
            return line.split("\t")

    elif "," in header or "，" in header:
        delimiter = "," if "," in header else "，"
        hint = _("In a comma-separated table, write amounts without thousands commas.")

        def split(line: str) -> list[str]:
            return next(csv.reader([line], delimiter=delimiter), [])

    else:

        def split(line: str) -> list[str]:
            return SPACES_RE.split(line.strip())

    rows = ((number, split(line)) for number, line in enumerate(lines, start=1))
    try:
        return _assemble(
            rows, title_rows=False, money_headers=money_headers, extra_hint=hint, total=total
        )
    except TableFileError as error:
        return ParsedTable(errors=[TableError(None, "", error.message)])


# --- Uploaded files ---------------------------------------------------------------------------


def table_parse_upload(
    data: bytes,
    filename: str = "",
    *,
    money_headers: Collection[str] = (),
    total: Totals = Totals(),
) -> ParsedTable:
    """An uploaded .xlsx (first sheet) or .csv, read by
    :func:`gongkai.core.spreadsheets.read_spreadsheet`; the file name appears only in
    messages."""
    try:
        sheet = read_spreadsheet(data, not_a_spreadsheet=_not_a_table(filename))
        rows: Rows = enumerate(sheet.rows, start=1)
        if sheet.is_workbook:
            rows = _above_last_sheet_row(rows)
        return _assemble(rows, title_rows=True, money_headers=money_headers, total=total)
    except (SpreadsheetError, TableFileError) as error:
        return ParsedTable(errors=[TableError(None, "", error.message)])


def _not_a_table(filename: str) -> str:
    return _(
        "“%(name)s” is not a spreadsheet. Upload the table as an .xlsx workbook or a CSV file."
    ) % {"name": filename[-60:] or _("The file")}


def _above_last_sheet_row(rows: Rows) -> Iterator[tuple[int, list[Any]]]:
    """A workbook's rows down to LAST_SHEET_ROW; anything written below it is refused."""
    for number, values in rows:
        if number > LAST_SHEET_ROW:
            if any(cell_text(v) for v in values):
                raise TableFileError(
                    _("The sheet has rows below row %(row)s; a table has at most %(max)s.")
                    % {"row": f"{LAST_SHEET_ROW:,}", "max": f"{MAX_ROWS:,}"}
                )
            continue
        yield number, values


# --- For the disclosure form and the pages ------------------------------------------------------


def clean_table(
    text: str | None, upload: UploadedFile | None = None, *, total: Totals = Totals()
) -> dict[str, Any] | None:
    """The table for the disclosure form: from the uploaded file (which wins) or the typed
    text, totalled as ``total`` says; None when both are empty. Raises ValidationError listing
    every row/column error."""
    if upload is not None:
        limit = settings.UPLOAD_MAX_BYTES
        if upload.size is not None and upload.size > limit:
            raise ValidationError(too_large_message(limit), code="too_large")
        parsed = table_parse_upload(upload.read(limit + 1), upload.name or "", total=total)
    elif text and text.strip():
        parsed = table_parse_text(text, total=total)
    else:
        return None
    if parsed.errors:
        raise ValidationError(error_messages(parsed.errors), code="invalid_table")
    return parsed.table


def error_messages(errors: list[TableError]) -> list[str]:
    shown = [str(error) for error in errors[:MAX_ERRORS_SHOWN]]
    if len(errors) > MAX_ERRORS_SHOWN:
        shown.append(
            _("…and %(count)s more problems; fix these first.")
            % {"count": len(errors) - MAX_ERRORS_SHOWN}
        )
    return shown


def table_totals(table: Mapping[str, Any]) -> dict[str, str]:
    """The totals recomputed exactly from the stored rows, keyed like ``table["totals"]``.
    Raises AmountError if a stored money cell is not an amount."""
    sums = {index: Decimal("0.00") for index in totalled_columns(table)}
    for row in table.get("rows") or []:
        for index in sums:
            sums[index] += parse_amount(row[index])
    return {str(index): str(total) for index, total in sums.items()}


def table_is_consistent(table: Mapping[str, Any]) -> bool:
    """Do the stored totals match the rows?"""
    try:
        return table_totals(table) == dict(table.get("totals") or {})
    except (AmountError, IndexError, InvalidOperation, TypeError, ValueError):
        return False


def table_to_text(table: Mapping[str, Any] | None) -> str:
    """A stored table as tab-separated text, to fill the form's textarea when editing."""
    if not table:
        return ""
    lines = [table.get("columns") or [], *(table.get("rows") or [])]
    return "\n".join("\t".join(str(cell) for cell in line) for line in lines)
