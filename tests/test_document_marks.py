"""The circulars and the annual report carry the ledger checkpoint they were produced under:
its size and the start of its root in words, and a QR code that a phone decodes to the
checkpoint's address (decoded here with zbarimg from a rendering of the page by pdftoppm;
.ci/run installs both)."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pypdf
import pytest
from django.utils import translation

from gongkai.core.documents import Document, Mark, OfficialDocument, Para
from gongkai.core.documents.pdf import render_pdf
from gongkai.core.documents.word import render_docx
from gongkai.ledger import transparency
from tests.conftest import Org
from tests.test_ledger import publish

URL = "https://gongkai.example.com/ledger/log/checkpoint"

needs_decoder = pytest.mark.skipif(
    not (shutil.which("zbarimg") and shutil.which("pdftoppm")),
    reason="zbarimg and pdftoppm (Debian zbar-tools, poppler-utils) are not installed; "
    ".ci/run installs them",
)


def decoded(pdf: bytes, tmp_path: Path) -> list[str]:
    """The QR codes on the PDF's last page, as a phone's scanner reads them."""
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    last = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-f", str(last), "-l", str(last), "-png", str(source),
         str(tmp_path / "page")],
        check=True,
    )  # fmt: skip
    image = next(tmp_path.glob("page*.png"))
    found = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True
    )
    return found.stdout.split()


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


MARK = Mark(text="公开账本检查点:3 项,根 0123456789abcdef…", url=URL)


@needs_decoder
@pytest.mark.parametrize("official", [False, True], ids=["document", "official-document"])
def test_a_mark_prints_its_words_and_a_qr_code_of_its_address(tmp_path: Path, official: bool):
    if official:
        import datetime

        document: Document | OfficialDocument = OfficialDocument(
            masthead="示范公司工会", title="通报", body=[Para("正文。")], issuer="示范公司工会",
            date=datetime.date(2026, 12, 7), mark=MARK,
        )  # fmt: skip
    else:
        document = Document(title="报告", blocks=[Para("正文。")], mark=MARK)
    pdf = render_pdf(document)
    assert "0123456789abcdef" in text_of(pdf)
    assert decoded(pdf, tmp_path) == [URL]
    with zipfile.ZipFile(io.BytesIO(render_docx(document))) as word:
        assert URL in word.read("word/document.xml").decode()  # Word prints the address


def test_without_a_checkpoint_there_is_no_mark(org: Org):
    assert transparency.document_mark() is None


@needs_decoder
def test_the_circular_and_the_report_carry_the_newest_checkpoint(
    org: Org, tmp_path: Path, settings
):
    from gongkai.assessment.report_pdf import render_report
    from tests.test_report_pdf import report

    settings.SITE_URL = "https://gongkai.example.com"
    publish(org)
    checkpoint = transparency.checkpoint()
    with translation.override("en"):
        mark = transparency.document_mark()
        assert mark is not None
        pdf = render_report(report(), mark)
    assert f"checkpoint of {checkpoint.size} entries" in text_of(pdf)
    assert checkpoint.short_root in text_of(pdf).replace("\n", "")
    assert decoded(pdf, tmp_path) == [URL]
