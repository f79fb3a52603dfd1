"""State changes of the publicity app: the calendar, windows, objections, findings and
outcomes. Each validates, runs in one transaction, and writes its audit event in it.

``at`` (where present) enters a record with a past date, the way records from the paper
boards are entered by the demo; views never pass it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.files import PreparedFile, prepare_upload, store_records
from gongkai.core.models import CalendarDay, DayKind
from gongkai.core.text import clean_text
from gongkai.core.workdays import add_working_days, working_days_between
from gongkai.core.workflow import Workflow, rows
from gongkai.disclosure.models import Disclosure
from gongkai.notify.workflow import Notice, tell
from gongkai.policy.rules import Action, can
from gongkai.publicity import permissions as policy
from gongkai.publicity.events import emit_opened
from gongkai.publicity.models import (
    Finding,
    Objection,
    ObjectionEvidence,
    Outcome,
    Publicity,
    PublicityKind,
)

CADRE_WORKING_DAYS = 5  # 干部任前公示: not less than five working days
MAX_WINDOW_DAYS = 90
MAX_START_AHEAD_DAYS = 60
OBJECTION_MIN_CHARS = 10
OBJECTION_MAX_CHARS = 5000
FINDING_MAX_CHARS = 5000
OUTCOME_MAX_CHARS = 5000
MAX_EVIDENCE_FILES = 5


# An objection's finding and a window's outcome are each recorded once, by the holders of the
# action: the field goes from empty to one of its values.
FINDINGS = Workflow(
    model=Objection,
    field="finding",
    table=[
        row
        for finding in Finding.values
        for row in rows("record", [None], finding, Action.OBJECTION_REVIEW)
    ],
    stale=gettext_lazy("A finding was already recorded for this objection."),
    lost=gettext_lazy("A finding was already recorded for this objection."),
)
OUTCOMES = Workflow(
    model=Publicity,
    field="outcome",
    table=[
        row
        for outcome in Outcome.values
        for row in rows("publish", [None], outcome, Action.PUBLICITY_OPEN)
    ],
    stale=gettext_lazy("The outcome was already published."),
    lost=gettext_lazy("The outcome was already published."),
)


def _today(at: datetime | None) -> date:
    return timezone.localdate(at) if at is not None else timezone.localdate()


def format_day(value: date) -> str:
    return date_format(value, "DATE_FORMAT")


def publicity_url(publicity: Publicity) -> str:
    return f"/publicity/{publicity.pk}/"


# --- Calendar ---------------------------------------------------------------------------------


@transaction.atomic
def calendar_day_add(*, actor: User, day: date, kind: str, name: str = "") -> CalendarDay:
    if not can(actor, Action.CALENDAR_MANAGE):
        raise ServiceError(_("You may not change the working-day calendar."))
    if kind not in DayKind.values:
        raise ServiceError(_("Choose a public holiday or an adjusted working day."), field="kind")
    name = name.strip()
    if len(name) > 60:
        raise ServiceError(_("The name is too long (at most 60 characters)."), field="name")
    if kind == DayKind.WORKDAY and day.weekday() < 5:
        raise ServiceError(
            _(
                "%(day)s is a weekday, which is a working day anyway. An adjusted working "
                "day is a Saturday or Sunday that is worked."
            )
            % {"day": format_day(day)},
            field="day",
        )
    if CalendarDay.objects.filter(day=day).exists():
        raise ServiceError(
            _("%(day)s is already on the calendar. Remove it first to change it.")
            % {"day": format_day(day)},
            field="day",
        )
    try:
        with transaction.atomic():
            entry = CalendarDay.objects.create(day=day, kind=kind, name=name, created_by=actor)
    except IntegrityError:
        raise ServiceError(
            _("%(day)s is already on the calendar. Remove it first to change it.")
            % {"day": format_day(day)},
            field="day",
        ) from None
    record_event(
        actor=actor,
        action="calendar.day_added",
        target=entry,
        after={"day": day.isoformat(), "kind": kind, "name": name},
    )
    return entry


@transaction.atomic
def calendar_day_remove(*, actor: User, entry: CalendarDay) -> None:
    if not can(actor, Action.CALENDAR_MANAGE):
        raise ServiceError(_("You may not change the working-day calendar."))
    current = CalendarDay.objects.select_for_update().filter(pk=entry.pk).first()
    if current is None:
        raise ServiceError(_("That day was already removed from the calendar."))
    record_event(
        actor=actor,
        action="calendar.day_removed",
        target=current,
        before={"day": current.day.isoformat(), "kind": current.kind, "name": current.name},
    )
    current.delete()


# --- Windows ----------------------------------------------------------------------------------


def cadre_default_end(starts_on: date) -> date:
    """The end of a cadre pre-appointment publicity: five working days after the start."""
    return add_working_days(starts_on, CADRE_WORKING_DAYS)


@transaction.atomic
def publicity_open(
    *,
    actor: User,
    disclosure: Disclosure,
    kind: str,
    starts_on: date,
    ends_on: date | None = None,
    at: datetime | None = None,
) -> Publicity:
    """Open a publicity window on a published disclosure of the actor's units."""
    locked = (
        Disclosure.objects.select_for_update(of=("self",))
        .select_related("unit", "published_revision")
        .get(pk=disclosure.pk)
    )
    if not locked.is_published or locked.is_nil:
        raise ServiceError(_("Only a published disclosure can be put up for publicity."))
    if not policy.can_open_publicity(actor, locked):
        raise ServiceError(_("You may not open a publicity window for this unit."))
    if kind not in PublicityKind.values:
        raise ServiceError(_("Choose the kind of publicity."), field="kind")
    today = _today(at)
    if starts_on < today:
        raise ServiceError(_("The window cannot start in the past."), field="starts_on")
    if starts_on > today + timedelta(days=MAX_START_AHEAD_DAYS):
        raise ServiceError(
            _("The window must start within %(days)s days.") % {"days": MAX_START_AHEAD_DAYS},
            field="starts_on",
        )
    if ends_on is None:
        if kind != PublicityKind.CADRE:
            raise ServiceError(_("Choose the last day of the window."), field="ends_on")
        ends_on = cadre_default_end(starts_on)
    if ends_on < starts_on:
        raise ServiceError(_("The window cannot end before it starts."), field="ends_on")
    if (ends_on - starts_on).days > MAX_WINDOW_DAYS:
        raise ServiceError(
            _("A window can last at most %(days)s days.") % {"days": MAX_WINDOW_DAYS},
            field="ends_on",
        )
    if kind == PublicityKind.CADRE and (
        working_days_between(starts_on, ends_on) < CADRE_WORKING_DAYS
    ):
        raise ServiceError(
            _(
                "A cadre pre-appointment publicity lasts at least %(n)s working days: "
                "end it on %(day)s or later."
            )
            % {"n": CADRE_WORKING_DAYS, "day": format_day(cadre_default_end(starts_on))},
            field="ends_on",
        )
    if Publicity.objects.filter(disclosure=locked, outcome__isnull=True).exists():
        raise ServiceError(
            _("This disclosure already has a publicity window without a published outcome.")
        )
    publicity = Publicity.objects.create(
        disclosure=locked, kind=kind, starts_on=starts_on, ends_on=ends_on, opened_by=actor
    )
    record_event(
        actor=actor,
        action="publicity.opened",
        target=publicity,
        unit=locked.unit,
        after={
            "disclosure": locked.pk,
            "kind": kind,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
        },
    )
    if starts_on <= today:
        # Open from today: told now. A later start is told by the hourly window_events.
        emit_opened(publicity)
    return publicity


