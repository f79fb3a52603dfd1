"""Patrols (巡视), employee directors' reports (履职情况) and meetings (supplementary forms).

Patrol reports, directors' reports and meeting decisions are published as disclosures through the
disclosure services, so they go through the same review (层层把关) and land on the board,
the ledger and the compliance figures like every other disclosure.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.congress import permissions as policy
from gongkai.congress.models import DirectorReport, Meeting, MeetingKind, Patrol, PatrolReport
from gongkai.congress.services import MAX_TITLE
from gongkai.core.errors import ServiceError
from gongkai.core.text import clean_text
from gongkai.disclosure.models import CatalogEntry, Disclosure
from gongkai.disclosure.services import Transition, disclosure_create, disclosure_transition
from gongkai.notify.workflow import Notice, tell
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.policy.rules import Action, company_of

DIRECTOR_ENTRY = "director-performance"
MEETING_ENTRY = "meeting-decisions"
PATROL_ENTRY = "patrol-report"  # per event, companies, departments and teams (0005)


def html_of(text: str) -> str:
    """Plain text as safe paragraphs for a disclosure's rich-text fields."""
    return linebreaks(escape(text)) if text else ""


# --- Patrols ------------------------------------------------------------------------------------


@transaction.atomic
def patrol_record(
    *,
    actor: User,
    company: OrgUnit,
    patrolled_on: datetime.date,
    units: Iterable[OrgUnit],
    findings: str,
    suggestions: str = "",
    participants: str = "",
) -> Patrol:
    """A representative (or the union office) records a patrol. It is not published yet:
    the union office sends its report to the visited units' boards (:func:`patrol_send`)."""
    if not policy.can_record_patrol(actor, company):
        raise ServiceError(_("Only representatives and the union office record patrols."))
    visited = list(units)
    if not visited:
        raise ServiceError(_("Choose the units visited."), field="units")
    if any(not u.is_within(company) for u in visited):
        raise ServiceError(_("Choose units of this company."), field="units")
    if patrolled_on > timezone.localdate():
        raise ServiceError(_("A patrol is recorded after it took place."), field="patrolled_on")
    findings = clean_text(findings, field="findings")
    suggestions = clean_text(suggestions, field="suggestions", required=False)
    participants = clean_text(participants, field="participants", required=False, limit=300)
    patrol = Patrol.objects.create(
        company=company,
        author=actor,
        patrolled_on=patrolled_on,
        findings=findings,
        suggestions=suggestions,
        participants=participants,
    )
    patrol.units.set(visited)
    record_event(
        actor=actor,
        action="congress.patrol_recorded",
        target=patrol,
        unit=company,
        after={"date": str(patrolled_on), "units": [u.code for u in visited]},
    )
    return patrol


def _patrol_procedure(patrol: Patrol, units: list[OrgUnit]) -> str:
    parts = [
        _("Patrol by employee representatives on %(date)s of %(units)s.")
        % {"date": patrol.patrolled_on, "units": "、".join(u.name for u in units)}
    ]
    if patrol.participants:
        parts.append(_("Participants: %(names)s") % {"names": patrol.participants})
    return "\n\n".join(parts)


def _patrol_result(patrol: Patrol) -> str:
    parts = [_("Findings:") + "\n" + patrol.findings]
    if patrol.suggestions:
        parts.append(_("Suggestions:") + "\n" + patrol.suggestions)
    return "\n\n".join(parts)


