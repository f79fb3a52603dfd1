"""Scores of the departments for a period (评价考核), computed at request time, line by line.

A department's score is the sum over the criteria of its scheme of

    points = value × effective weight / 100

where ``value`` is the source figure mapped to 0–100 and the effective weight is the
scheme's weight, redistributed when sources are missing. Everything is computed over the
department's subtree (its teams count for it) for the period's dates.

How each source becomes a value in 0–100 (shown on the page and in the ranking):

- board ratings (公开栏满意度): the employees' ratings of the subtree's disclosures first
  published in the period (whenever rated), satisfied = 100, basically satisfied = 60,
  dissatisfied = 0, averaged;
- suggestion answers: the same mapping over the ratings of the answers to suggestions;
- surveys: the satisfaction score of the surveys closed in the period's year
  (``gongkai.surveys.selectors.satisfaction_by_unit``, same mapping);
- year-end evaluation: the average weighted score (excellent 100, competent 80, basically
  competent 60, incompetent 0) of the department's cadres in the year's published
  evaluations (``gongkai.ballots.selectors.evaluation_results``);
- disclosure on time: the percentage of the due catalog obligations published on time;
- inspection: for a department inspected in a round overlapping the period, 100 less 5
  points per minor, 10 per major and 20 per serious finding (repeat findings' share of the
  penalty counted twice), at least 0, averaged with the percentage of the due
  rectifications that were reported on time, when any fell due
  (``gongkai.supervision.selectors.inspection_stats``);
- handling: the percentage of the suggestions and motions due in the period that were
  answered on time.

Missing sources (the scheme's rule, shown on the weights, assessment and ranking pages):
a criterion never hands its weight silently to the others.

- A criterion no department of the company has figures for in the period (no survey that
  year, no evaluation, nothing rated …) is *not assessed in the period*, for every
  department alike: its weight is shared among the assessed criteria in proportion to their
  weights (effective weight = weight × 100 / sum of the assessed weights), and the pages
  name it. A criterion with weight 0 is never assessed.
- Disclosure on time and handling measure obligations: a department for which nothing fell
  due in the period had nothing to be late with, and scores 100 on it ("nothing fell due").
- Any other assessed criterion a department has no figures for (its board's items were not
  rated, it was not inspected in a round of the period …) makes the department *not
  rankable*: it gets no total and no rank, and the page says which criteria it lacks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongkai.assessment.models import CRITERIA, CRITERION_LABELS, DEFAULT_WEIGHTS, Scheme
from gongkai.ballots.selectors import evaluation_results
from gongkai.core.handling import Handling, handling_sources
from gongkai.core.periods import InvalidPeriod, Period, PeriodKind
from gongkai.core.satisfaction import Satisfaction
from gongkai.disclosure.compliance import Tally, unit_tallies
from gongkai.disclosure.models import Rating
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.supervision.selectors import inspection_stats
from gongkai.surveys.selectors import satisfaction_by_unit

RATING_VALUES = {Satisfaction.SATISFIED: 100, Satisfaction.BASIC: 60, Satisfaction.DISSATISFIED: 0}
SEVERITY_PENALTY = {"minor": 5, "major": 10, "serious": 20}
ASSESSED_KINDS = (PeriodKind.HALF, PeriodKind.YEAR)
HANDLING_SCORED = ("suggestions", "motions")  # the handling sources the scores read


@dataclass
class Line:
    criterion: str
    figure: dict[str, Any]  # the source figures, for the reader to check
    value: float | None  # 0–100, None when the source has no data
    weight: int
    effective_weight: float = 0.0
    points: float = 0.0
    status: str = "scored"  # scored | nothing_due | not_assessed | missing

    def as_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "figure": self.figure,
            "value": self.value,
            "weight": self.weight,
            "effective_weight": self.effective_weight,
            "points": self.points,
            "status": self.status,
        }


@dataclass
class Score:
    unit_id: int
    unit_code: str
    unit_name: str
    lines: list[Line] = field(default_factory=list)
    total: float | None = None
    rank: int | None = None
    missing: list[str] = field(default_factory=list)  # assessed criteria without figures

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit_id,
            "unit_code": self.unit_code,
            "unit_name": self.unit_name,
            "total": self.total,
            "rank": self.rank,
            "missing": list(self.missing),
            "lines": [line.as_dict() for line in self.lines],
        }


@dataclass
class Assessment:
    company: OrgUnit
    period: Period
    weights: dict[str, int]
    scheme: Scheme | None
    computed_on: date
    scores: list[Score]
    not_assessed: list[str] = field(default_factory=list)  # criteria no department has

    def rows(self) -> list[dict[str, Any]]:
        return [score.as_dict() for score in self.scores]


def parse_period(key: str) -> Period | None:
    """A half-year or a year, or None."""
    try:
        period = Period.parse(key)
    except InvalidPeriod:
        return None
    return period if period.kind in ASSESSED_KINDS else None


def scheme_in_force(company: OrgUnit, on: date) -> Scheme | None:
    return (
        Scheme.objects.filter(company=company, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )


def rating_value(counts: dict[str, int]) -> float | None:
    n = sum(counts.get(v, 0) for v in RATING_VALUES)
    if not n:
        return None
    return round(sum(RATING_VALUES[v] * counts.get(v, 0) for v in RATING_VALUES) / n, 2)


NOTHING_DUE_CRITERIA = ("disclosure_on_time", "handling")
NOTHING_DUE_VALUE = 100.0  # nothing fell due, so nothing was late


class LineStatus(StrEnum):
    SCORED = "scored"
    NOTHING_DUE = "nothing_due"
    NOT_ASSESSED = "not_assessed"
    MISSING = "missing"


def assessed_criteria(lines_by_dept: Sequence[list[Line]], weights: dict[str, int]) -> list[str]:
    """The criteria that count in the period: weighted, and with figures for at least one
    department (for an obligation criterion: something fell due for at least one)."""
    return [
        c
        for c in CRITERIA
        if weights.get(c, 0) > 0
        and any(
            line.value is not None
            for lines in lines_by_dept
            for line in lines
            if line.criterion == c
        )
    ]


def finish(lines: list[Line], assessed: Sequence[str]) -> tuple[float | None, list[str]]:
    """Apply the missing-source rule, compute each line's effective weight and points, and
    return the total (None when the department is not rankable) and the assessed criteria
    it lacks figures for."""
    present = sum(line.weight for line in lines if line.criterion in assessed)
    missing: list[str] = []
    total = 0.0
    for line in lines:
        if line.criterion not in assessed:
            line.status = LineStatus.NOT_ASSESSED
            continue
        if line.value is None and line.criterion in NOTHING_DUE_CRITERIA:
            line.value = NOTHING_DUE_VALUE
            line.status = LineStatus.NOTHING_DUE
        elif line.value is None:
            line.status = LineStatus.MISSING
            missing.append(line.criterion)
        line.effective_weight = round(line.weight * 100 / present, 2) if present else 0.0
        if line.value is None or not present:
            continue
        points = line.value * line.weight / present
        line.points = round(points, 2)
        total += points
    if missing or not present:
        return None, missing
    return round(total, 2), missing


def rank(scores: list[Score]) -> None:
    """Highest total first; equal totals share a rank (1, 1, 3); no score, no rank."""
    scores.sort(key=lambda s: (s.total is None, -(s.total or 0), s.unit_code))
    previous: float | None = None
    for position, score in enumerate(scores, start=1):
        if score.total is None:
            continue
        if score.total != previous:
            score.rank = position
        else:
            score.rank = scores[position - 2].rank
        previous = score.total


def departments_of(units: Sequence[OrgUnit], company: OrgUnit) -> list[OrgUnit]:
    return [u for u in units if u.kind == UnitKind.DEPARTMENT and u.parent_id == company.pk]


def roll_to(departments: list[OrgUnit], unit_paths: dict[int, str]) -> dict[int, int]:
    """unit id → the department whose subtree holds it."""
    owner: dict[int, int] = {}
    for unit_id, path in unit_paths.items():
        for dept in departments:
            if path.startswith(dept.path):
                owner[unit_id] = dept.pk
                break
    return owner


def board_ratings(unit_ids: list[int], start: date, end: date) -> dict[int, dict[str, int]]:
    """The ratings of the disclosures each unit first published in [start, end] (whenever
    the rating was given): one GROUP BY query."""
    tz = timezone.get_current_timezone()
    first = datetime.combine(start, datetime.min.time(), tzinfo=tz)
    last = datetime.combine(end, datetime.max.time(), tzinfo=tz)
    rows = (
        Rating.objects.filter(
            disclosure__unit_id__in=unit_ids,
            disclosure__first_published_at__gte=first,
            disclosure__first_published_at__lte=last,
        )
        .values_list("disclosure__unit_id", "value")
        .annotate(n=Count("pk"))
        .order_by()
    )
    result: dict[int, dict[str, int]] = defaultdict(dict)
    for unit_id, value, n in rows:
        result[unit_id][value] = n
    return result


def survey_values(company: OrgUnit, year: int) -> dict[int, tuple[float, dict[str, Any]]]:
    result: dict[int, tuple[float, dict[str, Any]]] = {}
    for unit_id, item in satisfaction_by_unit(year, within=company).items():
        figure = {"respondents": item.respondents, "ratings": item.ratings, "score": item.score}
        result[unit_id] = (round(float(item.score), 2), figure)
    return result


def evaluation_values(
    departments: list[OrgUnit], unit_paths: dict[int, str], year: int
) -> dict[int, tuple[float, dict[str, Any]]]:
    owner = roll_to(departments, unit_paths)
    scores: dict[int, list[Decimal]] = defaultdict(list)
    for row in evaluation_results(year, [d.path for d in departments]):
        dept = owner.get(row.unit_id) if row.unit_id is not None else None
        if dept is not None and row.weighted_score is not None:
            scores[dept].append(row.weighted_score)
    return {
        dept: (
            round(float(sum(values) / len(values)), 2),
            {"cadres": len(values), "average": round(float(sum(values) / len(values)), 2)},
        )
        for dept, values in scores.items()
    }


def inspection_values(
    departments: list[OrgUnit], start: date, end: date, today: date
) -> dict[int, tuple[float, dict[str, Any]]]:
    """From ``gongkai.supervision.selectors.inspection_stats``: only departments inspected in
    a round overlapping the period have a value."""
    stats = inspection_stats([d.path for d in departments], start, end, today=today)
    result: dict[int, tuple[float, dict[str, Any]]] = {}
    for dept in departments:
        item = stats.get(dept.pk)
        if item is None or not item.inspections:
            continue
        penalty = 0
        for severity, points in SEVERITY_PENALTY.items():
            penalty += points * int(getattr(item, severity, 0))
        # A repeat finding counts twice: its penalty is added once more.
        repeats = int(item.repeats)
        if repeats and item.findings:
            penalty += round(penalty * repeats / item.findings)
        findings_value = max(0, 100 - penalty)
        due = item.on_time + item.late + item.overdue
        rect_value = 100 * item.on_time / due if due else None
        value = findings_value if rect_value is None else (findings_value + rect_value) / 2
        result[dept.pk] = (
            round(value, 2),
            {
                "inspections": item.inspections,
                "findings": item.findings,
                "minor": item.minor,
                "major": item.major,
                "serious": item.serious,
                "repeats": repeats,
                "findings_value": findings_value,
                "rectifications_due": due,
                "rectified_on_time": item.on_time,
            },
        )
    return result


Found = tuple[float, dict[str, Any]]  # a source's value and its figures


@dataclass
class Figures:
    """Every source's figures for the period, rolled up to the departments (by unit id)."""

    board: dict[int, dict[str, int]]
    disclosure: dict[int, Tally]
    handled: dict[str, dict[int, Handling]]
    surveys: dict[int, Found]
    evaluations: dict[int, Found]
    inspections: dict[int, Found]

    def handling(self, name: str, dept_id: int) -> Handling:
        return self.handled.get(name, {}).get(dept_id, Handling())


