"""The pages: the compliance dashboard and its drill-down and export, the assessment with its
weights and publishing, and the annual report with its PDF."""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gongkai.assessment.models import DEFAULT_WEIGHTS, Ranking, Scheme
from gongkai.org.models import UnitKind
from tests.conftest import Org
from tests.factories import make_unit, published_disclosure

SH = ZoneInfo("Asia/Shanghai")
COMPLIANCE = reverse("assessment:compliance")


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def one_on_time(org: Org) -> Org:
    published_disclosure(
        unit=org.boiler_team,
        entry_code="team-bonus",
        period="2026-01",
        published_at=datetime(2026, 2, 3, 9, tzinfo=SH),
    )
    return org


def test_dashboard_shows_the_subtree_by_unit_with_drill_down(client: Client, one_on_time: Org):
    client.force_login(one_on_time["supervisor"])
    response = client.get(COMPLIANCE, {"start": "2026-01-01", "end": "2026-03-31"})
    assert response.status_code == 200
    board = response.context["board"]
    assert board.unit == one_on_time.company
    assert {row.unit.name for row in board.rows} == {"锅炉分场", "汽机分场", "工会"}
    boiler = next(r for r in board.rows if r.unit == one_on_time.boiler)
    assert boiler.subtree.on_time == 1
    assert f"?unit={one_on_time.boiler.code}" in response.content.decode()
    # Drill down to the department: its team is the row.
    response = client.get(COMPLIANCE, {"unit": one_on_time.boiler.code, "start": "2026-01-01"})
    assert [r.unit for r in response.context["board"].rows] == [one_on_time.boiler_team]
    assert b'id="compliance-chart-data"' in response.content
    assert b"<script>" not in response.content  # CSP: data only, no inline script


def test_a_bad_range_says_so_and_keeps_the_input(client: Client, org: Org):
    english(client).force_login(org["union"])
    response = client.get(COMPLIANCE, {"start": "2026-05-01", "end": "2026-01-01"})
    assert response.status_code == 200
    assert "The start date is after the end date." in response.content.decode()
    assert 'value="2026-05-01"' in response.content.decode()
    response = client.get(COMPLIANCE, {"start": "2010-01-01", "end": "2026-01-01"})
    assert "at most five years" in response.content.decode()


