"""Server-side PDF with correct Chinese typesetting (ReportLab): a
:class:`gongkai.core.documents.Document` rendered by :func:`render_pdf` into A4 pages with
page numbers and a footer line, and an :class:`gongkai.core.documents.OfficialDocument` laid
out by the national format for official documents, GB/T 9704-2012 (see
:func:`render_official_pdf`).

The text is set in Noto Sans SC (a GB 2312 subset shipped in ``gongkai/core/fonts/`` under the
OFL, embedded as a TrueType subset in each PDF), so the document looks the same in every
viewer. A character outside the subset (a rare character in a name) is set in ReportLab's
built-in CID font STSong-Light instead of becoming a blank box. Official documents are set
in FandolFang (仿宋) with FandolSong Bold (宋) for the masthead and title, also GB 2312
subsets shipped in ``gongkai/core/fonts/``. Lines break between any two hanzi by the rules of
禁则 (:mod:`gongkai.core.documents.linebreak`): every paragraph here is a
:class:`CJKParagraph`, whose line breaking replaces ReportLab's (which lets ，；：？！》 start a
line).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
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
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as RLTable
from reportlab.platypus.doctemplate import BaseDocTemplate, PageTemplate
from reportlab.platypus.flowables import Flowable
from reportlab.platypus.frames import Frame
from reportlab.platypus.paragraph import Paragraph as RLParagraph
from reportlab.platypus.paragraph import ParaLines, cjkU, makeCJKParaLine

from gongkai.core.documents import (
    Document,
    Heading,
    Mark,
    OfficialDocument,
    Para,
    Table,
    chinese_date,
)
from gongkai.core.documents.linebreak import break_lines

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = "GongkaiSans"
BOLD = "GongkaiSans-Bold"
FANG = "GongkaiFang"  # 仿宋: the body of official documents
SONG_BOLD = "GongkaiSong-Bold"  # 宋 bold: masthead and title (the open stand-in for 小标宋)
DIGITS = "GongkaiSongDigits"  # 宋: page numbers (digits and dashes only)
HEI = REGULAR  # 黑体: first-level headings of official documents (Noto Sans SC)
FALLBACK = "STSong-Light"
RED = colors.HexColor("#c00000")
SEAL_RED = colors.HexColor("#e60000")


@functools.cache
def register_fonts() -> None:
    """Register the embedded TrueType faces and the CID fallback, once per process."""
    pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "NotoSansSC-Regular-GB2312.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "NotoSansSC-Bold-GB2312.ttf")))
    pdfmetrics.registerFont(TTFont(FANG, str(FONT_DIR / "FandolFang-Regular-GB2312.ttf")))
    pdfmetrics.registerFont(TTFont(SONG_BOLD, str(FONT_DIR / "FandolSong-Bold-GB2312.ttf")))
    pdfmetrics.registerFont(TTFont(DIGITS, str(FONT_DIR / "FandolSong-Regular-Digits.ttf")))
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR)
    pdfmetrics.registerFontFamily(FANG, normal=FANG, bold=FANG, italic=FANG)


@functools.cache
def covered(font: str = REGULAR) -> frozenset[int]:
    """The code points ``font`` (one of the embedded TrueType faces) has glyphs for."""
    register_fonts()
    face = pdfmetrics.getFont(font).face
    return frozenset(face.charToGlyph)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markup(text: str, font: str = REGULAR) -> str:
    """Paragraph markup for plain ``text``: escaped, line breaks kept, and every run of
    characters the embedded font lacks switched to the fallback font."""
    have = covered(font)
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


class CJKParagraph(RLParagraph):
    """ReportLab's paragraph with Chinese line breaking by 禁则
    (:func:`gongkai.core.documents.linebreak.break_lines`) in place of ReportLab's CJK wrap,
    for every frag layout (one font or several, forced line breaks)."""

    def breakLinesCJK(self, maxWidths: Any) -> Any:
        if not isinstance(maxWidths, list | tuple):
            maxWidths = [maxWidths]
        if hasattr(self, "blPara") and getattr(self, "_splitpara", False):
            return self.blPara
        style = self.style
        self.height = 0
        frags = self.frags
        if not frags:
            return ParaLines(
                kind=0,
                fontSize=style.fontSize,
                fontName=style.fontName,
                textColor=style.textColor,
                lines=[],
                ascent=style.fontSize,
                descent=-0.2 * style.fontSize,
            )
        auto = getattr(self, "autoLeading", getattr(style, "autoLeading", ""))
        return cjk_lines(frags, list(maxWidths), auto not in ("", "off"))


def cjk_lines(frags: Sequence[Any], max_widths: list[float], calc_bounds: bool) -> Any:
    """ReportLab paragraph lines (kind 1) of ``frags``, broken by :func:`break_lines`."""
    units: list[Any] = []
    for frag in frags:
        text = frag.text.decode("utf8") if isinstance(frag.text, bytes) else frag.text
        if text:
            units.extend(cjkU(t, frag, "utf8") for t in text)
        else:
            units.append(cjkU("", frag, "utf8"))
    lines: list[Any] = []
    segment_start = 0
    for index in range(len(units) + 1):
        forced = index < len(units) and hasattr(units[index].frag, "lineBreak")
        if index < len(units) and not forced:
            continue
        segment = units[segment_start:index]
        text = "".join(str(u) or "\u200b" for u in segment)
        widths = [float(u.width) for u in segment]
        spans = break_lines(text, widths, max_widths[len(lines) :] or max_widths[-1:])
        for number, (start, end) in enumerate(spans):
            last = number == len(spans) - 1
            line = segment[start:end] + ([units[index]] if forced and last else [])
            width = max_widths[min(len(lines), len(max_widths) - 1)]
            used = sum(widths[start:end])
            lines.append(
                makeCJKParaLine(line, width, used, width - used, forced and last, calc_bounds)
            )
        segment_start = index + 1
    return ParaLines(kind=1, lines=lines)


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
            "h1",
            parent=base,
            fontName=BOLD,
            fontSize=13,
            leading=21,
            spaceBefore=8,
            keepWithNext=1,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=BOLD,
            fontSize=11.5,
            leading=19,
            spaceBefore=4,
            keepWithNext=1,
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


@functools.cache
def official_table_styles() -> dict[str, ParagraphStyle]:
    """Table cells of official documents: 仿宋 小四 (12 pt), headers in 黑体."""
    register_fonts()
    cell = ParagraphStyle(
        "official-cell",
        fontName=FANG,
        fontSize=12,
        leading=17,
        alignment=TA_LEFT,
        wordWrap="CJK",
    )
    head = ParagraphStyle("official-head", parent=cell, fontName=HEI, alignment=TA_CENTER)
    return {"cell": cell, "head": head}


def flowables(document: Document, width: float) -> list[Flowable]:
    style = styles()
    story: list[Flowable] = []
    if document.letterhead:
        story.append(CJKParagraph(markup(document.letterhead), style["letterhead"]))
    if document.subtitle:
        story.append(CJKParagraph(markup(document.subtitle), style["subtitle"]))
    if document.letterhead:
        story.append(HRFlowable(width="100%", thickness=1.5, color=RED, spaceAfter=10))
    story.append(CJKParagraph(markup(document.title), style["title"]))
    story.append(Spacer(1, 6))
    for block in document.blocks:
        if isinstance(block, Heading):
            story.append(
                CJKParagraph(markup(block.text), style["h1" if block.level <= 1 else "h2"])
            )
        elif isinstance(block, Para):
            name = "indent" if block.indent and block.align == "justify" else block.align
            story.append(CJKParagraph(markup(block.text), style.get(name, style["body"])))
        else:
            story.append(table_flowable(block, width))
    if document.mark is not None:
        story.append(mark_flowable(document.mark, width))
    return story


def mark_flowable(mark: Mark, width: float) -> Flowable:
    """The mark: its QR code (22 mm, error correction M) beside its text in small type."""
    side = 22 * mm
    widget = QrCodeWidget(mark.url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
    drawing.add(widget)
    text_style = ParagraphStyle("mark", fontName=REGULAR, fontSize=8, leading=11)
    text = CJKParagraph(markup(mark.text) + "<br/>" + escape(mark.url), text_style)
    table = RLTable([[drawing, text]], colWidths=[side + 4 * mm, width - side - 4 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return KeepTogether([table])


def table_flowable(block: Table, width: float, *, official: bool = False) -> Flowable:
    style = official_table_styles() if official else styles()
    count = max(len(block.columns), max((len(r) for r in block.rows), default=0), 1)
    relative = list(block.widths or [1] * count)[:count]
    relative += [1] * (count - len(relative))
    total = sum(relative)
    widths = [width * w / total for w in relative]
    data = (
        [
            [
                CJKParagraph(markup(str(c), style["head"].fontName), style["head"])
                for c in block.columns
            ]
        ]
        if block.columns
        else []
    )
    for row in block.rows:
        cells = [CJKParagraph(markup(str(c), style["cell"].fontName), style["cell"]) for c in row]
        data.append(cells + [CJKParagraph("", style["cell"])] * (count - len(cells)))
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


def render_pdf(document: Document | OfficialDocument) -> bytes:
    """The document as PDF bytes (A4, 25 mm margins, page numbers); an official document in
    the national format (:func:`render_official_pdf`)."""
    if isinstance(document, OfficialDocument):
        return render_official_pdf(document)
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


# --- Official documents: GB/T 9704-2012 ----------------------------------------------------------

# The page (5.2): A4, top margin (天头) 37 mm, left margin (订口) 28 mm, type area 156 × 225 mm.
TOP, LEFT, AREA_W, AREA_H = 37 * mm, 28 * mm, 156 * mm, 225 * mm
BOTTOM = A4[1] - TOP - AREA_H  # 35 mm
CHARS, LINES = 28, 22  # 28 characters a line, 22 lines a page (5.2.2)
SIZE_3, SIZE_2, SIZE_4 = 16.0, 22.0, 14.0  # 3号 (body), 2号 (title), 4号 (page numbers, 版记)
LEADING = AREA_H / LINES
PITCH = AREA_W / CHARS  # a character's cell: 3号 characters are set a little tight to fit 28
MASTHEAD_TOP = 35 * mm  # masthead's top edge below the type area's top (7.2.2, 下行文)
PAGE_NUMBER_GAP = 7 * mm  # page number's dash below the type area (7.5)


def font_for(char: str, font: str) -> str:
    return font if ord(char) in covered(font) else FALLBACK


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """``text`` as (font, text) runs: the face where it has the glyph, else the fallback."""
    out: list[tuple[str, str]] = []
    for char in text:
        face = font_for(char, font)
        if out and out[-1][0] == face:
            out[-1] = (face, out[-1][1] + char)
        else:
            out.append((face, char))
    return out


class GridText(Flowable):
    """A paragraph of an official document: lines broken by 禁则 at a fixed width, justified
    by spreading the characters (Tc), one line per grid line (``leading``); splits between
    lines across pages."""

    def __init__(
        self,
        text: str,
        *,
        font: str = FANG,
        size: float = SIZE_3,
        leading: float = LEADING,
        width: float = AREA_W,
        first_indent: float = 0.0,
        indent: float = 0.0,
        right_indent: float = 0.0,
        align: str = "justify",
        color: Any = colors.black,
        keep_with_next: bool = False,
        lines: list[tuple[str, float, float, bool]] | None = None,
    ) -> None:
        super().__init__()
        register_fonts()
        self.font, self.size, self.leading, self.color = font, size, leading, color
        self.align, self.text_width = align, width
        self.squeeze = min(0.0, PITCH - size) if size == SIZE_3 else 0.0
        self.keepWithNext = keep_with_next
        self.lines = (
            lines if lines is not None else self.layout(text, first_indent, indent, right_indent)
        )

    def advance(self, char: str) -> float:
        return pdfmetrics.stringWidth(char, font_for(char, self.font), self.size) + self.squeeze

    def layout(
        self, text: str, first_indent: float, indent: float, right_indent: float
    ) -> list[tuple[str, float, float, bool]]:
        """Lines as (text, left offset, available width, justified)."""
        out: list[tuple[str, float, float, bool]] = []
        avail_first = self.text_width - first_indent - right_indent
        avail = self.text_width - indent - right_indent
        for piece in text.split("\n"):
            widths = [self.advance(c) for c in piece]
            first = not out
            spans = break_lines(piece, widths, [avail_first if first else avail, avail])
            for number, (start, end) in enumerate(spans):
                lead = first and number == 0
                last = number == len(spans) - 1
                out.append(
                    (
                        piece[start:end],
                        first_indent if lead else indent,
                        avail_first if lead else avail,
                        self.align == "justify" and not last,
                    )
                )
        return out

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width, self.height = availWidth, len(self.lines) * self.leading
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        fit = int((availHeight + 1e-6) // self.leading)
        if fit <= 0 or fit >= len(self.lines):
            return []
        return [self.part(self.lines[:fit]), self.part(self.lines[fit:])]

    def part(self, lines: list[tuple[str, float, float, bool]]) -> GridText:
        return GridText(
            "",
            font=self.font,
            size=self.size,
            leading=self.leading,
            width=self.text_width,
            align=self.align,
            color=self.color,
            keep_with_next=bool(self.keepWithNext),
            lines=lines,
        )

    def draw(self) -> None:
        canvas = self.canv
        baseline = self.leading / 2 + 0.38 * self.size  # the glyphs centred in the line
        for number, (text, offset, avail, justify) in enumerate(self.lines):
            if not text:
                continue
            natural = sum(
                pdfmetrics.stringWidth(c, font_for(c, self.font), self.size) for c in text
            )
            space = self.squeeze
            if justify and len(text) > 1:
                space = (avail - natural) / (len(text) - 1)
            used = natural + space * (len(text) - 1)
            x = offset
            if self.align == "center":
                x += (avail - used) / 2
            elif self.align == "right":
                x += avail - used
            y = self.height - number * self.leading - baseline
            text_object = canvas.beginText(x, y)
            text_object.setCharSpace(space)
            text_object.setFillColor(self.color)
            for face, run in runs(text, self.font):
                text_object.setFont(face, self.size)
                text_object.textOut(run)
            canvas.drawText(text_object)


class Rule(Flowable):
    """A horizontal rule as wide as the type area, ``below`` points under the flowable's top."""

    def __init__(self, *, thickness: float, color: Any, below: float, height: float) -> None:
        super().__init__()
        self.thickness, self.color, self.below, self.rule_height = thickness, color, below, height

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        return availWidth, self.rule_height

    def draw(self) -> None:
        self.canv.setStrokeColor(self.color)
        self.canv.setLineWidth(self.thickness)
        y = self.rule_height - self.below
        self.canv.line(0, y, self.width, y)


