"""The motion (提案) workflow: a transition table and one service per step.

draft → seeking (seconds) → submitted → registered → assigned → answered → closed
                                      ↘ merged      ↗ sent_back (once) ↗
                                      ↘ declined (→ a suggestion)

While a motion is assigned (or sent back), each assisting unit (协办) answers for itself
(``assist``: the status stays, the lead unit is told); the lead unit's answer page shows those
answers. Every answer is a :class:`MotionAnswer` row, so a second answer never hides the first.

Every step checks the policy, moves the status with a conditional UPDATE (of two concurrent
steps only one matches: :data:`FLOW`, gongkai.core.workflow) and records an audit event in the
same transaction; notices go to the policy's holders of the next step. Overdue is not
a status: it is derived from ``due_on`` at read time (see ``selectors_motions``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.congress import permissions as policy
from gongkai.congress.models import (
    AnswerRole,
    Motion,
    MotionAnswer,
    MotionSecond,
    MotionStatus,
    Session,
)
from gongkai.congress.services import MAX_TITLE
from gongkai.core.errors import ServiceError
from gongkai.core.satisfaction import Satisfaction
from gongkai.core.text import clean_text
from gongkai.core.workflow import Workflow, rows
from gongkai.notify.services import notify
from gongkai.notify.workflow import Notice, take_step, tell
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action
from gongkai.voice import services as voice
from gongkai.voice.models import SuggestionCategory

M = MotionStatus

PROPOSER = "proposer"  # rating the answer is the proposer's, not a role's

# step, from, to, and the permission it needs. Reassigning a sent-back motion keeps it sent
# back (it still owes a new answer); chasing moves nothing but counts, on the same row.
FLOW = Workflow(
    model=Motion,
    table=[
        *rows("seek", [M.DRAFT], M.SEEKING, Action.MOTION_PROPOSE),
        *rows("submit", [M.DRAFT, M.SEEKING], M.SUBMITTED, Action.MOTION_PROPOSE),
        *rows("register", [M.SUBMITTED], M.REGISTERED, Action.MOTION_HANDLE),
        *rows("merge", [M.SUBMITTED], M.MERGED, Action.MOTION_HANDLE),
        *rows("decline", [M.SUBMITTED], M.DECLINED, Action.MOTION_HANDLE),
        *rows("assign", [M.REGISTERED, M.ASSIGNED], M.ASSIGNED, Action.MOTION_HANDLE),
        *rows("assign", [M.SENT_BACK], M.SENT_BACK, Action.MOTION_HANDLE),
        *rows("chase", [M.ASSIGNED], M.ASSIGNED, Action.MOTION_HANDLE),
        *rows("chase", [M.SENT_BACK], M.SENT_BACK, Action.MOTION_HANDLE),
        *rows("assist", [M.ASSIGNED], M.ASSIGNED, Action.MOTION_ANSWER),
        *rows("assist", [M.SENT_BACK], M.SENT_BACK, Action.MOTION_ANSWER),
        *rows("answer", [M.ASSIGNED, M.SENT_BACK], M.ANSWERED, Action.MOTION_ANSWER),
        *rows("rate", [M.ANSWERED], M.CLOSED, PROPOSER),
        *rows("rate", [M.ANSWERED], M.SENT_BACK, PROPOSER),  # the first "dissatisfied"
    ],
    stale=gettext_lazy("This motion is now “%(status)s”; the step was not taken."),
    lost=gettext_lazy("Someone else acted on this motion first; reload the page."),
)

OPEN_HANDLING = frozenset({M.ASSIGNED, M.SENT_BACK})  # a unit owes an answer
REGISTERED_OR_LATER = frozenset({M.REGISTERED, M.ASSIGNED, M.ANSWERED, M.SENT_BACK, M.CLOSED})
SENT_BACK_DAYS = 15  # the new answer is due at least this many days after a send-back


def is_overdue(motion: Motion, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return motion.status in OPEN_HANDLING and motion.due_on is not None and motion.due_on < today


def collection_open(session: Session, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return (
        session.motions_open_on is not None
        and session.motions_close_on is not None
        and session.motions_open_on <= today <= session.motions_close_on
    )


def _check_collection(session: Session) -> None:
    if collection_open(session):
        return
    if session.motions_open_on is None or session.motions_close_on is None:
        raise ServiceError(_("This session does not collect motions."))
    raise ServiceError(
        _("Motions for this session are collected from %(start)s to %(end)s.")
        % {"start": session.motions_open_on, "end": session.motions_close_on}
    )


def _step(
    *,
    actor: User,
    motion: Motion,
    name: str,
    audit: str,
    changes: dict[str, Any],
    after: dict[str, Any] | None = None,
    target: str | None = None,
    notice: Notice | None = None,
) -> None:
    """Take step ``name`` of FLOW on ``motion`` from the status it has in the database now,
    audited on the term's company as ``motion.<audit>``, and send ``notice``."""
    seen = Motion.objects.values_list("status", flat=True).get(pk=motion.pk)
    take_step(
        FLOW,
        motion,
        name,
        actor=actor,
        audit=f"motion.{audit}",
        unit=motion.session.term.company,
        changes={"updated_at": timezone.now(), **changes},
        target=target,
        seen=seen,
        after=after,
        notice=notice,
    )


