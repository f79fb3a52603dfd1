"""Which amount columns of a disclosure table get a total: the drafter says so, and by
default the catalog entry does — spending and distribution tables (招待费, 薪酬, 奖金 …) are
totalled, a tender's competing bids never are, nor unit prices. Tables published before
keep the totals row they were published with."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from gongkai.accounts.models import User
from gongkai.disclosure.models import CatalogEntry, Disclosure
from gongkai.disclosure.tables import (
    TOTAL_ALL,
    TOTAL_AUTO,
    TOTAL_NAMED,
    TOTAL_NONE,
    Totals,
    clean_table,
    table_is_consistent,
    table_parse_text,
    table_totals,
    totals_initial,
)
from gongkai.org.models import OrgUnit, Role
from gongkai.org.services import role_grant
from tests.conftest import Org
from tests.factories import UserFactory, published_disclosure

BIDS = (
    "投标单位\t投标价(元)\t工期(天)\n"
    "华电检修公司\t1,280,000.00\t60\n"
    "大唐检修公司\t1,350,000.00\t55\n"
    "国能检修公司\t1,310,000.00\t58"
)
EXPENSES = "日期\t事由\t金额(元)\n2026-07-03\t接待来访\t1,234.50\n2026-08-11\t工作餐\t765.50"
PURCHASES = "物品\t数量\t单价(元)\t金额(元)\n手套\t10\t12.50\t125.00\n电池\t4\t20.00\t80.00"


def officer_on(unit: OrgUnit) -> User:
    user = UserFactory(unit=unit)
    role_grant(actor=None, user=user, role=Role.DEPT_OFFICER, unit=unit)
    return User.objects.get(pk=user.pk)


def draft_page(client: Client, user: User, **data: object) -> str:
    """Create a draft through the form and return its page."""
    client.force_login(user)
    response = client.post(reverse("disclosure:create"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    disclosure = Disclosure.objects.latest("pk")
    return client.get(reverse("disclosure:detail", args=[disclosure.pk])).content.decode()


def tender_form(org: Org, **overrides: object) -> dict[str, object]:
    return {
        "unit": org.company.pk,
        "entry": CatalogEntry.objects.get(code="tendering").pk,
        "period": "",
        "event_date": "2026-10-08",
        "title": "锅炉检修招标结果公示",
        "procedure": "公开招标，三家单位投标。",
        "result": "中标单位：华电检修公司。",
        "scope": "",
        "table_text": BIDS,
    } | overrides


def expense_form(org: Org, **overrides: object) -> dict[str, object]:
    return {
        "unit": org.boiler.pk,
        "entry": CatalogEntry.objects.get(code="entertainment").pk,
        "period": "2026-Q3",
        "title": "锅炉分场第三季度业务招待费",
        "procedure": "按制度审批。",
        "result": "共计 2,000.00 元。",
        "scope": "",
        "table_text": EXPENSES,
    } | overrides


def footer(page: str) -> str:
    """The totals row of the page's table, or "" when it has none."""
    found = re.search(r"<tfoot>(.*?)</tfoot>", page, re.S)
    return found.group(1) if found else ""


# --- On the pages ------------------------------------------------------------------------------


def test_a_tenders_bids_are_never_added_up(org: Org, client: Client):
    page = draft_page(client, officer_on(org.company), **tender_form(org))
    assert "1,280,000.00" in page and "1,350,000.00" in page  # the bids are shown
    assert "3,940,000.00" not in page  # their sum is meaningless
    assert footer(page) == ""


def test_an_expense_table_is_totalled_by_default(org: Org, client: Client):
    page = draft_page(client, officer_on(org.boiler), **expense_form(org))
    assert "2,000.00" in footer(page)


def test_the_drafter_may_leave_out_the_totals_row(org: Org, client: Client):
    page = draft_page(client, officer_on(org.boiler), **expense_form(org, table_total=TOTAL_NONE))
    assert footer(page) == ""


def test_the_drafter_may_total_a_tenders_table_when_it_adds_up(org: Org, client: Client):
    lots = "标段\t合同金额(元)\n一标段\t500,000.00\n二标段\t300,000.00"
    page = draft_page(
        client,
        officer_on(org.company),
        **tender_form(org, table_text=lots, table_total=TOTAL_ALL),
    )
    assert "800,000.00" in footer(page)


