"""The compliance dashboard's figures and its .xlsx export (read-only)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.core.handling import Handling, handling_sources
from gongkai.core.spreadsheets import XlsxWorkbook
from gongkai.disclosure.compliance import (
    Obligation,
    Tally,
    UnitCompliance,
    compliance_tree,
    iter_obligations,
)
from gongkai.org.models import OrgUnit

XLSX_MAX_OBLIGATIONS = 100_000


@dataclass
class Row:
    unit: OrgUnit
    own: Tally
    subtree: Tally
    handling: dict[str, Handling] = field(default_factory=dict)
    has_children: bool = False


@dataclass
class Dashboard:
    unit: OrgUnit
    start: date
    end: date
    today: date
    total: Row
    rows: list[Row]  # the unit's direct children, each with its subtree's figures
    sources: list[tuple[str, str]]  # (name, label) of the handling sources present
    units: list[Row]  # every unit of the subtree (for the export)

    def table(self) -> list[dict[str, Any]]:
        """Rows for the page: each child with its handling figures in the sources' order."""
        return [
            {"row": row, "handling": [row.handling[name] for name, _label in self.sources]}
            for row in self.rows
        ]

    def handling_total(self) -> list[dict[str, Any]]:
        return [
            {"label": label, "figures": self.total.handling[name]} for name, label in self.sources
        ]

    def chart_data(self) -> dict[str, Any]:
        return {
            "units": [row.unit.name for row in self.rows],
            "on_time": [row.subtree.on_time for row in self.rows],
            "late": [row.subtree.late for row in self.rows],
            "overdue": [row.subtree.overdue for row in self.rows],
            "not_due": [row.subtree.not_due for row in self.rows],
            "rate": [row.subtree.rate for row in self.rows],
            "labels": {
                "on_time": _("On time"),
                "late": _("Late"),
                "overdue": _("Overdue"),
                "not_due": _("Not yet due"),
                "rate": _("On-time rate"),
            },
            "handling": {
                name: {
                    "label": label,
                    "on_time": self.total.handling[name].on_time,
                    "late": self.total.handling[name].late,
                    "overdue": self.total.handling[name].overdue,
                    "open": self.total.handling[name].open,
                }
                for name, label in self.sources
            },
        }


def dashboard(unit: OrgUnit, start: date, end: date, *, today: date | None = None) -> Dashboard:
    """A fixed number of queries whatever the size of the subtree: the units, the catalog,
    one aggregate over the disclosures and one per handling source."""
    today = today or timezone.localdate()
    tree: dict[int, UnitCompliance] = compliance_tree(unit, start, end, today=today)
    units = [item.unit for item in tree.values()]
    sources = handling_sources()
    handled: dict[str, dict[int, Handling]] = {}
    for source in sources:
        own = source.figures(units, start, end, today=today)
        handled[source.name] = roll_up(units, own)
    parents = {u.parent_id for u in units}

    def row(item: UnitCompliance) -> Row:
        return Row(
            unit=item.unit,
            own=item.own,
            subtree=item.subtree,
            handling={name: figures[item.unit.pk] for name, figures in handled.items()},
            has_children=item.unit.pk in parents,
        )

    rows = [row(item) for item in tree.values()]
    by_id = {r.unit.pk: r for r in rows}
    children = [r for r in rows if r.unit.parent_id == unit.pk]
    children.sort(key=lambda r: (r.unit.order, r.unit.name))
    return Dashboard(
        unit=unit,
        start=start,
        end=end,
        today=today,
        total=by_id[unit.pk],
        rows=children,
        sources=[(s.name, str(s.label)) for s in sources],
        units=rows,
    )


def roll_up(units: Iterable[OrgUnit], own: Mapping[int, Handling]) -> dict[int, Handling]:
    """Subtree totals: each unit's figures added to every ancestor in ``units``."""
    units = list(units)
    ids = {u.pk for u in units}
    result = {u.pk: Handling() for u in units}
    for unit in units:
        figures = own.get(unit.pk)
        if figures is None:
            continue
        for ancestor in unit.path_ids:
            if ancestor in ids:
                result[ancestor] += figures
    return result


def unit_obligations(
    unit: OrgUnit, start: date, end: date, *, state: str = "", today: date | None = None
) -> list[Obligation]:
    """The unit's own obligations (newest period first), optionally of one state."""
    found = [
        o
        for o in iter_obligations([unit], start, end, today=today)
        if not state or o.state == state
    ]
    found.sort(key=lambda o: (o.period.start, o.entry.order), reverse=True)
    return found


def export_xlsx(board: Dashboard) -> bytes:
    """Two sheets: every unit of the subtree with its figures, and the obligations of the
    subtree (up to XLSX_MAX_OBLIGATIONS rows; the sheet says when it stops)."""
    book = XlsxWorkbook()
    sheet = book.sheet(_("Units"))
    sheet.append([_("Compliance"), board.unit.name, board.start.isoformat(), board.end.isoformat()])
    header = [
        _("Unit"),
        _("Code"),
        _("Kind"),
        _("On time"),
        _("Late"),
        _("Overdue"),
        _("Not yet due"),
        _("On-time rate (%)"),
        _("Subtree: on time"),
        _("Subtree: late"),
        _("Subtree: overdue"),
        _("Subtree: not yet due"),
        _("Subtree: on-time rate (%)"),
    ]
    for _name, label in board.sources:
        header += [
            _("%(source)s: on time") % {"source": label},
            _("%(source)s: late") % {"source": label},
            _("%(source)s: overdue") % {"source": label},
        ]
    sheet.append(header)
    for row in board.units:
        line: list[Any] = [
            "  " * (row.unit.depth - board.unit.depth) + row.unit.name,
            row.unit.code,
            row.unit.get_kind_display(),
            row.own.on_time,
            row.own.late,
            row.own.overdue,
            row.own.not_due,
            row.own.rate,
            row.subtree.on_time,
            row.subtree.late,
            row.subtree.overdue,
            row.subtree.not_due,
            row.subtree.rate,
        ]
        for name, _label in board.sources:
            figures = row.handling[name]
            line += [figures.on_time, figures.late, figures.overdue]
        sheet.append(line)
    detail = book.sheet(_("Obligations"))
    detail.append(
        [_("Unit"), _("Catalog entry"), _("Period"), _("Deadline"), _("Published"), _("State")]
    )
    names = {row.unit.pk: row.unit.name for row in board.units}
    units = [row.unit for row in board.units]
    for n, o in enumerate(iter_obligations(units, board.start, board.end, today=board.today)):
        if n >= XLSX_MAX_OBLIGATIONS:
            detail.append([_("… stopped at %(n)s rows; choose a smaller unit.") % {"n": n}])
            break
        detail.append(
            [
                names[o.unit_id],
                o.entry.name,
                o.period.key,
                o.due,
                o.published_on,
                o.label,
            ]
        )
    return book.to_bytes()