def board_by_department(owner: dict[int, int], start: date, end: date) -> dict[int, dict[str, int]]:
    """The board ratings of each department's subtree, every satisfaction value counted."""
    board: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(Satisfaction.values, 0))
    for unit_id, counts in board_ratings(list(owner), start, end).items():
        for value, n in counts.items():
            board[owner[unit_id]][value] += n
    return board


def tallies_by_department(
    dept_units: list[OrgUnit], owner: dict[int, int], start: date, end: date, today: date
) -> dict[int, Tally]:
    disclosure: dict[int, Tally] = defaultdict(Tally)
    for unit_id, tally in unit_tallies(dept_units, start, end, today=today).items():
        disclosure[owner[unit_id]].merge(tally)
    return disclosure


def handling_by_department(
    dept_units: list[OrgUnit], owner: dict[int, int], start: date, end: date, today: date
) -> dict[str, dict[int, Handling]]:
    """source name → department → the handling figures of the scored sources."""
    handled: dict[str, dict[int, Handling]] = {}
    for source in handling_sources():
        if source.name not in HANDLING_SCORED:
            continue
        per_dept: dict[int, Handling] = defaultdict(Handling)
        for unit_id, figures in source.figures(dept_units, start, end, today=today).items():
            if unit_id in owner:
                per_dept[owner[unit_id]] += figures
        handled[source.name] = per_dept
    return handled


