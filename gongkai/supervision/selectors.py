"""Reads of the supervision app, for its pages and for the assessment part."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from gongkai.supervision.models import (
    Answer,
    Finding,
    InspectedDepartment,
    InspectionRound,
    Rectification,
    RectificationStatus,
    Severity,
)
from gongkai.supervision.rectification import Timeliness, state_of


@dataclass
class DepartmentStats:
    """One department's inspection figures over a date range."""

    department_id: int
    department: str
    inspections: int = 0
    findings: int = 0
    minor: int = 0
    major: int = 0
    serious: int = 0
    repeats: int = 0
    rectifications: int = 0
    on_time: int = 0  # reported (or accepted) on or before the due date
    late: int = 0  # reported (or accepted) after it
    overdue: int = 0  # not reported (or sent back) and past due
    open: int = 0  # not reported yet and not yet due
    accepted: int = 0
    sent_back: int = 0  # currently sent back

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def inspection_stats(
    unit_paths: Sequence[str], start: date, end: date, *, today: date | None = None
) -> dict[int, DepartmentStats]:
    """Per inspected department whose path starts with one of ``unit_paths``: findings by
    severity, repeat findings, and rectifications on time / late / overdue / accepted, over
    the inspection rounds whose period overlaps [start, end]. Two queries, keyed by the
    department's id. Overdue is judged as of ``today`` (default: the local date)."""
    today = today or timezone.localdate()
    if not unit_paths:
        return {}
    in_scope = Q()
    for path in unit_paths:
        in_scope |= Q(department__path__startswith=path)
    inspected = (
        InspectedDepartment.objects.filter(in_scope)
        .filter(round__period_start__lte=end, round__period_end__gte=start)
        .select_related("department")
    )
    stats: dict[int, DepartmentStats] = {}
    rows = list(inspected)
    for row in rows:
        found = stats.setdefault(
            row.department_id,
            DepartmentStats(department_id=row.department_id, department=row.department.name),
        )
        found.inspections += 1
    findings = Finding.objects.filter(inspected_id__in=[row.pk for row in rows]).select_related(
        "rectification", "inspected"
    )
    for finding in findings:
        found = stats[finding.inspected.department_id]
        found.findings += 1
        setattr(found, finding.severity, getattr(found, finding.severity) + 1)
        found.repeats += finding.repeat_of_id is not None
        rectification = getattr(finding, "rectification", None)
        if rectification is None:
            continue
        found.rectifications += 1
        timeliness = state_of(rectification, today)
        setattr(found, timeliness.value, getattr(found, timeliness.value) + 1)
        found.accepted += rectification.status == RectificationStatus.ACCEPTED
        found.sent_back += rectification.status == RectificationStatus.SENT_BACK
    return stats


# --- Pages -----------------------------------------------------------------------------------


def round_departments(round: InspectionRound) -> list[InspectedDepartment]:
    """The round's departments with their findings and answers, in three queries."""
    return list(
        round.departments.select_related("department").prefetch_related(
            "findings__rectification", "answers"
        )
    )


@dataclass(frozen=True)
class RankRow:
    inspected: InspectedDepartment
    met: int
    not_met: int
    checklist_pct: int | None
    on_time_rate: float | None
    findings: int
    serious: int
    repeats: int


def ranking(departments: Sequence[InspectedDepartment]) -> list[RankRow]:
    """The departments ranked by the checklist (share of applicable items met), then by the
    frozen disclosure on-time rate, then by fewer findings."""
    rows = []
    for inspected in departments:
        answers = list(inspected.answers.all())
        met = sum(1 for a in answers if a.answer == Answer.MET)
        not_met = sum(1 for a in answers if a.answer == Answer.NOT_MET)
        applicable = met + not_met
        findings = list(inspected.findings.all())
        rows.append(
            RankRow(
                inspected=inspected,
                met=met,
                not_met=not_met,
                checklist_pct=round(100 * met / applicable) if applicable else None,
                on_time_rate=on_time_rate(inspected.compliance_snapshot),
                findings=len(findings),
                serious=sum(1 for f in findings if f.severity == Severity.SERIOUS),
                repeats=sum(1 for f in findings if f.repeat_of_id is not None),
            )
        )
    rows.sort(
        key=lambda r: (
            -(r.checklist_pct if r.checklist_pct is not None else -1),
            -(r.on_time_rate if r.on_time_rate is not None else -1),
            r.findings,
            r.inspected.department.name,
        )
    )
    return rows


def on_time_rate(snapshot: dict[str, Any] | None) -> float | None:
    """The subtree's disclosure on-time rate from a frozen compliance snapshot."""
    if not snapshot:
        return None
    disclosure = snapshot.get("disclosure") or {}
    figures = disclosure.get("subtree") or disclosure.get("own") or {}
    rate = figures.get("on_time_rate")
    return float(rate) if rate is not None else None


def rectification_rows(qs: QuerySet[Rectification]) -> QuerySet[Rectification]:
    """Rectifications with what the pages show of their source: the finding (its department
    and round) or the patrol (the unit visited, who opened it)."""
    return qs.select_related(
        "finding",
        "finding__inspected__department",
        "finding__inspected__round",
        "finding__repeat_of",
        "patrol",
        "unit",
        "opened_by",
    )


def is_late_state(rectification: Rectification, today: date | None = None) -> str:
    """The CSS class for a rectification's timeliness."""
    return {
        Timeliness.OVERDUE: "bad",
        Timeliness.LATE: "warn",
        Timeliness.ON_TIME: "ok",
        Timeliness.OPEN: "",
    }[state_of(rectification, today)]