def closed_message(publicity: Publicity, today: date) -> str:
    if today < publicity.starts_on:
        return _("The publicity window opens on %(day)s; objections can be filed from then.") % {
            "day": format_day(publicity.starts_on)
        }
    return _("The publicity window closed on %(day)s; objections can no longer be filed.") % {
        "day": format_day(publicity.ends_on)
    }


# --- Objections -------------------------------------------------------------------------------


def _too_long(limit: int, length: int) -> str:
    return _("The text is too long (%(count)s characters; at most %(n)s).") % {
        "count": length,
        "n": limit,
    }


def _clean_objection(text: str) -> str:
    return clean_text(
        text,
        field="text",
        minimum=OBJECTION_MIN_CHARS,
        limit=OBJECTION_MAX_CHARS,
        too_short=_("Describe the facts in at least %(n)s characters.")
        % {"n": OBJECTION_MIN_CHARS},
        too_long=_too_long,
    )


def _prepare_evidence(uploads: Sequence[UploadedFile]) -> list[PreparedFile]:
    """Read, sniff and clean the evidence files; the first refused one refuses them all."""
    if len(uploads) > MAX_EVIDENCE_FILES:
        raise ServiceError(
            _("Attach at most %(n)s files.") % {"n": MAX_EVIDENCE_FILES}, field="evidence"
        )
    prepared: list[PreparedFile] = []
    for upload in uploads:
        try:
            prepared.append(prepare_upload(upload))
        except ServiceError as error:
            raise ServiceError(
                _("%(name)s: %(reason)s") % {"name": upload.name, "reason": error.message},
                field="evidence",
            ) from error
    return prepared


