"""Rectifications awaiting the responsible unit's report, as deadlines for the reminder engine
(:mod:`gongkai.core.deadlines`; registered in :class:`gongkai.supervision.apps.SupervisionConfig`).

A rectification owes its report while it is pending or was sent back, by its ``due_on`` (a
report sent in, awaiting verification, is the supervision group's turn and no longer the
unit's). The people are those the workflow tells when it is opened: the holders of
``RECTIFICATION_REPORT`` on the responsible unit (the inspected department, or the unit a
patrol visited). It is the unit's own task, so its group chat hears of it (``group``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.db.models.functions import Left
from django.urls import reverse
from django.utils.translation import gettext as _

from gongkai.core.deadlines import Deadline, batches
from gongkai.policy.rules import Action, holders_by_unit
from gongkai.supervision.models import Rectification, RectificationStatus

KIND = "rectification"
BATCH = 2000
TITLE_CHARS = 80
OPEN = (RectificationStatus.PENDING, RectificationStatus.SENT_BACK)
FIELDS = (
    "pk",
    "due_on",
    "finding__inspected__department_id",
    "finding__inspected__department__path",
    "unit_id",
    "unit__path",
)


def _unit(row: dict[str, Any]) -> tuple[int, str]:
    """The responsible unit (as :attr:`Rectification.responsible_unit`): id and path."""
    if row["finding__inspected__department_id"] is not None:
        return row["finding__inspected__department_id"], row["finding__inspected__department__path"]
    return row["unit_id"], row["unit__path"]


class RectificationDeadlines:
    """Rectifications to report by their ``due_on``."""

    kind = KIND

    def label(self) -> str:
        return _("Rectifications to report")

    def open_between(self, first: date, last: date, *, today: date) -> Iterator[list[Deadline]]:
        waiting = Rectification.objects.filter(
            status__in=OPEN, due_on__gte=first, due_on__lte=last
        ).values(
            *FIELDS,
            # what is to be rectified (as Rectification.problem_text), no longer than needed
            finding_text=Left("finding__text", TITLE_CHARS * 2),
            problem_text=Left("problem", TITLE_CHARS * 2),
        )
        for rows in batches(waiting, BATCH):
            people = holders_by_unit(Action.RECTIFICATION_REPORT, dict(map(_unit, rows)))
            found = []
            for row in rows:
                unit_id, _path = _unit(row)
                problem = row["finding_text"] or row["problem_text"]
                found.append(
                    Deadline(
                        kind=KIND,
                        key=str(row["pk"]),
                        due=row["due_on"],
                        unit_id=unit_id,
                        title=_("Rectification: %(problem)s")
                        % {"problem": " ".join(problem.split())[:TITLE_CHARS]},
                        url=reverse("supervision:rectification_detail", args=[row["pk"]]),
                        people=people[unit_id].people,
                        group=True,
                    )
                )
            yield found


SOURCE = RectificationDeadlines()