def test_dashboard_query_count_does_not_grow_with_units(client: Client, org: Org):
    client.force_login(org["leader"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(COMPLIANCE, {"start": "2025-01-01"}).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for i in range(5):
        dept = make_unit(f"扩展部门{i}", UnitKind.DEPARTMENT, org.company, code=f"x{i}")
        for j in range(3):
            make_unit(f"扩展班组{i}-{j}", UnitKind.TEAM, dept, code=f"x{i}-{j}")
    assert count() == small


def test_obligation_list_filters_by_state_and_paginates(client: Client, one_on_time: Org):
    client.force_login(one_on_time["supervisor"])
    url = reverse("assessment:compliance_obligations", args=[one_on_time.boiler_team.code])
    response = client.get(url, {"start": "2026-01-01", "end": "2026-03-31", "state": "on_time"})
    rows = response.context["page"].object_list
    assert [(o.entry.code, o.period.key) for o in rows] == [("team-bonus", "2026-01")]
    response = client.get(url, {"start": "2023-01-01", "end": "2026-10-31"})
    assert response.context["count"] > 50
    assert len(response.context["page"].object_list) == 50
    assert response.context["page"].paginator.num_pages > 1


def test_xlsx_export_holds_the_units_and_the_obligations(client: Client, one_on_time: Org):
    from openpyxl import load_workbook

    english(client).force_login(one_on_time["union"])
    response = client.get(
        reverse("assessment:compliance_export"),
        {"unit": one_on_time.boiler.code, "start": "2026-01-01", "end": "2026-03-31"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    units, obligations = book.worksheets
    rows = list(units.iter_rows(values_only=True))
    assert rows[1][:5] == ("Unit", "Code", "Kind", "On time", "Late")
    team = next(r for r in rows[2:] if r[1] == one_on_time.boiler_team.code)
    assert team[3] == 1  # on time
    detail = list(obligations.iter_rows(values_only=True))
    assert detail[0] == ("Unit", "Catalog entry", "Period", "Deadline", "Published", "State")
    bonus = [r for r in detail[1:] if r[1] == "班组奖金分配" and r[2] == "2026-01"]
    assert len(bonus) == 1 and bonus[0][5] == "On time"


def test_assessment_page_shows_the_ranking_and_lines(client: Client, org: Org):
    client.force_login(org["employee"])
    response = client.get(reverse("assessment:assessment"), {"period": "2025-H2"})
    assert response.status_code == 200
    assert {s.unit_code for s in response.context["result"].scores} == {
        "rd-boiler",
        "rd-turbine",
        "rd-union",
    }
    assert response.context["may_manage"] is False
    response = client.get(reverse("assessment:assessment_unit", args=["2025-H2", "rd-boiler"]))
    assert response.status_code == 200
    assert len(response.context["lines"]) == 7


def test_weights_form_refuses_a_bad_sum_and_keeps_the_input(client: Client, org: Org):
    english(client).force_login(org["supervisor"])
    data = {**DEFAULT_WEIGHTS, "handling": 30, "effective_from": "2026-01-01", "reason": "试"}
    response = client.post(reverse("assessment:scheme"), data)
    assert response.status_code == 200
    assert "they must add up to 100" in response.content.decode()
    assert 'value="30"' in response.content.decode()
    assert not Scheme.objects.exists()
    data["handling"] = 20
    response = client.post(reverse("assessment:scheme"), data)
    assert response.status_code == 302
    assert Scheme.objects.get().weights == DEFAULT_WEIGHTS


def test_others_cannot_post_weights_or_publish(client: Client, org: Org):
    for login in ("union", "leader", "depthead", "employee"):
        client.force_login(org[login])
        data = {**DEFAULT_WEIGHTS, "effective_from": "2026-01-01"}
        assert client.post(reverse("assessment:scheme"), data).status_code == 403
        assert client.post(reverse("assessment:publish"), {"period": "2025-H2"}).status_code == 403
    assert not Scheme.objects.exists() and not Ranking.objects.exists()


def test_publish_confirms_then_publishes_once(client: Client, org: Org):
    from gongkai.assessment.services import scheme_create

    scheme_create(
        actor=org["supervisor"],
        company=org.company,
        weights=DEFAULT_WEIGHTS,
        effective_from=date(2025, 1, 1),
    )
    client.force_login(org["supervisor"])
    page = client.get(reverse("assessment:publish"), {"period": "2025-H2"})
    assert page.status_code == 200 and page.context["preview"] is not None
    assert not Ranking.objects.exists()  # the confirmation page changes nothing
    response = client.post(reverse("assessment:publish"), {"period": "2025-H2"})
    ranking = Ranking.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{ranking.pk}/")
    again = client.post(reverse("assessment:publish"), {"period": "2025-H2"})
    assert again.status_code == 200 and Ranking.objects.count() == 1
    client.force_login(org["employee"])
    shown = client.get(reverse("assessment:ranking", args=[ranking.pk]))
    assert shown.status_code == 200 and len(shown.context["rows"]) == 3


def test_outsider_cannot_read_another_companys_ranking(client: Client, org: Org):
    from gongkai.assessment.services import ranking_publish, scheme_create

    scheme_create(
        actor=org["supervisor"],
        company=org.company,
        weights=DEFAULT_WEIGHTS,
        effective_from=date(2025, 1, 1),
    )
    ranking = ranking_publish(actor=org["supervisor"], company=org.company, period="2025-H2")
    client.force_login(org["outsider"])
    assert client.get(reverse("assessment:ranking", args=[ranking.pk])).status_code == 404
    response = client.get(reverse("assessment:assessment"), {"company": org.company.code})
    assert response.status_code == 404


def test_annual_report_and_its_pdf(
    client: Client, one_on_time: Org, django_capture_on_commit_callbacks
):
    import pypdf

    client.force_login(one_on_time["employee"])
    response = client.get(reverse("assessment:report", args=[2026]))
    assert response.status_code == 200
    report = response.context["report"]
    assert report.published >= 1 and report.disclosure.on_time >= 1
    headings = [h for h, _rows in response.context["sections"]]
    assert len(headings) >= 6
    with django_capture_on_commit_callbacks(execute=True):  # the PDF is made by a job
        started = client.post(reverse("assessment:report_pdf", args=[2026]))
    assert started.status_code == 302 and started.url.startswith("/jobs/")
    assert client.get(started.url).status_code == 200
    pdf = client.get(started.url + "download/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "示范热电有限责任公司" in text
