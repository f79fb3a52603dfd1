"""The officer's workbench (issue 13, item 10): /disclosure/ lists, per unit the officer
drafts for, the obligations due this period and those overdue, each with a "draft it" link
that opens the form with the entry, unit and period filled in."""

from __future__ import annotations

import html
import re
from datetime import datetime
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from gongkai.disclosure.models import CatalogEntry
from gongkai.disclosure.services import disclosure_create
from gongkai.org.models import Role
from gongkai.org.services import role_grant
from tests.factories import UserFactory
from tests.test_compliance import record

SH = ZoneInfo("Asia/Shanghai")
NOVEMBER = datetime(2026, 11, 5, 10, tzinfo=SH)


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(NOVEMBER, tick=False):
        yield


@pytest.fixture(autouse=True)
def in_english(client):
    """Period labels in English (2026-10); the catalog's names stay as entered."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def officer(org):
    user = UserFactory(unit=org.boiler)
    role_grant(actor=None, user=user, role=Role.DEPT_OFFICER, unit=org.boiler)
    return user


def text(fragment: str) -> list[str]:
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split()


def bench_rows(client) -> list[tuple[str, str, str, str | None]]:
    """(unit heading, entry, period label, link) of each row of the workbench."""
    page = client.get(reverse("disclosure:work")).content.decode()
    section = page[page.index('id="due"') : page.index("</section>", page.index('id="due"'))]
    rows = []
    for block in section.split("<h3>")[1:]:
        heading = " ".join(text(block[: block.index("</h3>")]))
        for tr in re.findall(r"<tr>(.*?)</tr>", block, re.S):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
            if not cells:
                continue
            link = re.search(r'href="([^"]+)"', cells[-1])
            rows.append(
                (
                    heading,
                    "".join(text(cells[0])),
                    "".join(text(cells[1])),
                    html.unescape(link.group(1)) if link else None,
                )
            )
    return rows


def selected(page: str, name: str) -> str | None:
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S)
    assert select is not None
    option = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
    return option.group(1) if option else None


def test_the_officer_sees_what_is_due_and_overdue_with_a_draft_it_link(org, officer, client):
    record(org, org.boiler, "pay", period="2026-09", published=datetime(2026, 10, 8, 9, tzinfo=SH))
    client.force_login(officer)
    rows = bench_rows(client)
    pay = [r for r in rows if r[1] == "薪酬分配"]
    periods = {r[2] for r in pay}
    # October is awaiting its deadline (10 November), November has begun; August is overdue;
    # September is published and so not on the bench.
    assert {"2026-10", "2026-11", "2026-08"} <= periods
    assert "2026-09" not in periods
    units = {r[0].split()[0] for r in rows}
    assert units == {"锅炉分场", "锅炉运行一班"}  # only the units the officer drafts for
    link = next(r[3] for r in pay if r[2] == "2026-10")
    query = parse_qs(urlparse(link).query)
    assert urlparse(link).path == reverse("disclosure:create")
    assert query == {"unit": ["rd-boiler"], "entry": ["pay"], "period": ["2026-10"]}
    assert "overdue" in rows[0][0]


def test_the_draft_it_link_fills_in_the_form(org, officer, client):
    client.force_login(officer)
    link = next(r[3] for r in bench_rows(client) if r[1] == "薪酬分配" and r[2] == "2026-10")
    page = client.get(link).content.decode()
    assert selected(page, "unit") == str(org.boiler.pk)
    assert selected(page, "entry") == str(CatalogEntry.objects.get(code="pay").pk)
    period = re.search(r'<input type="text" name="period"[^>]*>', page)
    assert period is not None and 'value="2026-10"' in period.group(0)


def test_a_period_with_a_draft_links_to_the_draft(org, officer, client):
    draft = disclosure_create(
        actor=officer,
        unit=org.boiler,
        entry=CatalogEntry.objects.get(code="pay"),
        title="十月薪酬",
        period="2026-10",
    )
    client.force_login(officer)
    row = next(r for r in bench_rows(client) if r[1] == "薪酬分配" and r[2] == "2026-10")
    assert row[3] == reverse("disclosure:detail", args=[draft.pk])


def test_people_who_do_not_draft_see_no_workbench(org, client):
    client.force_login(org["employee"])
    page = client.get(reverse("disclosure:work")).content.decode()
    assert 'id="due"' not in page