class Colophon(Flowable):
    """The colophon (版记, 7.4): 抄送 and the print line (印发机关, 印发日期) in 4号 仿宋 between
    rules — thick first and last, thin between — at the foot of the last page: it takes the
    rest of the page, or the whole next one when the rest is too short."""

    THICK, THIN = 0.35 * mm, 0.25 * mm

    def __init__(self, *, cc: Sequence[str], printer: str, print_date: str) -> None:
        super().__init__()
        one = SIZE_4  # 左右各空一字
        label = "抄送："
        self.cc = (
            GridText(
                label + "，".join(cc) + "。",
                size=SIZE_4,
                first_indent=one,
                indent=one + pdfmetrics.stringWidth(label, FANG, SIZE_4),
                right_indent=one,
            )
            if cc
            else None
        )
        self.printer, self.print_date = printer, print_date
        self.content = (len(self.cc.lines) if self.cc else 0) + (1 if printer else 0)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        need = self.content * LEADING
        self.width = availWidth
        self.height = availHeight if need <= availHeight + 1e-6 else need
        return availWidth, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        return []

    def draw(self) -> None:
        canvas = self.canv
        top = self.content * LEADING
        rules = [(top, self.THICK), (0, self.THICK)]
        if self.cc and self.printer:
            rules.append((LEADING, self.THIN))
        canvas.saveState()
        canvas.setStrokeColor(colors.black)
        for y, thickness in rules:
            canvas.setLineWidth(thickness)
            canvas.line(0, y, self.width, y)
        canvas.restoreState()
        if self.cc:
            self.cc.wrap(self.width, top)
            self.cc.drawOn(canvas, 0, LEADING if self.printer else 0)
        if self.printer:
            printer = GridText(self.printer, size=SIZE_4, first_indent=SIZE_4, align="left")
            printer.wrap(self.width, LEADING)
            printer.drawOn(canvas, 0, 0)
            date = GridText(
                self.print_date + "印发", size=SIZE_4, right_indent=SIZE_4, align="right"
            )
            date.wrap(self.width, LEADING)
            date.drawOn(canvas, 0, 0)


