"""Titles and snippets with the query's words in <mark>. Every piece of the text is escaped
by format_html; the only markup added is <mark>."""

from __future__ import annotations

import re

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from gongkai.search.tokens import HAN, Term, TermKind, normalise

SNIPPET_CHARS = 120
CONTEXT_BEFORE = 30
SNIPPET_SEARCH_CHARS = 10_000  # a match further into a long text shows its beginning
ELLIPSIS = "…"
_HAN_CHAR = re.compile(f"[{HAN}]")


def _normalised(text: str) -> tuple[str, list[int] | None]:
    """The text normalised, and for each normalised character the index of the original one
    it came from (None when they correspond one to one, as they nearly always do)."""
    whole = normalise(text)
    if len(whole) == len(text):
        return whole, None
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = normalise(char)
        pieces.append(piece)
        origin.extend([index] * len(piece))
    return "".join(pieces), origin


def _is_word_char(char: str) -> bool:
    return char.isalnum() and not _HAN_CHAR.match(char)


def spans(text: str, terms: list[Term]) -> list[tuple[int, int]]:
    """Where the terms occur in ``text``: sorted, merged [start, end) index pairs. Words
    match at the start of a word (whole, when shorter than a prefix query)."""
    norm, origin = _normalised(text)
    found: list[tuple[int, int]] = []
    for term in terms:
        needle = term.text
        at = norm.find(needle)
        while at != -1:
            end = at + len(needle)
            if term.kind != TermKind.WORD or _word_bounded(norm, at, end, term.prefix):
                found.append((at, end) if origin is None else (origin[at], origin[end - 1] + 1))
            at = norm.find(needle, at + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _word_bounded(norm: str, start: int, end: int, prefix: bool) -> bool:
    if start > 0 and _is_word_char(norm[start - 1]):
        return False
    return prefix or end == len(norm) or not _is_word_char(norm[end])


def marked(text: str, terms: list[Term]) -> SafeString:
    """The whole text, escaped, with the terms marked."""
    return _render(text, spans(text, terms), 0, len(text))


def snippet(text: str, terms: list[Term], width: int = SNIPPET_CHARS) -> SafeString:
    """About ``width`` characters of ``text`` around the first match (or its beginning)."""
    text = " ".join(text[:SNIPPET_SEARCH_CHARS].split())
    found = spans(text, terms)
    start = max(0, found[0][0] - CONTEXT_BEFORE) if found else 0
    end = min(len(text), start + width)
    if end - start < width:
        start = max(0, end - width)
    return _render(text, found, start, end)


def _render(text: str, found: list[tuple[int, int]], start: int, end: int) -> SafeString:
    rows: list[tuple[str, SafeString | str]] = []
    position = start
    for span_start, span_end in found:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end:
            continue
        rows.append(
            (text[position:span_start], format_html("<mark>{}</mark>", text[span_start:span_end]))
        )
        position = span_end
    rows.append((text[position:end], ""))
    head = ELLIPSIS if start > 0 else ""
    tail = ELLIPSIS if end < len(text) else ""
    return format_html("{}{}{}", head, format_html_join("", "{}{}", rows), tail)
