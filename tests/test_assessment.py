"""Assessment: weights, a score computed by hand, redistribution of missing sources, and the
published ranking (an immutable snapshot, also a disclosure on the company's board)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import DatabaseError, IntegrityError, transaction

from gongkai.assessment.models import DEFAULT_WEIGHTS, Ranking, Scheme
from gongkai.assessment.scoring import compute
from gongkai.assessment.services import ranking_publish, scheme_create
from gongkai.audit.models import AuditEvent
from gongkai.core.errors import ServiceError
from gongkai.core.periods import Period
from gongkai.core.satisfaction import Satisfaction
from gongkai.disclosure.models import CatalogEntry, Disclosure, Rating
from tests.conftest import Org
from tests.factories import UserFactory, published_disclosure

SH = ZoneInfo("Asia/Shanghai")
H1 = Period.parse("2026-H1")
WEIGHTS = {
    "satisfaction_board": 30,
    "satisfaction_suggestions": 10,
    "satisfaction_survey": 10,
    "satisfaction_evaluation": 10,
    "disclosure_on_time": 20,
    "inspection": 10,
    "handling": 10,
}


def scheme(org: Org, weights=None, on=date(2026, 1, 1)) -> Scheme:
    return scheme_create(
        actor=org["supervisor"], company=org.company, weights=weights or WEIGHTS, effective_from=on
    )


def rate(item, *values: str) -> None:
    """Ratings count for the period in which the disclosure was first published, whenever
    they are given (here: long after the period)."""
    with time_machine.travel(datetime(2026, 9, 1, 10, tzinfo=SH), tick=False):
        for value in values:
            Rating.objects.create(disclosure=item, user=UserFactory(), value=value)


@pytest.fixture
def scored(org: Org) -> Org:
    """Only the monthly team bonus is in the catalog. The boiler team published January to
    March on time and April to June not at all (50 % on time); the turbine team every month
    on time (100 %). Board ratings: boiler 2 satisfied, 1 basic, 1 dissatisfied → 65;
    turbine 1 satisfied, 1 dissatisfied → 50. The union department has nothing."""
    CatalogEntry.objects.exclude(code__in=["team-bonus", "assessment-ranking"]).update(
        is_active=False
    )
    first = None
    for month in range(1, 7):
        for team in (org.boiler_team, org.turbine_team):
            if team == org.boiler_team and month > 3:
                continue
            item = published_disclosure(
                unit=team,
                entry_code="team-bonus",
                period=f"2026-{month:02d}",
                published_at=datetime(2026, month + 1, 5, 9, tzinfo=SH),
            )
            if month == 1:
                first = first or {}
                first[team.pk] = item
    rate(first[org.boiler_team.pk], "satisfied", "satisfied", "basic", "dissatisfied")
    rate(first[org.turbine_team.pk], "satisfied", "dissatisfied")
    scheme(org)
    return org


def lines_of(score) -> dict[str, tuple]:
    return {
        line.criterion: (line.value, line.effective_weight, line.points) for line in score.lines
    }


def test_score_matches_the_hand_computed_example(scored: Org):
    result = compute(scored.company, H1, today=date(2026, 7, 20))
    by_code = {s.unit_code: s for s in result.scores}
    boiler, turbine, union = by_code["rd-boiler"], by_code["rd-turbine"], by_code["rd-union"]
    # Present: board (30) and disclosure (20): effective weights 60 % and 40 %.
    assert lines_of(boiler)["satisfaction_board"] == (65.0, 60.0, 39.0)
    assert lines_of(boiler)["disclosure_on_time"] == (50.0, 40.0, 20.0)
    assert boiler.total == 59.0
    assert lines_of(turbine)["satisfaction_board"] == (50.0, 60.0, 30.0)
    assert lines_of(turbine)["disclosure_on_time"] == (100.0, 40.0, 40.0)
    assert turbine.total == 70.0
    # Missing sources: no value, no weight, no points.
    assert lines_of(boiler)["satisfaction_survey"] == (None, 0.0, 0.0)
    assert lines_of(boiler)["inspection"] == (None, 0.0, 0.0)
    assert union.total is None and union.rank is None
    assert [(s.unit_code, s.rank) for s in result.scores] == [
        ("rd-turbine", 1),
        ("rd-boiler", 2),
        ("rd-union", None),
    ]
    assert boiler.lines[0].figure == {"satisfied": 2, "basic": 1, "dissatisfied": 1}


def test_equal_scores_share_a_rank(scored: Org):
    from gongkai.assessment.scoring import Score, rank

    scores = [Score(1, "a", "A", total=80.0), Score(2, "b", "B", total=90.0)]
    scores.append(Score(3, "c", "C", total=80.0))
    rank(scores)
    assert [(s.unit_code, s.rank) for s in scores] == [("b", 1), ("a", 2), ("c", 2)]


def test_defaults_apply_when_no_scheme_is_set(org: Org):
    result = compute(org.company, H1, today=date(2026, 7, 20))
    assert result.scheme is None and result.weights == DEFAULT_WEIGHTS
    assert sum(DEFAULT_WEIGHTS.values()) == 100


@pytest.mark.parametrize(
    "change, field",
    [
        ({"handling": 15}, None),  # adds up to 105
        ({"satisfaction_board": 5}, None),  # adds up to 75
        ({"handling": "ten"}, "handling"),
        ({"handling": -5}, "handling"),
        ({"handling": 2.5}, "handling"),
    ],
)
def test_weights_that_do_not_add_up_are_refused_and_nothing_is_saved(org: Org, change, field):
    events = AuditEvent.objects.count()
    with pytest.raises(ServiceError) as raised:
        scheme(org, {**WEIGHTS, **change})
    assert raised.value.field == field
    assert not Scheme.objects.exists()
    assert AuditEvent.objects.count() == events


def test_satisfaction_must_weigh_most(org: Org):
    weights = {**WEIGHTS, "satisfaction_board": 5, "disclosure_on_time": 45}
    with pytest.raises(ServiceError, match=r"first standard|满意"):
        scheme(org, weights)
    assert not Scheme.objects.exists()


def test_the_database_refuses_weights_that_do_not_add_up(org: Org):
    with pytest.raises(IntegrityError), transaction.atomic():
        Scheme.objects.create(company=org.company, effective_from=date(2026, 1, 1), handling=99)


def test_only_the_supervision_group_sets_weights(org: Org):
    for login in ("union", "leader", "depthead", "employee", "discipline"):
        with pytest.raises(ServiceError):
            scheme_create(
                actor=org[login],
                company=org.company,
                weights=WEIGHTS,
                effective_from=date(2026, 1, 1),
            )
    assert not Scheme.objects.exists()


def test_scheme_is_versioned_and_audited(org: Org):
    old = scheme(org, DEFAULT_WEIGHTS, on=date(2025, 1, 1))
    new = scheme(org, WEIGHTS, on=date(2026, 1, 1))
    assert compute(org.company, Period.parse("2025-H2"), today=date(2026, 7, 1)).scheme == old
    assert compute(org.company, H1, today=date(2026, 7, 1)).scheme == new
    event = AuditEvent.objects.filter(action="assessment.scheme_created").latest("pk")
    assert event.before == DEFAULT_WEIGHTS and event.after["satisfaction_board"] == 30
    with pytest.raises(ValueError):
        new.save()


def publish(org: Org, login: str = "supervisor", period: str = "2026-H1") -> Ranking:
    with time_machine.travel(datetime(2026, 7, 20, 9, tzinfo=SH), tick=False):
        return ranking_publish(actor=org[login], company=org.company, period=period)


def test_publishing_freezes_the_lines_and_publishes_a_disclosure(scored: Org):
    ranking = publish(scored)
    assert ranking.rows[0]["unit_code"] == "rd-turbine" and ranking.rows[0]["total"] == 70.0
    assert ranking.rows[1]["lines"][0]["points"] == 39.0
    item = Disclosure.objects.get(pk=ranking.disclosure_id)
    assert item.entry.code == "assessment-ranking" and item.unit == scored.company
    assert item.published_revision is not None and item.status == "published"
    assert "汽机分场" in item.published_revision.result
    assert AuditEvent.objects.filter(action="assessment.ranking_published").count() == 1
    # New ratings after publishing change the live page, not the published ranking.
    rate(item, "dissatisfied")
    Rating.objects.create(
        disclosure=Disclosure.objects.filter(unit=scored.boiler_team).first(),
        user=UserFactory(),
        value=Satisfaction.DISSATISFIED,
    )
    assert Ranking.objects.get(pk=ranking.pk).rows == ranking.rows


def test_a_published_ranking_cannot_be_changed(scored: Org):
    ranking = publish(scored)
    with pytest.raises(ValueError):
        ranking.save()
    with pytest.raises(ValueError):
        ranking.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Ranking.objects.filter(pk=ranking.pk).update(rows=[])
    assert Ranking.objects.get(pk=ranking.pk).rows == ranking.rows


def test_a_period_is_published_once(scored: Org):
    publish(scored)
    with pytest.raises(ServiceError):
        publish(scored)
    assert Ranking.objects.count() == 1
    assert Disclosure.objects.filter(entry__code="assessment-ranking").count() == 1


@pytest.mark.parametrize("login", ["union", "leader", "depthead", "employee", "rep"])
def test_only_the_supervision_group_publishes(scored: Org, login: str):
    with pytest.raises(ServiceError):
        publish(scored, login)
    assert not Ranking.objects.exists()
    assert not Disclosure.objects.filter(entry__code="assessment-ranking").exists()


@pytest.mark.parametrize("period", ["2026-Q1", "2026-05", "nonsense", "2026-H2", "2027"])
def test_bad_or_unfinished_periods_are_refused(scored: Org, period: str):
    with pytest.raises(ServiceError):
        publish(scored, period=period)
    assert not Ranking.objects.exists()


def test_publishing_needs_a_scheme(org: Org):
    with pytest.raises(ServiceError):
        publish(org)
    assert not Ranking.objects.exists()