class Box(Flowable):
    """A fixed-height box (the masthead) with one line of text centred in it."""

    def __init__(self, text: str, *, font: str, size: float, color: Any) -> None:
        super().__init__()
        self.text, self.font, self.size, self.color = text, font, size, color

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width, self.height = availWidth, self.size
        return self.width, self.height

    def draw(self) -> None:
        text_object = self.canv.beginText(0, 0)
        text_object.setFillColor(self.color)
        used = 0.0
        for face, run in runs(self.text, self.font):
            used += pdfmetrics.stringWidth(run, face, self.size)
        text_object.setTextOrigin((self.width - used) / 2, self.size * 0.12)
        for face, run in runs(self.text, self.font):
            text_object.setFont(face, self.size)
            text_object.textOut(run)
        self.canv.drawText(text_object)


def masthead_size(text: str) -> float:
    """The masthead's size: large (小初, 36 pt) when it fits on one line, else as large as
    one line of the type area allows."""
    natural = sum(pdfmetrics.stringWidth(c, font_for(c, SONG_BOLD), 1) for c in text) or 1
    return min(36.0, AREA_W / natural)


def official_flowables(document: OfficialDocument) -> list[Flowable]:
    """The story of an official document, element by element as GB/T 9704-2012 places them."""
    register_fonts()
    two = 2 * PITCH  # 左空二字 / 首行缩进二字
    story: list[Flowable] = [Spacer(1, MASTHEAD_TOP)]
    size = masthead_size(document.masthead)
    story.append(Box(document.masthead, font=SONG_BOLD, size=size, color=SEAL_RED))
    story.append(Spacer(1, 2 * LEADING))  # 发文字号: 发文机关标志下空二行
    if document.number:
        story.append(GridText(document.number, align="center"))
    # The red rule 4 mm under the document number (7.2.4), as wide as the type area.
    glyph_bottom = LEADING / 2 - 0.38 * SIZE_3 + 0.12 * SIZE_3
    story.append(Rule(thickness=1.0, color=SEAL_RED, below=4 * mm - glyph_bottom, height=4 * mm))
    story.append(Spacer(1, 2 * LEADING))  # 标题: 红色分隔线下空二行
    if document.notice:
        story.append(GridText(document.notice, align="center", color=SEAL_RED))
    story.append(GridText(document.title, font=SONG_BOLD, size=SIZE_2, align="center"))
    if document.recipients:
        story.append(Spacer(1, LEADING))  # 主送机关: 标题下空一行, 顶格, 全角冒号
        story.append(GridText("、".join(document.recipients) + "：", align="left"))
    blocks = list(document.body)
    for index, block in enumerate(blocks):
        if isinstance(block, Heading):
            font = HEI if block.level <= 1 else FANG
            heading = GridText(block.text, font=font, first_indent=two, indent=0, align="left")
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            heading.keepWithNext = following is not None
            story.append(heading)
        elif isinstance(block, Para):
            align = block.align if block.align in ("left", "center", "right") else "justify"
            indent = two if block.indent and align == "justify" else 0.0
            story.append(GridText(block.text, first_indent=indent, align=align))
        else:
            story.append(table_flowable(block, AREA_W, official=True))
    story.extend(attachment_notes(document.attachments))
    story.append(signature(document.issuer, chinese_date(document.date)))
    if document.cc or document.printer:
        when = document.print_date or document.date
        story.append(
            Colophon(cc=document.cc, printer=document.printer, print_date=chinese_date(when))
        )
    if document.mark is not None:
        story.append(mark_flowable(document.mark, AREA_W))
    return keep_headings(story)


