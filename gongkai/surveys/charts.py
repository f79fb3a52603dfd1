"""The data the results page's charts draw (read by static/surveys/results.js from a
json_script block); the same figures are in the tables next to the charts."""

from __future__ import annotations

from typing import Any

from gongkai.core.satisfaction import Satisfaction
from gongkai.surveys.selectors import SurveyResults


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def chart_data(results: SurveyResults) -> dict[str, Any]:
    data: dict[str, Any] = {
        "scale": [str(label) for _value, label in Satisfaction.choices],
        "rates": {
            "units": [r.unit.name for r in results.rates],
            "values": [_round(r.rate) for r in results.rates],
        },
        "questions": [],
        "units": {"names": [], "scores": []},
    }
    if results.overall is not None:
        data["questions"] = [
            {
                "title": q.question.text,
                "counts": [q.counts.get(value, 0) for value in Satisfaction.values],
                "score": _round(q.score),
            }
            for q in results.overall.questions
        ]
        rows = results.branches or results.buckets
        data["units"] = {
            "names": [b.unit.name for b in rows],
            "scores": [_round(b.score) for b in rows],
        }
    return data