def _url(motion: Motion) -> str:
    return reverse("congress:motion_detail", args=[motion.pk])


def _clean_motion(title: str, reasons: str, measures: str) -> tuple[str, str, str]:
    return (
        clean_text(title, field="title", limit=MAX_TITLE),
        clean_text(reasons, field="reasons"),
        clean_text(measures, field="measures"),
    )


# --- The proposer ----------------------------------------------------------------------------


@transaction.atomic
def motion_draft(
    *, actor: User, session: Session, title: str, reasons: str, measures: str
) -> Motion:
    if not policy.can_propose(actor, session):
        raise ServiceError(_("Only the term's representatives propose motions."))
    _check_collection(session)
    title, reasons, measures = _clean_motion(title, reasons, measures)
    motion = Motion.objects.create(
        session=session, proposer=actor, title=title, reasons=reasons, measures=measures
    )
    record_event(
        actor=actor,
        action="motion.drafted",
        target=motion,
        unit=session.term.company,
        after={"status": motion.status, "title": title},
    )
    return motion


@transaction.atomic
def motion_update(
    *, actor: User, motion: Motion, title: str, reasons: str, measures: str
) -> Motion:
    if not policy.can_edit_motion(actor, motion):
        raise ServiceError(_("Only the proposer changes a motion, and only while it is a draft."))
    _check_collection(motion.session)
    title, reasons, measures = _clean_motion(title, reasons, measures)
    won = Motion.objects.filter(pk=motion.pk, status=M.DRAFT).update(
        title=title, reasons=reasons, measures=measures, updated_at=timezone.now()
    )
    if not won:
        raise ServiceError(_("This motion is no longer a draft."))
    before = {"title": motion.title}
    motion.title, motion.reasons, motion.measures = title, reasons, measures
    record_event(
        actor=actor,
        action="motion.updated",
        target=motion,
        unit=motion.session.term.company,
        before=before,
        after={"title": title},
    )
    return motion


@transaction.atomic
def motion_seek_seconds(*, actor: User, motion: Motion) -> Motion:
    """The proposer shows the draft to the other representatives for seconds."""
    if motion.proposer_id != actor.pk or not policy.can_propose(actor, motion.session):
        raise ServiceError(_("Only the proposer asks for seconds."))
    _check_collection(motion.session)
    _step(actor=actor, motion=motion, name="seek", audit="seeking_seconds", changes={})
    return motion


@transaction.atomic
def motion_second(*, actor: User, motion: Motion) -> MotionSecond:
    current = Motion.objects.select_related("session__term__company").get(pk=motion.pk)
    if current.proposer_id == actor.pk:
        raise ServiceError(_("The proposer cannot second their own motion."))
    if not policy.can_propose(actor, current.session):
        raise ServiceError(_("Only the term's representatives second motions."))
    if current.status != M.SEEKING:
        raise ServiceError(_("This motion is not seeking seconds."))
    try:
        with transaction.atomic():
            second = MotionSecond.objects.create(motion=current, user=actor)
    except IntegrityError:
        raise ServiceError(_("You have already seconded this motion.")) from None
    record_event(
        actor=actor,
        action="motion.seconded",
        target=current,
        unit=current.session.term.company,
        after={"seconds": current.seconds.count()},
    )
    notify(
        users=[current.proposer],
        message=_("%(name)s seconded your motion “%(title)s”.")
        % {"name": actor.name, "title": current.title},
        url=_url(current),
    )
    return second


