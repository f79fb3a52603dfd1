from __future__ import annotations

import pytest

from gongkai.disclosure.models import CatalogEntry
from tests.browser.test_shell import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def take_step(page, base: str, pk: int, step: str, **fields: str) -> None:
    page.goto(f"{base}/disclosures/{pk}/step/{step}/")
    for name, value in fields.items():
        page.fill(f"main form [name={name}]", value)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{base}/disclosures/{pk}/")


def test_publish_through_the_pages_then_find_it_on_the_board_and_by_search(
    org, live_server, browser
):
    base = live_server.url
    entry = CatalogEntry.objects.get(code="attendance")

    def phone():
        return browser.new_context(viewport={"width": 390, "height": 844}).new_page()

    author = phone()
    log_in(author, base, "teamlead")
    author.wait_for_url(f"{base}/")
    author.goto(f"{base}/disclosures/new/")
    author.select_option("select[name=unit]", str(org.boiler_team.pk))
    author.select_option("select[name=entry]", str(entry.pk))
    author.fill("input[name=period]", "2026-10")
    author.fill("input[name=title]", "十月考勤与加班公开")
    author.fill("textarea[name=procedure]", "考勤员记录，班长审核，班组民主管理会通过。")
    author.fill("textarea[name=result]", "全班加班三十六小时，已按规定支付加班费。")
    author.locator("main form button[type=submit]").click()
    author.wait_for_url(f"{base}/disclosures/*/")
    pk = int(author.url.rstrip("/").split("/")[-1])
    take_step(author, base, pk, "submit")

    head = phone()
    log_in(head, base, "depthead")
    head.wait_for_url(f"{base}/")
    # the team's only head wrote the item: the department head approves in its place, with
    # a reason, and then at the department's own level
    take_step(head, base, pk, "approve", acting_for="班长是本事项的起草人")
    take_step(head, base, pk, "approve")
    take_step(author, base, pk, "publish")
    assert "班长是本事项的起草人" in author.locator("main").inner_text()
    assert "加班三十六小时" in author.locator("section.published").inner_text()

    reader = phone()
    log_in(reader, base, "employee")
    reader.wait_for_url(f"{base}/")
    reader.goto(f"{base}/boards/{org.boiler_team.code}/")
    assert "十月考勤与加班公开" in reader.locator("main").inner_text()
    reader.goto(f"{base}/search/?q=加班")
    results = reader.locator("main").inner_text()
    assert "十月考勤与加班公开" in results
    assert reader.locator("main mark").count() > 0
