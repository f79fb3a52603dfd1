"""Generated documents (circulars, the annual report): what they are made of.

A :class:`Document` (title, optional subtitle/number line, letterhead, footer, metadata) holds
a list of blocks — :class:`Heading`, :class:`Para` and :class:`Table`. The same document is
rendered as PDF by :func:`gongkai.core.documents.pdf.render_pdf` (A4 pages, page numbers,
embedded Chinese fonts) and as a Word file by :func:`gongkai.core.documents.word.render_docx`.
The parts that use them build only the content.

An :class:`OfficialDocument` is an official document (公文) in the national format
GB/T 9704-2012; the same two renderers lay it out.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1: a section heading, 2: a subsection


@dataclass(frozen=True)
class Para:
    text: str
    indent: bool = True  # the first line indented by two characters, as Chinese prose is
    align: str = "justify"  # or "left", "center", "right"


@dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] | None = None  # relative widths; equal when not given


Block = Heading | Para | Table


@dataclass(frozen=True)
class Mark:
    """A note printed at the end of a document with a QR code of ``url``: e.g. the ledger
    checkpoint the document was produced under (its size and root), so that a reader of the
    paper can check it against the log (the Word file prints the address instead)."""

    text: str
    url: str


@dataclass
class Document:
    title: str
    blocks: Sequence[Block]
    subtitle: str = ""  # e.g. the document number, under the title
    author: str = ""
    subject: str = ""
    keywords: Sequence[str] = field(default_factory=list)
    footer: str = ""  # left of the page number on every page
    letterhead: str = ""  # a red issuing-body line above the title (公文 style)
    mark: Mark | None = None  # printed at the end


# --- Official documents (公文, GB/T 9704-2012) ---------------------------------------------------


def chinese_date(day: datetime.date) -> str:
    """A date as official documents write it: the full year, month and day in Arabic numerals
    without leading zeros (GB/T 9704-2012 7.3.5.1): ``2026年12月7日``."""
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass
class OfficialDocument:
    """An official document (公文) laid out by the national format GB/T 9704-2012: the red
    masthead (发文机关标志) and rule, the document number (发文字号, e.g. 工会〔2026〕12号), the
    title, the main recipients (主送机关), the body, the attachments note (附件说明), the
    issuer's signature and the date with room for the seal, and the colophon (版记: 抄送,
    印发机关, 印发日期). :func:`gongkai.core.documents.pdf.render_pdf` and
    :func:`gongkai.core.documents.word.render_docx` render it (A4, 28 × 22 grid, page numbers
    "— 1 —" right on odd pages, left on even ones)."""

    masthead: str  # 发文机关标志, printed red; the issuer's name, optionally followed by 文件
    title: str
    body: Sequence[Block]  # Heading level 1: 黑体 (一、), level 2+: 仿宋 ((一)); Para; Table
    issuer: str  # 发文机关署名
    date: datetime.date  # 成文日期
    number: str = ""  # 发文字号
    recipients: Sequence[str] = ()  # 主送机关, joined with 、 and followed by a full-width colon
    attachments: Sequence[str] = ()  # attachment names, numbered 1. 2. when more than one
    cc: Sequence[str] = ()  # 抄送机关
    printer: str = ""  # 印发机关; the colophon's print line is left out when empty
    print_date: datetime.date | None = None  # 印发日期; the document's date when not given
    notice: str = ""  # a red line above the title, e.g. "draft — not issued"
    author: str = ""
    subject: str = ""
    keywords: Sequence[str] = field(default_factory=list)
    mark: Mark | None = None  # printed after the colophon
