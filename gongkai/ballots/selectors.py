"""Reads of votes and evaluations: lists, turnout, and results for the assessment part."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from gongkai.ballots.models import Elector, Participation, Poll, PollKind, PollStatus
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, visible_scope_paths


@dataclass(frozen=True)
class Turnout:
    voted: int
    electorate: int

    @property
    def percent(self) -> int:
        return round(100 * self.voted / self.electorate) if self.electorate else 0


def turnout(poll: Poll) -> Turnout:
    return Turnout(
        voted=Participation.objects.filter(poll=poll).count(), electorate=poll.electorate_size
    )


def has_voted(user: Any, poll: Poll) -> bool:
    return Participation.objects.filter(poll=poll, user_id=user.pk).exists()


def polls_for(user: Any) -> QuerySet[Poll]:
    """The polls a user may see in the list: those they manage or recount, those they are
    eligible in, and published ones of their company."""
    roots = set(visible_scope_paths(user, Action.VOTE_MANAGE)) | set(
        visible_scope_paths(user, Action.VOTE_RECOUNT)
    )
    condition = Q(pk__in=Elector.objects.filter(user_id=user.pk).values("poll_id")) & ~Q(
        status=PollStatus.DRAFT
    )
    for root in roots:
        condition |= Q(company__path__startswith=root)
    unit = getattr(user, "unit", None)
    if unit is not None:
        company_path = "/".join(unit.path.split("/")[:2]) + "/"
        condition |= Q(status=PollStatus.PUBLISHED, company__path=company_path)
    return Poll.objects.filter(condition).select_related("company", "session").distinct()


@dataclass(frozen=True)
class CadreResult:
    poll_id: int
    poll_title: str
    user_id: int
    unit_id: int | None
    good_rate: Decimal
    weighted_score: Decimal | None
    ballots: int


def evaluation_results(year: int, unit_paths: Sequence[str]) -> list[CadreResult]:
    """Per evaluated person (user, unit) of the published evaluations closed in ``year``
    whose company lies under one of ``unit_paths`` or whose person's unit does: the
    "excellent + competent" rate and the weighted score. Withheld results are left out."""
    polls = Poll.objects.filter(
        kind=PollKind.EVALUATION, status=PollStatus.PUBLISHED, closed_at__year=year
    ).order_by("closed_at", "pk")
    rows: list[CadreResult] = []

    unit_path = dict(OrgUnit.objects.values_list("pk", "path"))
    for poll in polls:
        result = poll.result or {}
        if result.get("withheld"):
            continue
        for item in result.get("items", []):
            path = unit_path.get(item.get("unit_id")) or unit_path.get(poll.company_id, "")
            if not any(path.startswith(p) for p in unit_paths):
                continue
            score = item.get("weighted_score")
            rows.append(
                CadreResult(
                    poll_id=poll.pk,
                    poll_title=poll.title,
                    user_id=item["cadre_id"],
                    unit_id=item.get("unit_id"),
                    good_rate=Decimal(item["good_rate"]),
                    weighted_score=Decimal(score) if score is not None else None,
                    ballots=result["ballots"],
                )
            )
    return rows
