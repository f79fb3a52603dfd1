"""The annual report as PDF: its content, typeset by :mod:`gongkai.core.documents.pdf`."""

from __future__ import annotations

from django.utils.translation import gettext as _

from gongkai.assessment.report import AnnualReport, sections
from gongkai.core.documents import Block, Document, Heading, Para, Table
from gongkai.core.documents.pdf import render_pdf


def render_report(report: AnnualReport) -> bytes:
    title = _("%(company)s: company affairs disclosure and democratic management in %(year)s") % {
        "company": report.company.name,
        "year": report.year,
    }
    blocks: list[Block] = [
        Para(
            _("Figures computed from the platform's records on %(date)s.")
            % {"date": report.today.isoformat()},
            indent=False,
        )
    ]
    for heading, rows in sections(report):
        blocks.append(Heading(heading))
        blocks.append(Table(columns=[_("Figure"), _("Value")], rows=rows, widths=[3, 1]))
    trend = [
        (f"{report.year}-{m:02d}", "—" if s is None else f"{s:.1f}", str(n))
        for m, s, n in report.trend
    ]
    if trend:
        blocks.append(Heading(_("Satisfaction trend (board ratings by month)")))
        blocks.append(
            Table(columns=[_("Month"), _("Satisfaction (0–100)"), _("Ratings")], rows=trend)
        )
    return render_pdf(
        Document(
            title=title,
            blocks=blocks,
            author=report.company.name,
            subject=_("Annual report"),
            footer=title,
        )
    )