def gather(
    company: OrgUnit,
    period: Period,
    *,
    units: list[OrgUnit],
    departments: list[OrgUnit],
    today: date,
) -> Figures:
    """Read every source for the period: a fixed number of queries."""
    start, end = period.start, period.end
    unit_paths = {u.pk: u.path for u in units}
    owner = roll_to(departments, unit_paths)
    dept_units = [u for u in units if u.pk in owner]
    return Figures(
        board=board_by_department(owner, start, end),
        disclosure=tallies_by_department(dept_units, owner, start, end, today),
        handled=handling_by_department(dept_units, owner, start, end, today),
        surveys=survey_values(company, period.year),
        evaluations=evaluation_values(departments, unit_paths, period.year),
        inspections=inspection_values(departments, start, end, today),
    )


def found_line(criterion: str, found: Found | None, weights: dict[str, int]) -> Line:
    """The line of a source computed beforehand (survey, evaluation, inspection)."""
    return Line(
        criterion,
        found[1] if found else {},
        found[0] if found else None,
        weights[criterion],
    )


def suggestions_line(suggestions: Handling, weights: dict[str, int]) -> Line:
    """The ratings of the answers to suggestions."""
    answer_counts = {
        Satisfaction.SATISFIED.value: suggestions.satisfied,
        Satisfaction.BASIC.value: suggestions.basic,
        Satisfaction.DISSATISFIED.value: suggestions.dissatisfied,
    }
    return Line(
        "satisfaction_suggestions",
        answer_counts,
        rating_value(answer_counts),
        weights["satisfaction_suggestions"],
    )


