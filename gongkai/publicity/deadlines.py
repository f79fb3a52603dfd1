"""Publicity deadlines for the reminder engine (:mod:`gongkai.core.deadlines`; registered in
:class:`gongkai.publicity.apps.PublicityConfig`).

- ``window``: a window's last day (``ends_on``), for those who conclude it by publishing the
  outcome once it has closed (the holders of ``PUBLICITY_OPEN`` on the disclosure's unit).
  Met when the outcome is published. Never escalated: the closing day is not something
  anyone can miss (the window closes by itself), the objections' findings have their own
  deadline below, and the project sets no date by which the outcome must follow.
- ``finding``: a window whose objections await the supervision group's finding, due
  :data:`~gongkai.publicity.selectors.FINDING_DUE_WORKING_DAYS` working days after the
  window's last day (:func:`~gongkai.publicity.selectors.finding_due`, the rule the handling
  figures and the window's page use), for the holders of ``OBJECTION_REVIEW`` on the
  disclosure's unit, as they are told of each objection. Its unit is where the reviewers
  hold the role (the supervision group's unit, usually the company), so that an overdue
  finding goes to that unit's head and union office, not to the head of the unit whose
  publicity is objected to. One deadline per window (its objections share the due day),
  met when every objection has its finding. The title names the disclosure and how many objections
  wait, never an objection's text or filer; when any of them was filed anonymously the
  deadline is ``private``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from gongkai.core.deadlines import Deadline, batches
from gongkai.core.workdays import calendar_spanning
from gongkai.disclosure.models import DisclosureStatus
from gongkai.policy.rules import Action, Holding, holders_by_unit
from gongkai.publicity.models import Publicity
from gongkai.publicity.selectors import FINDING_DUE_WORKING_DAYS, finding_due

WINDOW = "window"
FINDING = "finding"
BATCH = 2000
TITLE_CHARS = 80
# Calendar days that FINDING_DUE_WORKING_DAYS working days can span at most (the longest
# holiday with its weekends is well under three weeks).
FINDING_SPAN_DAYS = FINDING_DUE_WORKING_DAYS * 7 + 21
FIELDS = ("pk", "ends_on", "disclosure__title", "disclosure__unit_id", "disclosure__unit__path")


def _title(row: dict[str, Any]) -> str:
    return str(row["disclosure__title"])[:TITLE_CHARS]


def _holders(action: Action, rows: list[dict[str, Any]]) -> dict[int, Holding]:
    units = {row["disclosure__unit_id"]: row["disclosure__unit__path"] for row in rows}
    return holders_by_unit(action, units)


class WindowDeadlines:
    """Publicity windows closing, until their outcome is published."""

    kind = WINDOW

    def label(self) -> str:
        return _("Publicity windows closing")

    def open_between(self, first: date, last: date, *, today: date) -> Iterator[list[Deadline]]:
        windows = (
            Publicity.objects.filter(ends_on__gte=first, ends_on__lte=last, outcome__isnull=True)
            .exclude(disclosure__status=DisclosureStatus.WITHDRAWN)
            .values(*FIELDS)
        )
        for rows in batches(windows, BATCH):
            holding = _holders(Action.PUBLICITY_OPEN, rows)
            yield [
                Deadline(
                    kind=WINDOW,
                    key=str(row["pk"]),
                    due=row["ends_on"],
                    unit_id=row["disclosure__unit_id"],
                    title=_("End of the publicity of “%(title)s” (then publish its outcome)")
                    % {"title": _title(row)},
                    url=reverse("publicity:detail", args=[row["pk"]]),
                    people=holding[row["disclosure__unit_id"]].people,
                    escalate=False,
                )
                for row in rows
            ]


class FindingDeadlines:
    """Objections awaiting a finding, per window, by the window's finding due day."""

    kind = FINDING

    def label(self) -> str:
        return _("Objection findings")

    def open_between(self, first: date, last: date, *, today: date) -> Iterator[list[Deadline]]:
        waiting = Q(objections__finding__isnull=True)
        windows = (
            Publicity.objects.filter(
                # the due day is the last day plus some working days: a window whose last
                # day is in this wider range may be due in [first, last]; finer below.
                ends_on__gte=first - timedelta(days=FINDING_SPAN_DAYS),
                ends_on__lt=last,
            )
            .annotate(
                waiting=Count("objections", filter=waiting),
                anonymous=Count("objections", filter=waiting & Q(objections__anonymous=True)),
            )
            .filter(waiting__gt=0)
            .values(*FIELDS, "waiting", "anonymous")
        )
        calendar = calendar_spanning(first - timedelta(days=FINDING_SPAN_DAYS), last)
        for rows in batches(windows, BATCH):
            due = {row["pk"]: finding_due(row["ends_on"], calendar) for row in rows}
            rows = [row for row in rows if first <= due[row["pk"]] <= last]
            if not rows:
                continue
            holding = _holders(Action.OBJECTION_REVIEW, rows)
            yield [
                Deadline(
                    kind=FINDING,
                    key=str(row["pk"]),
                    due=due[row["pk"]],
                    unit_id=holding[row["disclosure__unit_id"]].nearest
                    or row["disclosure__unit_id"],
                    title=_(
                        "Findings on the objections to the publicity of “%(title)s” (%(n)d waiting)"
                    )
                    % {"n": row["waiting"], "title": _title(row)},
                    url=reverse("publicity:detail", args=[row["pk"]]),
                    people=holding[row["disclosure__unit_id"]].people,
                    private=row["anonymous"] > 0,
                )
                for row in rows
            ]


WINDOW_SOURCE = WindowDeadlines()
FINDING_SOURCE = FindingDeadlines()
