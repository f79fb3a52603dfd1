"""The annual report as PDF: the same figures and the same two charts as the web page
(obligations on time / late / overdue, and board satisfaction by month), drawn with
ReportLab's own graphics so the PDF needs no browser; typeset with the one documents module's
fonts, styles and tables (:mod:`gongkai.core.documents.pdf`).

Every figure says what it measures: its unit, what a percentage is a share of, and the
period. The footer line stops short of the page number so the two never overlap.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.utils.translation import gettext as _
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus.flowables import Flowable

from gongkai.assessment.report import AnnualReport, sections
from gongkai.core.documents import Mark, Table
from gongkai.core.documents.pdf import (
    REGULAR,
    mark_flowable,
    markup,
    register_fonts,
    styles,
    table_flowable,
)

MARGIN = 25 * mm
FOOTER_Y = 12 * mm
FOOTER_SIZE = 9
ON_TIME, LATE, OVERDUE, TREND = (
    colors.HexColor("#2e7d32"),
    colors.HexColor("#f9a825"),
    colors.HexColor("#c62828"),
    colors.HexColor("#6a1b9a"),
)


def report_title(report: AnnualReport) -> str:
    return _("%(company)s: company affairs disclosure and democratic management in %(year)s") % {
        "company": report.company.name,
        "year": report.year,
    }


def fit(text: str, width: float, size: float = FOOTER_SIZE) -> str:
    """``text`` cut (with an ellipsis) to fit ``width`` points in the body font."""
    if stringWidth(text, REGULAR, size) <= width:
        return text
    while text and stringWidth(text + "…", REGULAR, size) > width:
        text = text[:-1]
    return text + "…"


def disclosure_chart(report: AnnualReport, width: float) -> Drawing:
    """The catalog obligations due in the year: on time, late, overdue (numbers and % of the
    obligations due), as the page's ring chart."""
    d = report.disclosure
    due = d.on_time + d.late + d.overdue
    height = 62 * mm
    drawing = Drawing(width, height)
    drawing.add(
        String(
            0,
            height - 10,
            _("Catalog obligations due in %(year)s: %(due)s (number of obligations)")
            % {"year": report.year, "due": due},
            fontName=REGULAR,
            fontSize=9.5,
        )
    )
    parts = [
        (_("On time"), d.on_time, ON_TIME),
        (_("Late"), d.late, LATE),
        (_("Overdue"), d.overdue, OVERDUE),
    ]
    labels = [
        _("%(state)s: %(n)s (%(pct)s of the obligations due)")
        % {"state": name, "n": n, "pct": f"{100 * n / due:.1f}%" if due else "—"}
        for name, n, _colour in parts
    ]
    if due:
        pie = Pie()
        pie.x, pie.y, pie.width, pie.height = 8, 8, 44 * mm, 44 * mm
        pie.data = [n for _name, n, _colour in parts]
        pie.labels = None
        pie.innerRadiusFraction = 0.5
        pie.slices.strokeColor = colors.white
        for i, (_name, _n, colour) in enumerate(parts):
            pie.slices[i].fillColor = colour
        drawing.add(pie)
    else:
        drawing.add(
            String(8, height / 2, _("No obligation fell due."), fontName=REGULAR, fontSize=9)
        )
    legend = Legend()
    legend.x, legend.y = 56 * mm, height - 24
    legend.fontName, legend.fontSize = REGULAR, 9
    legend.dy = legend.dx = 8
    legend.deltay = 14
    legend.alignment = "right"
    legend.colorNamePairs = [
        (colour, label) for (_n, _v, colour), label in zip(parts, labels, strict=True)
    ]
    drawing.add(legend)
    return drawing


