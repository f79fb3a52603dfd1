"""Votes closing, as deadlines for the reminder engine (:mod:`gongkai.core.deadlines`;
registered in :class:`gongkai.ballots.apps.BallotsConfig`).

An open vote with a planned closing date (``closes_on``, the last day to vote) is due on that
day for its electors (the electorate snapshotted at opening) who have not voted yet. Who has
voted is read from the participation table only ("has voted", kept apart from the ballots),
never from the ballots or their boxes. Nothing is overdue when a vote closes (``escalate`` is
off: the union office closes it, a deliberate act), nothing goes to a unit's chat robots
(``group`` is off: it is each elector's own ballot), and the message says only that the vote
closes, under its title.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _

from gongkai.ballots.models import Elector, Participation, Poll, PollStatus
from gongkai.core.deadlines import Deadline, batches

KIND = "vote"
# A mass evaluation may carry thousands of electors: few votes per batch.
BATCH = 200
TITLE_CHARS = 80


def not_voted(rows: list[dict[str, Any]]) -> dict[int, frozenset[int]]:
    """For each vote of ``rows``: its active electors without a participation row. One query
    for the whole batch."""
    found: dict[int, set[int]] = {row["pk"]: set() for row in rows}
    voted = Participation.objects.filter(poll_id=OuterRef("poll_id"), user_id=OuterRef("user_id"))
    for poll_id, user_id in (
        Elector.objects.filter(poll_id__in=list(found), user__is_active=True)
        .filter(~Exists(voted))
        .values_list("poll_id", "user_id")
    ):
        found[poll_id].add(user_id)
    return {pk: frozenset(users) for pk, users in found.items()}


class VoteDeadlines:
    """Open votes reaching their planned closing date, for the electors who have not voted."""

    kind = KIND

    def label(self) -> str:
        return _("Votes closing")

    def open_between(self, first: date, last: date, *, today: date) -> Iterator[list[Deadline]]:
        open_votes = Poll.objects.filter(
            status=PollStatus.OPEN, closes_on__gte=first, closes_on__lte=last
        ).values("pk", "title", "closes_on", "unit_id", "company_id")
        for rows in batches(open_votes, BATCH):
            people = not_voted(rows)
            yield [
                Deadline(
                    kind=KIND,
                    key=str(row["pk"]),
                    due=row["closes_on"],
                    unit_id=row["unit_id"] or row["company_id"],
                    title=_("Vote: %(title)s") % {"title": row["title"][:TITLE_CHARS]},
                    url=reverse("ballots:vote", args=[row["pk"]]),
                    people=people[row["pk"]],
                    escalate=False,
                    group=False,
                    private=False,
                )
                for row in rows
            ]


SOURCE = VoteDeadlines()
