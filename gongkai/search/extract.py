"""The plain text of a published revision, as the index and the result snippets see it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

# Tags after which the text continues on a new line (or in a new cell): no word or phrase
# runs across them, as none does on the page.
BREAKING_TAGS = frozenset(
    {"p", "br", "li", "ul", "ol", "tr", "td", "th", "table", "h3", "h4", "blockquote", "pre", "hr"}
)
SPACES = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
LINES = re.compile(r"\s*\n\s*")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BREAKING_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in BREAKING_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def tidy(text: str) -> str:
    """One space between words, one newline between blocks, nothing at either end."""
    return LINES.sub("\n", SPACES.sub(" ", text)).strip()


def html_text(html: str) -> str:
    """The text of sanitised rich text, entities decoded, blocks on their own lines."""
    if not html:
        return ""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return tidy("".join(parser.parts))


def table_text(table: Any) -> str:
    """Every cell of a disclosure table ({"columns": [...], "rows": [[...], ...]}), one row
    per line; any other JSON shape gives its values."""
    if not table:
        return ""
    if isinstance(table, dict) and ("columns" in table or "rows" in table):
        rows = [table.get("columns") or [], *(table.get("rows") or [])]
        return tidy("\n".join(" ".join(_values(row)) for row in rows))
    return tidy(" ".join(_values(table)))


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [text for item in value.values() for text in _values(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _values(item)]
    return [str(value)]


def body_text(*, procedure: str, result: str, table: Any) -> str:
    return "\n".join(
        part for part in (html_text(procedure), html_text(result), table_text(table)) if part
    )