def _announce_objection(
    *, actor: User, objection: Objection, evidence: Sequence[ObjectionEvidence]
) -> None:
    """The audit event (without the actor when anonymous) and the reviewers' notice."""
    locked = objection.publicity
    record_event(
        actor=None if objection.anonymous else actor,
        action="objection.filed",
        target=objection,
        unit=locked.disclosure.unit,
        target_label=_("Objection to: %(title)s") % {"title": locked.disclosure.title},
        after={
            "publicity": locked.pk,
            "anonymous": objection.anonymous,
            "evidence": [e.sha256 for e in evidence],
        },
    )
    message = _("A new objection to the publicity of: %(title)s") % {
        "title": locked.disclosure.title
    }
    reviewers = (locked.disclosure.unit,)
    tell(
        Notice(message, publicity_url(locked), Action.OBJECTION_REVIEW, reviewers),
        actor=actor,
    )


def _lock_open(publicity: Publicity, today: date) -> Publicity:
    """The window, locked, with its disclosure; refused if it closed meanwhile."""
    locked = (
        Publicity.objects.select_for_update(of=("self",))
        .select_related("disclosure__unit", "disclosure__published_revision")
        .get(pk=publicity.pk)
    )
    if locked.state_on(today) != "open":
        raise ServiceError(closed_message(locked, today))
    return locked


def objection_file(
    *,
    actor: User,
    publicity: Publicity,
    text: str,
    anonymous: bool,
    uploads: Sequence[UploadedFile] = (),
    at: datetime | None = None,
) -> Objection:
    """File an objection while the window is open. Evidence files are read, sniffed and
    cleaned before the transaction (images take time), and nothing is stored if any is
    refused. An anonymous objection's audit event carries no actor: the audit log is read by
    the union office, who must not learn the filer."""
    today = _today(at)
    if not policy.can_file_objection(actor, publicity):
        raise ServiceError(_("You may not file an objection to this publicity."))
    if publicity.state_on(today) != "open":
        raise ServiceError(closed_message(publicity, today))
    text = _clean_objection(text)
    prepared = _prepare_evidence(uploads)
    stored: list[ObjectionEvidence] = []
    try:
        with transaction.atomic():
            locked = _lock_open(publicity, today)
            objection = Objection.objects.create(
                publicity=locked,
                filed_by=actor,
                filed_on=today,
                anonymous=anonymous,
                text=text,
            )
            store_records(ObjectionEvidence, prepared, stored=stored, objection=objection)
            _announce_objection(actor=actor, objection=objection, evidence=stored)
    except Exception:
        for evidence in stored:
            evidence.file.delete(save=False)
        raise
    return objection


