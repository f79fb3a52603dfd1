"""Surveys closing, as deadlines for the reminder engine (:mod:`gongkai.core.deadlines`;
registered in :class:`gongkai.surveys.apps.SurveysConfig`).

An opened survey that has started is due on its last day (``ends_on``), for the employees
it is addressed to (the active employees of its unit's subtree, as
:func:`gongkai.surveys.permissions.is_addressed` has it) who have not answered yet. Who has
answered is read from the participation table only ("has answered", kept apart from the
answers), never from the answers. Nothing is overdue when a survey closes (``escalate`` is
off), and the message says only that the survey closes, under its title.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.core.deadlines import Deadline, batches
from gongkai.core.paths import subtree_roots
from gongkai.org.models import PATH_SEPARATOR
from gongkai.surveys.models import Participation, Survey, SurveyStatus

KIND = "survey"
# Each survey may carry thousands of people: fewer surveys per batch than other kinds.
BATCH = 200
TITLE_CHARS = 80


def _ids(path: str) -> list[int]:
    return [int(p) for p in path.split(PATH_SEPARATOR) if p]


def not_answered(rows: list[dict[str, Any]]) -> dict[int, frozenset[int]]:
    """For each survey of ``rows`` (``pk``, ``unit__path``): the active employees of the
    addressed subtree without a participation row. Two queries for the whole batch."""
    scope = Q()
    for root in subtree_roots(row["unit__path"] for row in rows):
        scope |= Q(unit__path__startswith=root)
    by_unit: dict[int, list[int]] = {}
    unit_paths: dict[int, str] = {}
    for user_id, unit_id, path in User.objects.filter(scope, is_active=True).values_list(
        "pk", "unit_id", "unit__path"
    ):
        by_unit.setdefault(unit_id, []).append(user_id)
        unit_paths[unit_id] = path
    answered: dict[int, set[int]] = {}
    for survey_id, user_id in Participation.objects.filter(
        survey_id__in=[row["pk"] for row in rows]
    ).values_list("survey_id", "user_id"):
        answered.setdefault(survey_id, set()).add(user_id)
    # survey unit id → the surveys addressed to its subtree
    surveys_at: dict[int, list[int]] = {}
    for row in rows:
        surveys_at.setdefault(row["unit_id"], []).append(row["pk"])
    addressed: dict[int, set[int]] = {row["pk"]: set() for row in rows}
    for unit_id, users in by_unit.items():
        for above in _ids(unit_paths[unit_id]):
            for survey_id in surveys_at.get(above, ()):
                addressed[survey_id].update(users)
    return {pk: frozenset(users - answered.get(pk, set())) for pk, users in addressed.items()}


class SurveyDeadlines:
    """Opened surveys closing, for those who have not answered."""

    kind = KIND

    def label(self) -> str:
        return _("Surveys closing")

    def open_between(self, first: date, last: date, *, today: date) -> Iterator[list[Deadline]]:
        running = Survey.objects.filter(
            status=SurveyStatus.OPEN, starts_on__lte=today, ends_on__gte=first, ends_on__lte=last
        ).values("pk", "title", "ends_on", "unit_id", "unit__path")
        for rows in batches(running, BATCH):
            people = not_answered(rows)
            yield [
                Deadline(
                    kind=KIND,
                    key=str(row["pk"]),
                    due=row["ends_on"],
                    unit_id=row["unit_id"],
                    title=_("Answering the survey “%(title)s”")
                    % {"title": row["title"][:TITLE_CHARS]},
                    url=reverse("surveys:detail", args=[row["pk"]]),
                    people=people[row["pk"]],
                    escalate=False,
                )
                for row in rows
            ]


SOURCE = SurveyDeadlines()