@transaction.atomic
def motion_submit(*, actor: User, motion: Motion) -> Motion:
    """The proposer sends the motion to the committee once it has enough seconds."""
    if motion.proposer_id != actor.pk or not policy.can_propose(actor, motion.session):
        raise ServiceError(_("Only the proposer submits the motion."))
    _check_collection(motion.session)
    required = motion.session.term.motion_seconds_required
    seconds = MotionSecond.objects.filter(motion=motion).count()
    if seconds < required:
        raise ServiceError(
            _(
                "This motion has %(count)s of the %(required)s seconds it needs from other "
                "representatives; it cannot be submitted yet."
            )
            % {"count": seconds, "required": required}
        )
    _step(
        actor=actor,
        motion=motion,
        name="submit",
        audit="submitted",
        changes={"submitted_at": timezone.now()},
        after={"seconds": seconds},
    )
    return motion


# --- The motion committee (union office) -------------------------------------------------------


def _require_handle(actor: User, motion: Motion) -> None:
    if not policy.can_handle(actor, motion):
        raise ServiceError(_("Only the motion committee (the union office) does this."))


@transaction.atomic
def motion_register(*, actor: User, motion: Motion) -> Motion:
    """立案: the motion gets the session's next number."""
    _require_handle(actor, motion)
    # Lock the session row so that two registrations never take the same number (on SQLite
    # the write transaction itself is exclusive).
    Session.objects.select_for_update().filter(pk=motion.session_id).first()
    last = Motion.objects.filter(session_id=motion.session_id).aggregate(n=Max("number"))["n"]
    number = (last or 0) + 1
    message = _("Your motion “%(title)s” is registered as No. %(number)s.") % {
        "title": motion.title,
        "number": number,
    }
    _step(
        actor=actor,
        motion=motion,
        name="register",
        audit="registered",
        changes={"number": number, "registered_at": timezone.now()},
        after={"number": number},
        notice=Notice(message, _url(motion), people=[motion.proposer]),
    )
    return motion


@transaction.atomic
def motion_merge(*, actor: User, motion: Motion, into: Motion) -> Motion:
    """A duplicate joins a registered motion of the same session."""
    _require_handle(actor, motion)
    if into.pk == motion.pk or into.session_id != motion.session_id:
        raise ServiceError(_("Choose another motion of the same session."), field="into")
    target = Motion.objects.get(pk=into.pk)
    if target.status not in REGISTERED_OR_LATER:
        raise ServiceError(
            _("A motion is merged into a registered one; register that one first."), field="into"
        )
    message = _("Your motion “%(title)s” was merged into motion No. %(number)s.") % {
        "title": motion.title,
        "number": target.number,
    }
    _step(
        actor=actor,
        motion=motion,
        name="merge",
        audit="merged",
        changes={"merged_into": target},
        after={"into": target.number},
        notice=Notice(message, _url(motion), people=[motion.proposer]),
    )
    return motion


@transaction.atomic
def motion_decline(
    *,
    actor: User,
    motion: Motion,
    reasons: str,
    unit: OrgUnit | None = None,
    category: str = SuggestionCategory.MANAGEMENT,
) -> Motion:
    """不立案: declined with reasons shown to the proposer, and turned into a suggestion
    (from the proposer, to ``unit`` or the company) so that it is still answered."""

    _require_handle(actor, motion)
    reasons = clean_text(reasons, field="reasons")
    company = motion.session.term.company
    unit = unit or company
    if not unit.is_within(company):
        raise ServiceError(_("Choose a unit of this company."), field="unit")
    current = Motion.objects.get(pk=motion.pk)
    FLOW.check(current, "decline")
    body = "\n\n".join(
        [
            _("Reasons: %(text)s") % {"text": current.reasons},
            _("Proposed measures: %(text)s") % {"text": current.measures},
        ]
    )
    suggestion = voice.suggestion_submit(
        actor=current.proposer,
        unit=unit,
        category=category,
        title=current.title,
        body=body,
    )
    message = _("Your motion “%(title)s” was not registered; it goes on as a suggestion.") % {
        "title": motion.title
    }
    _step(
        actor=actor,
        motion=motion,
        name="decline",
        audit="declined",
        changes={"decline_reasons": reasons, "suggestion": suggestion},
        after={"reasons": reasons, "suggestion": suggestion.pk},
        notice=Notice(message, _url(motion), people=[motion.proposer]),
    )
    return motion


