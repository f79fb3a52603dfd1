"""What a correction changed, readably: text by lines and words (Chinese character by
character, Latin words and numbers whole), table cells as a table, files added and removed."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from gongkai.accounts.models import User
from gongkai.disclosure.attachments import attachment_add
from gongkai.disclosure.diff import inline_diff, table_diff
from gongkai.disclosure.models import CatalogEntry, Disclosure
from gongkai.disclosure.services import (
    Transition,
    disclosure_create,
    disclosure_transition,
    disclosure_update,
)
from gongkai.org.models import OrgUnit, Role
from gongkai.org.services import role_grant
from tests.conftest import Org
from tests.factories import UserFactory

PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


# --- Text --------------------------------------------------------------------------------------


def test_a_changed_number_is_shown_whole():
    html = inline_diff("人均奖金 2,100 元，安全奖另计。", "人均奖金 2,300 元，安全奖另计。")
    assert "<del>2,100</del><ins>2,300</ins>" in html
    assert "人均奖金" in html and "安全奖另计" in html


def test_latin_words_are_compared_as_words():
    html = inline_diff("Tender notice for spare parts.", "Tender notice for boiler parts.")
    assert "<del>spare</del><ins>boiler</ins>" in html
    assert "Tender notice for" in html and "parts." in html


def test_chinese_is_compared_character_by_character():
    html = inline_diff("中标单位：华电检修公司", "中标单位：大唐检修公司")
    assert "<del>华电</del><ins>大唐</ins>" in html
    assert "检修公司" in html


def test_lines_added_and_removed_are_marked_whole():
    old = "一、按工龄计分。\n二、职称加分。\n三、职代会审议。"
    new = "一、按工龄计分。\n三、职代会审议。\n四、名单公示七天。"
    html = inline_diff(old, new)
    assert "<del>二、职称加分。</del>" in html
    assert "<ins>四、名单公示七天。</ins>" in html
    assert "一、按工龄计分。" in html and "三、职代会审议。" in html


def test_unchanged_text_has_no_marks_and_markup_is_escaped():
    assert "<del>" not in inline_diff("同样的文字", "同样的文字")
    html = inline_diff("旧的说明", "<script>alert(1)</script>")
    assert "<script>" not in html and "&lt;script&gt;" in html


# --- Tables ------------------------------------------------------------------------------------

OLD_TABLE = {
    "columns": ["姓名", "奖金(元)"],
    "rows": [["张三", "1,200.00"], ["李四", "980.00"], ["王五", "1,100.00"]],
    "money_columns": [1],
    "totals": {"1": "3280.00"},
    "total_row": ["", "3,280.00"],
}
NEW_TABLE = {
    "columns": ["姓名", "奖金(元)"],
    "rows": [["张三", "1,250.00"], ["王五", "1,100.00"], ["赵六", "900.00"]],
    "money_columns": [1],
    "totals": {"1": "3250.00"},
    "total_row": ["", "3,250.00"],
}


def test_changed_cells_added_and_removed_rows_are_found():
    diff = table_diff(OLD_TABLE, NEW_TABLE)
    assert diff is not None and diff.columns == ["姓名", "奖金(元)"]
    kinds = [(row.kind, [str(cell) for cell in row.cells]) for row in diff.rows]
    assert ("changed", ["张三", "<del>1,200.00</del><ins>1,250.00</ins>"]) in kinds
    assert ("removed", ["李四", "980.00"]) in kinds
    assert ("added", ["赵六", "900.00"]) in kinds
    assert ("unchanged", ["王五", "1,100.00"]) in kinds
    assert diff.total is not None
    assert [str(cell) for cell in diff.total.cells] == [
        "",
        "<del>3,280.00</del><ins>3,250.00</ins>",
    ]


def test_a_column_added_is_shown_as_such():
    new = {"columns": ["姓名", "奖金(元)", "备注"], "rows": [[*r, ""] for r in OLD_TABLE["rows"]]}
    diff = table_diff({**OLD_TABLE, "total_row": []}, new)
    assert diff is not None
    assert diff.added_columns == ["备注"] and diff.removed_columns == []
    assert all(row.kind == "unchanged" for row in diff.rows)


def test_no_table_on_either_side_is_no_table_diff():
    assert table_diff(None, None) is None
    assert table_diff(OLD_TABLE, OLD_TABLE) is not None  # unchanged: shown as unchanged


# --- The history page ----------------------------------------------------------------------------


def person_on(unit: OrgUnit, role: str) -> User:
    user = UserFactory(unit=unit)
    role_grant(actor=None, user=user, role=role, unit=unit)
    return User.objects.get(pk=user.pk)


def publish(disclosure: Disclosure) -> Disclosure:
    unit = disclosure.unit
    disclosure_transition(
        actor=disclosure.author, disclosure=disclosure, transition=Transition.SUBMIT
    )
    disclosure_transition(
        actor=person_on(unit, Role.UNIT_HEAD), disclosure=disclosure, transition=Transition.APPROVE
    )
    disclosure_transition(
        actor=person_on(unit, Role.LEADERSHIP), disclosure=disclosure, transition=Transition.ENDORSE
    )
    return disclosure_transition(
        actor=disclosure.author, disclosure=disclosure, transition=Transition.PUBLISH
    )


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def corrected_item(org: Org) -> Disclosure:
    author = person_on(org.company, Role.DEPT_OFFICER)
    draft = disclosure_create(
        actor=author,
        unit=org.company,
        entry=CatalogEntry.objects.get(code="welfare"),
        title="第三季度福利发放",
        procedure="<p>按制度发放。</p>",
        result="<p>人均 1,093.33 元。</p>",
        period="2026-Q3",
        event_date=None,
        table=OLD_TABLE,
    )
    attachment_add(actor=author, disclosure=draft, upload=pdf("发放清单.pdf"))
    item = publish(draft)
    item = disclosure_transition(
        actor=author, disclosure=item, transition=Transition.CORRECT, reason="金额有误"
    )
    disclosure_update(
        actor=author, disclosure=item, result="<p>人均 1,083.33 元。</p>", table=NEW_TABLE
    )
    attachment_add(actor=author, disclosure=item, upload=pdf("更正说明.pdf"))
    return publish(item)


def test_the_history_page_shows_words_cells_and_files(org: Org, client: Client):
    item = corrected_item(org)
    client.force_login(org["leader"])
    page = client.get(reverse("disclosure:history", args=[item.pk])).content.decode()
    assert "<del>1,093.33</del><ins>1,083.33</ins>" in page
    table = re.search(r'<table class="data-table diff-table">(.*?)</table>', page, re.S)
    assert table is not None
    assert "<td><del>1,200.00</del><ins>1,250.00</ins></td>" in table.group(1).replace(
        ' class="num"', ""
    )
    assert 'class="added"' in table.group(1) and 'class="removed"' in table.group(1)
    added = item.attachments.get(original_name="更正说明.pdf")
    kept = item.attachments.get(original_name="发放清单.pdf")
    files = re.search(r'<section class="card diff files"(.*?)</section>', page, re.S)
    assert files is not None
    assert reverse("attachments:download", args=[added.pk]) in files.group(1)
    assert "更正说明.pdf" in files.group(1)
    assert "发放清单.pdf" not in files.group(1)  # unchanged: not listed as added
    assert kept.published_in.number == 1


def test_the_history_page_of_an_item_without_new_files_says_none_changed(org: Org, client: Client):
    author = person_on(org.company, Role.DEPT_OFFICER)
    draft = disclosure_create(
        actor=author,
        unit=org.company,
        entry=CatalogEntry.objects.get(code="tendering"),
        title="招标公告",
        procedure="<p>公开招标</p>",
        result="<p>欢迎投标</p>",
        period="",
        event_date=date(2026, 10, 8),
    )
    item = publish(draft)
    item = disclosure_transition(
        actor=author, disclosure=item, transition=Transition.CORRECT, reason="补充"
    )
    disclosure_update(actor=author, disclosure=item, result="<p>欢迎符合条件的单位投标</p>")
    publish(item)
    client.force_login(org["leader"])
    page = client.get(reverse("disclosure:history", args=[item.pk])).content.decode()
    assert '<section class="card diff files"' not in page
    assert "diff-table" not in page