@transaction.atomic
def patrol_send(
    *, actor: User, patrol: Patrol, at: datetime.datetime | None = None
) -> list[PatrolReport]:
    """The union office sends the patrol's report to the board of each unit visited: a
    disclosure of that unit (entry “patrol-report”, the patrol's date), submitted for the
    unit's normal approval; the unit's head is told. ``at`` back-dates the submission; only
    for entering past records by the system (the demo) — pages never pass it."""
    current = Patrol.objects.select_for_update().select_related("company").get(pk=patrol.pk)
    if not policy.can_send_patrol(actor, current):
        if PatrolReport.objects.filter(patrol=current).exists():
            raise ServiceError(_("This patrol's report has already been sent for publication."))
        raise ServiceError(_("Only the union office sends patrol reports for publication."))
    entry = CatalogEntry.objects.filter(code=PATROL_ENTRY).first()
    if entry is None:
        raise ServiceError(_("The catalog has no entry for patrol reports."))
    units = list(current.units.order_by("path"))
    title = _("Patrol by employee representatives, %(date)s") % {"date": current.patrolled_on}
    procedure = html_of(_patrol_procedure(current, units))
    result = html_of(_patrol_result(current))
    now = at or timezone.now()
    reports = []
    for unit in units:
        disclosure = disclosure_create(
            actor=actor,
            unit=unit,
            entry=entry,
            title=title,
            procedure=procedure,
            result=result,
            event_date=current.patrolled_on,
        )
        disclosure = disclosure_transition(
            actor=actor, disclosure=disclosure, transition=Transition.SUBMIT, at=now
        )
        reports.append(
            PatrolReport.objects.create(
                patrol=current, unit=unit, disclosure=disclosure, sent_by=actor, sent_at=now
            )
        )
    record_event(
        actor=actor,
        action="congress.patrol_sent",
        target=current,
        unit=current.company,
        after={"units": [u.code for u in units], "disclosures": [r.disclosure_id for r in reports]},
    )
    message = _(
        "Employee representatives patrolled your unit on %(date)s; their report is sent to "
        "your board for approval and publication."
    ) % {"date": current.patrolled_on}
    url = reverse("congress:patrol_detail", args=[current.pk])
    tell(Notice(message, url, Action.DISCLOSURE_APPROVE, tuple(units)), actor=actor)
    return reports


# --- Employee directors' reports ---------------------------------------------------------------


@transaction.atomic
def director_report_write(
    *, actor: User, company: OrgUnit, year: int, title: str, text: str
) -> DirectorReport:
    """An employee director or supervisor writes (or rewrites, until it is sent for
    publication) their report for a year."""
    if not policy.can_write_director_report(actor, company):
        raise ServiceError(_("Only employee directors and supervisors write these reports."))
    this_year = timezone.localdate().year
    if not 2000 <= year <= this_year:
        raise ServiceError(_("Choose a year up to the current one."), field="year")
    title = clean_text(title, field="title", limit=MAX_TITLE)
    text = clean_text(text, field="text")
    report = DirectorReport.objects.select_for_update().filter(author=actor, year=year).first()
    if report is not None and report.disclosure_id is not None:
        raise ServiceError(
            _("This report has been sent for publication; corrections go through the disclosure.")
        )
    if report is None:
        report = DirectorReport.objects.create(
            company=company, author=actor, year=year, title=title, text=text
        )
        verb = "written"
    else:
        report.title, report.text = title, text
        report.save(update_fields=["title", "text", "updated_at"])
        verb = "rewritten"
    record_event(
        actor=actor,
        action=f"congress.director_report_{verb}",
        target=report,
        unit=company,
        after={"year": year, "title": title},
    )
    return report


@transaction.atomic
def director_report_publish(*, actor: User, report: DirectorReport) -> Disclosure:
    """The union office drafts the disclosure (entry “director-performance”, the report's
    year) and submits it for approval; the disclosure workflow publishes it."""
    if not policy.can_publish_director_report(actor, report.company):
        raise ServiceError(_("Only the union office sends these reports for publication."))
    current = DirectorReport.objects.select_for_update().get(pk=report.pk)
    if current.disclosure_id is not None:
        raise ServiceError(_("This report has already been sent for publication."))
    entry = CatalogEntry.objects.get(code=DIRECTOR_ENTRY)
    procedure = _(
        "Written by %(name)s, employee director/supervisor, for %(year)s; "
        "sent for publication by the union office."
    ) % {"name": current.author.name, "year": current.year}
    disclosure = disclosure_create(
        actor=actor,
        unit=current.company,
        entry=entry,
        title=current.title,
        procedure=html_of(procedure),
        result=html_of(current.text),
        period=str(current.year),
    )
    disclosure = disclosure_transition(
        actor=actor, disclosure=disclosure, transition=Transition.SUBMIT
    )
    DirectorReport.objects.filter(pk=current.pk).update(disclosure=disclosure)
    report.disclosure = disclosure
    record_event(
        actor=actor,
        action="congress.director_report_sent",
        target=report,
        unit=current.company,
        after={"disclosure": disclosure.pk},
    )
    return disclosure


# --- Meetings -----------------------------------------------------------------------------------


