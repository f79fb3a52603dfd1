"""State changes of the congress structure: terms, delegations, the roster of
representatives, sessions and attendance. Motions are in ``motions.py``; patrols, directors'
reports and meetings in ``records.py``."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from gongkai.audit.services import build_event, record_event
from gongkai.congress import permissions as policy
from gongkai.congress.models import (
    Attendance,
    Delegation,
    LeaveOfAbsence,
    Representative,
    Session,
    SessionKind,
    SessionStatus,
    Term,
)
from gongkai.congress.selectors import representative_for
from gongkai.core.errors import ServiceError
from gongkai.core.text import clean_text
from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind

MAX_TITLE = 200


def _require_manage(actor: User, company: OrgUnit) -> None:
    if not policy.can_manage(actor, company):
        raise ServiceError(_("Only the union office manages the congress."))


# --- Terms and delegations ----------------------------------------------------------------------


@transaction.atomic
def term_create(
    *,
    actor: User,
    company: OrgUnit,
    number: int,
    starts_on: datetime.date,
    ends_on: datetime.date,
    motion_seconds_required: int = 2,
) -> Term:
    _require_manage(actor, company)
    if company.kind != UnitKind.COMPANY:
        raise ServiceError(_("A congress term belongs to a company."))
    if number < 1:
        raise ServiceError(_("Give the term's number (1 or more)."), field="number")
    if ends_on <= starts_on:
        raise ServiceError(_("The term must end after it starts."), field="ends_on")
    if not 0 <= motion_seconds_required <= 50:
        raise ServiceError(
            _("Give a number of seconds between 0 and 50."), field="motion_seconds_required"
        )
    if Term.objects.filter(company=company, number=number).exists():
        raise ServiceError(_("This company already has a term with this number."), field="number")
    overlapping = Term.objects.filter(
        company=company, starts_on__lte=ends_on, ends_on__gte=starts_on
    )
    if overlapping.exists():
        raise ServiceError(_("The dates overlap another term."), field="starts_on")
    term = Term.objects.create(
        company=company,
        number=number,
        starts_on=starts_on,
        ends_on=ends_on,
        motion_seconds_required=motion_seconds_required,
    )
    record_event(
        actor=actor,
        action="congress.term_created",
        target=term,
        unit=company,
        after={
            "number": number,
            "starts_on": str(starts_on),
            "ends_on": str(ends_on),
            "motion_seconds_required": motion_seconds_required,
        },
    )
    return term


@transaction.atomic
def delegation_create(
    *, actor: User, term: Term, name: str, unit: OrgUnit | None = None, head: User | None = None
) -> Delegation:
    _require_manage(actor, term.company)
    name = clean_text(name, field="name", limit=100)
    if unit is not None and not unit.is_within(term.company):
        raise ServiceError(_("Choose a unit of this company."), field="unit")
    if Delegation.objects.filter(term=term, name=name).exists():
        raise ServiceError(_("A delegation with this name exists already."), field="name")
    delegation = Delegation.objects.create(term=term, name=name, unit=unit, head=head)
    record_event(
        actor=actor,
        action="congress.delegation_created",
        target=delegation,
        unit=term.company,
        after={"name": name, "unit": unit.code if unit else None, "head": str(head or "")},
    )
    return delegation


def delegation_for(delegations: list[Delegation], unit: OrgUnit | None) -> Delegation | None:
    """The delegation whose department contains ``unit`` (the deepest such)."""
    if unit is None:
        return None
    best: Delegation | None = None
    best_depth = -1
    for delegation in delegations:
        dept = delegation.unit
        if dept is not None and unit.is_within(dept) and dept.depth > best_depth:
            best, best_depth = delegation, dept.depth
    return best


# --- The roster ---------------------------------------------------------------------------------


def _check_delegation(term: Term, delegation: Delegation | None) -> None:
    if delegation is not None and delegation.term_id != term.pk:
        raise ServiceError(_("Choose a delegation of this term."), field="delegation")


@transaction.atomic
def representative_add(
    *,
    actor: User,
    term: Term,
    user: User,
    delegation: Delegation | None = None,
    elected_on: datetime.date | None = None,
) -> Representative:
    """Seat ``user`` for the term (or seat again someone who had left)."""
    _require_manage(actor, term.company)
    _check_delegation(term, delegation)
    if not user.is_active or user.unit is None or not user.unit.is_within(term.company):
        raise ServiceError(_("Choose an active employee of this company."), field="user")
    elected_on = elected_on or timezone.localdate()
    existing = Representative.objects.select_for_update().filter(term=term, user=user).first()
    if existing is not None and existing.is_active:
        raise ServiceError(_("%(name)s is already a representative.") % {"name": user})
    if existing is not None:
        existing.is_active = True
        existing.left_on = None
        existing.delegation = delegation
        existing.elected_on = elected_on
        existing.save(update_fields=["is_active", "left_on", "delegation", "elected_on"])
        rep = existing
    else:
        rep = Representative.objects.create(
            term=term, user=user, delegation=delegation, elected_on=elected_on
        )
    record_event(
        actor=actor,
        action="congress.representative_added",
        target=rep,
        unit=term.company,
        after={
            "user": user.employee_no,
            "delegation": delegation.name if delegation else None,
            "elected_on": str(elected_on),
        },
    )
    return rep


@transaction.atomic
def roster_seed(
    *, actor: User | None, term: Term, elected_on: datetime.date | None = None
) -> list[Representative]:
    """Seat every active employee flagged as a representative in the roster import (the
    REPRESENTATIVE role on the company) who has no seat yet; each into the delegation of their
    department. People who left the roster are not seated again: that takes a decision."""
    if actor is not None:
        _require_manage(actor, term.company)
    flagged = (
        RoleAssignment.objects.filter(
            role=Role.REPRESENTATIVE, unit=term.company, user__is_active=True
        )
        .exclude(user__congress_seats__term=term)
        .select_related("user__unit")
        .order_by("user__employee_no")
    )
    elected_on = elected_on or term.starts_on
    delegations = list(term.delegations.select_related("unit"))
    seats: list[Representative] = []
    for assignment in flagged:
        user = assignment.user
        if user.unit is None or not user.unit.is_within(term.company):
            continue
        seats.append(
            Representative(
                term=term,
                user=user,
                delegation=delegation_for(delegations, user.unit),
                elected_on=elected_on,
            )
        )
    created = Representative.objects.bulk_create(seats)
    AuditEvent.objects.bulk_create(
        [
            build_event(
                actor=actor,
                action="congress.representative_added",
                target=rep,
                unit=term.company,
                target_label=str(rep.user),
                after={
                    "user": rep.user.employee_no,
                    "delegation": rep.delegation.name if rep.delegation else None,
                    "source": "roster",
                },
            )
            for rep in created
        ]
    )
    return created


@transaction.atomic
def representative_move(
    *, actor: User, representative: Representative, delegation: Delegation | None
) -> Representative:
    term = representative.term
    _require_manage(actor, term.company)
    _check_delegation(term, delegation)
    before = representative.delegation.name if representative.delegation else None
    after = delegation.name if delegation else None
    if before == after:
        raise ServiceError(_("Choose a different delegation."), field="delegation")
    Representative.objects.filter(pk=representative.pk).update(
        delegation=delegation, updated_at=timezone.now()
    )
    representative.delegation = delegation
    record_event(
        actor=actor,
        action="congress.representative_moved",
        target=representative,
        unit=term.company,
        before={"delegation": before},
        after={"delegation": after},
    )
    return representative


@transaction.atomic
def representative_leave(
    *,
    actor: User,
    representative: Representative,
    left_on: datetime.date | None = None,
    reason: str = "",
) -> Representative:
    term = representative.term
    _require_manage(actor, term.company)
    reason = clean_text(reason, field="reason", required=False, limit=500)
    left_on = left_on or timezone.localdate()
    won = Representative.objects.filter(pk=representative.pk, is_active=True).update(
        is_active=False, left_on=left_on, updated_at=timezone.now()
    )
    if not won:
        raise ServiceError(_("This representative has already left."))
    representative.is_active = False
    representative.left_on = left_on
    record_event(
        actor=actor,
        action="congress.representative_left",
        target=representative,
        unit=term.company,
        before={"is_active": True},
        after={"is_active": False, "left_on": str(left_on), "reason": reason},
    )
    return representative


# --- Sessions -----------------------------------------------------------------------------------


def _check_session_dates(
    term: Term,
    held_on: datetime.date,
    motions_open_on: datetime.date | None,
    motions_close_on: datetime.date | None,
) -> None:
    if not term.starts_on <= held_on <= term.ends_on:
        raise ServiceError(_("The session must be held within the term."), field="held_on")
    if (motions_open_on is None) != (motions_close_on is None):
        raise ServiceError(
            _("Give both the first and the last day of motion collection, or neither."),
            field="motions_close_on",
        )
    if motions_open_on and motions_close_on and motions_close_on < motions_open_on:
        raise ServiceError(
            _("Motion collection must close on or after the day it opens."),
            field="motions_close_on",
        )


@transaction.atomic
def session_create(
    *,
    actor: User,
    term: Term,
    number: int,
    title: str,
    held_on: datetime.date,
    kind: str = SessionKind.PLENARY,
    motions_open_on: datetime.date | None = None,
    motions_close_on: datetime.date | None = None,
    agenda: str = "",
) -> Session:
    _require_manage(actor, term.company)
    if kind not in SessionKind.values:
        raise ServiceError(_("Choose a kind of session."), field="kind")
    if number < 1:
        raise ServiceError(_("Give the session's number (1 or more)."), field="number")
    title = clean_text(title, field="title", limit=MAX_TITLE)
    agenda = clean_text(agenda, field="agenda", required=False)
    _check_session_dates(term, held_on, motions_open_on, motions_close_on)
    if Session.objects.filter(term=term, kind=kind, number=number).exists():
        raise ServiceError(_("This term already has a session with this number."), field="number")
    session = Session.objects.create(
        term=term,
        number=number,
        title=title,
        kind=kind,
        held_on=held_on,
        motions_open_on=motions_open_on,
        motions_close_on=motions_close_on,
        agenda=agenda,
    )
    record_event(
        actor=actor,
        action="congress.session_created",
        target=session,
        unit=term.company,
        after={"number": number, "kind": kind, "held_on": str(held_on), "title": title},
    )
    return session


SESSION_FIELDS = ("title", "held_on", "motions_open_on", "motions_close_on", "agenda")


@transaction.atomic
def session_update(
    *,
    actor: User,
    session: Session,
    title: str,
    held_on: datetime.date,
    motions_open_on: datetime.date | None,
    motions_close_on: datetime.date | None,
    agenda: str,
) -> Session:
    term = session.term
    _require_manage(actor, term.company)
    current = Session.objects.select_for_update().get(pk=session.pk)
    if current.status == SessionStatus.CLOSED:
        raise ServiceError(_("A closed session is not changed."))
    new: dict[str, Any] = {
        "title": clean_text(title, field="title", limit=MAX_TITLE),
        "held_on": held_on,
        "motions_open_on": motions_open_on,
        "motions_close_on": motions_close_on,
        "agenda": clean_text(agenda, field="agenda", required=False),
    }
    _check_session_dates(term, held_on, motions_open_on, motions_close_on)
    before = {k: getattr(current, k) for k in SESSION_FIELDS if getattr(current, k) != new[k]}
    after = {k: new[k] for k in before}
    if not before:
        return current
    Session.objects.filter(pk=current.pk).update(**new, updated_at=timezone.now())
    for key, value in new.items():
        setattr(current, key, value)
    record_event(
        actor=actor,
        action="congress.session_updated",
        target=current,
        unit=term.company,
        before={k: str(v) for k, v in before.items()},
        after={k: str(v) for k, v in after.items()},
    )
    return current


SESSION_STEPS: dict[str, tuple[str, str]] = {
    # step → (from status, to status)
    "open": (SessionStatus.PLANNED, SessionStatus.OPEN),
    "close": (SessionStatus.OPEN, SessionStatus.CLOSED),
}


@transaction.atomic
def session_set_status(*, actor: User, session: Session, step: str) -> Session:
    if step not in SESSION_STEPS:
        raise ServiceError(_("Unknown step."))
    _require_manage(actor, session.term.company)
    source, target = SESSION_STEPS[step]
    won = Session.objects.filter(pk=session.pk, status=source).update(
        status=target, updated_at=timezone.now()
    )
    if not won:
        current = Session.objects.get(pk=session.pk)
        raise ServiceError(
            _("This session is now “%(status)s”; the step was not taken.")
            % {"status": current.get_status_display()}
        )
    session.status = target
    record_event(
        actor=actor,
        action=f"congress.session_{'opened' if step == 'open' else 'closed'}",
        target=session,
        unit=session.term.company,
        before={"status": source},
        after={"status": target},
    )
    return session


# --- Attendance ---------------------------------------------------------------------------------


def _insert_attendance(
    session: Session, representative: Representative, by: User | None
) -> Attendance | None:
    """Insert the check-in; None when it already exists (the unique constraint decides, so
    two taps at once record one check-in)."""
    try:
        with transaction.atomic():
            return Attendance.objects.create(
                session=session,
                representative=representative,
                checked_in_at=timezone.now(),
                checked_in_by=by,
            )
    except IntegrityError:
        return None


@transaction.atomic
def attendance_check_in(*, actor: User, session: Session) -> Attendance:
    """The representative checks themselves in, on the day of an open session."""

    rep = representative_for(actor, session.term)
    if rep is None:
        raise ServiceError(_("Only the term's representatives check in."))
    if session.status != SessionStatus.OPEN:
        raise ServiceError(_("Check-in is possible only while the session is open."))
    if session.held_on != timezone.localdate():
        raise ServiceError(_("Check-in is possible only on the day of the session."))
    attendance = _insert_attendance(session, rep, None)
    if attendance is None:
        raise ServiceError(_("You are already checked in."))
    # Came after all: a leave recorded for the session no longer applies.
    on_leave = LeaveOfAbsence.objects.filter(session=session, representative=rep).delete()[0]
    record_event(
        actor=actor,
        action="congress.checked_in",
        target=session,
        unit=session.term.company,
        after={
            "representative": actor.employee_no,
            "by": "self",
            "at": attendance.checked_in_at.isoformat(),
            **({"leave_cancelled": True} if on_leave else {}),
        },
    )
    return attendance


MAX_LEAVE_REASON = 200


@transaction.atomic
def attendance_record(
    *,
    actor: User,
    session: Session,
    present: set[int],
    leave: dict[int, str] | None = None,
) -> tuple[int, int]:
    """The union office records attendance from the roster: ``present`` is the set of
    representative ids to be marked present; others checked in before are removed (their
    check-in times are kept for those who stay). ``leave`` (when given) maps the ids of the
    representatives on leave of absence (请假) to the reason; others' leaves are removed. A
    representative is never both present and on leave. Returns (added, removed)."""
    if not policy.can_record_attendance(actor, session):
        if session.status == SessionStatus.CLOSED:
            raise ServiceError(_("The session is closed; its attendance is final."))
        raise ServiceError(_("Only the union office records attendance."))
    seated = Representative.objects.filter(term=session.term, is_active=True)
    reps = {r.pk: r for r in seated.select_related("user")}
    excused = {
        pk: clean_text(
            reason or "",
            field="leave",
            required=False,
            limit=MAX_LEAVE_REASON,
            too_long=_("A reason for leave is too long."),
        )
        for pk, reason in (leave or {}).items()
    }
    unknown = (present | set(excused)) - set(reps)
    if unknown:
        raise ServiceError(_("Some of the people ticked are not representatives of this term."))
    both = sorted(present & set(excused))
    if both:
        raise ServiceError(
            _("%(name)s is ticked both present and on leave; choose one.")
            % {"name": reps[both[0]].user.name}
        )
    already = set(
        Attendance.objects.filter(session=session).values_list("representative_id", flat=True)
    )
    added = [pk for pk in sorted(present - already) if _insert_attendance(session, reps[pk], actor)]
    removed = sorted(already - present)
    if removed:
        Attendance.objects.filter(session=session, representative_id__in=removed).delete()
    leave_changes = _record_leaves(session, excused, actor) if leave is not None else {}
    if added or removed or leave_changes:
        record_event(
            actor=actor,
            action="congress.attendance_recorded",
            target=session,
            unit=session.term.company,
            after={
                "added": [reps[pk].user.employee_no for pk in added],
                "removed": sorted(removed),
                **leave_changes,
            },
        )
    return len(added), len(removed)


def _record_leaves(session: Session, excused: dict[int, str], actor: User) -> dict[str, Any]:
    """Make the session's leaves exactly ``excused`` (id → reason); the changes, for the
    audit event (empty when nothing changed)."""
    current = {
        leave.representative_id: leave for leave in LeaveOfAbsence.objects.filter(session=session)
    }
    gone = sorted(set(current) - set(excused))
    if gone:
        LeaveOfAbsence.objects.filter(session=session, representative_id__in=gone).delete()
    now = timezone.now()
    new = sorted(set(excused) - set(current))
    LeaveOfAbsence.objects.bulk_create(
        [
            LeaveOfAbsence(
                session=session,
                representative_id=pk,
                reason=excused[pk],
                recorded_at=now,
                recorded_by=actor,
            )
            for pk in new
        ]
    )
    changed = sorted(pk for pk in set(excused) & set(current) if current[pk].reason != excused[pk])
    for pk in changed:
        LeaveOfAbsence.objects.filter(pk=current[pk].pk).update(
            reason=excused[pk], recorded_at=now, recorded_by=actor
        )
    changes: dict[str, Any] = {}
    if new or changed:
        changes["leave"] = {str(pk): excused[pk] for pk in [*new, *changed]}
    if gone:
        changes["leave_removed"] = gone
    return changes
