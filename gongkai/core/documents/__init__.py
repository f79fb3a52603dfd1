"""Generated documents (circulars, the annual report): what they are made of.

A :class:`Document` (title, optional subtitle/number line, letterhead, footer, metadata) holds
a list of blocks — :class:`Heading`, :class:`Para` and :class:`Table`. The same document is
rendered as PDF by :func:`gongkai.core.documents.pdf.render_pdf` (A4 pages, page numbers,
embedded Chinese fonts) and as a Word file by :func:`gongkai.core.documents.word.render_docx`.
The parts that use them build only the content.
"""

from __future__ import annotations

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
