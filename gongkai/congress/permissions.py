"""Who may read and act on the workers' congress: terms, sessions, motions, patrols,
directors' reports and meetings. Decided here only; views and templates ask these functions.

Representatives act by their seat on the term's roster (``Representative``, kept by the
union office) AND the REPRESENTATIVE role on the company (from the roster import): a person
who left the roster can no longer propose, second or check in even while the role lingers.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from gongkai.congress.models import (
    DirectorReport,
    Meeting,
    Motion,
    MotionStatus,
    Patrol,
    Session,
    SessionStatus,
    Term,
)
from gongkai.congress.selectors import is_representative, patrol_is_published
from gongkai.disclosure.permissions import can_read_published
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, can


def _signed_in(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def can_view(user: Any, company: OrgUnit) -> bool:
    """The congress of a company is open to everyone of that company."""
    return _signed_in(user) and can(user, Action.CONGRESS_VIEW, company)


def can_manage(user: Any, company: OrgUnit) -> bool:
    """Terms, delegations, roster, sessions, agenda and attendance: the union office."""
    return _signed_in(user) and can(user, Action.CONGRESS_MANAGE, company)


def is_seated(user: Any, term: Term) -> bool:
    return is_representative(user, term)


def can_propose(user: Any, session: Session) -> bool:
    term = session.term
    return (
        _signed_in(user)
        and can(user, Action.MOTION_PROPOSE, term.company)
        and is_seated(user, term)
    )


def can_check_in_self(user: Any, session: Session) -> bool:
    """A seated representative, on the day of an open session."""
    return (
        session.status == SessionStatus.OPEN
        and session.held_on == timezone.localdate()
        and is_seated(user, session.term)
    )


def can_record_attendance(user: Any, session: Session) -> bool:
    return session.status != SessionStatus.CLOSED and can_manage(user, session.term.company)


def can_see_motion(user: Any, motion: Motion) -> bool:
    """A draft is the proposer's alone; from the moment it seeks seconds the motion and its
    handling are public within the company."""
    if not _signed_in(user):
        return False
    if motion.status == MotionStatus.DRAFT:
        return bool(motion.proposer_id == user.pk)
    return can_view(user, motion.session.term.company)


def can_edit_motion(user: Any, motion: Motion) -> bool:
    return (
        _signed_in(user)
        and motion.status == MotionStatus.DRAFT
        and motion.proposer_id == user.pk
        and can_propose(user, motion.session)
    )


def can_second(user: Any, motion: Motion) -> bool:
    """Any other seated representative of the term may second a motion seeking seconds."""
    return (
        motion.status == MotionStatus.SEEKING
        and _signed_in(user)
        and motion.proposer_id != user.pk
        and can_propose(user, motion.session)
    )


def can_handle(user: Any, motion: Motion) -> bool:
    """The motion committee (the union office): register, merge, decline, assign, chase."""
    return _signed_in(user) and can(user, Action.MOTION_HANDLE, motion.session.term.company)


def can_answer(user: Any, motion: Motion) -> bool:
    """The lead unit's head or disclosure officer answers."""
    return (
        motion.status in (MotionStatus.ASSIGNED, MotionStatus.SENT_BACK)
        and motion.lead_unit is not None
        and _signed_in(user)
        and can(user, Action.MOTION_ANSWER, motion.lead_unit)
    )


def assisting_units_for(user: Any, motion: Motion) -> list[OrgUnit]:
    """The assisting units (协办) of a motion being handled that ``user`` answers for: their
    head or disclosure officer (MOTION_ANSWER on that unit), never for another unit."""
    if motion.status not in (MotionStatus.ASSIGNED, MotionStatus.SENT_BACK):
        return []
    if not _signed_in(user):
        return []
    return [u for u in motion.assisting_units.all() if can(user, Action.MOTION_ANSWER, u)]


def can_assist(user: Any, motion: Motion, unit: OrgUnit | None = None) -> bool:
    """May ``user`` give an assisting answer (for ``unit``, or for any unit)?"""
    units = assisting_units_for(user, motion)
    return bool(units) if unit is None else any(u.pk == unit.pk for u in units)


def can_rate(user: Any, motion: Motion) -> bool:
    return (
        motion.status == MotionStatus.ANSWERED
        and _signed_in(user)
        and motion.proposer_id == user.pk
    )


def can_track(user: Any, company: OrgUnit) -> bool:
    """The tracking table and its export: the motion committee."""
    return _signed_in(user) and can(user, Action.MOTION_HANDLE, company)


def can_record_patrol(user: Any, company: OrgUnit) -> bool:
    return _signed_in(user) and can(user, Action.PATROL_RECORD, company)


def can_send_patrol(user: Any, patrol: Patrol) -> bool:
    """The union office sends a patrol's report (once) to the visited units' boards."""
    return (
        _signed_in(user)
        and can(user, Action.CONGRESS_MANAGE, patrol.company)
        and can(user, Action.DISCLOSURE_DRAFT, patrol.company)
        and not patrol.reports.exists()
    )


def can_see_patrol(user: Any, patrol: Patrol) -> bool:
    """Once a report of the patrol is published, the company; before, its author, the union
    office and the heads of the visited units (who approve its publication)."""
    if not _signed_in(user):
        return False
    if patrol_is_published(patrol):
        return can_view(user, patrol.company)
    if patrol.author_id == user.pk or can_manage(user, patrol.company):
        return True
    return patrol.reports.exists() and any(
        can(user, Action.DISCLOSURE_APPROVE, u) for u in patrol.units.all()
    )


def can_write_director_report(user: Any, company: OrgUnit) -> bool:
    return _signed_in(user) and can(user, Action.DIRECTOR_REPORT, company)


def can_publish_director_report(user: Any, company: OrgUnit) -> bool:
    """The union office puts a director's report through the disclosure workflow."""
    return _signed_in(user) and can(user, Action.DISCLOSURE_DRAFT, company)


def can_record_meeting(user: Any, unit: OrgUnit) -> bool:
    return _signed_in(user) and can(user, Action.MEETING_RECORD, unit)


def can_see_meeting(user: Any, meeting: Meeting) -> bool:
    """Before it is published a meeting's record is read by those who record the unit's
    meetings; once its disclosure is published, by whoever may read that disclosure."""
    if can_record_meeting(user, meeting.unit):
        return True
    disclosure = meeting.disclosure
    return (
        disclosure is not None
        and disclosure.is_published
        and _signed_in(user)
        and can_read_published(user, disclosure)
    )


def can_edit_meeting(user: Any, meeting: Meeting) -> bool:
    return meeting.disclosure_id is None and can_record_meeting(user, meeting.unit)


def can_see_director_report(user: Any, report: DirectorReport) -> bool:
    """The author and the union office always; the company once it is published."""
    if not _signed_in(user):
        return False
    if report.author_id == user.pk or can_publish_director_report(user, report.company):
        return True
    return (
        report.disclosure is not None
        and report.disclosure.is_published
        and can_view(user, report.company)
    )
