"""gongkai.core.files: the download response and the names files are offered and stored
under (sniffing, cleaning and upload names are covered by tests/test_attachments.py)."""

from __future__ import annotations

import pytest

from gongkai.core.files import (
    DOCX,
    PDF,
    PNG,
    SANDBOX_CSP,
    download_name,
    download_response,
    stored_name,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("第一行\n第二行.pdf", "第一行_第二行.pdf"),
        ("tab\there\x00.pdf", "tab_here_.pdf"),
        ("  report.pdf  ", "report.pdf"),
        ("关于A/B两车间的通报.pdf", "关于A/B两车间的通报.pdf"),
        ("", "download"),
    ],
)
def test_download_name_has_no_control_characters(name: str, expected: str) -> None:
    assert download_name(name) == expected


def test_a_title_cannot_break_the_header() -> None:
    response = download_response(
        b"", content_type=PDF.content_type, filename='关于"A\nB"的通报.pdf'
    )
    assert "\n" not in response["Content-Disposition"]
    plain = download_response(b"", content_type=PDF.content_type, filename='a"b\\c.pdf')
    assert plain["Content-Disposition"] == 'attachment; filename="a\\"b\\\\c.pdf"'


def test_a_download_is_an_attachment_never_sniffed_private_and_not_cached() -> None:
    response = download_response(b"%PDF-1.7", content_type=PDF.content_type, filename="r.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="r.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"] and "no-cache" in response["Cache-Control"]
    assert "Content-Security-Policy" not in response
    assert response.content == b"%PDF-1.7"


def test_a_chinese_name_is_rfc_6266_encoded_and_inline_is_kept() -> None:
    response = download_response(
        b"x", content_type=DOCX.content_type, filename="通报2026.docx", inline=True
    )
    assert response["Content-Disposition"] == (
        "inline; filename*=utf-8''%E9%80%9A%E6%8A%A52026.docx"
    )


def test_an_uploaded_file_is_sandboxed() -> None:
    response = download_response(
        b"\x89PNG", content_type=PNG.content_type, filename="evidence-1.png", sandbox=True
    )
    assert response["Content-Security-Policy"] == SANDBOX_CSP
    assert response["Content-Disposition"] == 'attachment; filename="evidence-1.png"'


def test_stored_names_are_random_with_the_sniffed_extension() -> None:
    first, second = stored_name(PNG), stored_name(PNG)
    assert first != second
    assert first.endswith(".png") and len(first) == 32 + len(".png")
    assert stored_name(DOCX).endswith(".docx")