@transaction.atomic
def objection_finding_record(
    *,
    actor: User,
    objection: Objection,
    finding: str,
    text: str,
    at: datetime | None = None,
) -> Objection:
    """The supervision group's finding on an objection; recorded once."""
    locked = (
        Objection.objects.select_for_update(of=("self",))
        .select_related("publicity__disclosure__unit", "filed_by")
        .get(pk=objection.pk)
    )
    if not policy.can_review_objections(actor, locked.publicity):
        raise ServiceError(_("You may not record findings on these objections."))
    FINDINGS.check(locked, "record")
    if finding not in Finding.values:
        raise ServiceError(_("Choose a finding."), field="finding")
    text = clean_text(
        text,
        field="text",
        limit=FINDING_MAX_CHARS,
        empty=_("Explain the finding."),
        too_long=_too_long,
    )
    FINDINGS.apply(
        locked,
        "record",
        target=finding,
        changes={
            "finding_text": text,
            "finding_recorded_at": at or timezone.now(),
            "finding_recorded_by": actor,
        },
    )
    record_event(
        actor=actor,
        action="objection.finding_recorded",
        target=locked,
        unit=locked.publicity.disclosure.unit,
        target_label=_("Objection to: %(title)s") % {"title": locked.publicity.disclosure.title},
        after={"finding": finding, "text": text},
    )
    message = _("A finding was recorded on your objection to: %(title)s") % {
        "title": locked.publicity.disclosure.title
    }
    tell(Notice(message, publicity_url(locked.publicity), people=[locked.filed_by]), actor=actor)
    return locked


# --- Outcome ----------------------------------------------------------------------------------


@transaction.atomic
def publicity_outcome_publish(
    *,
    actor: User,
    publicity: Publicity,
    outcome: str,
    text: str,
    at: datetime | None = None,
) -> Publicity:
    """Publish the outcome once the window has closed and every objection has a finding."""
    locked = (
        Publicity.objects.select_for_update(of=("self",))
        .select_related("disclosure__unit", "disclosure__published_revision")
        .get(pk=publicity.pk)
    )
    if not policy.can_publish_outcome(actor, locked):
        raise ServiceError(_("You may not publish the outcome of this publicity."))
    OUTCOMES.check(locked, "publish")
    today = _today(at)
    if locked.state_on(today) != "closed":
        raise ServiceError(
            _("The window is open until %(day)s; publish the outcome after it closes.")
            % {"day": format_day(locked.ends_on)}
        )
    if outcome not in Outcome.values:
        raise ServiceError(_("Choose the outcome."), field="outcome")
    objections = list(locked.objections.all())
    waiting = sum(1 for o in objections if o.finding is None)
    if waiting:
        raise ServiceError(
            _(
                "%(n)s objection(s) have no finding yet. The supervision group records a "
                "finding on each before the outcome is published."
            )
            % {"n": waiting}
        )
    if objections and outcome == Outcome.NO_OBJECTION:
        raise ServiceError(
            _("Objections were filed; choose an outcome that answers them."), field="outcome"
        )
    if not objections and outcome == Outcome.UNFOUNDED:
        raise ServiceError(
            _("No objection was filed; choose “No objection was raised”."), field="outcome"
        )
    text = clean_text(
        text,
        field="text",
        required=outcome != Outcome.NO_OBJECTION,
        limit=OUTCOME_MAX_CHARS,
        empty=_("Explain the outcome."),
        too_long=_too_long,
    )
    OUTCOMES.apply(
        locked,
        "publish",
        target=outcome,
        changes={
            "outcome_text": text,
            "outcome_published_at": at or timezone.now(),
            "outcome_published_by": actor,
            "updated_at": timezone.now(),
        },
    )
    record_event(
        actor=actor,
        action="publicity.outcome_published",
        target=locked,
        unit=locked.disclosure.unit,
        after={"outcome": outcome, "text": text, "objections": len(objections)},
    )
    return locked
