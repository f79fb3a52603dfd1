"""The publicity pages: what each persona sees and can do, forms that keep what was typed,
and the anonymous filer who is never shown to anyone but the supervision group."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongkai.audit.models import AuditEvent
from gongkai.core.models import CalendarDay, DayKind
from gongkai.publicity.models import Finding, Objection, Outcome, Publicity
from gongkai.publicity.services import (
    objection_file,
    objection_finding_record,
    publicity_open,
    publicity_outcome_publish,
)
from tests.conftest import PERSONAS, Org
from tests.factories import UserFactory
from tests.test_publicity import FACTS, PDF_BYTES, at, cadre_item, holidays_2026, window

__all__ = ["holidays_2026"]  # the autouse fixture, imported to apply here too

FILER_NAME = "异议人甲乙"
FILER_NO = "F770321"


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def as_user(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def today_window(org: Org, unit=None) -> Publicity:
    today = timezone.localdate()
    return publicity_open(
        actor=org["union"],
        disclosure=cadre_item(unit or org.boiler, today),
        kind="cadre",
        starts_on=today,
    )


# --- The disclosure's page --------------------------------------------------------------------


def test_the_disclosure_page_shows_the_window_and_offers_an_objection(org: Org):
    publicity = today_window(org)
    page = english(as_user(org["employee"])).get(
        reverse("disclosure:detail", args=[publicity.disclosure_id])
    )
    body = page.content.decode()
    assert page.status_code == 200
    assert "Open for objections" in body
    assert reverse("publicity:object", args=[publicity.pk]) in body
    assert reverse("publicity:open", args=[publicity.disclosure_id]) not in body


def test_the_disclosure_page_offers_openers_a_window(org: Org):
    disclosure = cadre_item(org.boiler, timezone.localdate())
    url = reverse("disclosure:detail", args=[disclosure.pk])
    open_url = reverse("publicity:open", args=[disclosure.pk])
    assert open_url in as_user(org["depthead"]).get(url).content.decode()
    assert open_url not in as_user(org["employee"]).get(url).content.decode()
    assert open_url not in as_user(org["teamlead"]).get(url).content.decode()


def test_the_outcome_is_shown_with_the_disclosure(org: Org):
    publicity = window(org)  # 28 Sep – 10 Oct 2026
    publicity_outcome_publish(
        actor=org["depthead"],
        publicity=publicity,
        outcome=Outcome.NO_OBJECTION,
        text="公示期满无异议，按程序任命。",
        at=at(date(2026, 10, 12)),
    )
    body = (
        english(as_user(org["rep"]))
        .get(reverse("disclosure:detail", args=[publicity.disclosure_id]))
        .content.decode()
    )
    assert "No objection was raised" in body
    assert "公示期满无异议，按程序任命。" in body
    assert "Closed" in body


# --- Opening a window -------------------------------------------------------------------------


def test_opening_a_cadre_window_from_the_form(org: Org):
    disclosure = cadre_item(org.boiler, timezone.localdate())
    client = english(as_user(org["depthead"]))
    today = timezone.localdate()
    response = client.post(
        reverse("publicity:open", args=[disclosure.pk]),
        {"kind": "cadre", "starts_on": today.isoformat(), "ends_on": ""},
    )
    publicity = Publicity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("publicity:detail", args=[publicity.pk])
    from gongkai.core.workdays import add_working_days

    assert publicity.ends_on == add_working_days(today, 5)


def test_a_bad_window_keeps_the_input_and_explains(org: Org):
    disclosure = cadre_item(org.boiler, timezone.localdate())
    today = timezone.localdate()
    response = english(as_user(org["depthead"])).post(
        reverse("publicity:open", args=[disclosure.pk]),
        {"kind": "general", "starts_on": today.isoformat(), "ends_on": ""},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose the last day of the window." in body
    assert f'value="{today.isoformat()}"' in body
    assert not Publicity.objects.exists()


@pytest.mark.parametrize("who", [p for p in PERSONAS if p not in ("union", "depthead")])
def test_others_cannot_post_a_window(org: Org, who):
    disclosure = cadre_item(org.boiler, timezone.localdate())
    response = as_user(org[who]).post(
        reverse("publicity:open", args=[disclosure.pk]),
        {"kind": "cadre", "starts_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 403
    assert not Publicity.objects.exists()


# --- Filing objections ------------------------------------------------------------------------


def test_filing_an_objection_with_evidence(org: Org):
    publicity = today_window(org)
    client = english(as_user(org["employee"]))
    response = client.post(
        reverse("publicity:object", args=[publicity.pk]),
        {
            "text": FACTS,
            "anonymous": "on",
            "evidence": [SimpleUploadedFile("证据.pdf", PDF_BYTES)],
        },
    )
    assert response.status_code == 302
    objection = Objection.objects.get()
    assert objection.anonymous and objection.filed_by == org["employee"]
    assert objection.evidence.count() == 1
    page = client.get(reverse("publicity:detail", args=[publicity.pk])).content.decode()
    assert "Your objections" in page and FACTS in page and "filed anonymously" in page
    download = client.get(reverse("publicity:evidence", args=[objection.evidence.get().pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES
    assert download["Content-Security-Policy"].startswith("default-src 'none'")


def test_a_wrong_file_keeps_the_text_and_stores_nothing(org: Org):
    publicity = today_window(org)
    response = english(as_user(org["employee"])).post(
        reverse("publicity:object", args=[publicity.pk]),
        {"text": FACTS, "evidence": [SimpleUploadedFile("证据.pdf", b"MZ" + b"\0" * 50)]},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "not accepted" in body and FACTS in body
    assert not Objection.objects.exists()


def test_empty_and_huge_objections_are_refused_with_the_input_kept(org: Org):
    publicity = today_window(org)
    client = english(as_user(org["employee"]))
    url = reverse("publicity:object", args=[publicity.pk])
    assert client.post(url, {"text": ""}).status_code == 400
    huge = client.post(url, {"text": "很" * 5001})
    assert huge.status_code == 400
    assert "at most 5000 characters" in huge.content.decode()
    assert not Objection.objects.exists()


def test_after_the_window_the_page_says_when_it_closed_and_a_post_stores_nothing(org: Org):
    publicity = window(org)  # 28 Sep – 10 Oct 2026
    client = english(as_user(org["employee"]))
    url = reverse("publicity:object", args=[publicity.pk])
    with time_machine.travel(at(date(2026, 10, 11)), tick=False):
        page = client.get(url)
        assert page.status_code == 200
        body = page.content.decode()
        assert "The publicity window closed on Oct. 10, 2026" in body
        assert 'name="text"' not in body
        response = client.post(url, {"text": FACTS})
    assert response.status_code == 400
    assert "closed on Oct. 10, 2026" in response.content.decode()
    assert FACTS in response.content.decode()
    assert not Objection.objects.exists()


def test_before_the_window_opens_the_page_says_when(org: Org):
    publicity = window(org)
    client = english(as_user(org["employee"]))
    with time_machine.travel(at(date(2026, 9, 27)), tick=False):
        body = client.get(reverse("publicity:object", args=[publicity.pk])).content.decode()
    assert "opens on Sept. 28, 2026" in body


def test_a_huge_upload_is_refused_before_it_is_read(org: Org):
    publicity = today_window(org)
    client = as_user(org["employee"])
    response = client.post(
        reverse("publicity:object", args=[publicity.pk]),
        {"text": FACTS},
        CONTENT_LENGTH=str(settings.ATTACHMENT_MAX_BYTES * 6),
    )
    assert response.status_code == 302
    assert not Objection.objects.exists()


# --- Findings and outcomes --------------------------------------------------------------------


def test_the_supervision_group_records_a_finding_on_the_page(org: Org):
    publicity = today_window(org)
    objection = objection_file(
        actor=org["employee"], publicity=publicity, text=FACTS, anonymous=True
    )
    client = english(as_user(org["supervisor"]))
    url = reverse("publicity:finding", args=[objection.pk])
    bad = client.post(url, {"finding": "founded", "text": ""})
    assert bad.status_code == 400
    response = client.post(url, {"finding": "partly", "text": "部分属实，已要求补充材料。"})
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.finding == Finding.PARTLY
    again = client.get(url)
    assert again.status_code == 302  # already recorded: back to the window


@pytest.mark.parametrize("who", [p for p in PERSONAS if p != "supervisor"])
def test_others_cannot_post_a_finding(org: Org, who):
    publicity = today_window(org)
    objection = objection_file(actor=org["rep"], publicity=publicity, text=FACTS, anonymous=False)
    response = as_user(org[who]).post(
        reverse("publicity:finding", args=[objection.pk]), {"finding": "founded", "text": "属实"}
    )
    assert response.status_code == 403
    objection.refresh_from_db()
    assert objection.finding is None


def test_publishing_the_outcome_on_the_page(org: Org):
    publicity = window(org)
    objection = objection_file(
        actor=org["employee"],
        publicity=publicity,
        text=FACTS,
        anonymous=True,
        at=at(date(2026, 9, 29)),
    )
    client = english(as_user(org["depthead"]))
    url = reverse("publicity:outcome", args=[publicity.pk])
    with time_machine.travel(at(date(2026, 10, 12)), tick=False):
        waiting = client.post(url, {"outcome": "unfounded", "text": "不属实"})
        assert waiting.status_code == 400
        assert "1 objection(s) have no finding yet" in waiting.content.decode()
        objection_finding_record(
            actor=org["supervisor"], objection=objection, finding=Finding.UNFOUNDED, text="不属实"
        )
        done = client.post(url, {"outcome": "unfounded", "text": "经核查不属实，按程序任命。"})
    assert done.status_code == 302
    publicity.refresh_from_db()
    assert publicity.outcome == Outcome.UNFOUNDED


def test_the_outcome_cannot_be_posted_while_the_window_is_open(org: Org):
    publicity = today_window(org)
    response = english(as_user(org["union"])).post(
        reverse("publicity:outcome", args=[publicity.pk]), {"outcome": "no_objection"}
    )
    assert response.status_code == 400
    assert "open until" in response.content.decode()
    publicity.refresh_from_db()
    assert publicity.outcome is None


# --- The calendar page ------------------------------------------------------------------------


def test_the_union_office_adds_and_removes_a_day(org: Org):
    client = english(as_user(org["union"]))
    url = reverse("publicity:calendar", args=[2027])
    response = client.post(url, {"day": "2027-01-01", "kind": "holiday", "name": "元旦"})
    assert response.status_code == 302
    entry = CalendarDay.objects.get(day=date(2027, 1, 1))
    page = client.get(url).content.decode()
    assert "元旦" in page and "2027-01-01" in page
    confirm = client.get(reverse("publicity:calendar_remove", args=[entry.pk]))
    assert confirm.status_code == 200 and "Remove the day?" in confirm.content.decode()
    client.post(reverse("publicity:calendar_remove", args=[entry.pk]))
    assert not CalendarDay.objects.filter(day=date(2027, 1, 1)).exists()
    assert AuditEvent.objects.filter(action__startswith="calendar.").count() == 2


def test_a_weekday_cannot_be_an_adjusted_working_day(org: Org):
    response = english(as_user(org["union"])).post(
        reverse("publicity:calendar", args=[2027]),
        {"day": "2027-01-06", "kind": DayKind.WORKDAY, "name": "错"},
    )
    assert response.status_code == 400
    assert "is a weekday" in response.content.decode()
    assert not CalendarDay.objects.filter(day__year=2027).exists()


@pytest.mark.parametrize("who", [p for p in PERSONAS if p != "union"])
def test_only_the_union_office_may_change_the_calendar(org: Org, who):
    client = as_user(org[who])
    page = client.get(reverse("publicity:calendar", args=[2026]))
    assert page.status_code == 200 and 'name="day"' not in page.content.decode()
    response = client.post(
        reverse("publicity:calendar", args=[2027]), {"day": "2027-01-01", "kind": "holiday"}
    )
    assert response.status_code == 403
    entry = CalendarDay.objects.get(day=date(2026, 10, 1))
    assert client.post(reverse("publicity:calendar_remove", args=[entry.pk])).status_code == 403
    assert CalendarDay.objects.filter(pk=entry.pk).exists()


def test_the_calendar_page_counts_the_working_days(org: Org):
    body = (
        english(as_user(org["employee"]))
        .get(reverse("publicity:calendar", args=[2026]))
        .content.decode()
    )
    assert "2026 has 248 working days" in body
    assert "国庆节调休" in body


# --- The list ---------------------------------------------------------------------------------


def test_the_list_shows_readable_windows_only(org: Org, django_assert_max_num_queries):
    boiler = today_window(org)
    turbine = today_window(org, org.turbine)
    client = as_user(org["employee"])
    with django_assert_max_num_queries(12):
        body = client.get(reverse("publicity:index")).content.decode()
    assert reverse("publicity:detail", args=[boiler.pk]) in body
    assert reverse("publicity:detail", args=[turbine.pk]) not in body
    union_body = as_user(org["union"]).get(reverse("publicity:index")).content.decode()
    assert reverse("publicity:detail", args=[turbine.pk]) in union_body


# --- The anonymous filer ----------------------------------------------------------------------


def test_an_anonymous_filer_is_shown_to_no_one_but_the_supervision_group(org: Org):
    """Every page of the area, the disclosure, its board, the audit log and notifications,
    as each persona: the filer's name and employee number appear only for the supervisor."""
    filer = UserFactory(employee_no=FILER_NO, name=FILER_NAME, unit=org.boiler_team)
    publicity = today_window(org)
    objection = objection_file(
        actor=filer,
        publicity=publicity,
        text=FACTS,
        anonymous=True,
        uploads=[SimpleUploadedFile("证据.pdf", PDF_BYTES)],
    )
    objection_finding_record(
        actor=org["supervisor"], objection=objection, finding=Finding.UNFOUNDED, text="不属实"
    )
    urls = [
        reverse("publicity:index"),
        reverse("publicity:detail", args=[publicity.pk]),
        reverse("publicity:object", args=[publicity.pk]),
        reverse("publicity:outcome", args=[publicity.pk]),
        reverse("publicity:calendar", args=[2026]),
        reverse("disclosure:detail", args=[publicity.disclosure_id]),
        reverse("boards:board", args=[org.boiler.code]),
        reverse("boards:feed", args=[org.boiler.code]),
        reverse("audit:event_list"),
        reverse("notifications:list"),
        reverse("search:results") + "?q=异议",
    ]
    seen_by_supervisor = False
    for who in PERSONAS:
        client = as_user(org[who])
        for url in urls:
            response = client.get(url)
            body = response.content.decode() if hasattr(response, "content") else ""
            shown = FILER_NAME in body or FILER_NO in body
            if who == "supervisor":
                seen_by_supervisor |= shown
            else:
                assert not shown, (who, url)
    assert seen_by_supervisor  # the supervision group does see who filed it
    # The filer's own notifications talk about their objection, not about them.
    own = as_user(filer).get(reverse("notifications:list")).content.decode()
    assert "finding" in own.lower() or "异议" in own


# --- The demo ---------------------------------------------------------------------------------


def test_the_demo_has_a_closed_publicity_and_one_the_employee_can_object_to(db):
    from gongkai.accounts.models import User
    from gongkai.demo import publicity as demo
    from gongkai.demo.org import seed_org
    from gongkai.publicity import permissions as policy
    from tests.conftest import ensure_catalog

    ensure_catalog()
    seed_org(employees_per_team=2)
    assert demo.seed() == {"publicity windows": 2, "objections": 1}
    today = timezone.localdate()
    closed, current = Publicity.objects.order_by("starts_on")
    assert closed.state_on(today) == "closed" and closed.outcome == Outcome.UNFOUNDED
    objection = closed.objections.get()
    assert objection.anonymous and objection.finding == Finding.UNFOUNDED
    assert current.state_on(today) == "open" and current.outcome is None
    employee = User.objects.get(employee_no="employee")
    assert policy.can_file_objection(employee, current)
    body = as_user(employee).get(reverse("publicity:detail", args=[closed.pk])).content.decode()
    assert objection.filed_by.name not in body
