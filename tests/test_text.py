"""gongkai.core.text.clean_text: the one cleaner of free text typed into forms."""

from __future__ import annotations

import pytest
from django.utils import translation

from gongkai.core.errors import ServiceError
from gongkai.core.text import MAX_TEXT, clean_text, normalize_text


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def test_nul_characters_go_line_ends_become_plain_and_the_ends_are_stripped() -> None:
    assert normalize_text(None) == ""
    assert normalize_text("  第一行\r\n第\x00二行\n ") == "第一行\n第二行"
    assert clean_text(" a\r\nb ", field="body") == "a\nb"


def test_a_required_text_must_not_be_blank() -> None:
    with pytest.raises(ServiceError) as error:
        clean_text(" \r\n ", field="title")
    assert (error.value.message, error.value.field) == ("This field is required.", "title")
    with pytest.raises(ServiceError) as error:
        clean_text("", field="title", empty="Give a title.")
    assert error.value.message == "Give a title."
    assert clean_text(None, field="note", required=False) == ""


def test_the_limit_counts_characters_and_the_caller_may_word_the_message() -> None:
    assert clean_text("字" * MAX_TEXT, field="body") == "字" * MAX_TEXT
    with pytest.raises(ServiceError) as error:
        clean_text("字" * 6, field="title", limit=5)
    assert error.value.message == "This text is too long (at most 5 characters)."
    assert error.value.field == "title"

    def too_long(limit: int, length: int) -> str:
        return f"{length} > {limit}"

    with pytest.raises(ServiceError) as error:
        clean_text("abcdef", field="title", limit=5, too_long=too_long)
    assert error.value.message == "6 > 5"


def test_a_minimum_length_refuses_short_and_empty_texts_alike() -> None:
    for value in ("", "短"):
        with pytest.raises(ServiceError) as error:
            clean_text(value, field="text", minimum=2, too_short="At least 2.")
        assert (error.value.message, error.value.field) == ("At least 2.", "text")
    assert clean_text(" 两字 ", field="text", minimum=2) == "两字"
