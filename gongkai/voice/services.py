"""State changes of suggestions (意见建议): submit, the handling steps, rating, following.

Every step is a row of :data:`FLOW` (gongkai.core.workflow), taken by :func:`_apply` with an
atomic conditional UPDATE on the status (two handlers racing: one wins, the other gets a clear
error and nothing changes), written to the timeline (:class:`SuggestionStep`) and the audit
log in the same transaction, and followed by notifications to the followers. Texts that can
reach the public (notifications, the audit description) never carry the author's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.files import PreparedFile, prepare_upload, store_records
from gongkai.core.satisfaction import Satisfaction
from gongkai.core.text import clean_text
from gongkai.core.workflow import Workflow, rows
from gongkai.notify.events import Audience, absolute, emit, moment
from gongkai.notify.models import EventKind
from gongkai.notify.workflow import Notice, take_step, tell
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action
from gongkai.voice import permissions as policy
from gongkai.voice.models import (
    BODY_MAX,
    TEXT_MAX,
    TITLE_MAX,
    StepKind,
    Suggestion,
    SuggestionAttachment,
    SuggestionCategory,
    SuggestionFollower,
    SuggestionStatus,
    SuggestionStep,
)

S = SuggestionStatus
MAX_ATTACHMENTS = 5
MAX_DUE_DAYS = 366


AUTHOR = "author"  # the rating step is the author's, not a role's

# step, from, to, and who may take it (a policy action on the suggestion, or its author).
FLOW = Workflow(
    model=Suggestion,
    table=[
        *rows(StepKind.ACCEPT, [S.SUBMITTED], S.ACCEPTED, Action.SUGGESTION_HANDLE),
        *rows(StepKind.DECLINE, [S.SUBMITTED], S.DECLINED, Action.SUGGESTION_HANDLE),
        *rows(StepKind.ASSIGN, [S.ACCEPTED], S.ASSIGNED, Action.SUGGESTION_HANDLE),
        *rows(StepKind.ANSWER, [S.ASSIGNED], S.ANSWERED, Action.SUGGESTION_ANSWER),
        *rows(StepKind.RATE, [S.ANSWERED], S.CLOSED, AUTHOR),
        *rows(StepKind.RATE, [S.ANSWERED], S.REOPENED, AUTHOR),
        *rows(StepKind.REVIEW_RETURN, [S.REOPENED], S.ASSIGNED, Action.SUGGESTION_REVIEW),
        *rows(StepKind.REVIEW_CLOSE, [S.REOPENED], S.CLOSED, Action.SUGGESTION_REVIEW),
    ],
    stale=gettext_lazy("This suggestion is now “%(status)s”; the step was not taken."),
    lost=gettext_lazy("Someone else acted on this suggestion first; reload the page."),
)

# The object-level rule behind each permission of the table (gongkai.voice.permissions).
ALLOWED: dict[str, Callable[[Any, Suggestion], bool]] = {
    Action.SUGGESTION_HANDLE: policy.can_handle,
    Action.SUGGESTION_ANSWER: policy.can_answer,
    Action.SUGGESTION_REVIEW: policy.can_review,
    AUTHOR: policy.is_author,
}

AUDIT: dict[StepKind, str] = {
    StepKind.ACCEPT: "suggestion.accepted",
    StepKind.DECLINE: "suggestion.declined",
    StepKind.ASSIGN: "suggestion.assigned",
    StepKind.ANSWER: "suggestion.answered",
    StepKind.RATE: "suggestion.rated",
    StepKind.REVIEW_RETURN: "suggestion.review_returned",
    StepKind.REVIEW_CLOSE: "suggestion.review_closed",
}


def may_step(user: Any, suggestion: Suggestion, kind: StepKind) -> bool:
    row = FLOW.row(kind, suggestion.status)
    return row is not None and ALLOWED[row.action](user, suggestion)


def available_steps(user: Any, suggestion: Suggestion) -> list[StepKind]:
    return [StepKind(kind) for kind in FLOW.steps() if may_step(user, suggestion, StepKind(kind))]


# --- Input checks ---------------------------------------------------------------------------


def _too_long(limit: int, length: int) -> str:
    return _("This text is too long: at most %(limit)s characters (it has %(n)s).") % {
        "limit": limit,
        "n": length,
    }


def _due(due_on: date | None, today: date) -> date:
    if due_on is None:
        raise ServiceError(_("Give the date by which it must be answered."), field="due_on")
    if due_on < today:
        raise ServiceError(_("The due date cannot be in the past."), field="due_on")
    if (due_on - today).days > MAX_DUE_DAYS:
        raise ServiceError(_("The due date must be within a year."), field="due_on")
    return due_on


# --- People to notify -----------------------------------------------------------------------


def followers_of(suggestion: Suggestion) -> list[User]:
    return list(
        User.objects.filter(followed_suggestions__suggestion=suggestion, is_active=True).order_by(
            "pk"
        )
    )


def _url(suggestion: Suggestion) -> str:
    return reverse("voice:detail", args=[suggestion.pk])


def _step_message(
    kind: StepKind, suggestion: Suggestion, unit: OrgUnit | None, due: date | None
) -> str:
    """The followers' notice of a step; ``unit`` and ``due`` as the step leaves them."""
    title = suggestion.title[:80]
    messages = {
        StepKind.ACCEPT: _("The suggestion “%(title)s” was accepted."),
        StepKind.DECLINE: _("The suggestion “%(title)s” was declined."),
        StepKind.ASSIGN: _("The suggestion “%(title)s” was assigned to %(unit)s, due %(due)s."),
        StepKind.ANSWER: _("The suggestion “%(title)s” was answered."),
        StepKind.RATE: _("The handling of the suggestion “%(title)s” was rated."),
        StepKind.REVIEW_RETURN: _(
            "The suggestion “%(title)s” was sent back for a new answer, due %(due)s."
        ),
        StepKind.REVIEW_CLOSE: _("The suggestion “%(title)s” was closed after review."),
    }
    return messages[kind] % {
        "title": title,
        "unit": unit.name if unit is not None else "",
        "due": due.isoformat() if due else "",
    }


