"""What changed between two revisions, as a reader can follow it.

Text is compared line by line, and a changed line word by word: Chinese has no spaces, so
each Han character is a word of its own (a word diff on spaces would mark whole sentences,
a character diff would cut "3,200 → 3,230" into "3,2<del>0</del><ins>3</ins>0"); Latin words and
numbers (1,234.50) are compared whole. Tables are compared cell by cell and shown as a table:
rows changed, added and removed, columns added and removed, and the totals row. The files
published with each revision are compared: the ones added and the ones removed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from gongkai.disclosure.models import Attachment, Revision

# A line break; a run of other white space; a Latin word or a number, with inner . , ' - / :
# (1,234.50, ISO-9001, 2026-10-08, don't); any other character alone (each Han character,
# each punctuation mark).
TOKEN_RE = re.compile(
    r"\n|[^\S\n]+|[0-9A-Za-z\u00c0-\u024f]+(?:[.,'’\-/:][0-9A-Za-z\u00c0-\u024f]+)*|.", re.S
)
UNCHANGED_CONTEXT = 2  # unchanged table rows shown around a change; longer runs are folded


@dataclass(frozen=True)
class TableRow:
    kind: str  # "unchanged", "changed", "added", "removed", or "folded" (cells: the count)
    cells: list[SafeString]
    folded: int = 0


@dataclass(frozen=True)
class TableDiff:
    columns: list[str]
    added_columns: list[str]
    removed_columns: list[str]
    rows: list[TableRow]
    total: TableRow | None
    money: list[int]  # positions (in ``columns``) of amount columns, aligned right

    @property
    def changed(self) -> bool:
        kinds = {row.kind for row in self.rows}
        return bool(
            self.added_columns
            or self.removed_columns
            or kinds - {"unchanged", "folded"}
            or (self.total is not None and self.total.kind == "changed")
        )


@dataclass(frozen=True)
class FieldDiff:
    label: str
    changed: bool
    html: SafeString
    table: TableDiff | None = None
    added_files: list[Attachment] = field(default_factory=list)
    removed_files: list[Attachment] = field(default_factory=list)


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


# --- Text ----------------------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def _marked(tag: str, text: str) -> str:
    return f"<{tag}>{escape(text)}</{tag}>" if text else ""


def word_diff(old: str, new: str) -> str:
    """Escaped HTML of ``old`` → ``new`` with <del> and <ins> around the words changed."""
    a, b = tokens(old), tokens(new)
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape("".join(a[a1:a2])))
        else:
            parts.append(_marked("del", "".join(a[a1:a2])))
            parts.append(_marked("ins", "".join(b[b1:b2])))
    return "".join(parts)


def inline_diff(old: str, new: str) -> SafeString:
    """``old`` → ``new`` as escaped HTML: whole lines added or removed are marked whole, a
    changed line word by word (see the module's docstring); lines end with <br>."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    lines: list[str] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            lines += [escape(line) for line in old_lines[a1:a2]]
        elif op == "delete":
            lines += [_marked("del", line) for line in old_lines[a1:a2]]
        elif op == "insert":
            lines += [_marked("ins", line) for line in new_lines[b1:b2]]
        else:
            changed = word_diff("\n".join(old_lines[a1:a2]), "\n".join(new_lines[b1:b2]))
            lines.append(changed)
    return mark_safe("<br>".join(lines).replace("\n", "<br>"))  # noqa: S308 - every part escaped


# --- Tables --------------------------------------------------------------------------------------


def cell_diff(old: str, new: str) -> SafeString:
    if old == new:
        return escape(old)
    return mark_safe(_marked("del", old) + _marked("ins", new))  # noqa: S308 - escaped


def _plain_row(kind: str, cells: Sequence[str]) -> TableRow:
    return TableRow(kind=kind, cells=[escape(cell) for cell in cells])


def _pair_rows(old: list[tuple[str, ...]], new: list[tuple[str, ...]]) -> list[TableRow]:
    """Rows of a changed stretch: the same first cell (a name, a date) is the same row
    changed; the rest are removed and added, or changed in order when as many."""
    rows: list[TableRow] = []
    keys = difflib.SequenceMatcher(
        a=[row[:1] for row in old], b=[row[:1] for row in new], autojunk=False
    )
    for op, a1, a2, b1, b2 in keys.get_opcodes():
        if op == "equal" or (op == "replace" and a2 - a1 == b2 - b1):
            for before, after in zip(old[a1:a2], new[b1:b2], strict=True):
                cells = [cell_diff(x, y) for x, y in zip(before, after, strict=True)]
                rows.append(TableRow(kind="changed", cells=cells))
            continue
        rows += [_plain_row("removed", row) for row in old[a1:a2]]
        rows += [_plain_row("added", row) for row in new[b1:b2]]
    return rows


def _fold(rows: list[TableRow]) -> list[TableRow]:
    """Long runs of unchanged rows shrink to their ends and a count."""
    folded: list[TableRow] = []
    run: list[TableRow] = []

    def flush(last: bool) -> None:
        keep_head = 0 if not folded else UNCHANGED_CONTEXT
        keep_tail = 0 if last else UNCHANGED_CONTEXT
        if len(run) > keep_head + keep_tail + 1:
            hidden = len(run) - keep_head - keep_tail
            folded.extend(run[:keep_head])
            folded.append(TableRow(kind="folded", cells=[], folded=hidden))
            folded.extend(run[len(run) - keep_tail :])
        else:
            folded.extend(run)
        run.clear()

    for row in rows:
        if row.kind == "unchanged":
            run.append(row)
        else:
            flush(last=False)
            folded.append(row)
    if len(folded) == 0:  # nothing changed: the table as it is
        return list(run)
    flush(last=True)
    return folded


def table_diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> TableDiff | None:
    """The two tables cell by cell, on the columns of both (the new table's first)."""
    if not old and not new:
        return None
    old, new = old or {}, new or {}
    old_columns = [str(c) for c in old.get("columns") or []]
    new_columns = [str(c) for c in new.get("columns") or []]
    columns = new_columns + [c for c in old_columns if c not in new_columns]

    def by_name(table: dict[str, Any], names: list[str], row: Sequence[Any]) -> tuple[str, ...]:
        values = {name: str(value) for name, value in zip(names, row, strict=False)}
        return tuple(values.get(name, "") for name in columns)

    a = [by_name(old, old_columns, row) for row in old.get("rows") or []]
    b = [by_name(new, new_columns, row) for row in new.get("rows") or []]
    rows: list[TableRow] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            rows += [_plain_row("unchanged", row) for row in a[a1:a2]]
        elif op == "delete":
            rows += [_plain_row("removed", row) for row in a[a1:a2]]
        elif op == "insert":
            rows += [_plain_row("added", row) for row in b[b1:b2]]
        else:
            rows += _pair_rows(a[a1:a2], b[b1:b2])
    total = None
    old_total, new_total = old.get("total_row") or [], new.get("total_row") or []
    if old_total or new_total:
        before = by_name(old, old_columns, old_total)
        after = by_name(new, new_columns, new_total)
        total = TableRow(
            kind="changed" if before != after else "unchanged",
            cells=[cell_diff(x, y) for x, y in zip(before, after, strict=True)],
        )
    money_names = {
        name
        for table, names in ((old, old_columns), (new, new_columns))
        for index, name in enumerate(names)
        if index in (table.get("money_columns") or [])
    }
    return TableDiff(
        columns=columns,
        added_columns=[c for c in new_columns if c not in old_columns] if old_columns else [],
        removed_columns=[c for c in old_columns if c not in new_columns] if new_columns else [],
        rows=_fold(rows),
        total=total,
        money=[i for i, name in enumerate(columns) if name in money_names],
    )


# --- Files ---------------------------------------------------------------------------------------


def published_files(revision: Revision) -> list[Attachment]:
    """The files of the published record as of ``revision``."""
    return list(
        Attachment.objects.filter(
            disclosure_id=revision.disclosure_id, published_in__number__lte=revision.number
        ).only("pk", "original_name", "content_type", "size", "published_in_id")
    )


def files_diff(old: Revision, new: Revision) -> FieldDiff | None:
    before, after = published_files(old), published_files(new)
    had = {a.pk for a in before}
    has = {a.pk for a in after}
    added = [a for a in after if a.pk not in had]
    removed = [a for a in before if a.pk not in has]
    if not added and not removed:
        return None
    return FieldDiff(
        label=str(_("Files")),
        changed=True,
        html=SafeString(),
        added_files=added,
        removed_files=removed,
    )


# --- Two revisions -------------------------------------------------------------------------------


def revision_diff(old: Revision, new: Revision) -> list[FieldDiff]:
    pairs = [
        (_("Title"), old.title, new.title),
        (_("Procedure"), plain(old.procedure), plain(new.procedure)),
        (_("Result"), plain(old.result), plain(new.result)),
        (_("Scope"), old.get_scope_display(), new.get_scope_display()),
    ]
    diffs = [
        FieldDiff(label=str(label), changed=a != b, html=inline_diff(a, b))
        for label, a, b in pairs
        if a or b
    ]
    table = table_diff(old.table, new.table)
    if table is not None:
        diffs.insert(
            3,
            FieldDiff(
                label=str(_("Table")),
                changed=table.changed,
                html=SafeString(),
                table=table,
            ),
        )
    files = files_diff(old, new)
    if files is not None:
        diffs.append(files)
    return diffs