def trend_chart(report: AnnualReport, width: float) -> Drawing:
    """Board satisfaction (0–100) of the items first published in each month of the year,
    as the page's line chart; a month without ratings has no point."""
    height = 70 * mm
    drawing = Drawing(width, height)
    drawing.add(
        String(
            0,
            height - 10,
            _(
                "Board satisfaction by month of first publication, %(year)s "
                "(0–100: satisfied 100, basically satisfied 60, dissatisfied 0)"
            )
            % {"year": report.year},
            fontName=REGULAR,
            fontSize=9.5,
        )
    )
    points = [(float(m), float(s)) for m, s, _n in report.trend if s is not None]
    plot = LinePlot()
    plot.x, plot.y = 28, 28
    plot.width, plot.height = width - 40, height - 52
    plot.data = [points or [(1.0, 0.0)]]
    plot.lines[0].strokeColor = TREND if points else colors.white
    plot.lines[0].strokeWidth = 1.5
    plot.lines[0].symbol = makeMarker("FilledCircle", size=3) if points else None
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0.5, 12.5
    plot.xValueAxis.valueSteps = list(range(1, 13))
    plot.xValueAxis.labelTextFormat = lambda v: f"{int(v):02d}"
    plot.xValueAxis.labels.fontName = REGULAR
    plot.xValueAxis.labels.fontSize = 8
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 100, 20
    plot.yValueAxis.labels.fontName = REGULAR
    plot.yValueAxis.labels.fontSize = 8
    drawing.add(plot)
    drawing.add(
        String(
            plot.x + plot.width,
            6,
            _("Month of %(year)s") % {"year": report.year},
            fontName=REGULAR,
            fontSize=8,
            textAnchor="end",
        )
    )
    if not points:
        drawing.add(
            String(
                plot.x + plot.width / 2,
                plot.y + plot.height / 2,
                _("No ratings in the year."),
                fontName=REGULAR,
                fontSize=9,
                textAnchor="middle",
            )
        )
    return drawing


def story(report: AnnualReport, width: float) -> list[Flowable]:
    style = styles()
    out: list[Flowable] = [
        Paragraph(markup(report_title(report)), style["title"]),
        Spacer(1, 4),
        Paragraph(
            markup(
                _(
                    "Figures for 1 January to 31 December %(year)s, computed from the "
                    "platform's records on %(date)s."
                )
                % {"year": report.year, "date": report.today.isoformat()}
            ),
            style["left"],
        ),
        Paragraph(markup(_("Disclosure on time")), style["h1"]),
        KeepTogether([disclosure_chart(report, width)]),
        Paragraph(markup(_("Satisfaction trend")), style["h1"]),
        KeepTogether([trend_chart(report, width)]),
    ]
    for heading, rows in sections(report):
        out.append(Paragraph(markup(heading), style["h1"]))
        out.append(
            table_flowable(
                Table(columns=[_("Figure"), _("Value")], rows=rows, widths=[3, 1]), width
            )
        )
    trend = trend_rows(report)
    if trend:
        out.append(Paragraph(markup(_("Satisfaction trend (board ratings by month)")), style["h1"]))
        out.append(
            table_flowable(
                Table(
                    columns=[
                        _("Month"),
                        _("Satisfaction (0–100)"),
                        _("Ratings (number)"),
                    ],
                    rows=trend,
                ),
                width,
            )
        )
    return out


def trend_rows(report: AnnualReport) -> list[Sequence[str]]:
    return [
        (f"{report.year}-{m:02d}", "—" if s is None else f"{s:.1f}", str(n))
        for m, s, n in report.trend
    ]


def render_report(report: AnnualReport, mark: Mark | None = None) -> bytes:
    """The report as PDF bytes; ``mark`` (the ledger checkpoint it was produced under) is
    printed at its end."""
    register_fonts()
    title = report_title(report)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=22 * mm,
        title=title,
        author=report.company.name,
        subject=_("Annual report"),
        creator="gongkai",
        lang="zh-CN",
    )

    def decorate(canvas: Canvas, _doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, FOOTER_SIZE)
        canvas.setFillColor(colors.HexColor("#555555"))
        number = f"— {canvas.getPageNumber()} —"
        canvas.drawCentredString(A4[0] / 2, FOOTER_Y, number)
        # The footer ends well before the page number begins.
        room = A4[0] / 2 - stringWidth(number, REGULAR, FOOTER_SIZE) / 2 - 6 * mm - MARGIN
        canvas.drawString(MARGIN, FOOTER_Y, fit(f"{report.company.name} {report.year}", room))
        canvas.restoreState()

    flowables = story(report, doc.width)
    if mark is not None:
        flowables.append(mark_flowable(mark, doc.width))
    doc.build(flowables, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
