"""Line breaking for Chinese text by the rules of 禁则 (the "prohibition rules" of CJK
typesetting): a line never starts with closing punctuation (，。、；：？！）》」 …), never ends
with opening punctuation (（《「 …), a dash (——) or an ellipsis (……) is never split across two
lines, and a run of Latin letters or digits (a year, "GB/T", a number) is kept whole when it
can be.

ReportLab's own CJK wrap (``wordWrap="CJK"``) knows only part of the closing punctuation
(not ，；：？！》” for instance) and, when the character that overflows may not start a line,
lets it hang in the margin. Here the break moves back instead (推出): the last character(s)
of the line go down with the punctuation, and the shortened line is spread to the full width
by the renderer. Every PDF paragraph of :mod:`gongkai.core.documents.pdf` breaks here.
"""

from __future__ import annotations

from collections.abc import Sequence

# Closing punctuation, and what else may not begin a line (iteration marks, degree signs).
CANNOT_START = frozenset(
    "，。、；：？！）》」』】〕〉〗〙〛”’…—·～％‰℃°′″︰︶︸︺︼︾﹀﹂﹄"
    "!),.:;?]}%"
    "ー々〆ゝゞヽヾ"
    "｝］｠｡､\uff0e"
)
# Opening punctuation, and prefixes that may not end a line.
CANNOT_END = frozenset("（《「『【〔〈〖〘〚“‘([{￥＄$£#@§")
# Characters that come in pairs which must stay together (—— and ……).
UNSPLITTABLE = frozenset("—…")
FUZZ = 1e-6


def _word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in "-_/.'")


def may_break(text: str, at: int, *, words: bool = True) -> bool:
    """May a line end before ``text[at]``?"""
    if at <= 0 or at >= len(text):
        return True
    before, after = text[at - 1], text[at]
    if after in CANNOT_START or before in CANNOT_END:
        return False
    if before == after and before in UNSPLITTABLE:
        return False
    return not (words and _word_char(before) and _word_char(after))


def break_lines(
    text: str, widths: Sequence[float], max_widths: Sequence[float]
) -> list[tuple[int, int]]:
    """Split ``text`` (one width per character) into lines no wider than ``max_widths`` (the
    width of the first, second, … line; the last one repeats), returning each line as
    ``(start, end)`` indices. A line starts a new line only where :func:`may_break` allows;
    when no such place exists on the line (a line of punctuation, a very long word) the
    Latin-word rule is dropped first, then the line breaks where it overflows."""
    if len(widths) != len(text):
        raise ValueError("one width per character")
    lines: list[tuple[int, int]] = []
    start, used, n = 0, 0.0, len(text)
    i = 0
    while i < n:
        limit = max_widths[min(len(lines), len(max_widths) - 1)]
        width = widths[i]
        if used + width <= limit + FUZZ or i == start:
            used += width
            i += 1
            continue
        # text[i] overflows: the line is text[start:i] unless that break is forbidden.
        end = _break_before(text, start, i)
        lines.append((start, end))
        start, i, used = end, end, 0.0
    if start < n or not lines:
        lines.append((start, n))
    return lines


def _break_before(text: str, start: int, overflow: int) -> int:
    for words in (True, False):
        at = overflow
        while at > start + 1 and not may_break(text, at, words=words):
            at -= 1
        near = not words or overflow - at <= max(4, (overflow - start) // 2)
        if near and may_break(text, at, words=words):
            return at
    # Nothing allowed on the whole line: hang one closing mark in the margin rather than
    # start the next line with it, else break where the line overflows.
    if overflow + 1 <= len(text) and may_break(text, overflow + 1, words=False):
        return overflow + 1
    return overflow
