"""Suggestions awaiting their answer, as deadlines for the reminder engine
(:mod:`gongkai.core.deadlines`; registered in :class:`gongkai.voice.apps.VoiceConfig`).

A suggestion owes an answer while it is *assigned* (also after the union office sent it back
for a new answer: it is assigned again, with a new ``due_on``). Who answers is the policy's
answer, as the workflow tells them when it is assigned: the holders of
``SUGGESTION_ANSWER`` on the responsible unit. ``SuggestionStep.due_on`` is only the
timeline's copy of the due date a step set, not a deadline of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from gongkai.core.deadlines import Deadline, batches
from gongkai.policy.rules import Action, holders_by_unit
from gongkai.voice.models import Suggestion, SuggestionStatus

KIND = "suggestion"
BATCH = 2000
TITLE_CHARS = 80
FIELDS = (
    "pk",
    "title",
    "due_on",
    "unit_id",
    "unit__path",
    "responsible_unit_id",
    "responsible_unit__path",
)


class SuggestionDeadlines:
    """Suggestions assigned to a unit, to answer by their ``due_on``."""

    kind = KIND

    def label(self) -> str:
        return _("Suggestions to answer")

    def open_between(self, first: date, last: date, *, today: date) -> Iterator[list[Deadline]]:
        waiting = Suggestion.objects.filter(
            status=SuggestionStatus.ASSIGNED, due_on__gte=first, due_on__lte=last
        ).values(*FIELDS)
        for rows in batches(waiting, BATCH):
            yield self.deadlines(rows)

    def deadlines(self, rows: list[dict[str, Any]]) -> list[Deadline]:
        def unit_of(row: dict[str, Any]) -> tuple[int, str]:
            if row["responsible_unit_id"] is not None:
                return row["responsible_unit_id"], row["responsible_unit__path"]
            return row["unit_id"], row["unit__path"]

        units = dict(unit_of(row) for row in rows)
        people = holders_by_unit(Action.SUGGESTION_ANSWER, units)
        found = []
        for row in rows:
            unit_id, _path = unit_of(row)
            found.append(
                Deadline(
                    kind=KIND,
                    key=str(row["pk"]),
                    due=row["due_on"],
                    unit_id=unit_id,
                    title=_("Answer to the suggestion “%(title)s”")
                    % {"title": row["title"][:TITLE_CHARS]},
                    url=reverse("voice:detail", args=[row["pk"]]),
                    people=people[unit_id].people,
                )
            )
        return found


SOURCE = SuggestionDeadlines()
