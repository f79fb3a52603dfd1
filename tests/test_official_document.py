"""Official documents (公文) in the national format GB/T 9704-2012: the PDF and the .docx read
back (page size, margins, masthead, number, recipients, Chinese date, colophon, page numbers,
fonts), and line breaking by 禁则."""

from __future__ import annotations

import io
import re
from datetime import date

import docx
import pypdf
import pytest
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from gongkai.core.documents import (
    Document,
    Heading,
    OfficialDocument,
    Para,
    Table,
    chinese_date,
)
from gongkai.core.documents.linebreak import CANNOT_END, CANNOT_START, break_lines
from gongkai.core.documents.pdf import (
    FANG,
    CJKParagraph,
    masthead_size,
    register_fonts,
    render_pdf,
)
from gongkai.core.documents.word import render_docx
from gongkai.supervision.circulars import circular_document, circular_draft, circular_issue
from tests.conftest import Org
from tests.test_supervision import closed_round_with_findings

MM = 72 / 25.4
CLOSING = "，。、；：？！）》」』”"

# A paragraph whose every 10th character is a closing mark: a line of 10 never ends well.
CRAFTED = "".join(f"职工代表大会审议通过{mark}" for mark in CLOSING)
CRAFTED += "方案《关于（试行）》的“意见”。"


def official(**changes) -> OfficialDocument:
    fields = {
        "masthead": "示范发电有限公司司务公开监督小组",
        "number": "工会〔2026〕12号",
        "title": "关于2026年下半年司务公开检查情况的通报",
        "recipients": ["各部门"],
        "body": [
            Heading("一、检查的基本情况"),
            Para("监督小组于2026年11月对各部门的司务公开工作进行了检查。"),
            Heading("（一）好的做法", level=2),
            Para("锅炉分场按月公开材料费，职工满意。"),
            Table(columns=["部门", "问题"], rows=[["锅炉分场", "公开栏未更新"]]),
        ],
        "attachments": ["检查问题清单", "整改情况报告表"],
        "issuer": "示范发电有限公司司务公开监督小组",
        "date": date(2026, 12, 7),
        "cc": ["公司司务公开领导小组", "公司工会"],
        "printer": "示范发电有限公司司务公开监督小组",
    }
    fields.update(changes)
    return OfficialDocument(**fields)


def pdf_pages(data: bytes) -> list[pypdf.PageObject]:
    return list(pypdf.PdfReader(io.BytesIO(data)).pages)


def page_lines(page: pypdf.PageObject) -> list[str]:
    return ["".join(line.split()) for line in page.extract_text().splitlines() if line.strip()]


def positions(page: pypdf.PageObject) -> list[tuple[str, float, float]]:
    """(text, x, y) of every text run on the page."""
    out: list[tuple[str, float, float]] = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            out.append((text, tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]))

    page.extract_text(visitor_text=visit)
    return out


# --- Line breaking (禁则) ------------------------------------------------------------------


def test_reportlab_alone_starts_lines_with_closing_punctuation():
    """What the fix is for: ReportLab's CJK wrap lets ，；：？！》” start a line."""
    register_fonts()
    style = ParagraphStyle("t", fontName=FANG, fontSize=10, leading=14, wordWrap="CJK")
    paragraph = Paragraph(CRAFTED, style)
    paragraph.wrap(100.5, 1000)
    lines = paragraph.blPara.lines  # one font: (space, [text]) pairs
    starts = [line[1][0][0] for line in lines]
    assert set(starts) & set(CLOSING)


def test_line_breaker_never_starts_a_line_with_closing_punctuation():
    spans = break_lines(CRAFTED, [1.0] * len(CRAFTED), [10.0])
    lines = [CRAFTED[a:b] for a, b in spans]
    assert "".join(lines) == CRAFTED
    assert all(len(line) <= 10 for line in lines)
    assert not [line for line in lines[1:] if line[0] in CANNOT_START], lines
    assert not [line for line in lines[:-1] if line[-1] in CANNOT_END], lines


def test_line_breaker_keeps_dashes_numbers_and_a_narrower_first_line():
    text = "要求如下——各部门务必于2026年12月31日前完成整改。"
    spans = break_lines(text, [1.0] * len(text), [5.0, 8.0])
    lines = [text[a:b] for a, b in spans]
    assert len(lines[0]) <= 5 and all(len(line) <= 8 for line in lines)
    assert not any(line.startswith("—") or line.endswith("—") for line in lines), lines
    assert "2026" in "".join(line for line in lines if "20" in line), lines


