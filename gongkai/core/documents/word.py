"""The same :class:`gongkai.core.documents.Document` as a Word file (.docx, python-docx), for
departments that file circulars in their own document systems. Word picks the Chinese face
from the East Asian font slot, which is set explicitly (宋体 for text, 黑体 for headings).
Pages are A4. An :class:`gongkai.core.documents.OfficialDocument` gets the layout of
GB/T 9704-2012, as the PDF does (:func:`render_official_docx`): margins 37/35/28/26 mm, a
28 × 22 document grid, 仿宋 3号 body, the red masthead and rule, the colophon at the foot of
the last page, and page numbers "— 1 —" right on odd pages, left on even pages."""

from __future__ import annotations

import io
from typing import Any

from docx import Document as new_document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from gongkai.core.documents import Document, Heading, OfficialDocument, Para, Table, chinese_date

BODY_FONT = "宋体"
HEADING_FONT = "黑体"


def _set_font(run: Any, name: str, size: float, *, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def _paragraph(
    document: Any,
    text: str,
    *,
    size: float = 12,
    bold: bool = False,
    font: str = BODY_FONT,
    align: Any = None,
    indent: bool = False,
) -> Any:
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        run = paragraph.add_run(line)
        _set_font(run, font, size, bold=bold)
        if i < len(lines) - 1:
            run.add_break()
    return paragraph


def a4(word: Any, *, top: float, bottom: float, left: float, right: float) -> Any:
    section = word.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    return section


def render_docx(document: Document | OfficialDocument) -> bytes:
    """The document as .docx bytes (A4); an official document in the national format."""
    if isinstance(document, OfficialDocument):
        return render_official_docx(document)
    word = new_document()
    a4(word, top=25, bottom=22, left=25, right=25)
    core = word.core_properties
    core.title = document.title
    core.author = document.author
    core.subject = document.subject
    core.keywords = ", ".join(document.keywords)
    if document.letterhead:
        head = _paragraph(
            word,
            document.letterhead,
            size=20,
            bold=True,
            font=HEADING_FONT,
            align=WD_ALIGN_PARAGRAPH.CENTER,
        )
        for run in head.runs:
            run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    if document.subtitle:
        _paragraph(word, document.subtitle, size=11, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(
        word,
        document.title,
        size=18,
        bold=True,
        font=HEADING_FONT,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    for block in document.blocks:
        if isinstance(block, Heading):
            _paragraph(
                word,
                block.text,
                size=14 if block.level <= 1 else 12,
                bold=True,
                font=HEADING_FONT,
            )
        elif isinstance(block, Para):
            align = {
                "center": WD_ALIGN_PARAGRAPH.CENTER,
                "right": WD_ALIGN_PARAGRAPH.RIGHT,
                "left": WD_ALIGN_PARAGRAPH.LEFT,
            }.get(block.align, WD_ALIGN_PARAGRAPH.JUSTIFY)
            _paragraph(word, block.text, align=align, indent=block.indent)
        elif isinstance(block, Table):
            _table(word, block)
    if document.mark is not None:
        _paragraph(word, f"{document.mark.text} {document.mark.url}", size=8, indent=False)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def _table(word: Any, block: Table) -> None:
    count = max(len(block.columns), max((len(r) for r in block.rows), default=0), 1)
    table = word.add_table(rows=0, cols=count)
    table.style = "Table Grid"
    if block.columns:
        cells = table.add_row().cells
        for cell, text in zip(cells, block.columns, strict=False):
            cell.text = ""
            _set_font(cell.paragraphs[0].add_run(str(text)), HEADING_FONT, 10.5, bold=True)
    for row in block.rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=False):
            cell.text = ""
            _set_font(cell.paragraphs[0].add_run(str(text)), BODY_FONT, 10.5)
    word.add_paragraph()


# --- Official documents: GB/T 9704-2012 ----------------------------------------------------------

FANG = "仿宋"  # body, 3号 (16 pt)
SONG = "宋体"  # masthead and title (bold: the stand-in for 小标宋), page numbers
HEI = "黑体"  # first-level headings
KAI = "楷体"  # second-level headings
RED = RGBColor(0xE6, 0x00, 0x00)
AREA_W_MM, AREA_H_MM = 156, 225
SIZE = 16.0
LINE_PITCH = AREA_H_MM / 22 * 56.6929  # twips: 22 lines in the type area
CHAR_PITCH = AREA_W_MM / 28 / 25.4 * 72  # points: 28 characters a line
TYPE_AREA_TWIPS = round(AREA_W_MM * 56.6929)


def _line(paragraph: Any) -> None:
    """One grid line: exactly the line pitch, nothing before or after."""
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(LINE_PITCH / 20)


def _official(
    word: Any,
    text: str,
    *,
    font: str = FANG,
    size: float = SIZE,
    bold: bool = False,
    align: Any = WD_ALIGN_PARAGRAPH.JUSTIFY,
    first: float = 0.0,
    left: float = 0.0,
    right: float = 0.0,
    color: RGBColor | None = None,
) -> Any:
    paragraph = _paragraph(word, text, size=size, bold=bold, font=font, align=align)
    _line(paragraph)
    fmt = paragraph.paragraph_format
    fmt.left_indent, fmt.right_indent = Pt(left), Pt(right)
    fmt.first_line_indent = Pt(first)
    if color is not None:
        for run in paragraph.runs:
            run.font.color.rgb = color
    return paragraph


def _blank(word: Any, count: int = 1) -> None:
    for _ in range(count):
        _line(word.add_paragraph())


# The order of a paragraph's properties in WordprocessingML (python-docx's CT_PPr).
PPR_ORDER = [
    "w:pStyle",
    "w:keepNext",
    "w:keepLines",
    "w:pageBreakBefore",
    "w:framePr",
    "w:widowControl",
    "w:numPr",
    "w:suppressLineNumbers",
    "w:pBdr",
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
]


def _property(paragraph: Any, tag: str) -> Any:
    """The paragraph's property element ``tag``, added in its place when missing."""
    ppr = paragraph._p.get_or_add_pPr()
    element = ppr.find(qn(tag))
    if element is None:
        element = OxmlElement(tag)
        ppr.insert_element_before(element, *PPR_ORDER[PPR_ORDER.index(tag) + 1 :])
    return element


def _border(paragraph: Any, side: str, *, size: int, color: str) -> None:
    """A rule on one side of the paragraph; ``size`` in eighths of a point."""
    borders = _property(paragraph, "w:pBdr")
    edge = OxmlElement(f"w:{side}")
    edge.set(qn("w:val"), "single")
    edge.set(qn("w:sz"), str(size))
    edge.set(qn("w:space"), "1")
    edge.set(qn("w:color"), color)
    borders.append(edge)


def _at_page_foot(paragraph: Any) -> None:
    """Put the paragraph in a frame anchored to the bottom of the type area (the colophon
    sits on the last lines of the last page)."""
    frame = _property(paragraph, "w:framePr")
    frame.set(qn("w:w"), str(TYPE_AREA_TWIPS))
    frame.set(qn("w:wrap"), "around")
    frame.set(qn("w:vAnchor"), "margin")
    frame.set(qn("w:hAnchor"), "margin")
    frame.set(qn("w:xAlign"), "center")
    frame.set(qn("w:yAlign"), "bottom")


def _page_number(footer: Any, *, odd: bool) -> None:
    """ "— n —" in 4号 宋体, odd pages right, even pages left, one character in (7.5)."""
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    fmt = paragraph.paragraph_format
    fmt.right_indent = Pt(14) if odd else Pt(0)
    fmt.left_indent = Pt(0) if odd else Pt(14)
    _set_font(paragraph.add_run("— "), SONG, 14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    _set_font(paragraph.add_run(" —"), SONG, 14)


def _grid(section: Any) -> None:
    """The document grid: 22 lines of 28 characters (5.2.2)."""
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "linesAndChars")
    grid.set(qn("w:linePitch"), str(round(LINE_PITCH)))
    grid.set(qn("w:charSpace"), str(round((CHAR_PITCH - SIZE) * 4096)))


def render_official_docx(document: OfficialDocument) -> bytes:
    word = new_document()
    core = word.core_properties
    core.title = document.title
    core.author = document.author or document.issuer
    core.subject = document.subject
    core.keywords = ", ".join(document.keywords)
    section = a4(word, top=37, bottom=35, left=28, right=26)
    section.footer_distance = Mm(21)
    _grid(section)
    word.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer, odd=True)
    _page_number(section.even_page_footer, odd=False)
    normal = word.styles["Normal"]
    normal.font.name, normal.font.size = FANG, Pt(SIZE)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FANG)

    two = 2 * CHAR_PITCH
    masthead_size = min(36.0, AREA_W_MM / 25.4 * 72 / max(len(document.masthead), 1))
    masthead = _official(
        word,
        document.masthead,
        font=SONG,
        size=masthead_size,
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        color=RED,
    )
    masthead.paragraph_format.space_before = Mm(35)
    masthead.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    _blank(word, 2)
    number = _official(word, document.number, align=WD_ALIGN_PARAGRAPH.CENTER)
    _border(number, "bottom", size=8, color="E60000")  # the red rule under the number
    _blank(word, 2)
    if document.notice:
        _official(word, document.notice, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED)
    title = _official(
        word, document.title, font=SONG, size=22, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    title.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    if document.recipients:
        _blank(word)
        _official(word, "、".join(document.recipients) + "：", align=WD_ALIGN_PARAGRAPH.LEFT)
    for block in document.body:
        if isinstance(block, Heading):
            heading = _official(
                word,
                block.text,
                font=HEI if block.level <= 1 else KAI,
                first=two,
                align=WD_ALIGN_PARAGRAPH.LEFT,
            )
            heading.paragraph_format.keep_with_next = True
        elif isinstance(block, Para):
            align = {
                "center": WD_ALIGN_PARAGRAPH.CENTER,
                "right": WD_ALIGN_PARAGRAPH.RIGHT,
                "left": WD_ALIGN_PARAGRAPH.LEFT,
            }.get(block.align, WD_ALIGN_PARAGRAPH.JUSTIFY)
            indent = two if block.indent and block.align == "justify" else 0.0
            _official(word, block.text, first=indent, align=align)
        else:
            _table(word, block)
    if document.attachments:
        _blank(word)
        many = len(document.attachments) > 1
        hang = two + 3 * CHAR_PITCH  # after "附件："
        for number_, name in enumerate(document.attachments, 1):
            text = f"{number_}.{name}" if many else name
            if number_ == 1:
                _official(
                    word,
                    "附件：" + text,
                    left=hang,
                    first=-3 * CHAR_PITCH,
                    align=WD_ALIGN_PARAGRAPH.LEFT,
                )
            else:
                _official(word, text, left=hang, align=WD_ALIGN_PARAGRAPH.LEFT)
    _blank(word, 2)  # room for the seal
    date = chinese_date(document.date)
    centre = 4 * CHAR_PITCH + len(date) * CHAR_PITCH / 2
    issuer_right = max(0.0, centre - len(document.issuer) * CHAR_PITCH / 2)
    signed = _official(word, document.issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, right=issuer_right)
    signed.paragraph_format.keep_with_next = True
    _official(word, date, align=WD_ALIGN_PARAGRAPH.RIGHT, right=4 * CHAR_PITCH)
    _colophon(word, document)
    if document.mark is not None:
        _paragraph(word, f"{document.mark.text} {document.mark.url}", size=8, indent=False)
    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


def _colophon(word: Any, document: OfficialDocument) -> None:
    """版记 (7.4): 抄送 and 印发机关 + 印发日期 in 4号 仿宋 between rules (thick, thin, thick),
    at the foot of the last page."""
    paragraphs = []
    if document.cc:
        label = "抄送："
        cc = _official(
            word,
            label + "，".join(document.cc) + "。",
            size=14,
            left=14 + 3 * 14,
            first=-3 * 14,
            right=14,
            align=WD_ALIGN_PARAGRAPH.LEFT,
        )
        paragraphs.append(cc)
    if document.printer:
        when = chinese_date(document.print_date or document.date) + "印发"
        printer = _official(word, "", size=14, left=14, right=14, align=WD_ALIGN_PARAGRAPH.LEFT)
        _set_font(printer.add_run(document.printer), FANG, 14)
        stops = printer.paragraph_format.tab_stops
        stops.add_tab_stop(Pt(AREA_W_MM / 25.4 * 72 - 28), WD_TAB_ALIGNMENT.RIGHT)
        _set_font(printer.add_run("\t" + when), FANG, 14)
        paragraphs.append(printer)
    if not paragraphs:
        return
    _border(paragraphs[0], "top", size=8, color="000000")  # 0.35 mm ≈ 1 pt
    if len(paragraphs) > 1:
        _border(paragraphs[0], "bottom", size=6, color="000000")  # 0.25 mm
    _border(paragraphs[-1], "bottom", size=8, color="000000")
    for paragraph in paragraphs:
        _at_page_foot(paragraph)
