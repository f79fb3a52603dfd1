"""The annual report: the figures of the article's "outcomes" (成效) section for one company
and year, computed from the records at request time. Satisfaction by month is that of the
disclosures first published in the month (whenever they were rated).

Disclosures published and the on-time rate; suggestions and motions handled, on time, and
the satisfaction with the answers; evaluations held; inspections, findings and
rectifications; the satisfaction trend month by month (board ratings) with the year's survey
score. The handling figures are those of every registered source (:mod:`gongkai.core.handling`);
a figure the report does not hold shows as "not available", never as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Count
from django.db.models.functions import ExtractMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.assessment.scoring import rating_value
from gongkai.ballots.selectors import evaluation_results
from gongkai.core.handling import (
    Handling,
    HandlingSource,
    handling_sources,
    handling_totals,
)
from gongkai.core.satisfaction import Satisfaction
from gongkai.disclosure.compliance import Tally, unit_tallies
from gongkai.disclosure.models import Disclosure, DisclosureStatus, Rating
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.supervision.selectors import inspection_stats
from gongkai.surveys.selectors import satisfaction_by_unit


@dataclass
class AnnualReport:
    company: OrgUnit
    year: int
    today: date
    published: int = 0
    public: int = 0
    disclosure: Tally = field(default_factory=Tally)
    handling: dict[str, Handling] = field(default_factory=dict)
    evaluations: dict[str, int] | None = None
    inspections: dict[str, int] | None = None
    survey_score: float | None = None
    trend: list[tuple[int, float | None, int]] = field(default_factory=list)  # month, score, n
    ratings: dict[str, int] = field(default_factory=dict)

    @property
    def satisfaction(self) -> float | None:
        return rating_value(self.ratings)

    def chart_data(self) -> dict[str, Any]:
        return {
            "trend": {
                "months": [f"{self.year}-{m:02d}" for m, _s, _n in self.trend],
                "scores": [s for _m, s, _n in self.trend],
            },
            "disclosure": {
                "on_time": self.disclosure.on_time,
                "late": self.disclosure.late,
                "overdue": self.disclosure.overdue,
            },
            "handling": {
                name: {"on_time": h.on_time, "late": h.late, "overdue": h.overdue, "open": h.open}
                for name, h in self.handling.items()
            },
        }


def year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime(year, 1, 1, tzinfo=tz),
        datetime(year + 1, 1, 1, tzinfo=tz),
    )


def evaluations_held(company: OrgUnit, year: int) -> dict[str, int] | None:
    rows = evaluation_results(year, [company.path])
    return {
        "polls": len({r.poll_id for r in rows}),
        "cadres": len({(r.poll_id, r.user_id) for r in rows}),
        "ballots": sum({r.poll_id: r.ballots for r in rows}.values()),
    }


def inspections_of(company: OrgUnit, year: int, today: date) -> dict[str, int] | None:
    """Departments inspected, findings and rectifications in the year (supervision part)."""
    totals: dict[str, int] = dict.fromkeys(INSPECTION_FIGURES, 0)
    stats = inspection_stats([company.path], date(year, 1, 1), date(year, 12, 31), today=today)
    for item in stats.values():
        for name in INSPECTION_FIGURES:
            totals[name] += int(getattr(item, name, 0))
    return totals


INSPECTION_FIGURES = (
    "inspections",
    "findings",
    "repeats",
    "rectifications",
    "on_time",
    "late",
    "overdue",
    "open",
    "accepted",
)


def survey_score(company: OrgUnit, year: int) -> float | None:
    found = satisfaction_by_unit(year, within=company).get(company.pk)
    return round(float(found.score), 1) if found else None


def annual_report(company: OrgUnit, year: int, *, today: date | None = None) -> AnnualReport:
    today = today or timezone.localdate()
    report = AnnualReport(company=company, year=year, today=today)
    units = list(OrgUnit.objects.active().subtree_of(company).order_by("path"))
    first, after = year_bounds(year)
    published = (
        Disclosure.objects.filter(
            unit__path__startswith=company.path,
            first_published_at__gte=first,
            first_published_at__lt=after,
        )
        .exclude(status=DisclosureStatus.WITHDRAWN)
        .values_list("scope")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for scope, n in published:
        report.published += n
        if scope == "public":
            report.public += n
    for tally in unit_tallies(units, date(year, 1, 1), date(year, 12, 31), today=today).values():
        report.disclosure.merge(tally)
    report.handling = handling_totals(units, date(year, 1, 1), date(year, 12, 31), today=today)
    report.evaluations = evaluations_held(company, year)
    report.inspections = inspections_of(company, year, today)
    report.survey_score = survey_score(company, year)
    by_month: dict[int, dict[str, int]] = {m: {} for m in range(1, 13)}
    totals: dict[str, int] = dict.fromkeys(Satisfaction.values, 0)
    rows = (
        Rating.objects.filter(
            disclosure__unit__path__startswith=company.path,
            disclosure__first_published_at__gte=first,
            disclosure__first_published_at__lt=after,
        )
        .annotate(month=ExtractMonth("disclosure__first_published_at"))
        .values_list("month", "value")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for month, value, n in rows:
        by_month[month][value] = by_month[month].get(value, 0) + n
        totals[value] = totals.get(value, 0) + n
    report.ratings = totals
    last_month = 12 if year < today.year else (today.month if year == today.year else 0)
    report.trend = [
        (m, rating_value(by_month[m]), sum(by_month[m].values())) for m in range(1, last_month + 1)
    ]
    return report


def report_years(company: OrgUnit, today: date) -> list[int]:
    """The years offered: from the company's first unit to this year."""
    start = company.created_at.year if company.created_at else today.year
    return list(range(today.year, min(start, today.year - 5) - 1, -1))