def test_pdf_paragraphs_break_by_the_rules():
    register_fonts()
    style = ParagraphStyle("t", fontName=FANG, fontSize=10, leading=14, wordWrap="CJK")
    paragraph = CJKParagraph(CRAFTED, style)
    paragraph.wrap(100.5, 1000)
    lines = ["".join(w.text for w in line.words) for line in paragraph.blPara.lines]
    assert "".join(lines) == CRAFTED
    assert not [line for line in lines if line[0] in CANNOT_START], lines
    # And in a rendered official document, read back from the PDF.
    data = render_pdf(official(body=[Para(CRAFTED * 3)]))
    body = [line for page in pdf_pages(data) for line in page_lines(page)]
    assert not [line for line in body if line[0] in CLOSING], body


# --- The PDF -------------------------------------------------------------------------------


def test_official_pdf_follows_the_national_format():
    data = render_pdf(official())
    pages = pdf_pages(data)
    first = pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (595, 842)
    text = "".join(line for page in pages for line in page_lines(page))
    for expected in (
        "示范发电有限公司司务公开监督小组",
        "工会〔2026〕12号",
        "关于2026年下半年司务公开检查情况的通报",
        "各部门：",
        "附件：1.检查问题清单",
        "2.整改情况报告表",
        "2026年12月7日",
        "抄送：公司司务公开领导小组，公司工会。",
        "2026年12月7日印发",
    ):
        assert expected in text, expected
    assert "2026-12-07" not in text
    # The masthead is red (#e60000) and the only red text besides the rule.
    content = first.get_contents().get_data().decode("latin-1")
    assert re.search(r"\.90196\d* 0 0 rg", content)
    # The type area: text starts at the 28 mm left margin, never right of 28 + 156 mm.
    runs = positions(first)
    recipients = next(x for text, x, _ in runs if text.startswith("各部门"))
    assert recipients == pytest.approx(28 * MM, abs=0.5)
    assert all(x >= 28 * MM - 0.5 for text, x, _ in runs)
    # The masthead's top edge 35 mm under the type area (37 mm from the top of the page).
    masthead_y = next(y for text, x, y in runs if text.startswith("示范"))
    size = masthead_size("示范发电有限公司司务公开监督小组")
    assert 842 - masthead_y == pytest.approx((37 + 35) * MM + 0.88 * size, abs=1)


def test_full_body_lines_hold_28_characters():
    text = "司务公开民主管理" * 10
    data = render_pdf(official(body=[Para(text, indent=False)], attachments=[]))
    lines = page_lines(pdf_pages(data)[0])
    body = [line for line in lines if line and set(line) <= set(text)]
    assert body[0] == text[:28] and body[1] == text[28:56]


def test_page_numbers_are_dashed_right_on_odd_pages_left_on_even_pages():
    body = [Para("监督小组对各部门的司务公开工作进行了检查。" * 12) for _ in range(6)]
    pages = pdf_pages(render_pdf(official(body=body)))
    assert len(pages) >= 2
    for number, page in enumerate(pages, 1):
        label = f"— {number} —"
        assert label in page.extract_text()
        (x,) = [x for text, x, _ in positions(page) if text.strip() == label]
        if number % 2:
            assert x > 105 * MM  # right half: 一字 in from the right edge of the type area
        else:
            assert x == pytest.approx(28 * MM + 14, abs=0.5)


def test_only_the_projects_fonts_are_embedded():
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(official(body=[Para("职工龑先生反映。")]))))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[str(font["/BaseFont"])] = font
    names = {name.lstrip("/").split("+")[-1] for name in fonts}
    assert {"FandolFang-Regular", "FandolSong-Bold", "FandolSong-Regular"} <= names, names
    # The rare 龑 falls back to the CID font; nothing else (no Helvetica).
    assert names <= {
        "FandolFang-Regular",
        "FandolSong-Bold",
        "FandolSong-Regular",
        "NotoSansSC-Regular",
        "STSong-Light",
    }, names
    for name, font in fonts.items():
        if "Fandol" in name or "Noto" in name:
            descriptor = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, name