def disclosure_line(tally: Tally, weights: dict[str, int]) -> Line:
    return Line(
        "disclosure_on_time",
        {"on_time": tally.on_time, "due": tally.due},
        tally.rate if tally.due else None,
        weights["disclosure_on_time"],
    )


def handling_line(figures: Figures, dept_id: int, weights: dict[str, int]) -> Line:
    """The suggestions and motions answered on time, together."""
    combined = Handling()
    for name in HANDLING_SCORED:
        combined += figures.handling(name, dept_id)
    return Line(
        "handling",
        {"on_time": combined.on_time, "due": combined.due},
        round(100 * combined.on_time / combined.due, 2) if combined.due else None,
        weights["handling"],
    )


def department_lines(dept_id: int, figures: Figures, weights: dict[str, int]) -> list[Line]:
    """A department's lines, in the order of the criteria."""
    counts = figures.board[dept_id]
    return [
        Line("satisfaction_board", dict(counts), rating_value(counts), weights[CRITERIA[0]]),
        suggestions_line(figures.handling("suggestions", dept_id), weights),
        found_line("satisfaction_survey", figures.surveys.get(dept_id), weights),
        found_line("satisfaction_evaluation", figures.evaluations.get(dept_id), weights),
        disclosure_line(figures.disclosure[dept_id], weights),
        found_line("inspection", figures.inspections.get(dept_id), weights),
        handling_line(figures, dept_id, weights),
    ]


def score_departments(
    departments: Sequence[OrgUnit], figures: Figures, weights: dict[str, int]
) -> tuple[list[Score], list[str]]:
    """Every department's lines and total under the missing-source rule (see the module's
    docstring), ranked; and the criteria not assessed in the period."""
    all_lines = [department_lines(dept.pk, figures, weights) for dept in departments]
    assessed = assessed_criteria(all_lines, weights)
    scores = []
    for dept, lines in zip(departments, all_lines, strict=True):
        score = Score(unit_id=dept.pk, unit_code=dept.code, unit_name=dept.name, lines=lines)
        score.total, score.missing = finish(lines, assessed)
        scores.append(score)
    rank(scores)
    return scores, [c for c in CRITERIA if c not in assessed]


def compute(
    company: OrgUnit,
    period: Period,
    *,
    today: date | None = None,
    scheme: Scheme | None = None,
) -> Assessment:
    """Every department's score for ``period`` with its lines, ranked. A fixed number of
    queries whatever the number of departments."""
    today = today or timezone.localdate()
    scheme = scheme or scheme_in_force(company, period.start)
    weights = scheme.weights if scheme is not None else dict(DEFAULT_WEIGHTS)
    units = list(OrgUnit.objects.active().subtree_of(company).order_by("path"))
    departments = departments_of(units, company)
    figures = gather(company, period, units=units, departments=departments, today=today)
    scores, not_assessed = score_departments(departments, figures, weights)
    return Assessment(
        company=company,
        period=period,
        weights=weights,
        scheme=scheme,
        computed_on=today,
        scores=scores,
        not_assessed=not_assessed,
    )


