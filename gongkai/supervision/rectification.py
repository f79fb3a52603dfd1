"""The rectification (整改) lifecycle: pending → reported → accepted, or sent back with reasons
(→ reported again). One service per step, each a row of TRANSITIONS applied with an atomic
conditional UPDATE (two verifiers racing: one wins, the other gets a clear message), audited
in the same transaction. Nobody verifies a rectification they reported themselves.

Overdue is derived from the dates when read (see :func:`state_of`), never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.notifications import notify
from gongkai.disclosure.attachments import prepare_upload
from gongkai.policy.supervision import can_report_rectification, can_verify_rectification
from gongkai.supervision.models import Rectification, RectificationStatus
from gongkai.supervision.services import store_file

R = RectificationStatus
MAX_REPORT = 10_000
MAX_REASONS = 2_000


class Step(StrEnum):
    REPORT = "report"
    ACCEPT = "accept"
    SEND_BACK = "send_back"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str


TRANSITIONS: dict[Step, Transition] = {
    Step.REPORT: Transition(frozenset({R.PENDING, R.SENT_BACK}), R.REPORTED),
    Step.ACCEPT: Transition(frozenset({R.REPORTED}), R.ACCEPTED),
    Step.SEND_BACK: Transition(frozenset({R.REPORTED}), R.SENT_BACK),
}


def may_take(user: Any, rectification: Rectification, step: Step) -> bool:
    """The policy question for one step on one rectification (state and role)."""
    if rectification.status not in TRANSITIONS[step].sources:
        return False
    if step == Step.REPORT:
        return can_report_rectification(user, rectification)
    return can_verify_rectification(user, rectification)


def available_steps(user: Any, rectification: Rectification) -> list[Step]:
    return [step for step in Step if may_take(user, rectification, step)]


# --- Derived state ---------------------------------------------------------------------------


class Timeliness(StrEnum):
    OPEN = "open"  # not reported (or sent back) and not yet due
    OVERDUE = "overdue"  # not reported (or sent back) and past due
    ON_TIME = "on_time"  # reported (or accepted) on or before the due date
    LATE = "late"  # reported (or accepted) after the due date


def state_of(rectification: Rectification, today: date | None = None) -> Timeliness:
    today = today or timezone.localdate()
    if rectification.status in (R.REPORTED, R.ACCEPTED) and rectification.reported_at:
        reported_on = timezone.localdate(rectification.reported_at)
        return Timeliness.ON_TIME if reported_on <= rectification.due_on else Timeliness.LATE
    return Timeliness.OVERDUE if today > rectification.due_on else Timeliness.OPEN


def is_overdue(rectification: Rectification, today: date | None = None) -> bool:
    return state_of(rectification, today) == Timeliness.OVERDUE


# --- Steps -----------------------------------------------------------------------------------


def _apply(
    *,
    actor: User,
    rectification: Rectification,
    step: Step,
    changes: dict[str, Any],
    audit_after: dict[str, Any],
    at: datetime | None = None,
) -> Rectification:
    current = Rectification.objects.select_related(
        "finding__inspected__department", "finding__inspected__round"
    ).get(pk=rectification.pk)
    if not may_take(actor, current, step):
        if current.status not in TRANSITIONS[step].sources:
            raise ServiceError(
                _("This rectification is now “%(status)s”; nothing was changed.")
                % {"status": current.get_status_display()}
            )
        if step != Step.REPORT and current.reported_by_id == actor.pk:
            raise ServiceError(_("You reported this rectification; someone else must verify it."))
        raise ServiceError(_("You may not take this step on this rectification."))
    target = TRANSITIONS[step].target
    now = at or timezone.now()
    changes = {"status": target, "updated_at": now, **changes}
    won = Rectification.objects.filter(pk=current.pk, status=current.status).update(**changes)
    if not won:
        raise ServiceError(_("Someone else acted on this rectification first; reload the page."))
    before = current.status
    for name, value in changes.items():
        setattr(current, name, value)
    record_event(
        actor=actor,
        action=f"rectification.{step.value}",
        target=current,
        unit=current.finding.inspected.department,
        target_label=str(current.finding),
        before={"status": before},
        after={"status": target, **audit_after},
    )
    return current


def rectification_report(
    *,
    actor: User,
    rectification: Rectification,
    report: str,
    evidence: UploadedFile | None = None,
    at: datetime | None = None,
) -> Rectification:
    """The department reports what it did, with optional evidence (a sniffed, cleaned file).
    ``at`` back-dates the step; only for entering past records by the system (the demo,
    imports) — pages never pass it."""
    report = (report or "").strip()
    if not report:
        raise ServiceError(_("Say what was done to rectify the finding."), field="report")
    if len(report) > MAX_REPORT:
        raise ServiceError(
            _("This text is too long (at most %(limit)s characters).") % {"limit": MAX_REPORT},
            field="report",
        )
    if not may_take(actor, rectification, Step.REPORT):
        # Checked again under the conditional update; this spares reading a refused upload.
        _apply_refusal(actor, rectification, Step.REPORT)
    prepared = prepare_upload(evidence) if evidence is not None else None
    with transaction.atomic():
        now = at or timezone.now()
        changes: dict[str, Any] = {
            "report": report,
            "reported_at": now,
            "reported_by": actor,
            "first_reported_at": rectification.first_reported_at or now,
        }
        stored = None
        if prepared is not None:
            holder = Rectification(pk=rectification.pk)
            store_file(holder.evidence, prepared)
            stored = holder.evidence.name
            changes |= {
                "evidence": stored,
                "evidence_name": prepared.name,
                "evidence_content_type": prepared.kind.content_type,
            }
        try:
            done = _apply(
                actor=actor,
                rectification=rectification,
                step=Step.REPORT,
                changes=changes,
                at=now,
                audit_after={
                    "report": report[:200],
                    **({"evidence": prepared.name, "sha256": prepared.sha256} if prepared else {}),
                },
            )
        except Exception:
            if stored:
                holder.evidence.storage.delete(stored)
            raise
    notify(
        users=[u for u in verifiers(done) if u.pk != actor.pk],
        message=_("Rectification reported, to verify: %(finding)s")
        % {"finding": str(done.finding)},
        url=reverse("supervision:rectification_detail", args=[done.pk]),
    )
    return done


def _apply_refusal(actor: User, rectification: Rectification, step: Step) -> None:
    current = Rectification.objects.get(pk=rectification.pk)
    if current.status not in TRANSITIONS[step].sources:
        raise ServiceError(
            _("This rectification is now “%(status)s”; nothing was changed.")
            % {"status": current.get_status_display()}
        )
    raise ServiceError(_("You may not take this step on this rectification."))


@transaction.atomic
def rectification_accept(
    *, actor: User, rectification: Rectification, at: datetime | None = None
) -> Rectification:
    now = at or timezone.now()
    done = _apply(
        actor=actor,
        rectification=rectification,
        step=Step.ACCEPT,
        changes={"verified_at": now, "verified_by": actor, "reasons": ""},
        audit_after={},
        at=now,
    )
    _notify_reporter(done, _("Rectification accepted: %(finding)s"))
    return done


@transaction.atomic
def rectification_send_back(
    *, actor: User, rectification: Rectification, reasons: str, at: datetime | None = None
) -> Rectification:
    reasons = (reasons or "").strip()
    if not reasons:
        raise ServiceError(_("Give the reasons for sending it back."), field="reasons")
    if len(reasons) > MAX_REASONS:
        raise ServiceError(
            _("This text is too long (at most %(limit)s characters).") % {"limit": MAX_REASONS},
            field="reasons",
        )
    current = Rectification.objects.get(pk=rectification.pk)
    done = _apply(
        actor=actor,
        rectification=rectification,
        step=Step.SEND_BACK,
        changes={
            "verified_at": at or timezone.now(),
            "verified_by": actor,
            "reasons": reasons,
            "times_sent_back": current.times_sent_back + 1,
        },
        audit_after={"reasons": reasons[:200]},
        at=at,
    )
    _notify_reporter(done, _("Rectification sent back: %(finding)s"))
    return done


def _notify_reporter(rectification: Rectification, template: str) -> None:
    if rectification.reported_by_id is None:
        return
    reporter = User.objects.get(pk=rectification.reported_by_id)
    notify(
        users=[reporter],
        message=template % {"finding": str(rectification.finding)},
        url=reverse("supervision:rectification_detail", args=[rectification.pk]),
    )


def verifiers(rectification: Rectification) -> list[User]:
    from gongkai.org.models import Role

    department = rectification.finding.inspected.department
    return list(
        User.objects.filter(
            is_active=True,
            role_assignments__role=Role.SUPERVISION,
            role_assignments__unit_id__in=department.path_ids,
        ).distinct()
    )
