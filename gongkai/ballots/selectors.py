"""Reads of votes and evaluations: lists, turnout, and results for the assessment part."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from gongkai.ballots.models import Elector, Participation, Poll, PollKind, PollStatus, Receipt
from gongkai.congress.models import Attendance
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


def receipt_codes(poll: Poll) -> list[str]:
    """The receipt codes of the counted ballots, in sorted order (codes only, never a choice),
    once the vote is closed and counted; [] before."""
    if poll.status not in (PollStatus.CLOSED, PollStatus.PUBLISHED) or poll.result is None:
        return []
    return list(Receipt.objects.filter(poll=poll).order_by("code").values_list("code", flat=True))


@dataclass(frozen=True)
class OutsideElectorate:
    """Why a representative of the session is not in a vote's electorate: the time they
    checked in (None: not checked in) and the time the vote opened."""

    checked_in_at: datetime | None
    opened_at: datetime | None

    @property
    def late(self) -> bool:
        return (
            self.checked_in_at is not None
            and self.opened_at is not None
            and self.checked_in_at > self.opened_at
        )


def outside_electorate(user: Any, poll: Poll) -> OutsideElectorate | None:
    """For a representative of the poll's session who is not in its electorate: when they
    checked in and when the vote opened; None for everyone else."""
    if poll.session_id is None or poll.status == PollStatus.DRAFT:
        return None
    if Elector.objects.filter(poll=poll, user_id=user.pk).exists():
        return None
    checked_in = (
        Attendance.objects.filter(session_id=poll.session_id, representative__user_id=user.pk)
        .values_list("checked_in_at", flat=True)
        .first()
    )
    return OutsideElectorate(checked_in_at=checked_in, opened_at=poll.opened_at)
