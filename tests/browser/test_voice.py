"""A suggestion end to end in a phone browser: the employee files it, the department head
accepts, assigns and answers it, and the author rates the handling. Elements are found by
their form names and ids, not their wording, so the test holds in either language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongkai.voice.models import Suggestion, SuggestionStatus
from tests.browser.test_shell import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def log_out(page) -> None:
    page.context.clear_cookies()


def test_file_answer_and_rate_a_suggestion(org, live_server, phone):
    base = live_server.url
    # The employee files a suggestion to their department.
    log_in(phone, base, "employee")
    phone.wait_for_url(f"{base}/")
    phone.goto(f"{base}/suggestions/new/")
    phone.select_option("#id_unit", str(org.boiler.pk))
    phone.select_option("#id_category", "working_conditions")
    phone.fill("#id_title", "巡检通道照明不足")
    phone.fill("#id_body", "锅炉零米层巡检通道照明不足，建议增加灯具。")
    phone.check("#id_name_hidden")
    phone.locator("form.card button[type=submit]").click()
    phone.wait_for_url(f"{base}/suggestions/*/")
    suggestion = Suggestion.objects.get()
    assert suggestion.name_hidden and suggestion.status == SuggestionStatus.SUBMITTED
    assert "巡检通道照明不足" in phone.locator("h1").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    log_out(phone)

    # The department head accepts, assigns it to the team, and answers it.
    log_in(phone, base, "depthead")
    phone.wait_for_url(f"{base}/")
    detail = f"{base}/suggestions/{suggestion.pk}/"
    phone.goto(detail)
    assert "employee的姓名" in phone.content()  # the head may see who sent it
    phone.locator("button[name=go][value=accept]").click()
    phone.wait_for_url(detail)
    phone.select_option("#id_assign-responsible_unit", str(org.boiler.pk))
    due = timezone.localdate() + dt.timedelta(days=7)
    phone.fill("#id_assign-due_on", due.isoformat())
    phone.locator("button[name=go][value=assign]").click()
    phone.wait_for_url(detail)
    phone.fill("#id_answer-answer", "已在零米层加装六盏防爆灯。")
    phone.fill("#id_answer-action_taken", "本周完成安装并验收。")
    phone.locator("button[name=go][value=answer]").click()
    phone.wait_for_url(detail)
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.ANSWERED
    assert "已在零米层加装六盏防爆灯。" in phone.locator("section.result").inner_text()
    log_out(phone)

    # The author rates the handling; it is closed.
    log_in(phone, base, "employee")
    phone.wait_for_url(f"{base}/")
    phone.goto(detail)
    phone.locator("input[name=rate-rating][value=satisfied]").check()
    phone.locator("button[name=go][value=rate]").click()
    phone.wait_for_url(detail)
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.CLOSED and suggestion.rating == "satisfied"
    # The board of the department shows it, without the hidden name.
    phone.goto(f"{base}/boards/{org.boiler.code}/")
    board = phone.locator("section.voice-board").inner_text()
    assert "巡检通道照明不足" in board and "employee的姓名" not in board
