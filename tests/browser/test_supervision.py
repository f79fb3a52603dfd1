"""A department head on a phone: sees the overdue rectification stand out, reports what was
done; the supervision group's round page fits the screen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gongkai.supervision.models import Rectification, RectificationStatus
from gongkai.supervision.services import finding_record
from tests.browser.test_shell import log_in
from tests.test_supervision import inspected, open_round

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_department_head_reports_an_overdue_rectification_on_a_phone(org, live_server, phone):
    round = open_round(org)
    finding = finding_record(
        actor=org["supervisor"],
        inspected=inspected(round, org.boiler),
        text="公开栏十月未更新，材料费未按月公开",
        severity="serious",
        due_on=timezone.localdate() - timedelta(days=2),
    )
    log_in(phone, live_server.url, "depthead")
    phone.wait_for_url(f"{live_server.url}/")
    phone.goto(f"{live_server.url}/supervision/rectifications/")
    row = phone.locator("tr.is-overdue")
    assert row.count() == 1
    assert "公开栏十月未更新" in row.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    row.locator("a").first.click()
    phone.locator("textarea[name=report]").fill("已补发十月公开并拍照存档")
    phone.locator("form[action$='/report/'] button[type=submit]").click()
    phone.wait_for_load_state()
    assert "已补发十月公开并拍照存档" in phone.locator("main").inner_text()
    rectification = Rectification.objects.get(finding=finding)
    assert rectification.status == RectificationStatus.REPORTED


def test_round_page_fits_a_phone(org, live_server, phone):
    round = open_round(org)
    log_in(phone, live_server.url, "supervisor")
    phone.wait_for_url(f"{live_server.url}/")
    phone.goto(f"{live_server.url}/supervision/inspections/{round.pk}/")
    assert org.boiler.name in phone.locator("table.ranking").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
