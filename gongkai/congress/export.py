"""The motion tracking table as an .xlsx workbook (gongkai.core.spreadsheets)."""

from __future__ import annotations

import datetime

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.congress.models import Motion, MotionSecond, MotionStatus
from gongkai.congress.motions import is_overdue
from gongkai.core.satisfaction import Satisfaction
from gongkai.core.spreadsheets import XlsxWorkbook


def headers() -> list[str]:
    return [
        _("Session"),
        _("No."),
        _("Subject"),
        _("Proposer"),
        _("Seconds"),
        _("Status"),
        _("Lead unit"),
        _("Assisting units"),
        _("Due on"),
        _("Overdue"),
        _("Times chased"),
        _("Answered on"),
        _("Satisfaction"),
        _("Sent back"),
    ]


def tracking_workbook(motions: QuerySet[Motion], *, today: datetime.date) -> bytes:
    """The motions (already filtered and ordered) as one sheet. Three queries whatever the
    number of rows: the motions with their session, proposer and lead unit, the assisting
    units, the seconds per motion."""
    rows = list(
        motions.select_related("session", "proposer", "lead_unit").only(
            "session__title",
            "proposer__name",
            "lead_unit__name",
            "number",
            "title",
            "status",
            "due_on",
            "chase_count",
            "answered_at",
            "rating",
            "sent_back_at",
        )
    )
    ids = [m.pk for m in rows]
    assisting: dict[int, list[str]] = {}
    links = Motion.assisting_units.through.objects.filter(motion_id__in=ids)
    for motion_id, name in links.values_list("motion_id", "orgunit__name").order_by(
        "orgunit__path"
    ):
        assisting.setdefault(motion_id, []).append(name)
    seconds = dict(
        MotionSecond.objects.filter(motion_id__in=ids)
        .values("motion_id")
        .annotate(n=Count("id"))
        .values_list("motion_id", "n")
    )
    statuses = {value: str(label) for value, label in MotionStatus.choices}
    ratings = {value: str(label) for value, label in Satisfaction.choices}
    yes = _("yes")
    workbook = XlsxWorkbook()
    sheet = workbook.sheet(_("Motions"))
    sheet.append(headers())
    for m in rows:
        answered = timezone.localtime(m.answered_at).date() if m.answered_at else None
        sheet.append(
            [
                m.session.title,
                m.number,
                m.title,
                m.proposer.name,
                seconds.get(m.pk, 0),
                statuses.get(m.status, m.status),
                m.lead_unit.name if m.lead_unit else "",
                "、".join(assisting.get(m.pk, [])),
                m.due_on,
                yes if is_overdue(m, today) else "",
                m.chase_count,
                answered,
                ratings.get(m.rating or "", ""),
                yes if m.sent_back_at else "",
            ]
        )
    return workbook.to_bytes()
