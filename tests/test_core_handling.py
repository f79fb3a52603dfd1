"""The handling contract (gongkai.core.handling): the figures' arithmetic, the registry the
parts fill from their AppConfig.ready(), the parts' conversions of their own statistics, and
the fewest subtree roots (gongkai.core.paths)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from gongkai.congress.selectors import UnitHandling
from gongkai.core import handling
from gongkai.core.handling import (
    Handling,
    HandlingSource,
    handling_sources,
    handling_totals,
    register_handling_source,
)
from gongkai.core.paths import subtree_roots
from gongkai.org.models import OrgUnit
from gongkai.publicity.selectors import ObjectionStats
from gongkai.voice.selectors import HandlingStats


def test_figures_add_up_and_derive_the_rates():
    a = Handling(on_time=3, late=1, overdue=1, open=2, satisfied=2, basic=1, dissatisfied=1)
    b = Handling(on_time=1, overdue=1, open=1, basic=1)
    total = a + b
    assert total == Handling(
        on_time=4, late=1, overdue=2, open=3, satisfied=2, basic=2, dissatisfied=1
    )
    assert (a.total, a.due, a.rate, a.rated) == (7, 5, 60.0, 4)
    assert Handling().rate is None
    assert sum([a, b], Handling()) == total
    assert a.as_dict() == {
        "on_time": 3,
        "late": 1,
        "overdue": 1,
        "open": 2,
        "satisfied": 2,
        "basic": 1,
        "dissatisfied": 1,
        "total": 7,
        "due": 5,
        "on_time_rate": 60.0,
    }
    assert list(a.as_dict()) == [
        "on_time",
        "late",
        "overdue",
        "open",
        "satisfied",
        "basic",
        "dissatisfied",
        "total",
        "due",
        "on_time_rate",
    ]


def test_counted_reads_the_ratings_by_satisfaction_value():
    figures = Handling.counted(
        on_time=1, late=0, overdue=0, open=0, ratings={"satisfied": 2, "dissatisfied": 1}
    )
    assert (figures.satisfied, figures.basic, figures.dissatisfied) == (2, 0, 1)
    assert Handling.counted(on_time=0, late=0, overdue=0, open=0).rated == 0


def test_the_installed_parts_register_their_sources_in_order():
    sources = handling_sources()
    with translation.override("en"):
        labels = [(s.name, str(s.label), s.rated) for s in sources]
    assert labels == [
        ("suggestions", "Suggestions", True),
        ("motions", "Motions", True),
        ("objections", "Objection findings", False),
    ]
    for source in sources:
        register_handling_source(source)  # registering the same source again changes nothing
    assert handling_sources() == sources


def fixed(figures: Mapping[int, Handling]) -> Any:
    def function(
        units: Sequence[Any], start: date, end: date, *, today: date
    ) -> Mapping[int, Handling]:
        return {pk: f for pk, f in figures.items() if pk in units}

    return function


def test_a_second_source_of_the_same_name_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(handling, "_sources", {})
    register_handling_source(HandlingSource("a", "A", order=1, rated=False, figures=fixed({})))
    with pytest.raises(ImproperlyConfigured):
        register_handling_source(
            HandlingSource("a", "Other", order=1, rated=False, figures=fixed({}))
        )


def test_totals_sum_each_source_over_the_units_in_order(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(handling, "_sources", {})
    later = fixed({1: Handling(open=1), 2: Handling(open=2), 3: Handling(open=4)})
    first = fixed({1: Handling(on_time=1, satisfied=1), 2: Handling(late=1)})
    register_handling_source(HandlingSource("later", "L", order=2, rated=False, figures=later))
    register_handling_source(HandlingSource("first", "F", order=1, rated=True, figures=first))
    totals = handling_totals([1, 2], date(2026, 1, 1), date(2026, 12, 31), today=date(2026, 6, 1))
    assert list(totals) == ["first", "later"]
    assert totals["first"] == Handling(on_time=1, late=1, satisfied=1)
    assert totals["later"] == Handling(open=3)
    assert handling_totals([], date(2026, 1, 1), date(2026, 1, 2), today=date(2026, 1, 1)) == {
        "first": Handling(),
        "later": Handling(),
    }


def test_each_part_converts_its_own_statistics():
    suggestions = HandlingStats(
        received=10,
        declined=1,
        answered=5,
        answered_on_time=3,
        answered_late=2,
        overdue_open=1,
        ratings={"satisfied": 2, "basic": 1, "dissatisfied": 0},
    )
    # Received, neither declined, answered nor overdue: open.
    assert suggestions.figures() == Handling(
        on_time=3, late=2, overdue=1, open=3, satisfied=2, basic=1
    )
    assert HandlingStats(received=1, declined=1, overdue_open=1).figures().open == 0
    motions = UnitHandling(
        unit=OrgUnit(),
        registered=7,
        answered_on_time=2,
        answered_late=1,
        overdue_open=1,
        open_not_due=3,
        ratings={"dissatisfied": 1},
    )
    assert motions.figures() == Handling(on_time=2, late=1, overdue=1, open=3, dissatisfied=1)
    objections = ObjectionStats(unit_id=1, filed=6, on_time=2, late=1, missing=2, pending=1)
    assert objections.figures() == Handling(on_time=2, late=1, overdue=2, open=1)


def test_subtree_roots_keep_the_fewest_paths_that_cover_all():
    assert subtree_roots([]) == []
    assert subtree_roots(["/1/4/17/", "/1/4/", "/1/12/", "/1/4/18/"]) == ["/1/12/", "/1/4/"]
    # The separator on both sides: unit 1 does not cover unit 12.
    assert subtree_roots(["/1/", "/12/"]) == ["/1/", "/12/"]