def _check_meeting(unit: OrgUnit, kind: str, held_on: datetime.date) -> None:
    if kind not in MeetingKind.values:
        raise ServiceError(_("Choose a kind of meeting."), field="kind")
    if kind == MeetingKind.TEAM_DEMOCRATIC and unit.kind != UnitKind.TEAM:
        raise ServiceError(
            _("A team democratic management meeting is held by a team."), field="unit"
        )
    if kind in (MeetingKind.BOARD, MeetingKind.CONGRESS_JOINT) and unit.kind != UnitKind.COMPANY:
        raise ServiceError(_("This kind of meeting is held by a company."), field="unit")
    if held_on > timezone.localdate():
        raise ServiceError(_("A meeting is recorded after it was held."), field="held_on")


@transaction.atomic
def meeting_record(
    *,
    actor: User,
    unit: OrgUnit,
    kind: str,
    title: str,
    held_on: datetime.date,
    minutes: str,
    agenda: str = "",
    decisions: str = "",
    concerns_employees: bool = False,
    attendees: Iterable[User] = (),
    attendees_text: str = "",
) -> Meeting:
    if not policy.can_record_meeting(actor, unit):
        raise ServiceError(_("You may not record meetings of this unit."), field="unit")
    _check_meeting(unit, kind, held_on)
    title = clean_text(title, field="title", limit=MAX_TITLE)
    minutes = clean_text(minutes, field="minutes")
    agenda = clean_text(agenda, field="agenda", required=False)
    decisions = clean_text(decisions, field="decisions", required=False)
    attendees_text = clean_text(attendees_text, field="attendees_text", required=False)
    if concerns_employees and not decisions:
        raise ServiceError(
            _("Record the decisions: they concern employees and must be published."),
            field="decisions",
        )
    meeting = Meeting.objects.create(
        unit=unit,
        kind=kind,
        title=title,
        held_on=held_on,
        minutes=minutes,
        agenda=agenda,
        decisions=decisions,
        concerns_employees=concerns_employees,
        attendees_text=attendees_text,
        recorded_by=actor,
    )
    people = list(attendees)
    if people:
        meeting.attendees.set(people)
    record_event(
        actor=actor,
        action="congress.meeting_recorded",
        target=meeting,
        unit=unit,
        after={
            "kind": kind,
            "held_on": str(held_on),
            "concerns_employees": concerns_employees,
            "attendees": len(people),
        },
    )
    return meeting


def _meeting_procedure(meeting: Meeting) -> str:
    names = ", ".join(u.name for u in meeting.attendees.all())
    parts = [
        _("%(kind)s of %(unit)s held on %(date)s.")
        % {"kind": meeting.get_kind_display(), "unit": meeting.unit.name, "date": meeting.held_on},
    ]
    if names or meeting.attendees_text:
        parts.append(
            _("Attendees: %(names)s")
            % {"names": "; ".join(x for x in (names, meeting.attendees_text) if x)}
        )
    if meeting.agenda:
        parts.append(_("Agenda:") + "\n" + meeting.agenda)
    return "\n\n".join(parts)


def _meeting_result(meeting: Meeting) -> str:
    parts = [_("Minutes:") + "\n" + meeting.minutes]
    if meeting.decisions:
        parts.append(_("Decisions:") + "\n" + meeting.decisions)
    return "\n\n".join(parts)


@transaction.atomic
def meeting_publish(*, actor: User, meeting: Meeting) -> Disclosure:
    """Draft the unit's disclosure (entry “meeting-decisions”, the meeting's date) with the
    minutes and decisions and submit it for approval."""
    if not policy.can_record_meeting(actor, meeting.unit):
        raise ServiceError(_("You may not publish meetings of this unit."))
    current = Meeting.objects.select_for_update().select_related("unit").get(pk=meeting.pk)
    if current.disclosure_id is not None:
        raise ServiceError(_("This meeting has already been sent for publication."))
    entry = CatalogEntry.objects.get(code=MEETING_ENTRY)
    disclosure = disclosure_create(
        actor=actor,
        unit=current.unit,
        entry=entry,
        title=current.title,
        procedure=html_of(_meeting_procedure(current)),
        result=html_of(_meeting_result(current)),
        event_date=current.held_on,
    )
    disclosure = disclosure_transition(
        actor=actor, disclosure=disclosure, transition=Transition.SUBMIT
    )
    Meeting.objects.filter(pk=current.pk).update(disclosure=disclosure, updated_at=timezone.now())
    meeting.disclosure = disclosure
    record_event(
        actor=actor,
        action="congress.meeting_sent",
        target=meeting,
        unit=current.unit,
        after={"disclosure": disclosure.pk},
    )
    return disclosure


def meeting_company(meeting: Meeting) -> OrgUnit | None:
    return company_of(meeting.unit)
