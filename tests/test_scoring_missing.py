"""A criterion with no figures never hands its weight silently to the others (issue 13,
item 14): the rule for a missing source is the scheme's, and the pages say what it did."""

from __future__ import annotations

from datetime import date

from gongkai.assessment.models import DEFAULT_WEIGHTS
from gongkai.assessment.scoring import Figures, compute, score_departments
from gongkai.assessment.services import ranking_html
from gongkai.core.handling import Handling
from gongkai.core.periods import Period, PeriodKind
from gongkai.disclosure.compliance import Tally
from gongkai.org.models import OrgUnit, UnitKind

WEIGHTS = dict(DEFAULT_WEIGHTS)


def dept(pk: int, code: str) -> OrgUnit:
    return OrgUnit(pk=pk, code=code, name=code, kind=UnitKind.DEPARTMENT)


def figures(**kw) -> Figures:
    base = {
        "board": {},
        "disclosure": {},
        "handled": {},
        "surveys": {},
        "evaluations": {},
        "inspections": {},
    }
    base.update(kw)
    for key in ("board",):
        base[key] = {**{1: {}, 2: {}, 3: {}}, **base[key]}
    base["disclosure"] = {**{1: Tally(), 2: Tally(), 3: Tally()}, **base["disclosure"]}
    return Figures(**base)


def scores_by_code(scores):
    return {s.unit_code: s for s in scores}


def test_a_department_with_1_6_percent_on_time_does_not_win_on_sources_it_lacks():
    """The demo's case: the laggard had one suggestion answered on time and no inspection;
    the others' inspection weight must not be handed to its handling line."""
    laggard, good, fair = dept(1, "laggard"), dept(2, "good"), dept(3, "fair")
    data = figures(
        board={
            1: {"satisfied": 9, "basic": 1, "dissatisfied": 0},
            2: {"satisfied": 8, "basic": 2, "dissatisfied": 0},
            3: {"satisfied": 7, "basic": 3, "dissatisfied": 0},
        },
        disclosure={
            1: Tally(on_time=1, overdue=61),  # 1.6 %
            2: Tally(on_time=58, late=2, overdue=2),
            3: Tally(on_time=50, late=8, overdue=4),
        },
        handled={"suggestions": {1: Handling(on_time=1)}},
        inspections={2: (90.0, {"inspections": 1}), 3: (80.0, {"inspections": 1})},
    )
    scores, not_assessed = score_departments([laggard, good, fair], data, WEIGHTS)
    by = scores_by_code(scores)
    # Inspection is assessed (two departments have it): the laggard lacks it, so it is not
    # rankable, and the page can say why.
    assert by["laggard"].rank is None and by["laggard"].total is None
    assert by["laggard"].missing == ["inspection"]
    assert by["good"].rank == 1 and by["fair"].rank == 2
    # Nobody had figures for these: not assessed, named, for everyone alike.
    assert "satisfaction_survey" in not_assessed and "satisfaction_evaluation" in not_assessed
    # Handling: nothing fell due for good and fair, so they score 100 there, not 0 and not
    # a silent share of someone else's weight.
    handling = next(line for line in by["good"].lines if line.criterion == "handling")
    assert (handling.value, handling.status) == (100.0, "nothing_due")


def test_effective_weights_are_the_same_for_every_department():
    a, b = dept(1, "a"), dept(2, "b")
    data = figures(
        board={1: {"satisfied": 1}, 2: {"dissatisfied": 1}},
        disclosure={1: Tally(on_time=10), 2: Tally(on_time=5, late=5)},
    )
    scores, not_assessed = score_departments([a, b], data, WEIGHTS)
    assert set(not_assessed) == {
        "satisfaction_suggestions",
        "satisfaction_survey",
        "satisfaction_evaluation",
        "inspection",
        "handling",
    }
    weights = {
        tuple(line.effective_weight for line in s.lines if line.status != "not_assessed")
        for s in scores
    }
    assert weights == {(round(15 * 100 / 35, 2), round(20 * 100 / 35, 2))}
    by = scores_by_code(scores)
    assert by["a"].total == 100.0 and by["b"].total == round(50 * 20 / 35, 2)