FIGURE_LABELS = {
    "satisfied": _("satisfied"),
    "basic": _("basically satisfied"),
    "dissatisfied": _("dissatisfied"),
    "respondents": _("respondents"),
    "ratings": _("ratings"),
    "score": _("score"),
    "cadres": _("cadres evaluated"),
    "average": _("average grade score"),
    "on_time": _("on time"),
    "due": _("due"),
    "inspections": _("inspections"),
    "findings": _("findings"),
    "minor": _("minor"),
    "major": _("major"),
    "serious": _("serious"),
    "repeats": _("repeat findings"),
    "findings_value": _("findings value"),
    "rectifications_due": _("rectifications due"),
    "rectified_on_time": _("rectified on time"),
}


MISSING_REASONS = {
    "satisfaction_board": _("no employee rated its items first published in the period"),
    "satisfaction_suggestions": _("no answer to its suggestions was rated"),
    "satisfaction_survey": _("no survey of the year covered it"),
    "satisfaction_evaluation": _("none of its cadres was in a published evaluation of the year"),
    "disclosure_on_time": _("no catalog obligation fell due"),
    "inspection": _("it was not inspected in a round of the period"),
    "handling": _("no suggestion or motion fell due"),
}
STATUS_LABELS: dict[str, Any] = {
    LineStatus.NOTHING_DUE: _("nothing fell due: scores 100"),
    LineStatus.NOT_ASSESSED: _("not assessed in this period (no department has figures)"),
    LineStatus.MISSING: _("no figures: not rankable"),
}
MISSING_RULE = _(
    "A criterion that no department has figures for in the period is not assessed for "
    "anyone: its weight is shared among the assessed criteria in proportion to their "
    "weights, and the page names it. For disclosure on time and for handling, a department "
    "for which nothing fell due scores 100 (nothing was late). A department without figures "
    "for any other assessed criterion is not rankable: it gets no score and no rank, and the "
    "page says which criterion it lacks."
)


def missing_reasons(criteria: Sequence[str]) -> list[str]:
    """Why a department is not rankable, one phrase per criterion it lacks."""
    return [
        f"{CRITERION_LABELS.get(c, c)}: {MISSING_REASONS.get(c, '')}".rstrip(": ") for c in criteria
    ]


def line_status(line: dict[str, Any]) -> str:
    """The status of a line, also for rankings published before lines carried one."""
    if line.get("status"):
        return str(line["status"])
    return LineStatus.SCORED if line["value"] is not None else "legacy"


def display_lines(score: dict[str, Any]) -> list[dict[str, Any]]:
    """A score's lines (live or from a snapshot) ready for the page: the criterion's name,
    its source figures with their names, the arithmetic, and what a missing source did."""
    return [
        {
            "label": CRITERION_LABELS.get(line["criterion"], line["criterion"]),
            "figures": [(FIGURE_LABELS.get(k, k), v) for k, v in line["figure"].items()],
            "value": line["value"],
            "weight": line["weight"],
            "effective_weight": line["effective_weight"],
            "points": line["points"],
            "status": line_status(line),
            "status_label": STATUS_LABELS.get(line_status(line), ""),
            "reason": MISSING_REASONS.get(line["criterion"], "")
            if line_status(line) in (LineStatus.MISSING, LineStatus.NOTHING_DUE)
            else "",
        }
        for line in score["lines"]
    ]


def inputs_row(score: dict[str, Any]) -> list[dict[str, Any]]:
    """A score's value per criterion, in the order of the criteria, for a ranking table:
    the value, or what stood in for it."""
    by_criterion = {line["criterion"]: line for line in score["lines"]}
    cells = []
    for criterion in CRITERIA:
        line = by_criterion.get(criterion)
        if line is None:
            cells.append({"value": None, "status": "legacy"})
            continue
        cells.append({"value": line["value"], "status": line_status(line)})
    return cells


def ranking_rows(scores: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a ranking table: rank, department, each criterion's value (the unit's
    inputs), the score, and why a department is not ranked."""
    return [
        {
            "rank": score["rank"],
            "unit_code": score["unit_code"],
            "unit_name": score["unit_name"],
            "total": score["total"],
            "cells": inputs_row(score),
            "not_ranked": missing_reasons(score.get("missing") or []),
        }
        for score in scores
    ]


def not_assessed_of(scores: Sequence[dict[str, Any]]) -> list[str]:
    """The labels of the criteria not assessed in the period (from the lines themselves, so
    that a published ranking says it too)."""
    found = {
        line["criterion"]
        for score in scores
        for line in score["lines"]
        if line.get("status") == LineStatus.NOT_ASSESSED
    }
    return [str(CRITERION_LABELS[c]) for c in CRITERIA if c in found]