@transaction.atomic
def motion_assign(
    *,
    actor: User,
    motion: Motion,
    lead_unit: OrgUnit,
    due_on: datetime.date,
    assisting_units: Iterable[OrgUnit] = (),
) -> Motion:
    """Give a registered motion to a lead unit (主办), optionally assisting units (协办)."""
    _require_handle(actor, motion)
    company = motion.session.term.company
    assisting = [u for u in assisting_units if u.pk != lead_unit.pk]
    if not lead_unit.is_within(company) or not lead_unit.is_active:
        raise ServiceError(_("Choose a unit of this company."), field="lead_unit")
    if any(not u.is_within(company) for u in assisting):
        raise ServiceError(_("Choose units of this company."), field="assisting_units")
    today = timezone.localdate()
    if due_on < today:
        raise ServiceError(_("The due date cannot be in the past."), field="due_on")
    facts = {"number": motion.number, "title": motion.title, "due": due_on}
    message = _("Motion No. %(number)s “%(title)s” is assigned to your unit, due %(due)s.") % facts
    assist_message = _(
        "Your unit assists %(lead)s on motion No. %(number)s “%(title)s”: give your unit's "
        "answer before %(due)s."
    ) % {**facts, "lead": lead_unit.name}
    _step(
        actor=actor,
        motion=motion,
        name="assign",
        audit="assigned",
        changes={"lead_unit": lead_unit, "due_on": due_on, "assigned_at": timezone.now()},
        after={
            "lead_unit": lead_unit.code,
            "assisting_units": [u.code for u in assisting],
            "due_on": str(due_on),
        },
        notice=Notice(message, _url(motion), Action.MOTION_ANSWER, (lead_unit,)),
    )
    motion.assisting_units.set(assisting)
    if assisting:
        tell(
            Notice(assist_message, _url(motion), Action.MOTION_ANSWER, tuple(assisting)),
            actor=actor,
        )
    return motion


@transaction.atomic
def motion_chase(*, actor: User, motion: Motion) -> Motion:
    """催办: remind the lead and assisting units of an overdue motion."""
    _require_handle(actor, motion)
    current = Motion.objects.select_related("lead_unit").get(pk=motion.pk)
    if not is_overdue(current):
        raise ServiceError(_("Only an overdue motion is chased."))
    now = timezone.now()
    FLOW.apply(
        motion,
        "chase",
        changes={"chase_count": current.chase_count + 1, "last_chased_at": now},
        seen=current.status,
    )
    record_event(
        actor=actor,
        action="motion.chased",
        target=motion,
        unit=motion.session.term.company,
        after={"chase_count": motion.chase_count, "due_on": str(current.due_on)},
    )
    units = (current.lead_unit, *motion.assisting_units.all()) if current.lead_unit else ()
    message = _("Reminder: motion No. %(number)s “%(title)s” was due %(due)s.") % {
        "number": current.number,
        "title": current.title,
        "due": current.due_on,
    }
    tell(Notice(message, _url(motion), Action.MOTION_ANSWER, units), actor=actor)
    return motion


# --- The assisting units, the lead unit and the proposer ------------------------------------


def answer_round(motion: Motion) -> int:
    """1 until the motion is sent back, 2 after (it is sent back at most once)."""
    return 1 if motion.sent_back_at is None else 2


