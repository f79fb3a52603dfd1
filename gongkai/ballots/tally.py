"""Counting: a pure function from the stored ballots to the result (used at close and by
the supervision group's recount, so both are computed the same way).

Resolution: per item the counts for / against / abstain, the "for" share of the
representatives present and of all representatives, and *passed* when the "for" votes are
more than half of all representatives (default) or of those present (configurable).

Evaluation: per cadre the counts of each grade; percentages over the ballots that graded the
cadre with a known grade ("not known to me" is left out of every rate); the combined
"excellent + competent" rate; a flag when the incompetent rate is above the threshold. With
rater groups, each group's average score (excellent 100, competent 80, basically competent 60,
incompetent 0) is taken over its known grades, and the weighted score is
Σ weight(g) × average(g) / Σ weight(g) over the groups that gave at least one known grade
(with weights summing to 1 and every group present this is exactly Σ weight × average).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from gongkai.ballots.models import GRADE_SCORES, Choice, Grade, Majority, PollKind

CENT = Decimal("0.01")


def pct(part: int, whole: int) -> str:
    """A percentage with two decimals, as a string so that a recount compares exactly."""
    if whole <= 0:
        return "0.00"
    return str((Decimal(100 * part) / Decimal(whole)).quantize(CENT, rounding=ROUND_HALF_UP))


@dataclass
class Counted:
    """The ballots counted: per item the ballots of each choice, and per item and rater group
    [sum of scores, number of known grades]."""

    ballots: int
    counts: dict[str, dict[str, int]]
    scores: dict[str, dict[int, list[int]]]


def count_ballots(
    *,
    values: list[str],
    items: Sequence[dict[str, Any]],
    ballots: Iterable[tuple[int | None, dict[str, str]]],
) -> Counted:
    """Count every ballot's choices of ``values``; anything else on a ballot is ignored."""
    counts: dict[str, dict[str, int]] = {str(i["id"]): dict.fromkeys(values, 0) for i in items}
    scores: dict[str, dict[int, list[int]]] = {str(i["id"]): {} for i in items}
    n = 0
    for group_id, choices in ballots:
        n += 1
        for key, value in choices.items():
            if key in counts and value in counts[key]:
                counts[key][value] += 1
                if value in GRADE_SCORES and group_id is not None:
                    acc = scores[key].setdefault(group_id, [0, 0])
                    acc[0] += GRADE_SCORES[value]
                    acc[1] += 1
    return Counted(ballots=n, counts=counts, scores=scores)


def resolution_items(
    *,
    items: Sequence[dict[str, Any]],
    counts: dict[str, dict[str, int]],
    majority: str,
    present: int,
    total: int,
) -> list[dict[str, Any]]:
    """Per item the counts, the "for" shares and whether it passed."""
    base = total if majority == Majority.OF_ALL else present
    return [
        {
            **item,
            "counts": counts[str(item["id"])],
            "for_pct_present": pct(counts[str(item["id"])][Choice.FOR], present),
            "for_pct_total": pct(counts[str(item["id"])][Choice.FOR], total),
            "passed": 2 * counts[str(item["id"])][Choice.FOR] > base,
        }
        for item in items
    ]


def group_average(sums: list[int] | None) -> Decimal | None:
    """A rater group's average score over its known grades; None when it gave none."""
    if not sums or not sums[1]:
        return None
    return (Decimal(sums[0]) / Decimal(sums[1])).quantize(CENT, rounding=ROUND_HALF_UP)


def add_group_scores(
    row: dict[str, Any], *, sums: dict[int, list[int]], groups: Sequence[dict[str, Any]]
) -> None:
    """Each group's average into ``row["groups"]``, and the weighted score over the groups
    that gave at least one known grade."""
    weighted = Decimal(0)
    weights = Decimal(0)
    for group in groups:
        average = group_average(sums.get(group["id"]))
        row["groups"].append(
            {
                "name": group["name"],
                "weight": str(group["weight"]),
                "average": str(average) if average is not None else None,
            }
        )
        if average is not None:
            weighted += Decimal(group["weight"]) * average
            weights += Decimal(group["weight"])
    if weights > 0:
        row["weighted_score"] = str((weighted / weights).quantize(CENT, ROUND_HALF_UP))


def evaluation_row(
    item: dict[str, Any],
    *,
    counted: Counted,
    values: list[str],
    groups: Sequence[dict[str, Any]],
    threshold: int,
) -> dict[str, Any]:
    """A cadre's counts, rates, flag and (with rater groups) weighted score."""
    c = counted.counts[str(item["id"])]
    known = sum(c[g] for g in GRADE_SCORES)
    incompetent = pct(c[Grade.INCOMPETENT], known)
    row: dict[str, Any] = {
        **item,
        "counts": c,
        "known": known,
        "pct": {g: pct(c[g], known) for g in GRADE_SCORES},
        # the same in the scale's order, for display (jsonb does not keep key order)
        "cells": [[g, c[g], pct(c[g], known) if g in GRADE_SCORES else None] for g in values],
        "good_rate": pct(c[Grade.EXCELLENT] + c[Grade.COMPETENT], known),
        "incompetent_rate": incompetent,
        "flag": known > 0 and Decimal(incompetent) > threshold,
        "weighted_score": None,
        "groups": [],
    }
    if groups:
        add_group_scores(row, sums=counted.scores[str(item["id"])], groups=groups)
    return row


def tally(
    *,
    kind: str,
    items: Sequence[dict[str, Any]],
    groups: Sequence[dict[str, Any]],
    ballots: Iterable[tuple[int | None, dict[str, str]]],
    majority: str = Majority.OF_ALL,
    present: int = 0,
    total: int = 0,
    electorate: int = 0,
    min_ballots: int = 1,
    incompetent_threshold: int = 30,
) -> dict[str, Any]:
    """``items``: [{"id", "label", ...}] in order; ``groups``: [{"id", "name", "weight"}];
    ``ballots``: (group id, {str(item id): choice}) pairs."""
    values = list(Choice.values) if kind == PollKind.RESOLUTION else list(Grade.values)
    counted = count_ballots(values=values, items=items, ballots=ballots)
    result: dict[str, Any] = {
        "kind": kind,
        "ballots": counted.ballots,
        "electorate": electorate,
        "present": present,
        "total": total,
        "turnout_pct": pct(counted.ballots, electorate),
    }
    if kind == PollKind.RESOLUTION:
        result["majority"] = majority
        result["items"] = resolution_items(
            items=items, counts=counted.counts, majority=majority, present=present, total=total
        )
        return result
    result["withheld"] = counted.ballots < min_ballots
    result["min_ballots"] = min_ballots
    result["threshold"] = incompetent_threshold
    result["items"] = [
        evaluation_row(
            item, counted=counted, values=values, groups=groups, threshold=incompetent_threshold
        )
        for item in items
    ]
    return result
