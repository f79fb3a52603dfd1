"""The same :class:`gongkai.core.documents.Document` as a Word file (.docx, python-docx), for
departments that file circulars in their own document systems. Word picks the Chinese face
from the East Asian font slot, which is set explicitly (宋体 for text, 黑体 for headings)."""

from __future__ import annotations

import io
from typing import Any

from docx import Document as new_document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from gongkai.core.documents import Document, Heading, Para, Table

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


def render_docx(document: Document) -> bytes:
    word = new_document()
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