@transaction.atomic
def motion_assist(*, actor: User, motion: Motion, unit: OrgUnit, text: str) -> MotionAnswer:
    """An assisting unit (协办) answers for itself; the lead unit sees it and answers."""
    current = Motion.objects.select_related("lead_unit", "session__term__company").get(pk=motion.pk)
    if not policy.can_assist(actor, current, unit):
        if not FLOW.allows("assist", current.status):
            raise FLOW.stale_error(current)
        raise ServiceError(
            _("Only the head or disclosure officer of an assisting unit answers for it."),
            field="unit",
        )
    text = clean_text(text, field="text")
    message = _(
        "%(unit)s gave its assisting answer on motion No. %(number)s “%(title)s”; take it "
        "into your answer."
    ) % {"unit": unit.name, "number": current.number, "title": current.title}
    lead = (current.lead_unit,) if current.lead_unit is not None else ()
    _step(
        actor=actor,
        motion=current,
        name="assist",
        audit="assisted",
        changes={},
        after={"unit": unit.code, "text": text[:200]},
        notice=Notice(message, _url(current), Action.MOTION_ANSWER, lead),
    )
    return MotionAnswer.objects.create(
        motion=current,
        unit=unit,
        role=AnswerRole.ASSISTING,
        round=answer_round(current),
        measures=text,
        answered_by=actor,
        answered_at=timezone.now(),
    )


@transaction.atomic
def motion_answer(*, actor: User, motion: Motion, measures: str, result: str) -> Motion:
    current = Motion.objects.select_related("lead_unit", "session__term__company").get(pk=motion.pk)
    if not policy.can_answer(actor, current):
        if not FLOW.allows("answer", current.status):
            raise FLOW.stale_error(current)
        raise ServiceError(_("Only the lead unit's head or disclosure officer answers."))
    measures = clean_text(measures, field="measures")
    result = clean_text(result, field="result")
    now = timezone.now()
    changes: dict[str, Any] = {
        "answer_measures": measures,
        "answer_result": result,
        "answered_at": now,
        "answered_by": actor,
    }
    if current.first_answered_at is None:
        changes["first_answered_at"] = now
    message = _("Your motion “%(title)s” has an answer; please rate it.") % {"title": current.title}
    _step(
        actor=actor,
        motion=motion,
        name="answer",
        audit="answered",
        changes=changes,
        notice=Notice(message, _url(motion), people=[current.proposer]),
    )
    assert current.lead_unit is not None  # noqa: S101 - can_answer checked it
    MotionAnswer.objects.create(
        motion=current,
        unit=current.lead_unit,
        role=AnswerRole.LEAD,
        round=answer_round(current),
        measures=measures,
        result=result,
        answered_by=actor,
        answered_at=now,
    )
    return motion


@transaction.atomic
def motion_rate(*, actor: User, motion: Motion, value: str) -> Motion:
    """The proposer rates the answer. The first “dissatisfied” sends it back for a new
    answer; after that any rating closes the motion."""
    if value not in Satisfaction.values:
        raise ServiceError(
            _("Choose satisfied, basically satisfied or dissatisfied."), field="value"
        )
    current = Motion.objects.get(pk=motion.pk)
    if current.proposer_id != actor.pk:
        raise ServiceError(_("Only the proposer rates the answer."))
    now = timezone.now()
    changes: dict[str, Any] = {"rating": value, "rated_at": now}
    target = None
    if value == Satisfaction.DISSATISFIED and current.sent_back_at is None:
        target = M.SENT_BACK
        today = timezone.localdate()
        new_due = today + datetime.timedelta(days=SENT_BACK_DAYS)
        changes |= {
            "sent_back_at": now,
            "first_rating": value,
            "due_on": max(current.due_on, new_due) if current.due_on else new_due,
        }
    elif current.sent_back_at is None:
        changes["first_rating"] = value
    notice = None
    if target:  # the lead unit owes a new answer
        message = _("Motion No. %(number)s “%(title)s” was sent back for a new answer.") % {
            "number": current.number,
            "title": current.title,
        }
        lead = (current.lead_unit,) if current.lead_unit is not None else ()
        notice = Notice(message, _url(motion), Action.MOTION_ANSWER, lead)
    _step(
        actor=actor,
        motion=motion,
        name="rate",
        audit="sent_back" if target else "rated",
        changes=changes,
        after={"rating": value},
        target=target,
        notice=notice,
    )
    return motion
