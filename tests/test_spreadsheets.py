"""gongkai.core.spreadsheets: uploads read into plain rows, .xlsx written formula-safe."""

from __future__ import annotations

import codecs
import io
import zipfile
from datetime import date

import openpyxl
import pytest
from django.utils import translation

from gongkai.core import spreadsheets
from gongkai.core.spreadsheets import (
    XLSX_CONTENT_TYPE,
    SpreadsheetError,
    XlsxWorkbook,
    formula_safe,
    read_spreadsheet,
    xlsx_response,
)

NOT_A_SPREADSHEET = "not a spreadsheet (the caller's message)"
ROWS = [["工号", "姓名", "部门"], ["10001", "张伟", "锅炉分场"], ["10002", "李娜", "汽机分场"]]
CSV_TEXT = "\r\n".join(",".join(row) for row in ROWS) + "\r\n"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def read(data: bytes | io.BytesIO) -> tuple[bool, list[list[object]]]:
    sheet = read_spreadsheet(data, not_a_spreadsheet=NOT_A_SPREADSHEET)
    return sheet.is_workbook, list(sheet.rows)


def refusal(data: bytes) -> str:
    with pytest.raises(SpreadsheetError) as caught:
        read(data)
    return caught.value.message


# --- Reading CSV ------------------------------------------------------------------------------


def test_gb18030_csv_is_decoded():
    data = CSV_TEXT.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really not UTF-8
    assert read(data) == (False, ROWS)


@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8], ids=["utf-8", "utf-8-bom"])
def test_utf8_csv_with_or_without_a_bom(bom):
    is_workbook, rows = read(bom + CSV_TEXT.encode())
    assert not is_workbook
    assert rows == ROWS  # the BOM is not part of the first header


def test_utf16_csv_with_its_bom_and_tab_separated():
    text = "\n".join("\t".join(row) for row in ROWS)
    assert read(text.encode("utf-16")) == (False, ROWS)


def test_csv_cells_are_kept_as_written_blank_rows_included():
    assert read(b'a,b\n\n" x ","1,5"\n')[1] == [["a", "b"], [], [" x ", "1,5"]]


def test_a_stream_is_read_and_a_malformed_csv_says_where():
    assert read(io.BytesIO(CSV_TEXT.encode())) == (False, ROWS)
    huge = "a,b\n1,2\n" + "x" * 200_000 + ",3\n"  # a field over csv's field size limit
    with pytest.raises(SpreadsheetError, match="malformed near row 3"):
        read(huge.encode())


# --- Reading .xlsx -----------------------------------------------------------------------------


def test_xlsx_round_trip_keeps_types_and_empty_rows():
    book = XlsxWorkbook()
    sheet = book.sheet("名单")
    sheet.append(["工号", "金额", "日期"], bold=True)
    sheet.append([10001, 1234.5, date(2026, 7, 3)])
    sheet.append([])
    sheet.append(["李娜", None, "=1+1"])
    other = book.sheet("second")
    other.append(["only the first sheet is read"])
    is_workbook, rows = read(book.to_bytes())
    assert is_workbook
    assert rows[0] == ["工号", "金额", "日期"]
    assert rows[1][:2] == [10001, 1234.5] and rows[1][2].date() == date(2026, 7, 3)
    assert not any(rows[2])  # the empty row comes through: row numbers match Excel
    assert rows[3] == ["李娜", None, "'=1+1"]


def test_xlsx_written_by_excel_is_read():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in ROWS:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    assert read(out.getvalue()) == (True, ROWS)


# --- Refusals ---------------------------------------------------------------------------------


def test_an_oversized_file_is_refused_and_a_stream_is_read_only_that_far(settings):
    settings.UPLOAD_MAX_BYTES = 20
    assert "larger than" in refusal(CSV_TEXT.encode())
    stream = io.BytesIO(CSV_TEXT.encode() * 1000)
    with pytest.raises(SpreadsheetError, match="larger than"):
        read(stream)
    assert stream.tell() == 21


@pytest.mark.parametrize("data", [b"", b" \r\n\t "])
def test_an_empty_file_is_refused(data):
    assert refusal(data) == "The file is empty."


def zip_with(name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
        b"\xff\xd8\xff\xe0" + b"\x00" * 40,
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",
        bytes(range(256)) * 4,
        b"PK\x03\x04 truncated, no zip at all",
        zip_with("hello.txt", b"not a workbook"),
    ],
    ids=["pdf", "png", "jpeg", "exe", "binary", "fake-zip", "zip-not-workbook"],
)
def test_garbage_is_refused_with_the_callers_message(data):
    assert refusal(data) == NOT_A_SPREADSHEET


def test_an_old_xls_workbook_is_refused():
    assert ".xls" in refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)


def test_a_zip_bomb_is_refused_before_it_is_opened(monkeypatch):
    book = XlsxWorkbook()
    book.sheet("s").append(["a"])
    monkeypatch.setattr(spreadsheets, "MAX_UNPACKED_RATIO", 0)
    assert refusal(book.to_bytes()) == "The workbook is too large once unpacked."


# --- Writing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"],
)
def test_text_that_would_run_as_a_formula_is_neutralised(text):
    assert formula_safe(text) == "'" + text
    book = XlsxWorkbook()
    book.sheet("s").append([text, None, "plain", -5, 1.5])
    sheet = openpyxl.load_workbook(io.BytesIO(book.to_bytes())).active
    (row,) = sheet.iter_rows(values_only=True)
    assert row == ("'" + text, None, "plain", -5, 1.5)
    assert sheet["A1"].data_type == "s"  # text, not a formula


def test_numbers_and_ordinary_text_are_left_alone():
    for value in (-5, 0, 1.5, None, date(2026, 1, 1), "plain", "一二三", " =x", "'=x"):
        assert formula_safe(value) == value


def test_sheets_keep_their_order_titles_fit_and_bold_rows_are_bold():
    book = XlsxWorkbook()
    first = book.sheet("x" * 40)
    first.append(["header", "=bold"], bold=True)
    first.append(["body"])
    book.sheet("second")
    workbook = openpyxl.load_workbook(io.BytesIO(book.to_bytes()))
    assert workbook.sheetnames == ["x" * 31, "second"]
    sheet = workbook.worksheets[0]
    assert sheet["A1"].font.b and sheet["B1"].font.b and not sheet["A2"].font.b
    assert sheet["B1"].value == "'=bold"


# --- The download -----------------------------------------------------------------------------


def test_xlsx_response_headers():
    response = xlsx_response(b"content", "motions-rd-2026-07-03.xlsx")
    assert response.content == b"content"
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="motions-rd-2026-07-03.xlsx"'


def test_xlsx_response_file_name_cannot_break_the_header():
    assert xlsx_response(b"", 'a"b\\c.xlsx')["Content-Disposition"] == (
        'attachment; filename="a\\"b\\\\c.xlsx"'
    )
    assert xlsx_response(b"", "名单.xlsx")["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E5%90%8D%E5%8D%95.xlsx"
    )
