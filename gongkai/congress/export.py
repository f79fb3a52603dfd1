"""The motion tracking table as an .xlsx workbook (openpyxl, write-only)."""

from __future__ import annotations

import datetime
import io

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from gongkai.congress.models import Motion
from gongkai.congress.motions import is_overdue

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: str) -> str:
    """Text that a spreadsheet will not run as a formula (CSV/formula injection)."""
    return "'" + value if value.startswith(FORMULA_START) else value


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


def row(motion: Motion, today: datetime.date) -> list[object]:
    answered = timezone.localtime(motion.answered_at).date() if motion.answered_at else None
    return [
        cell_text(motion.session.title),
        motion.number,
        cell_text(motion.title),
        cell_text(motion.proposer.name),
        getattr(motion, "second_count", None),
        motion.get_status_display(),
        cell_text(motion.lead_unit.name) if motion.lead_unit else "",
        cell_text("、".join(u.name for u in motion.assisting_units.all())),
        motion.due_on,
        _("yes") if is_overdue(motion, today) else "",
        motion.chase_count,
        answered,
        motion.get_rating_display() if motion.rating else "",
        _("yes") if motion.sent_back_at else "",
    ]


def tracking_workbook(motions: list[Motion], *, today: datetime.date) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Motions"))
    sheet.append(headers())
    for motion in motions:
        sheet.append(row(motion, today))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