def test_a_criterion_weighted_0_never_makes_a_department_unrankable():
    a, b = dept(1, "a"), dept(2, "b")
    weights = {**WEIGHTS, "inspection": 0, "handling": 35}
    data = figures(
        board={1: {"satisfied": 1}, 2: {"satisfied": 1}},
        disclosure={1: Tally(on_time=1), 2: Tally(on_time=1)},
        inspections={1: (50.0, {})},
    )
    scores, not_assessed = score_departments([a, b], data, weights)
    assert "inspection" in not_assessed
    assert all(s.rank == 1 for s in scores)


def test_the_published_ranking_shows_each_units_inputs_and_why_one_is_not_ranked():
    a, b = dept(1, "锅炉分场"), dept(2, "汽机分场")
    data = figures(
        board={1: {"satisfied": 3}, 2: {"basic": 3}},
        disclosure={1: Tally(on_time=9, late=1), 2: Tally(on_time=1, overdue=9)},
        inspections={1: (85.0, {})},
    )
    scores, _n = score_departments([a, b], data, WEIGHTS)
    html = ranking_html([s.as_dict() for s in scores], "2025")
    assert "90.0" in html and "10.0" in html  # the on-time rates, the inputs
    assert "85.0" in html
    assert "n/a" in html  # criteria not assessed


def test_compute_on_a_real_company_names_what_is_missing(org, english):
    """No disclosure, rating or inspection in the test company: every department has the
    same figures; the criteria nobody has are not assessed, never silently shared."""
    result = compute(org.company, Period(2025, PeriodKind.HALF, 2), today=date(2026, 3, 1))
    assert "satisfaction_board" in result.not_assessed
    assert "inspection" in result.not_assessed
    for score in result.scores:
        line = next(x for x in score.lines if x.criterion == "satisfaction_board")
        assert line.status == "not_assessed" and line.effective_weight == 0


def test_the_pages_show_the_inputs_and_why_a_department_is_not_ranked(org, client):
    """A round inspected the boiler department only: inspection is assessed, so the turbine
    and union departments are not rankable, and every page says so."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine
    from django.urls import reverse
    from django.utils import translation

    from gongkai.assessment.services import ranking_publish, scheme_create
    from gongkai.supervision.services import inspection_record, round_open

    sh = ZoneInfo("Asia/Shanghai")
    with time_machine.travel(datetime(2026, 1, 20, 9, tzinfo=sh), tick=False):
        scheme_create(
            actor=org["supervisor"],
            company=org.company,
            weights=WEIGHTS,
            effective_from=date(2025, 1, 1),
        )
        round = round_open(
            actor=org["supervisor"],
            company=org.company,
            title="2025年下半年",
            period_start=date(2025, 7, 1),
            period_end=date(2025, 12, 31),
            departments=[org.boiler],
        )
        inspection_record(
            actor=org["supervisor"],
            inspected=round.departments.get(),
            inspected_on=date(2026, 1, 10),
        )
        with translation.override("en"):  # a supervisor reading English publishes it
            ranking = ranking_publish(
                actor=org["supervisor"], company=org.company, period="2025-H2"
            )
    rows = {row["unit_code"]: row for row in ranking.rows}
    assert rows["rd-boiler"]["rank"] == 1
    assert rows["rd-turbine"]["rank"] is None and rows["rd-turbine"]["missing"] == ["inspection"]
    client.cookies["django_language"] = "en"
    client.force_login(org["employee"])
    html = client.get(reverse("assessment:ranking", args=[ranking.pk])).content.decode()
    assert "not rankable" in html and "it was not inspected in a round of the period" in html
    assert "Not assessed in this period" in html
    board = ranking.disclosure.published_revision.result  # in the site language, Chinese
    assert "不参加排名" in board
    client.force_login(org["supervisor"])
    page = client.get(reverse("assessment:assessment") + "?period=2025-H2")
    assert page.status_code == 200 and "not rankable" in page.content.decode()
    unit = client.get(reverse("assessment:assessment_unit", args=["2025-H2", "rd-turbine"]))
    assert unit.status_code == 200 and "Not rankable" in unit.content.decode()
    scheme_page = client.get(reverse("assessment:scheme"))
    assert "is not rankable" in scheme_page.content.decode()