def test_unit_prices_are_not_totalled_but_amounts_are(org: Org, client: Client):
    form = expense_form(org, table_text=PURCHASES)
    page = draft_page(client, officer_on(org.boiler), **form)
    totals = footer(page)
    assert "205.00" in totals  # 125.00 + 80.00
    assert "32.50" not in totals  # 12.50 + 20.00: a sum of unit prices means nothing


def test_the_drafter_names_the_columns_to_total(org: Org, client: Client):
    form = expense_form(
        org, table_text=PURCHASES, table_total=TOTAL_NAMED, table_total_columns="单价(元)"
    )
    totals = footer(draft_page(client, officer_on(org.boiler), **form))
    assert "32.50" in totals and "205.00" not in totals


def test_a_named_column_that_holds_no_amounts_is_refused(org: Org, client: Client):
    client.force_login(officer_on(org.boiler))
    for names in ("事由", "金额", ""):
        form = expense_form(org, table_total=TOTAL_NAMED, table_total_columns=names)
        response = client.post(reverse("disclosure:create"), form)
        assert response.status_code == 400
    assert not Disclosure.objects.exists()
    page = response.content.decode()
    assert "Name" in page or "列" in page


def test_a_table_published_before_keeps_the_totals_row_it_was_published_with(org: Org):
    old = {
        "columns": ["投标单位", "投标价(元)"],
        "rows": [["华电检修公司", "1,280,000.00"], ["大唐检修公司", "1,350,000.00"]],
        "money_columns": [1],
        "totals": {"1": "2630000.00"},
        "total_row": ["", "2,630,000.00"],
    }
    item = published_disclosure(
        unit=org.company,
        entry_code="tendering",
        title="旧的招标公示",
        event_date=date(2026, 9, 1),
        scope="public",
        table=old,
    )
    page = Client().get(reverse("public:detail", args=[item.pk])).content.decode()
    assert "2,630,000.00" in footer(page)
    assert table_is_consistent(item.published_revision.table)


# --- The parser ------------------------------------------------------------------------------


def test_the_choice_is_kept_in_the_table_and_the_totals_check_follows_it():
    table = clean_table(PURCHASES, None, total=Totals(TOTAL_NAMED, ("金额(元)",)))
    assert table is not None
    assert table["money_columns"] == [2, 3]
    assert table["totalled"] == [3]
    assert table["totals"] == {"3": "205.00"}
    assert table["total_row"] == ["", "", "", "205.00"]
    assert table_totals(table) == {"3": "205.00"} and table_is_consistent(table)
    assert totals_initial(table) == {"table_total": TOTAL_NAMED, "table_total_columns": "金额(元)"}


def test_no_totals_means_no_totals_row_but_amounts_are_still_checked():
    table = clean_table(BIDS, None, total=Totals(TOTAL_AUTO, entry_code="tendering"))
    assert table is not None
    assert table["money_columns"] == [1]
    assert table["totalled"] == [] and table["totals"] == {} and table["total_row"] == []
    assert totals_initial(table) == {"table_total": TOTAL_NONE, "table_total_columns": ""}
    with pytest.raises(ValidationError):
        clean_table(BIDS.replace("1,280,000.00", "一百万"), None, total=Totals(TOTAL_NONE))


def test_an_unknown_entry_is_not_totalled_unless_asked():
    assert clean_table(EXPENSES, None, total=Totals(TOTAL_AUTO))["totalled"] == []
    assert clean_table(EXPENSES, None, total=Totals(TOTAL_ALL))["totalled"] == [2]
    auto = clean_table(EXPENSES, None, total=Totals(TOTAL_AUTO, entry_code="entertainment"))
    assert auto["totalled"] == [2] and auto["totals"] == {"2": "2000.00"}


def test_a_totals_row_typed_under_an_untotalled_column_is_still_checked_and_dropped():
    typed = BIDS + "\n合计\t3,940,000.00\t"
    table = table_parse_text(typed, total=Totals(TOTAL_NONE)).table
    assert table is not None and len(table["rows"]) == 3 and table["total_row"] == []
