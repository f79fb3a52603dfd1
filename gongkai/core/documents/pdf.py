"""Server-side PDF with correct Chinese typesetting (ReportLab): a
:class:`gongkai.core.documents.Document` rendered by :func:`render_pdf` into A4 pages with
page numbers and a footer line.

The text is set in Noto Sans SC (a GB 2312 subset shipped in ``gongkai/core/fonts/`` under the
OFL, embedded as a TrueType subset in each PDF), so the document looks the same in every
viewer. A character outside the subset (a rare character in a name) is set in ReportLab's
built-in CID font STSong-Light instead of becoming a blank box. Lines break between any two
hanzi and never put closing punctuation at a line start (ReportLab's ``wordWrap="CJK"``).
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as RLTable
from reportlab.platypus.flowables import Flowable

from gongkai.core.documents import Document, Heading, Para, Table

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = "GongkaiSans"
BOLD = "GongkaiSans-Bold"
FALLBACK = "STSong-Light"
RED = colors.HexColor("#c00000")


@functools.cache
def register_fonts() -> None:
    """Register the embedded TrueType faces and the CID fallback, once per process."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "NotoSansSC-Regular-GB2312.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "NotoSansSC-Bold-GB2312.ttf")))
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR)


@functools.cache
def covered() -> frozenset[int]:
    register_fonts()
    font = pdfmetrics.getFont(REGULAR)
    return frozenset(font.face.charToGlyph)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markup(text: str) -> str:
    """Paragraph markup for plain ``text``: escaped, line breaks kept, and every run of
    characters the embedded font lacks switched to the fallback font."""
    have = covered()
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            out.append(f'<font face="{FALLBACK}">{escape("".join(run))}</font>')
            run.clear()

    for char in text:
        if char == "\n":
            flush()
            out.append("<br/>")
        elif ord(char) in have or char in "\t\r":
            flush()
            out.append(escape(char))
        else:
            run.append(char)
    flush()
    return "".join(out)


@functools.cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle(
        "body",
        fontName=REGULAR,
        fontSize=11,
        leading=19,
        alignment=TA_JUSTIFY,
        wordWrap="CJK",
        spaceAfter=5,
    )
    return {
        "body": base,
        "indent": ParagraphStyle("indent", parent=base, firstLineIndent=22),
        "left": ParagraphStyle("left", parent=base, alignment=TA_LEFT),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
        "right": ParagraphStyle("right", parent=base, alignment=2),
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName=BOLD,
            fontSize=19,
            leading=28,
            alignment=TA_CENTER,
            spaceAfter=4,
        ),
        "letterhead": ParagraphStyle(
            "letterhead",
            parent=base,
            fontName=BOLD,
            fontSize=22,
            leading=30,
            alignment=TA_CENTER,
            textColor=RED,
            spaceAfter=6,
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, alignment=TA_CENTER, fontSize=10.5, spaceAfter=2
        ),
        "h1": ParagraphStyle(
            "h1", parent=base, fontName=BOLD, fontSize=13, leading=21, spaceBefore=8
        ),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=BOLD, fontSize=11.5, leading=19, spaceBefore=4
        ),
        "cell": ParagraphStyle(
            "cell", parent=base, fontSize=9.5, leading=14, alignment=TA_LEFT, spaceAfter=0
        ),
        "head": ParagraphStyle(
            "head",
            parent=base,
            fontName=BOLD,
            fontSize=9.5,
            leading=14,
            alignment=TA_CENTER,
            spaceAfter=0,
        ),
    }


def flowables(document: Document, width: float) -> list[Flowable]:
    style = styles()
    story: list[Flowable] = []
    if document.letterhead:
        story.append(Paragraph(markup(document.letterhead), style["letterhead"]))
    if document.subtitle:
        story.append(Paragraph(markup(document.subtitle), style["subtitle"]))
    if document.letterhead:
        story.append(HRFlowable(width="100%", thickness=1.5, color=RED, spaceAfter=10))
    story.append(Paragraph(markup(document.title), style["title"]))
    story.append(Spacer(1, 6))
    for block in document.blocks:
        if isinstance(block, Heading):
            story.append(Paragraph(markup(block.text), style["h1" if block.level <= 1 else "h2"]))
        elif isinstance(block, Para):
            name = "indent" if block.indent and block.align == "justify" else block.align
            story.append(Paragraph(markup(block.text), style.get(name, style["body"])))
        else:
            story.append(table_flowable(block, width))
    return story


def table_flowable(block: Table, width: float) -> Flowable:
    style = styles()
    count = max(len(block.columns), max((len(r) for r in block.rows), default=0), 1)
    relative = list(block.widths or [1] * count)[:count]
    relative += [1] * (count - len(relative))
    total = sum(relative)
    widths = [width * w / total for w in relative]
    data = (
        [[Paragraph(markup(str(c)), style["head"]) for c in block.columns]] if block.columns else []
    )
    for row in block.rows:
        cells = [Paragraph(markup(str(c)), style["cell"]) for c in row]
        data.append(cells + [Paragraph("", style["cell"])] * (count - len(cells)))
    table = RLTable(data, colWidths=widths, repeatRows=1 if block.columns else 0)
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#555555")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if block.columns:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")))
    table.setStyle(TableStyle(commands))
    return KeepTogether([Spacer(1, 4), table, Spacer(1, 8)]) if len(data) <= 12 else table


def render_pdf(document: Document) -> bytes:
    """The document as PDF bytes (A4, 25 mm margins, page numbers)."""
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=22 * mm,
        title=document.title,
        author=document.author,
        subject=document.subject,
        keywords=", ".join(document.keywords),
        creator="gongkai",
        lang="zh-CN",
    )

    def decorate(canvas: Canvas, template: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 9)
        canvas.setFillColor(colors.HexColor("#555555"))
        number = f"— {canvas.getPageNumber()} —"
        canvas.drawCentredString(A4[0] / 2, 12 * mm, number)
        if document.footer:
            canvas.drawString(25 * mm, 12 * mm, document.footer[:60])
        canvas.restoreState()

    doc.build(flowables(document, doc.width), onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