# --- Submitting -----------------------------------------------------------------------------


def _prepare(attachments: Sequence[UploadedFile]) -> list[PreparedFile]:
    if len(attachments) > MAX_ATTACHMENTS:
        raise ServiceError(
            _("Attach at most %(max)s files.") % {"max": MAX_ATTACHMENTS}, field="attachments"
        )
    prepared = []
    for upload in attachments:
        try:
            prepared.append(prepare_upload(upload))
        except ServiceError as error:
            raise ServiceError(
                f"{upload.name}: {error.message}" if upload.name else error.message,
                field="attachments",
            ) from error
    return prepared


def _check_submission(actor: User, unit: OrgUnit, category: str) -> None:
    if not unit.is_active or not policy.can_submit_to(actor, unit):
        raise ServiceError(_("You may not send a suggestion to this unit."), field="unit")
    if category not in SuggestionCategory.values:
        raise ServiceError(_("Choose a category."), field="category")


def _clean_title(title: str) -> str:
    return clean_text(
        title,
        field="title",
        limit=TITLE_MAX,
        required=True,
        empty=_("Give a title."),
        too_long=_too_long,
    )


def _clean_body(body: str) -> str:
    return clean_text(
        body,
        field="body",
        limit=BODY_MAX,
        required=True,
        empty=_("Write your suggestion."),
        too_long=_too_long,
    )


def _start_timeline(suggestion: Suggestion, *, actor: User, at: datetime) -> None:
    """The submit step, and the author as the first follower."""
    SuggestionStep.objects.create(
        suggestion=suggestion, kind=StepKind.SUBMIT, at=at, actor=actor, unit=suggestion.unit
    )
    SuggestionFollower.objects.create(suggestion=suggestion, user=actor)


