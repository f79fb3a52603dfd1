"""Anonymous reporting: a refresh of a page that answered a form (the browser sends the form
again) never files a second report; and the receipt page's button says what it does."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from gongkai.audit.models import AuditEvent
from gongkai.core import limits
from gongkai.reporting import release
from gongkai.reporting.models import HeldSubmission, Report, ReportSource
from tests.conftest import Org

CODE_RE = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}")
TOKEN_RE = re.compile(r'name="submission" value="([^"]+)"')
BUTTON_RE = re.compile(r'<button type="submit" class="button primary">([^<]*)</button>')


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    limits.store().clear()
    yield
    cache.clear()
    limits.store().clear()


def token_in(response) -> str:
    found = TOKEN_RE.findall(response.content.decode())
    assert len(found) == 1
    return found[0]


def in_language(client: Client, language: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


# --- the reporter's form ------------------------------------------------------------------------


def test_refreshing_the_receipt_page_again_and_again_files_one_report(org: Org, client: Client):
    in_language(client, "en")
    page = client.get(reverse("reporting:submit"))
    data = {
        "company": "rd",
        "subject": "食堂采购",
        "body": "单价虚高。",
        "submission": token_in(page),
    }
    first = client.post(reverse("reporting:submit"), data)
    assert first.status_code == 200 and len(CODE_RE.findall(first.content.decode())) == 1
    for _ in range(3):  # the reporter presses F5 on the page with the code, three times
        again = client.post(reverse("reporting:submit"), data)
        assert again.status_code == 409
        assert not CODE_RE.search(again.content.decode())
        assert b"sent already" in again.content
    assert HeldSubmission.objects.count() == 1
    release.deliver(everything=True)
    assert client.post(reverse("reporting:submit"), data).status_code == 409
    assert Report.objects.count() == 1


def test_a_new_form_after_a_refused_refresh_files_a_second_report(org: Org, client: Client):
    """Refusing the refresh does not block the reporter from sending another report."""
    page = client.get(reverse("reporting:submit"))
    data = {"company": "rd", "subject": "一", "body": "第一件。", "submission": token_in(page)}
    assert client.post(reverse("reporting:submit"), data).status_code == 200
    assert client.post(reverse("reporting:submit"), data).status_code == 409
    fresh = client.get(reverse("reporting:submit"))
    data2 = {"company": "rd", "subject": "二", "body": "第二件。", "submission": token_in(fresh)}
    assert client.post(reverse("reporting:submit"), data2).status_code == 200
    assert HeldSubmission.objects.count() == 2


# --- the inspector's form for a hotline / letter / in-person report ---------------------------


def enter_data(page) -> dict[str, str]:
    return {
        "company": "rd",
        "source": ReportSource.HOTLINE,
        "subject": "电话举报：仓库账实不符",
        "body": "来电反映仓库账实不符。",
        "submission": token_in(page),
    }


def test_refreshing_the_entered_page_does_not_enter_the_report_twice(
    org: Org, login, client: Client
):
    in_language(client, "en")
    login(org["discipline"])
    data = enter_data(client.get(reverse("reporting:enter")))
    first = client.post(reverse("reporting:enter"), data)
    assert first.status_code == 200 and len(CODE_RE.findall(first.content.decode())) == 1
    again = client.post(reverse("reporting:enter"), data)  # the inspector refreshes the page
    assert again.status_code == 409
    assert not CODE_RE.search(again.content.decode())  # no second code to hand over
    assert b"entered already" in again.content
    assert Report.objects.count() == 1
    assert AuditEvent.objects.filter(action="report.entered").count() == 1


def test_the_enter_form_without_a_valid_token_enters_nothing(org: Org, login, client: Client):
    in_language(client, "en")
    login(org["discipline"])
    data = enter_data(client.get(reverse("reporting:enter")))
    data["submission"] = "forged"
    refused = client.post(reverse("reporting:enter"), data)
    assert refused.status_code == 400
    assert not CODE_RE.search(refused.content.decode())
    assert "仓库账实不符" in refused.content.decode()  # what was typed is kept
    assert token_in(refused) != "forged"  # with a fresh token to send it
    assert not Report.objects.exists()


def test_others_still_cannot_enter_reports(org: Org, login, client: Client):
    login(org["employee"])
    assert client.get(reverse("reporting:enter")).status_code == 403
    data = {"company": "rd", "source": "hotline", "subject": "x", "body": "y", "submission": "z"}
    assert client.post(reverse("reporting:enter"), data).status_code == 403
    assert not Report.objects.exists()


# --- the receipt page's button ------------------------------------------------------------------


def test_the_receipt_lookup_button_says_what_it_does(client: Client):
    english = in_language(Client(), "en").get(reverse("reporting:receipt")).content.decode()
    assert BUTTON_RE.findall(english) == ["Look up"]
    chinese = in_language(client, "zh-hans").get(reverse("reporting:receipt")).content.decode()
    (label,) = BUTTON_RE.findall(chinese)
    assert label != "进行中"  # "in progress": a status, not an action