def keep_headings(story: list[Flowable]) -> list[Flowable]:
    """A heading never stays alone at the foot of a page: it goes with the first two lines
    of the paragraph after it (the rest of that paragraph may run on to the next page)."""
    out: list[Flowable] = []
    index = 0
    while index < len(story):
        item = story[index]
        following = story[index + 1] if index + 1 < len(story) else None
        if isinstance(item, GridText) and item.keepWithNext and following is not None:
            item.keepWithNext = False
            if isinstance(following, GridText) and len(following.lines) > 2:
                out.append(KeepTogether([item, following.part(following.lines[:2])]))
                out.append(following.part(following.lines[2:]))
            else:
                out.append(KeepTogether([item, following]))
            index += 2
            continue
        out.append(item)
        index += 1
    return out


def attachment_notes(names: Sequence[str]) -> list[Flowable]:
    """附件说明 (7.3.4): one blank line after the body, 左空二字 "附件：", the names numbered
    1. 2. … when more than one, continuation lines aligned with the first name."""
    if not names:
        return []
    label = "附件："
    hang = 2 * PITCH + sum(
        pdfmetrics.stringWidth(c, FANG, SIZE_3) + min(0.0, PITCH - SIZE_3) for c in label
    )
    flowables: list[Flowable] = [Spacer(1, LEADING)]
    many = len(names) > 1
    for number, name in enumerate(names, 1):
        text = f"{number}.{name}" if many else name
        if number == 1:
            flowables.append(
                GridText(label + text, first_indent=2 * PITCH, indent=hang, align="left")
            )
        else:
            flowables.append(GridText(text, first_indent=hang, indent=hang, align="left"))
    return flowables


