"""Disclosure tables: typed or uploaded, all or nothing, money totalled exactly."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.utils import translation

from gongkai.core import spreadsheets
from gongkai.disclosure import tables
from gongkai.disclosure.tables import (
    AmountError,
    clean_table,
    is_money_header,
    parse_amount,
    table_is_consistent,
    table_parse_text,
    table_parse_upload,
    table_to_text,
    table_totals,
)

HEADER = ["日期", "事由", "收款单位", "金额(元)", "审批人"]
LINES = [
    ["2026-07-03", "接待省公司检查组", "电厂招待所", "1,234.50", "张伟"],
    ["2026-07-15", "接待兄弟单位交流", "某某酒店", "2,000", "张伟"],
    ["2026-08-02", "退回多报餐费", "某某酒店", "-34.50", "王芳"],
]
EXPECTED = {
    "columns": HEADER,
    "rows": [
        ["2026-07-03", "接待省公司检查组", "电厂招待所", "1,234.50", "张伟"],
        ["2026-07-15", "接待兄弟单位交流", "某某酒店", "2,000.00", "张伟"],
        ["2026-08-02", "退回多报餐费", "某某酒店", "-34.50", "王芳"],
    ],
    "money_columns": [3],
    "totalled": [3],
    "totals": {"3": "3200.00"},
    "total_row": ["", "", "", "3,200.00", ""],
}


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def typed(rows: list[list[str]], header: list[str] = HEADER, sep: str = "\t") -> str:
    return "\n".join(sep.join(line) for line in [header, *rows])


def csv_bytes(rows: list[list[object]], header: list[str] = HEADER, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(
    rows: list[list[object]], header: list[str] = HEADER, title: str | None = None
) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def errors_of(parsed: tables.ParsedTable) -> list[tuple[int | None, str, str]]:
    assert parsed.table is None, "a table with errors must not be returned"
    return [(e.row, e.column, e.message) for e in parsed.errors]


# --- Money totals ------------------------------------------------------------------------------


def test_money_totals_are_exact_with_thousands_separators_and_a_refund():
    parsed = table_parse_text(typed(LINES))
    assert parsed.errors == []
    assert parsed.table == EXPECTED
    assert table_totals(parsed.table) == {"3": "3200.00"}
    assert table_is_consistent(parsed.table)


def test_totals_never_go_through_float():
    rows = [["2026-07-01", "a", "x", "0.10", "张"], ["2026-07-02", "b", "x", "0.20", "张"]]
    parsed = table_parse_text(typed(rows))
    assert 0.1 + 0.2 != 0.3  # what float would have stored
    assert parsed.table["totals"] == {"3": "0.30"}


def test_totals_of_two_thousand_rows_of_one_fen_are_exact():
    rows = [[f"2026-07-{i % 28 + 1:02d}", f"第{i}笔", "x", "0.01", "张"] for i in range(2_000)]
    parsed = table_parse_text(typed(rows))
    assert parsed.table["totals"] == {"3": "20.00"}


def test_several_money_columns_each_get_a_total():
    header = ["项目", "单价(元)", "数量", "金额"]
    rows = [["螺栓", "1.25", "400", "500"], ["垫片", "0.3", "1000", "300.00"]]
    table = table_parse_text(typed(rows, header)).table
    assert table["money_columns"] == [1, 3]
    assert table["totals"] == {"1": "1.55", "3": "800.00"}
    assert table["rows"][1] == ["垫片", "0.30", "1000", "300.00"]


def test_a_table_without_money_columns_has_no_totals():
    table = table_parse_text(typed([["张伟", "值长"]], ["姓名", "岗位"])).table
    assert table["money_columns"] == [] and table["totals"] == {} and table["total_row"] == []


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("1,234.50", "1234.50"),
        ("￥1234.5", "1234.50"),
        ("¥ 1,234.50", "1234.50"),
        ("1234", "1234.00"),
        ("１２３４．５０", "1234.50"),  # full-width digits, as a Chinese keyboard types them
        ("1234.5元", "1234.50"),
        ("-80", "-80.00"),
        ("−80", "-80.00"),  # U+2212 MINUS SIGN
        ("-¥80", "-80.00"),
        ("12.300", "12.30"),
        ("-0", "0.00"),
        ("1000000000000", "1000000000000.00"),
    ],
)
def test_amounts_as_people_write_them_are_read_exactly(written, amount):
    assert parse_amount(written) == Decimal(amount)
    assert str(parse_amount(written)) == amount


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("12.3.4", "is not an amount"),
        ("abc", "is not an amount"),
        ("12,34", "is not an amount"),  # a decimal comma, or a typo: never guessed
        ("1e5", "is not an amount"),
        ("(120.00)", "is not an amount"),
        ("12.345", "at most two decimal places"),
        ("", "The amount is empty"),
        ("1000000000000.01", "too large"),
        ("-99999999999999", "too large"),
    ],
)
def test_each_bad_cell_is_reported_with_its_row_and_column(written, reason):
    rows = [LINES[0], ["2026-07-04", "接待", "酒店", written, "张伟"], LINES[1]]
    parsed = table_parse_text(typed(rows))
    assert [(r, c) for r, c, _ in errors_of(parsed)] == [(3, "金额(元)")]
    assert reason in parsed.errors[0].message
    assert str(parsed.errors[0]).startswith("row 3, column 金额(元): ")


def test_every_bad_cell_is_listed_not_just_the_first():
    rows = [
        ["2026-07-01", "a", "x", "abc", "张"],
        ["2026-07-02", "b", "x", "1.001", "张"],
        ["2026-07-03", "c", "x", "x" * 10, "张"],
        ["2026-07-04", "d" * 201, "x", "5", "张"],
    ]
    parsed = table_parse_text(typed(rows))
    assert [(r, c) for r, c, _ in errors_of(parsed)] == [
        (2, "金额(元)"),
        (3, "金额(元)"),
        (4, "金额(元)"),
        (5, "事由"),
    ]
    assert "too long" in parsed.errors[3].message


@pytest.mark.parametrize(
    ("header", "money"),
    [
        ("金额", True),
        ("金额（元）", True),
        ("报销金额", True),
        ("招待费", True),
        ("费用", True),
        ("合计", True),
        ("金额(含税)", True),
        ("报销额(元)", True),  # any column is marked as money by its unit
        ("Amount", True),
        ("Total amount", True),
        ("amount (yuan)", True),
        ("费用类别", False),
        ("人数", False),
        ("事由", False),
        ("Fee type", False),
    ],
)
def test_money_columns_are_found_by_their_header(header, money):
    assert is_money_header(header) is money


def test_a_column_can_be_marked_as_money_explicitly():
    text = typed([["螺栓", "12.5"]], ["物资", "报销"])
    assert table_parse_text(text).table["money_columns"] == []
    table = table_parse_text(text, money_headers={"报销"}).table
    assert table["money_columns"] == [1] and table["totals"] == {"1": "12.50"}


# --- Totals rows in the input ---------------------------------------------------------------


def test_a_matching_totals_row_at_the_end_is_dropped_and_recomputed():
    rows = [*LINES, ["合计", "", "", "3,200.00", ""]]
    assert table_parse_text(typed(rows)).table == EXPECTED


def test_a_totals_row_that_does_not_add_up_is_refused():
    rows = [*LINES, ["合 计：", "", "", "3,300.00", ""]]
    parsed = table_parse_text(typed(rows))
    ((row, column, message),) = errors_of(parsed)
    assert (row, column) == (5, "金额(元)")
    assert "3,300.00" in message and "3,200.00" in message


def test_a_totals_row_in_the_middle_is_refused():
    rows = [LINES[0], ["小计", "", "", "1,234.50", ""], LINES[1]]
    ((row, _column, message),) = errors_of(table_parse_text(typed(rows)))
    assert row == 3 and "only at the end" in message


# --- The shape of the table -----------------------------------------------------------------


def test_a_row_with_more_cells_than_the_header_is_refused():
    text = typed([["2026-07-03", "接待", "酒店", "100", "张伟", "多余"]])
    ((row, column, _message),) = errors_of(table_parse_text(text))
    assert (row, column) == (2, "column 6")


def test_comma_separated_amounts_with_thousands_commas_need_quotes():
    unquoted = "日期,事由,金额\n2026-07-03,接待,1,234.50\n"
    ((row, _column, message),) = errors_of(table_parse_text(unquoted))
    assert row == 2 and "without thousands commas" in message
    quoted = '日期,事由,金额\n2026-07-03,接待,"1,234.50"\n'
    assert table_parse_text(quoted).table["totals"] == {"2": "1234.50"}


def test_full_width_commas_and_runs_of_spaces_also_separate_cells():
    by_comma = table_parse_text("日期，事由，金额\n2026-07-03，接待客人，1234.5\n").table
    by_spaces = table_parse_text("日期    事由       金额\n2026-07-03  接待客人  1,234.50\n").table
    assert by_comma == by_spaces
    assert by_comma["rows"] == [["2026-07-03", "接待客人", "1,234.50"]]


def test_short_rows_are_padded_and_blank_lines_skipped_keeping_line_numbers():
    text = "事由\t金额\t备注\n\n接待\t100\n\n退款\tx\n"
    ((row, column, _),) = errors_of(table_parse_text(text))
    assert (row, column) == (5, "金额")
    table = table_parse_text("事由\t金额\t备注\n\n接待\t100\n").table
    assert table["rows"] == [["接待", "100.00", ""]]


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("日期\t事由\t日期\n2026-07-03\ta\tb", (1, "日期"), "appears twice"),
        ("日期\t\t金额\n2026-07-03\ta\t1", (1, "column 2"), "has no name"),
        ("事由\n接待", (1, ""), "at least two column names"),
        ("\t".join(f"列{i}" for i in range(21)) + "\n" + "\t".join("x" * 21), (1, ""), "21"),
    ],
)
def test_bad_headers_are_refused(text, where, reason):
    errors = errors_of(table_parse_text(text))
    assert any((r, c) == where and reason in m for r, c, m in errors), errors


def test_empty_inputs_and_header_only_tables_are_refused():
    assert "empty" in errors_of(table_parse_text("  \n\n"))[0][2]
    assert "no rows" in errors_of(table_parse_text("事由\t金额\n\n"))[0][2]


def test_more_than_two_thousand_rows_are_refused():
    rows = [["a", "1"]] * 2_001
    ((row, _, message),) = errors_of(table_parse_text(typed(rows, ["事由", "金额"])))
    assert row is None and "2,000" in message


def test_cells_are_one_line_of_text():
    """Excel cells with Alt+Enter line breaks and tabs; CSV cells with quoted line breaks."""
    from_xlsx = table_parse_upload(xlsx_bytes([["接待\n客人\t 两位", 1]], ["事由", "金额"]))
    from_csv = table_parse_upload(csv_bytes([["接待\r\n客人  两位", "1"]], ["事由", "金额"]))
    assert from_xlsx.table["rows"] == from_csv.table["rows"] == [["接待 客人 两位", "1.00"]]


# --- Uploads: the same table from a file ----------------------------------------------------


def test_typed_csv_gbk_csv_and_xlsx_give_the_same_table():
    from_text = table_parse_text(typed(LINES)).table
    from_csv = table_parse_upload(csv_bytes(LINES), "招待费.csv").table
    from_gbk = table_parse_upload(csv_bytes(LINES, encoding="gbk"), "招待费.csv").table
    numeric = [
        [datetime(2026, 7, 3), "接待省公司检查组", "电厂招待所", 1234.5, "张伟"],  # noqa: DTZ001
        [date(2026, 7, 15), "接待兄弟单位交流", "某某酒店", 2000, "张伟"],
        [datetime(2026, 8, 2), "退回多报餐费", "某某酒店", -34.5, "王芳"],  # noqa: DTZ001
    ]
    from_xlsx = table_parse_upload(xlsx_bytes(numeric), "招待费.xlsx").table
    assert from_text == from_csv == from_gbk == from_xlsx == EXPECTED


def test_the_file_name_does_not_decide_the_format():
    assert table_parse_upload(csv_bytes(LINES), "table.xlsx").table == EXPECTED
    assert table_parse_upload(xlsx_bytes(LINES), "table.csv").table == EXPECTED


def test_xlsx_floats_are_read_as_excel_shows_them_or_refused():
    rows = [
        ["2026-07-01", "公式算出的", "x", 0.1 + 0.2, "张"],  # 0.30000000000000004
        ["2026-07-02", "整数", "x", 1234, "张"],
        ["2026-07-03", "三位小数", "x", 1234.567, "张"],
    ]
    parsed = table_parse_upload(xlsx_bytes(rows), "t.xlsx")
    ((row, column, message),) = errors_of(parsed)
    assert (row, column) == (4, "金额(元)") and "two decimal places" in message
    table = table_parse_upload(xlsx_bytes(rows[:2]), "t.xlsx").table
    assert [r[3] for r in table["rows"]] == ["0.30", "1,234.00"]
    assert table["totals"] == {"3": "1234.30"}


def test_xlsx_title_row_above_the_header_keeps_excel_row_numbers():
    rows = [LINES[0], ["2026-07-04", "接待", "酒店", "abc", "张伟"]]
    parsed = table_parse_upload(xlsx_bytes(rows, title="2026年7月业务招待费明细"), "t.xlsx")
    assert [(r, c) for r, c, _ in errors_of(parsed)] == [(4, "金额(元)")]


def test_a_gbk_csv_with_a_bad_cell_reports_the_row_as_excel_shows_it():
    rows = [LINES[0], LINES[1], ["2026-07-04", "接待", "酒店", "一百元", "张伟"]]
    parsed = table_parse_upload(csv_bytes(rows, encoding="gb18030"), "t.csv")
    ((row, column, message),) = errors_of(parsed)
    assert (row, column) == (4, "金额(元)") and "一百元" in message


def docx_like_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a spreadsheet"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "not a spreadsheet"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "not a spreadsheet"),
        (docx_like_zip(), "not a spreadsheet"),
        (b"PK\x03\x04 truncated", "not a spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old .xls"),
        (b"  \n ", "empty"),
    ],
)
def test_what_is_not_a_spreadsheet_is_refused_as_a_whole(data, reason):
    parsed = table_parse_upload(data, "expenses.xlsx")
    ((row, _column, message),) = errors_of(parsed)
    assert row is None and reason in message


def test_a_zip_bomb_workbook_is_refused_before_it_is_opened(monkeypatch):
    monkeypatch.setattr(spreadsheets, "MAX_UNPACKED_RATIO", 0)
    ((_, _, message),) = errors_of(table_parse_upload(xlsx_bytes(LINES), "t.xlsx"))
    assert "too large once unpacked" in message


def test_an_oversized_upload_is_refused(settings):
    settings.UPLOAD_MAX_BYTES = 100
    ((_, _, message),) = errors_of(table_parse_upload(csv_bytes(LINES), "t.csv"))
    assert "larger than" in message


def test_data_below_the_last_sheet_row_is_refused(monkeypatch):
    monkeypatch.setattr(tables, "LAST_SHEET_ROW", 3)
    ((_, _, message),) = errors_of(table_parse_upload(xlsx_bytes(LINES), "t.xlsx"))
    assert "rows below row 3" in message


# --- The form's helper and the page's include -------------------------------------------------


def test_clean_table_lists_every_problem_and_returns_nothing():
    upload = SimpleUploadedFile(
        "t.csv", csv_bytes([LINES[0], ["2026-07-04", "接待", "酒店", "12.3.4", "张伟"]])
    )
    with pytest.raises(ValidationError) as caught:
        clean_table("", upload)
    assert caught.value.messages == [
        "row 3, column 金额(元): “12.3.4” is not an amount; write it like 1,234.50."
    ]


def test_clean_table_takes_the_upload_over_the_typed_text_and_none_when_both_empty():
    upload = SimpleUploadedFile("t.xlsx", xlsx_bytes(LINES))
    assert clean_table("事由\t金额\n旧的\t1", upload) == EXPECTED
    assert clean_table(typed(LINES), None) == EXPECTED
    assert clean_table("  \n", None) is None
    assert clean_table(None, None) is None


def test_clean_table_shows_the_first_problems_and_counts_the_rest():
    rows = [["a", "x"]] * 40
    with pytest.raises(ValidationError) as caught:
        clean_table(typed(rows, ["事由", "金额"]), None)
    assert len(caught.value.messages) == tables.MAX_ERRORS_SHOWN + 1
    assert caught.value.messages[-1].startswith("…and 10 more problems")


def test_clean_table_refuses_an_upload_declared_too_large(settings):
    settings.UPLOAD_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="larger than"):
        clean_table("", SimpleUploadedFile("t.csv", csv_bytes(LINES)))


def test_a_stored_table_goes_back_to_text_and_parses_to_the_same_table():
    assert table_parse_text(table_to_text(EXPECTED)).table == EXPECTED
    assert table_to_text(None) == ""


def test_tampered_totals_are_detected():
    tampered = {**EXPECTED, "totals": {"3": "3100.00"}}
    assert not table_is_consistent(tampered)
    assert not table_is_consistent({**EXPECTED, "rows": [["x", "y", "z", "abc", "w"]]})
    with pytest.raises(AmountError):
        table_totals({**EXPECTED, "rows": [["x", "y", "z", "abc", "w"]]})


def test_the_include_shows_money_right_aligned_with_separators_and_a_totals_row():
    html = render_to_string("attachments/_table.html", {"table": EXPECTED})
    assert '<th scope="col" class="num">金额(元)</th>' in html
    assert '<td class="num">1,234.50</td>' in html
    assert '<td class="num">-34.50</td>' in html
    assert '<th scope="row">Total</th>' in html
    assert '<td class="num">3,200.00</td>' in html
    assert "<td>张伟</td>" in html
    assert "3 rows" in html


def test_the_include_shows_nothing_without_a_table_and_no_totals_without_money():
    assert render_to_string("attachments/_table.html", {"table": None}).strip() == ""
    table = table_parse_text("姓名\t岗位\n张伟\t值长").table
    html = render_to_string("attachments/_table.html", {"table": table})
    assert "<tfoot>" not in html and "<td>值长</td>" in html


def test_the_include_escapes_cells():
    table = table_parse_text("事由\t金额\n<script>alert(1)</script>\t1").table
    html = render_to_string("attachments/_table.html", {"table": table})
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_include_in_chinese_labels_the_totals_row():
    with translation.override(django_settings.LANGUAGE_CODE):
        html = render_to_string("attachments/_table.html", {"table": EXPECTED})
    assert '<th scope="row">' in html