def departments(company: OrgUnit) -> list[OrgUnit]:
    return list(
        OrgUnit.objects.active().filter(parent=company, kind=UnitKind.DEPARTMENT).order_by("path")
    )


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


Section = tuple[str, list[tuple[str, str]]]  # heading, [(label, value)]


def not_available(heading: str) -> Section:
    """The section of a part that is not installed."""
    return (heading, [(_("Figures"), _("not available"))])


def disclosure_section(report: AnnualReport) -> Section:
    d = report.disclosure
    return (
        _("Disclosure"),
        [
            (_("Disclosures first published in the year (number)"), str(report.published)),
            (_("of which public (number)"), str(report.public)),
            (_("Catalog obligations due in the year (number)"), str(d.due)),
            (_("Published on time (number of obligations)"), str(d.on_time)),
            (_("Published late (number of obligations)"), str(d.late)),
            (_("Overdue, not published (number of obligations)"), str(d.overdue)),
            (_("On-time rate (% of the obligations due)"), pct(d.rate)),
        ],
    )


def handling_section(source: HandlingSource, h: Handling | None) -> Section:
    """A handling source's figures, with the satisfaction of the answers when it is rated."""
    if h is None:
        return not_available(str(source.label))
    rows = [
        (_("Received and due in the year (number)"), str(h.due + h.open)),
        (_("Answered on time (number)"), str(h.on_time)),
        (_("Answered late (number)"), str(h.late)),
        (_("Overdue, not answered (number)"), str(h.overdue)),
        (_("On-time rate (% of those past their due date)"), pct(h.rate)),
    ]
    if source.rated:
        rows.append((_("Answers rated (number)"), str(h.rated)))
        rows.append(
            (
                _("Satisfaction with the answers (0–100: satisfied 100, basic 60, dissatisfied 0)"),
                "—" if not h.rated else f"{(100 * h.satisfied + 60 * h.basic) / h.rated:.1f}",
            )
        )
    return (str(source.label), rows)


def evaluation_section(e: dict[str, int] | None) -> Section:
    if e is None:
        return not_available(_("Democratic evaluation"))
    return (
        _("Democratic evaluation"),
        [
            (_("Evaluations published in the year (number)"), str(e["polls"])),
            (_("Cadres evaluated (number)"), str(e["cadres"])),
            (_("Ballots cast (number)"), str(e["ballots"])),
        ],
    )


def inspection_section(i: dict[str, int] | None) -> Section:
    if i is None:
        return not_available(_("Inspection and rectification"))
    return (
        _("Inspection and rectification"),
        [
            (
                _("Department inspections in rounds overlapping the year (number)"),
                str(i["inspections"]),
            ),
            (_("Findings (number)"), str(i["findings"])),
            (_("of which repeat findings (number)"), str(i["repeats"])),
            (_("Rectifications (number)"), str(i["rectifications"])),
            (_("Reported on time (number)"), str(i["on_time"])),
            (_("Reported late (number)"), str(i["late"])),
            (_("Overdue, not reported (number)"), str(i["overdue"])),
            (_("Accepted (number)"), str(i["accepted"])),
        ],
    )


def satisfaction_section(report: AnnualReport) -> Section:
    return (
        _("Satisfaction"),
        [
            (
                _("Board ratings of items first published in the year (number)"),
                str(sum(report.ratings.values())),
            ),
            (
                _("Board satisfaction (0–100: satisfied 100, basic 60, dissatisfied 0)"),
                "—" if report.satisfaction is None else f"{report.satisfaction:.1f}",
            ),
            (
                _("Survey satisfaction of the year's surveys (0–100)"),
                "—" if report.survey_score is None else f"{report.survey_score:.1f}",
            ),
        ],
    )


def sections(report: AnnualReport) -> list[Section]:
    """The report's figures as (heading, [(label, value)]) for the page and the PDF alike.
    A part that is not installed says so."""
    return [
        disclosure_section(report),
        *(
            handling_section(source, report.handling.get(source.name))
            for source in handling_sources()
        ),
        evaluation_section(report.evaluations),
        inspection_section(report.inspections),
        satisfaction_section(report),
    ]
