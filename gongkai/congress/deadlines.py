"""Motions awaiting their answer, as deadlines for the reminder engine
(:mod:`gongkai.core.deadlines`; registered in :class:`gongkai.congress.apps.CongressConfig`).

A motion owes an answer while it is being handled or was sent back for a new one
(:data:`gongkai.congress.motions.OPEN_HANDLING`), by its ``due_on``. The people are those the
workflow tells when it assigns or chases the motion: the holders of ``MOTION_ANSWER`` on the
lead unit and on each assisting unit, leaving out an assisting unit that has already given
its answer in the current round (it has done its part; the lead unit answers).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import chain
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from gongkai.congress.models import AnswerRole, Motion, MotionAnswer
from gongkai.congress.motions import OPEN_HANDLING
from gongkai.core.deadlines import Deadline, batches
from gongkai.policy.rules import Action, holders_by_unit

KIND = "motion"
BATCH = 2000
TITLE_CHARS = 80
FIELDS = ("pk", "number", "title", "due_on", "sent_back_at", "lead_unit_id", "lead_unit__path")


class MotionDeadlines:
    """Motions assigned to a lead unit, to answer by their ``due_on``."""

    kind = KIND

    def label(self) -> str:
        return _("Motions to answer")

    def open_between(self, first: date, last: date, *, today: date) -> Iterator[list[Deadline]]:
        waiting = Motion.objects.filter(
            status__in=OPEN_HANDLING,
            due_on__gte=first,
            due_on__lte=last,
            lead_unit__isnull=False,
        ).values(*FIELDS)
        for rows in batches(waiting, BATCH):
            yield self.deadlines(rows)

    def deadlines(self, rows: list[dict[str, Any]]) -> list[Deadline]:
        ids = [row["pk"] for row in rows]
        assisting: dict[int, set[int]] = {}
        paths = {row["lead_unit_id"]: row["lead_unit__path"] for row in rows}
        for motion_id, unit_id, path in Motion.assisting_units.through.objects.filter(
            motion_id__in=ids
        ).values_list("motion_id", "orgunit_id", "orgunit__path"):
            assisting.setdefault(motion_id, set()).add(unit_id)
            paths[unit_id] = path
        # Assisting answers given (round 1 before a send-back, 2 after): that unit is done.
        answered = set(
            MotionAnswer.objects.filter(motion_id__in=ids, role=AnswerRole.ASSISTING).values_list(
                "motion_id", "unit_id", "round"
            )
        )
        people = holders_by_unit(Action.MOTION_ANSWER, paths)
        found = []
        for row in rows:
            round_now = 1 if row["sent_back_at"] is None else 2
            units = {row["lead_unit_id"]} | {
                unit_id
                for unit_id in assisting.get(row["pk"], ())
                if (row["pk"], unit_id, round_now) not in answered
            }
            found.append(
                Deadline(
                    kind=KIND,
                    key=str(row["pk"]),
                    due=row["due_on"],
                    unit_id=row["lead_unit_id"],
                    title=_("Answer to motion No. %(number)s “%(title)s”")
                    % {"number": row["number"], "title": row["title"][:TITLE_CHARS]},
                    url=reverse("congress:motion_detail", args=[row["pk"]]),
                    people=frozenset(chain.from_iterable(people[u].people for u in units)),
                )
            )
        return found


SOURCE = MotionDeadlines()