def signature(issuer: str, date_text: str) -> Flowable:
    """The issuer centred over the date, the date 右空四字 (7.3.5.1), two blank lines above
    for the seal, kept together on one page."""
    squeeze = min(0.0, PITCH - SIZE_3)

    def width(text: str) -> float:
        return sum(pdfmetrics.stringWidth(c, font_for(c, FANG), SIZE_3) + squeeze for c in text)

    date_right = 4 * PITCH
    centre_from_right = date_right + width(date_text) / 2
    issuer_right = max(0.0, centre_from_right - width(issuer) / 2)
    return KeepTogether(
        [
            Spacer(1, 2 * LEADING),
            GridText(issuer, align="right", right_indent=issuer_right),
            GridText(date_text, align="right", right_indent=date_right),
        ]
    )


def page_number(canvas: Canvas, number: int) -> None:
    """ "— 1 —" in 4号 宋体 digits, 7 mm under the type area; odd pages right, even pages
    left, one character in from the type area's edge (7.5)."""
    text = f"— {number} —"
    y = BOTTOM - PAGE_NUMBER_GAP - 0.3 * SIZE_4
    canvas.setFont(DIGITS, SIZE_4)
    canvas.setFillColor(colors.black)
    if number % 2:
        canvas.drawRightString(LEFT + AREA_W - SIZE_4, y, text)
    else:
        canvas.drawString(LEFT + SIZE_4, y, text)


def render_official_pdf(document: OfficialDocument) -> bytes:
    """The official document as PDF bytes in the national format."""
    register_fonts()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=LEFT,
        rightMargin=A4[0] - LEFT - AREA_W,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=document.title,
        author=document.author or document.issuer,
        subject=document.subject,
        keywords=", ".join(document.keywords),
        creator="gongkai",
        lang="zh-CN",
        initialFontName=FANG,
    )

    def decorate(canvas: Canvas, template: BaseDocTemplate) -> None:
        canvas.saveState()
        page_number(canvas, canvas.getPageNumber())
        canvas.restoreState()

    frame = Frame(
        LEFT,
        BOTTOM,
        AREA_W,
        AREA_H + 0.01,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="type-area",
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])
    doc.build(official_flowables(document))
    return buffer.getvalue()
