"""What changed between two revisions, character by character (Chinese has no spaces, so
a word diff would mark whole sentences)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from gongkai.disclosure.models import Revision


@dataclass(frozen=True)
class FieldDiff:
    label: str
    changed: bool
    html: SafeString


def plain(html: str) -> str:
    """Text of sanitised HTML, one line per block."""
    for tag in ("</p>", "<br>", "</li>", "</tr>", "</h3>", "</h4>"):
        html = html.replace(tag, tag + "\n")
    return "\n".join(line.strip() for line in strip_tags(html).splitlines() if line.strip())


def table_text(table: dict[str, Any] | None) -> str:
    if not table:
        return ""
    lines = ["\t".join(table.get("columns", []))]
    lines += ["\t".join(str(cell) for cell in row) for row in table.get("rows", [])]
    return "\n".join(lines)


def inline_diff(old: str, new: str) -> SafeString:
    """``old`` → ``new`` as escaped HTML with <del> and <ins> around the changes."""
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape(old[a1:a2]))
            continue
        if a2 > a1:
            parts.append(f"<del>{escape(old[a1:a2])}</del>")
        if b2 > b1:
            parts.append(f"<ins>{escape(new[b1:b2])}</ins>")
    return mark_safe("".join(parts).replace("\n", "<br>"))  # noqa: S308 - every part escaped


def revision_diff(old: Revision, new: Revision) -> list[FieldDiff]:
    pairs = [
        (_("Title"), old.title, new.title),
        (_("Procedure"), plain(old.procedure), plain(new.procedure)),
        (_("Result"), plain(old.result), plain(new.result)),
        (_("Table"), table_text(old.table), table_text(new.table)),
        (_("Scope"), old.get_scope_display(), new.get_scope_display()),
    ]
    return [
        FieldDiff(label=str(label), changed=a != b, html=inline_diff(a, b))
        for label, a, b in pairs
        if a or b
    ]