def test_a_heading_never_stays_alone_at_the_foot_of_a_page():
    heading = "三、下一步工作要求"
    for filler in range(10, 24):
        body = [Para("短句。", indent=False) for _ in range(filler)]
        body += [Heading(heading), Para("各部门要认真学习本通报，按期整改发现的问题。" * 4)]
        pages = pdf_pages(render_pdf(official(body=body, attachments=[], cc=[], printer="")))
        for page in pages:
            lines = [line for line in page_lines(page) if not re.fullmatch(r"—\d+—", line)]
            assert lines[-1] != heading, filler


def test_the_colophon_sits_on_the_last_lines_of_the_last_page():
    pages = pdf_pages(render_pdf(official()))
    last = positions(pages[-1])
    printed = next(y for text, _, y in last if "印发" in text)
    assert printed == pytest.approx(35 * MM, abs=12)  # the last grid line of the type area
    assert all("抄送" not in page.extract_text() for page in pages[:-1])


def test_chinese_date():
    assert chinese_date(date(2026, 1, 5)) == "2026年1月5日"


# --- The .docx -----------------------------------------------------------------------------


def mm(*lengths) -> tuple[int, ...]:
    return tuple(round(length.mm) for length in lengths)


def footer_text(footer) -> str:
    return "".join(t.text for t in footer._element.iter(docx.oxml.ns.qn("w:t")))


def test_official_docx_is_a4_in_the_national_layout():
    word = docx.Document(io.BytesIO(render_docx(official())))
    section = word.sections[0]
    assert mm(section.page_width, section.page_height) == (210, 297)
    assert mm(section.top_margin, section.bottom_margin) == (37, 35)
    assert mm(section.left_margin, section.right_margin) == (28, 26)
    grid = section._sectPr.find(docx.oxml.ns.qn("w:docGrid"))
    assert grid.get(docx.oxml.ns.qn("w:type")) == "linesAndChars"
    paragraphs = [p for p in word.paragraphs if p.text]
    masthead = paragraphs[0]
    assert masthead.text == "示范发电有限公司司务公开监督小组"
    assert str(masthead.runs[0].font.color.rgb) == "E60000"
    texts = [p.text for p in paragraphs]
    for expected in (
        "工会〔2026〕12号",
        "关于2026年下半年司务公开检查情况的通报",
        "各部门：",
        "附件：1.检查问题清单",
        "2026年12月7日",
        "抄送：公司司务公开领导小组，公司工会。",
    ):
        assert expected in texts, expected
    assert any(t.endswith("2026年12月7日印发") for t in texts)
    body = next(p for p in paragraphs if p.text.startswith("监督小组"))
    assert body.paragraph_format.first_line_indent > 0
    assert body.runs[0].font.size.pt == 16
    assert word.settings.odd_and_even_pages_header_footer
    odd, even = section.footer, section.even_page_footer
    assert footer_text(odd) == "— 1 —" and footer_text(even) == "— 1 —"
    assert 'w:instr="PAGE"' in odd._element.xml
    assert odd.paragraphs[0].alignment == 2 and even.paragraphs[0].alignment == 0  # R / L


def test_plain_documents_are_a4_in_word_and_pdf():
    document = Document("年度报告", [Para("正文。")])
    section = docx.Document(io.BytesIO(render_docx(document))).sections[0]
    assert mm(section.page_width, section.page_height) == (210, 297)
    page = pdf_pages(render_pdf(document))[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)


# --- The circulars -------------------------------------------------------------------------


def test_circular_renders_as_an_official_document(org: Org):
    round = closed_round_with_findings(org)
    circular = circular_issue(
        actor=org["supervisor"], circular=circular_draft(actor=org["supervisor"], round=round)
    )
    document = circular_document(circular)
    assert isinstance(document, OfficialDocument)
    pages = pdf_pages(render_pdf(document))
    text = "".join(
        line for page in pages for line in page_lines(page) if not re.fullmatch(r"—\d+—", line)
    )
    issuer = f"{org.company.name}司务公开监督小组"
    assert text.startswith(issuer) and "".join(document.recipients[0].split()) + "：" in text
    assert "".join(circular.number.split()) in text
    assert chinese_date(document.date) + "印发" in text
    assert "— 1 —" in pages[0].extract_text()
    word = docx.Document(io.BytesIO(render_docx(document)))
    assert mm(word.sections[0].page_width) == (210,)
    assert word.paragraphs[[p.text for p in word.paragraphs].index(issuer)].runs