def _announce_submission(
    *, actor: User, suggestion: Suggestion, attachments: Sequence[SuggestionAttachment]
) -> None:
    """The audit event and the notice to the handlers of the unit."""
    unit = suggestion.unit
    record_event(
        actor=actor,
        action="suggestion.submitted",
        target=suggestion,
        unit=unit,
        after={
            "status": suggestion.status,
            "category": suggestion.category,
            "name_hidden": suggestion.name_hidden,
            "attachments": [a.sha256 for a in attachments],
        },
    )
    message = _("A new suggestion was sent to %(unit)s: “%(title)s”.") % {
        "unit": unit.name,
        "title": suggestion.title[:80],
    }
    notice = Notice(message, _url(suggestion), Action.SUGGESTION_HANDLE, (unit,))
    tell(notice, actor=actor)


def suggestion_submit(
    *,
    actor: User,
    unit: OrgUnit,
    category: str,
    title: str,
    body: str,
    name_hidden: bool = False,
    attachments: Sequence[UploadedFile] = (),
    at: datetime | None = None,
) -> Suggestion:
    """Send a suggestion to a unit of the author's company. Attachments are read, sniffed and
    cleaned before the transaction (an image can take a second). ``at`` back-dates it; only
    for entering past records by the system (the demo) — pages never pass it."""
    _check_submission(actor, unit, category)
    title = _clean_title(title)
    body = _clean_body(body)
    prepared = _prepare(attachments)
    now = at or timezone.now()
    saved: list[SuggestionAttachment] = []
    try:
        with transaction.atomic():
            suggestion = Suggestion.objects.create(
                unit=unit,
                author=actor,
                name_hidden=bool(name_hidden),
                category=category,
                title=title,
                body=body,
                submitted_at=now,
            )
            _start_timeline(suggestion, actor=actor, at=now)
            store_records(SuggestionAttachment, prepared, stored=saved, suggestion=suggestion)
            _announce_submission(actor=actor, suggestion=suggestion, attachments=saved)
    except Exception:
        for attachment in saved:
            attachment.file.delete(save=False)
        raise
    return suggestion


# --- The handling steps ---------------------------------------------------------------------


def _apply(
    *,
    actor: User,
    suggestion: Suggestion,
    kind: StepKind,
    changes: dict[str, Any],
    step: dict[str, Any],
    now: datetime,
    next_action: Action | None = None,
    next_unit: OrgUnit | None = None,
) -> Suggestion:
    """Take the step (to ``changes["status"]``), write it to the timeline and tell the
    followers, and the holders of ``next_action`` on ``next_unit``."""
    current = Suggestion.objects.select_related("unit", "responsible_unit").get(pk=suggestion.pk)
    if not may_step(actor, current, kind):
        if not FLOW.allows(kind, current.status):
            raise FLOW.stale_error(current)
        if kind == StepKind.RATE:
            raise ServiceError(_("Only the author of a suggestion may rate its handling."))
        raise ServiceError(_("You may not take this step on this suggestion."))
    target = changes["status"]
    changes = {k: v for k, v in changes.items() if k != "status"} | {"updated_at": now}
    after: dict[str, Any] = {}
    for key in ("text", "due_on", "rating"):
        if step.get(key):
            after[key] = str(step[key])
    if "unit" in step and step["unit"] is not None:
        after["unit"] = step["unit"].code
    message = _step_message(
        kind,
        current,
        changes.get("responsible_unit", current.responsible_unit),
        changes.get("due_on", current.due_on),
    )
    take_step(
        FLOW,
        current,
        kind,
        actor=actor,
        audit=AUDIT[kind],
        unit=current.unit,
        changes=changes,
        target=target,
        after=after,
        notice=Notice(
            message,
            _url(current),
            next_action,
            (next_unit,) if next_unit is not None else (),
            people=followers_of(current),
        ),
    )
    SuggestionStep.objects.create(suggestion=current, kind=kind, at=now, actor=actor, **step)
    return current


@transaction.atomic
def suggestion_accept(
    *, actor: User, suggestion: Suggestion, at: datetime | None = None
) -> Suggestion:
    now = at or timezone.now()
    return _apply(
        actor=actor,
        suggestion=suggestion,
        kind=StepKind.ACCEPT,
        changes={"status": S.ACCEPTED},
        step={"unit": suggestion.unit},
        now=now,
    )


