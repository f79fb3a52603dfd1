"""The annual report PDF carries the web page's charts, its footer never covers the page
number, and every figure says what it measures (issue 13, item 16)."""

from __future__ import annotations

import io
from datetime import date

import pypdf
import pytest
from reportlab.pdfbase.pdfmetrics import stringWidth

from gongkai.assessment.report import AnnualReport
from gongkai.assessment.report_pdf import render_report
from gongkai.core.documents.pdf import REGULAR
from gongkai.disclosure.compliance import Tally
from gongkai.org.models import OrgUnit, UnitKind

pytestmark = pytest.mark.usefixtures("english")


def report() -> AnnualReport:
    company = OrgUnit(pk=1, code="rd", name="示范热电有限责任公司" * 3, kind=UnitKind.COMPANY)
    return AnnualReport(
        company=company,
        year=2025,
        today=date(2026, 3, 1),
        published=120,
        public=40,
        disclosure=Tally(on_time=90, late=20, overdue=7),
        trend=[(m, 60.0 + m if m != 4 else None, 10 if m != 4 else 0) for m in range(1, 13)],
        ratings={"satisfied": 80, "basic": 30, "dissatisfied": 10},
    )


def pages(content: bytes) -> list[pypdf.PageObject]:
    return list(pypdf.PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_draws_the_two_charts_of_the_page():
    content = render_report(report())
    first = pages(content)[0]
    text = first.extract_text()
    # the ring chart of obligations, with what each part is a share of
    assert "Catalog obligations due in 2025: 117 (number of obligations)" in text
    assert "On time: 90 (76.9% of the obligations due)" in text
    assert "Overdue: 7 (6.0% of the obligations due)" in text
    # the satisfaction line chart: its caption and its month axis
    assert "Board satisfaction by month of first publication, 2025" in text
    assert "Month of 2025" in text
    # drawn as vector graphics: the chart's coloured fills are in the page's content stream
    stream = first.get_contents().get_data().decode("latin-1")
    assert ".180392 .490196 .196078 rg" in stream  # the on-time green of the web chart
    assert ".415686 .105882 .603922 RG" in stream  # the trend line's purple


def test_the_footer_never_covers_the_page_number():
    content = render_report(report())
    for page in pages(content):
        found: list[tuple[str, float, float]] = []

        def visit(text, cm, tm, font, size, found=found):
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if text.strip() and y < 40:  # the bottom 14 mm: the footer line
                found.append((text.strip(), x, size))

        page.extract_text(visitor_text=visit)
        number = next(x for t, x, _s in found if t.startswith("—"))
        footer = [(t, x, s) for t, x, s in found if not t.startswith("—")]
        assert footer, "the footer line is there"
        for text, x, size in footer:
            assert x + stringWidth(text, REGULAR, size) < number, (text, x, number)


def test_every_figure_says_what_it_measures():
    text = "".join(p.extract_text() for p in pages(render_report(report())))
    assert "On-time rate (% of the obligations due)" in text
    assert "Catalog obligations due in the year (number)" in text
    assert "Figures for 1 January to 31 December 2025" in text
    assert "Board satisfaction (0–100: satisfied 100, basic 60, dissatisfied 0)" in text
    assert "Ratings (number)" in text


def test_the_pdf_page_serves_it(org, client, django_capture_on_commit_callbacks):
    client.force_login(org["employee"])
    button = client.get("/supervision/report/2025/report.pdf")  # reading starts nothing
    assert button.status_code == 200 and b"<form" in button.content
    with django_capture_on_commit_callbacks(execute=True):  # the PDF is made by a job
        started = client.post("/supervision/report/2025/report.pdf")
    assert started.status_code == 302 and started.url.startswith("/jobs/")
    response = client.get(started.url + "download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pages(response.content)[0].extract_text()
    assert "2025" in text and org.company.name in text
