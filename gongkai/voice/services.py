"""State changes of suggestions (意见建议): submit, the handling steps, rating, following.

Every step is one row of :data:`TRANSITIONS`, applied by :func:`_apply` with an atomic
conditional UPDATE on the status (two handlers racing: one wins, the other gets a clear
error and nothing changes), written to the timeline (:class:`SuggestionStep`) and the audit
log in the same transaction, and followed by notifications to the followers. Texts that can
reach the public (notifications, the audit description) never carry the author's name.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.notifications import notify
from gongkai.disclosure.attachments import PreparedFile, prepare_upload
from gongkai.disclosure.models import Satisfaction
from gongkai.org.models import OrgUnit, Role, RoleAssignment
from gongkai.policy import voice as policy
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


@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]
    allowed: Callable[[Any, Suggestion], bool]
    audit: str  # the audit action code


TRANSITIONS: dict[StepKind, Rule] = {
    StepKind.ACCEPT: Rule(frozenset({S.SUBMITTED}), policy.can_handle, "suggestion.accepted"),
    StepKind.DECLINE: Rule(frozenset({S.SUBMITTED}), policy.can_handle, "suggestion.declined"),
    StepKind.ASSIGN: Rule(frozenset({S.ACCEPTED}), policy.can_handle, "suggestion.assigned"),
    StepKind.ANSWER: Rule(frozenset({S.ASSIGNED}), policy.can_answer, "suggestion.answered"),
    StepKind.RATE: Rule(frozenset({S.ANSWERED}), policy.is_author, "suggestion.rated"),
    StepKind.REVIEW_RETURN: Rule(
        frozenset({S.REOPENED}), policy.can_review, "suggestion.review_returned"
    ),
    StepKind.REVIEW_CLOSE: Rule(
        frozenset({S.REOPENED}), policy.can_review, "suggestion.review_closed"
    ),
}


def may_step(user: Any, suggestion: Suggestion, kind: StepKind) -> bool:
    rule = TRANSITIONS[kind]
    return suggestion.status in rule.sources and rule.allowed(user, suggestion)


def available_steps(user: Any, suggestion: Suggestion) -> list[StepKind]:
    return [kind for kind in TRANSITIONS if may_step(user, suggestion, kind)]


# --- Input checks ---------------------------------------------------------------------------


def _text(value: str, *, field: str, limit: int, required: bool, empty: str) -> str:
    value = (value or "").replace("\x00", "").strip()
    if required and not value:
        raise ServiceError(empty, field=field)
    if len(value) > limit:
        raise ServiceError(
            _("This text is too long: at most %(limit)s characters (it has %(n)s).")
            % {"limit": limit, "n": len(value)},
            field=field,
        )
    return value


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


def holders(unit: OrgUnit, roles: Iterable[str], *, ancestors: bool = False) -> list[User]:
    units = unit.path_ids if ancestors else [unit.pk]
    ids = RoleAssignment.objects.filter(unit_id__in=units, role__in=list(roles)).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True))


def _notify(
    *, people: Iterable[User], actor: User | None, suggestion: Suggestion, message: str
) -> None:
    url = reverse("voice:detail", args=[suggestion.pk])
    notify(
        users=[u for u in people if actor is None or u.pk != actor.pk],
        message=message,
        url=url,
    )


def _step_message(kind: StepKind, suggestion: Suggestion) -> str:
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
    unit = suggestion.responsible_unit
    return messages[kind] % {
        "title": title,
        "unit": unit.name if unit is not None else "",
        "due": suggestion.due_on.isoformat() if suggestion.due_on else "",
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
    if not unit.is_active or not policy.can_submit_to(actor, unit):
        raise ServiceError(_("You may not send a suggestion to this unit."), field="unit")
    if category not in SuggestionCategory.values:
        raise ServiceError(_("Choose a category."), field="category")
    title = _text(title, field="title", limit=TITLE_MAX, required=True, empty=_("Give a title."))
    body = _text(
        body, field="body", limit=BODY_MAX, required=True, empty=_("Write your suggestion.")
    )
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
            SuggestionStep.objects.create(
                suggestion=suggestion, kind=StepKind.SUBMIT, at=now, actor=actor, unit=unit
            )
            SuggestionFollower.objects.create(suggestion=suggestion, user=actor)
            for item in prepared:
                attachment = SuggestionAttachment(
                    suggestion=suggestion,
                    original_name=item.name,
                    content_type=item.kind.content_type,
                    size=len(item.data),
                    sha256=item.sha256,
                )
                attachment.file.save(
                    f"{uuid.uuid4().hex}{item.kind.extension}", ContentFile(item.data), save=False
                )
                saved.append(attachment)
                attachment.save()
            record_event(
                actor=actor,
                action="suggestion.submitted",
                target=suggestion,
                unit=unit,
                after={
                    "status": suggestion.status,
                    "category": category,
                    "name_hidden": suggestion.name_hidden,
                    "attachments": [a.sha256 for a in saved],
                },
            )
            handlers = holders(unit, [Role.UNIT_HEAD]) or holders(
                unit, [Role.UNION_OFFICE], ancestors=True
            )
            _notify(
                people=handlers,
                actor=actor,
                suggestion=suggestion,
                message=_("A new suggestion was sent to %(unit)s: “%(title)s”.")
                % {"unit": unit.name, "title": title[:80]},
            )
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
    extra_people: Iterable[User] = (),
) -> Suggestion:
    rule = TRANSITIONS[kind]
    current = Suggestion.objects.select_related("unit", "responsible_unit").get(pk=suggestion.pk)
    if not may_step(actor, current, kind):
        if current.status not in rule.sources:
            raise ServiceError(
                _("This suggestion is now “%(status)s”; the step was not taken.")
                % {"status": current.get_status_display()}
            )
        if kind == StepKind.RATE:
            raise ServiceError(_("Only the author of a suggestion may rate its handling."))
        raise ServiceError(_("You may not take this step on this suggestion."))
    target = changes["status"]
    changes = {**changes, "updated_at": now}
    # The conditional UPDATE is the lock: of two racing handlers only one matches.
    won = Suggestion.objects.filter(pk=current.pk, status=current.status).update(**changes)
    if not won:
        raise ServiceError(_("Someone else acted on this suggestion first; reload the page."))
    before = {"status": current.status}
    for name, value in changes.items():
        setattr(current, name, value)
    SuggestionStep.objects.create(suggestion=current, kind=kind, at=now, actor=actor, **step)
    after: dict[str, Any] = {"status": target}
    for key in ("text", "due_on", "rating"):
        if step.get(key):
            after[key] = str(step[key])
    if "unit" in step and step["unit"] is not None:
        after["unit"] = step["unit"].code
    record_event(
        actor=actor,
        action=rule.audit,
        target=current,
        unit=current.unit,
        before=before,
        after=after,
    )
    people = {u.pk: u for u in [*followers_of(current), *extra_people]}
    _notify(
        people=people.values(),
        actor=actor,
        suggestion=current,
        message=_step_message(kind, current),
    )
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
    reason = _text(
        reason,
        field="reason",
        limit=TEXT_MAX,
        required=True,
        empty=_("Give the reason; it is shown with the suggestion."),
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
    answerers = holders(responsible_unit, [Role.UNIT_HEAD, Role.DEPT_OFFICER, Role.TEAM_OFFICER])
    return _apply(
        actor=actor,
        suggestion=current,
        kind=StepKind.ASSIGN,
        changes={"status": S.ASSIGNED, "responsible_unit": responsible_unit, "due_on": due},
        step={"unit": responsible_unit, "due_on": due},
        now=now,
        extra_people=answerers,
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
    answer = _text(
        answer, field="answer", limit=TEXT_MAX, required=True, empty=_("Write the answer.")
    )
    action_taken = _text(
        action_taken, field="action_taken", limit=TEXT_MAX, required=False, empty=""
    )
    now = at or timezone.now()
    current = Suggestion.objects.select_related("responsible_unit").get(pk=suggestion.pk)
    return _apply(
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


@transaction.atomic
def suggestion_rate(
    *, actor: User, suggestion: Suggestion, rating: str, at: datetime | None = None
) -> Suggestion:
    """The author's rating of the handling. A first "dissatisfied" reopens it for review by
    the union office; any other rating, or any rating of a second answer, closes it."""
    if rating not in Satisfaction.values:
        raise ServiceError(_("Choose how satisfied you are."), field="rating")
    now = at or timezone.now()
    current = Suggestion.objects.select_related("unit").get(pk=suggestion.pk)
    reopen = rating == Satisfaction.DISSATISFIED and not current.reopened
    changes: dict[str, Any] = {"rating": rating}
    if reopen:
        changes |= {"status": S.REOPENED, "reopened": True}
    else:
        changes |= {"status": S.CLOSED, "closed_at": now}
    reviewers = holders(current.unit, [Role.UNION_OFFICE], ancestors=True) if reopen else []
    return _apply(
        actor=actor,
        suggestion=current,
        kind=StepKind.RATE,
        changes=changes,
        step={"rating": rating},
        now=now,
        extra_people=reviewers,
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
    note = _text(note, field="note", limit=TEXT_MAX, required=False, empty="")
    current = Suggestion.objects.select_related("responsible_unit").get(pk=suggestion.pk)
    answerers = (
        holders(current.responsible_unit, [Role.UNIT_HEAD, Role.DEPT_OFFICER, Role.TEAM_OFFICER])
        if current.responsible_unit is not None
        else []
    )
    return _apply(
        actor=actor,
        suggestion=current,
        kind=StepKind.REVIEW_RETURN,
        changes={"status": S.ASSIGNED, "due_on": due, "review_note": note},
        step={"unit": current.responsible_unit, "due_on": due, "text": note},
        now=now,
        extra_people=answerers,
    )


@transaction.atomic
def suggestion_review_close(
    *, actor: User, suggestion: Suggestion, note: str, at: datetime | None = None
) -> Suggestion:
    """The union office closes a reopened suggestion with a review note."""
    note = _text(
        note,
        field="note",
        limit=TEXT_MAX,
        required=True,
        empty=_("Give the review note; it is shown with the suggestion."),
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