@transaction.atomic
def suggestion_decline(
    *, actor: User, suggestion: Suggestion, reason: str, at: datetime | None = None
) -> Suggestion:
    """Decline with a reason that is shown publicly with the suggestion."""
    reason = clean_text(
        reason,
        field="reason",
        limit=TEXT_MAX,
        required=True,
        empty=_("Give the reason; it is shown with the suggestion."),
        too_long=_too_long,
    )
    now = at or timezone.now()
    return _apply(
        actor=actor,
        suggestion=suggestion,
        kind=StepKind.DECLINE,
        changes={"status": S.DECLINED, "decline_reason": reason, "closed_at": now},
        step={"unit": suggestion.unit, "text": reason},
        now=now,
    )


@transaction.atomic
def suggestion_assign(
    *,
    actor: User,
    suggestion: Suggestion,
    responsible_unit: OrgUnit,
    due_on: date | None,
    at: datetime | None = None,
) -> Suggestion:
    """Give it to the receiving unit or a unit below it, to answer by ``due_on``."""
    now = at or timezone.now()
    due = _due(due_on, timezone.localdate(now))
    current = Suggestion.objects.select_related("unit").get(pk=suggestion.pk)
    if not responsible_unit.is_active or not responsible_unit.is_within(current.unit):
        raise ServiceError(
            _("Choose %(unit)s or a unit within it.") % {"unit": current.unit.name},
            field="responsible_unit",
        )
    return _apply(
        actor=actor,
        suggestion=current,
        kind=StepKind.ASSIGN,
        changes={"status": S.ASSIGNED, "responsible_unit": responsible_unit, "due_on": due},
        step={"unit": responsible_unit, "due_on": due},
        now=now,
        next_action=Action.SUGGESTION_ANSWER,
        next_unit=responsible_unit,
    )


@transaction.atomic
def suggestion_answer(
    *,
    actor: User,
    suggestion: Suggestion,
    answer: str,
    action_taken: str = "",
    at: datetime | None = None,
) -> Suggestion:
    """The responsible unit's answer and what it did; the author may then rate it."""
    answer = clean_text(
        answer,
        field="answer",
        limit=TEXT_MAX,
        required=True,
        empty=_("Write the answer."),
        too_long=_too_long,
    )
    action_taken = clean_text(
        action_taken,
        field="action_taken",
        limit=TEXT_MAX,
        required=False,
        empty="",
        too_long=_too_long,
    )
    now = at or timezone.now()
    current = Suggestion.objects.select_related("responsible_unit").get(pk=suggestion.pk)
    answered = _apply(
        actor=actor,
        suggestion=current,
        kind=StepKind.ANSWER,
        changes={
            "status": S.ANSWERED,
            "answer": answer,
            "action_taken": action_taken,
            "answered_at": now,
        },
        step={
            "unit": current.responsible_unit,
            "text": answer,
            "action_taken": action_taken,
            "due_on": current.due_on,
        },
        now=now,
    )
    _emit_answered(answered, answer=answer, action_taken=action_taken, at=now)
    return answered


def _emit_answered(suggestion: Suggestion, *, answer: str, action_taken: str, at: datetime) -> None:
    """The outbound ``suggestion.answered`` event (gongkai.notify.events): internal (only
    signed-in readers of the unit's board see suggestions), with what they see of the
    answer. Never the author (named or hidden) nor the suggestion's own text: the
    receiver follows the link for what its reader may see there."""
    responsible = suggestion.responsible_unit
    emit(
        EventKind.SUGGESTION_ANSWERED,
        unit=suggestion.unit,
        audience=Audience.INTERNAL,
        data={
            "suggestion": suggestion.pk,
            "title": suggestion.title,
            "category": suggestion.category,
            "responsible_unit": (
                {"code": responsible.code, "name": responsible.name}
                if responsible is not None
                else None
            ),
            "due_on": suggestion.due_on.isoformat() if suggestion.due_on else None,
            "answered_at": moment(at),
            "answer": answer,
            "action_taken": action_taken,
            "url": absolute(_url(suggestion)),
        },
        occurred_at=at,
    )


@transaction.atomic
def suggestion_rate(
    *,
    actor: User,
    suggestion: Suggestion,
    rating: str,
    reason: str = "",
    at: datetime | None = None,
) -> Suggestion:
    """The author's rating of the handling. A first "dissatisfied" reopens it for review by
    the union office; any other rating, or any rating of a second answer, closes it.
    "Dissatisfied" needs the ``reason``, which the union office reads when it reviews."""
    if rating not in Satisfaction.values:
        raise ServiceError(_("Choose how satisfied you are."), field="rating")
    if rating == Satisfaction.DISSATISFIED:
        reason = clean_text(
            reason,
            field="reason",
            limit=TEXT_MAX,
            empty=_("Say why you are dissatisfied with the handling."),
            too_long=_too_long,
        )
    else:
        reason = ""
    now = at or timezone.now()
    current = Suggestion.objects.select_related("unit").get(pk=suggestion.pk)
    reopen = rating == Satisfaction.DISSATISFIED and not current.reopened
    changes: dict[str, Any] = {"rating": rating, "rating_reason": reason}
    if reopen:
        changes |= {"status": S.REOPENED, "reopened": True}
    else:
        changes |= {"status": S.CLOSED, "closed_at": now}
    return _apply(
        actor=actor,
        suggestion=current,
        kind=StepKind.RATE,
        changes=changes,
        step={"rating": rating, "text": reason},
        now=now,
        next_action=Action.SUGGESTION_REVIEW if reopen else None,
        next_unit=current.unit,
    )


@transaction.atomic
def suggestion_review_return(
    *,
    actor: User,
    suggestion: Suggestion,
    due_on: date | None,
    note: str = "",
    at: datetime | None = None,
) -> Suggestion:
    """The union office sends a reopened suggestion back for a new answer."""
    now = at or timezone.now()
    due = _due(due_on, timezone.localdate(now))
    note = clean_text(
        note, field="note", limit=TEXT_MAX, required=False, empty="", too_long=_too_long
    )
    current = Suggestion.objects.select_related("responsible_unit").get(pk=suggestion.pk)
    return _apply(
        actor=actor,
        suggestion=current,
        kind=StepKind.REVIEW_RETURN,
        changes={"status": S.ASSIGNED, "due_on": due, "review_note": note},
        step={"unit": current.responsible_unit, "due_on": due, "text": note},
        now=now,
        next_action=Action.SUGGESTION_ANSWER,
        next_unit=current.responsible_unit,
    )


@transaction.atomic
def suggestion_review_close(
    *, actor: User, suggestion: Suggestion, note: str, at: datetime | None = None
) -> Suggestion:
    """The union office closes a reopened suggestion with a review note."""
    note = clean_text(
        note,
        field="note",
        limit=TEXT_MAX,
        required=True,
        empty=_("Give the review note; it is shown with the suggestion."),
        too_long=_too_long,
    )
    now = at or timezone.now()
    return _apply(
        actor=actor,
        suggestion=suggestion,
        kind=StepKind.REVIEW_CLOSE,
        changes={"status": S.CLOSED, "review_note": note, "closed_at": now},
        step={"text": note},
        now=now,
    )


# --- Following ------------------------------------------------------------------------------


def suggestion_follow(*, actor: User, suggestion: Suggestion) -> bool:
    """Follow (notified of every step). True if newly followed."""
    if not policy.can_view(actor, suggestion):
        raise ServiceError(_("You may not see this suggestion."))
    try:
        with transaction.atomic():
            _follower, created = SuggestionFollower.objects.get_or_create(
                suggestion=suggestion, user=actor
            )
    except IntegrityError:  # a double click racing itself
        return False
    return created


def suggestion_unfollow(*, actor: User, suggestion: Suggestion) -> bool:
    deleted, _count = SuggestionFollower.objects.filter(suggestion=suggestion, user=actor).delete()
    return bool(deleted)


def is_following(user: Any, suggestion: Suggestion) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return SuggestionFollower.objects.filter(suggestion=suggestion, user=user).exists()
