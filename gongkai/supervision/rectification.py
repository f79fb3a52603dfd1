"""The rectification (整改) lifecycle: pending → reported → accepted, or sent back with reasons
(→ reported again). One service per step, each a row of FLOW (gongkai.core.workflow) taken with
an atomic conditional UPDATE (two verifiers racing: one wins, the other gets a clear message),
audited in the same transaction, and told to the policy's holders of the next step. Nobody
verifies a rectification they reported themselves.

Overdue is derived from the dates when read (see :func:`state_of`), never stored.

A rectification comes from an inspection finding (recorded by
:func:`gongkai.supervision.services.finding_record`) or from an employee representatives'
patrol (巡视, :func:`rectification_open_from_patrol`): the supervision group opens it for a
unit the patrol visited, once the patrol's report was sent for publication. Both follow the
same table, steps, notices and timeliness; the responsible unit's head reports.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.congress.models import Patrol, PatrolReport
from gongkai.core.errors import ServiceError
from gongkai.core.files import prepare_upload, store
from gongkai.core.text import clean_text
from gongkai.core.workflow import Workflow, rows
from gongkai.notify.workflow import Notice, take_step, tell
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action
from gongkai.supervision.models import Rectification, RectificationStatus
from gongkai.supervision.permissions import (
    can_open_rectification_from_patrol,
    can_report_rectification,
    can_verify_rectification,
)

R = RectificationStatus
MAX_REPORT = 10_000
MAX_REASONS = 2_000
MAX_DUE_DAYS = 366


class Step(StrEnum):
    REPORT = "report"
    ACCEPT = "accept"
    SEND_BACK = "send_back"


FLOW = Workflow(
    model=Rectification,
    table=[
        *rows(Step.REPORT, [R.PENDING, R.SENT_BACK], R.REPORTED, Action.RECTIFICATION_REPORT),
        *rows(Step.ACCEPT, [R.REPORTED], R.ACCEPTED, Action.RECTIFICATION_VERIFY),
        *rows(Step.SEND_BACK, [R.REPORTED], R.SENT_BACK, Action.RECTIFICATION_VERIFY),
    ],
    stale=gettext_lazy("This rectification is now “%(status)s”; nothing was changed."),
    lost=gettext_lazy("Someone else acted on this rectification first; reload the page."),
)


def may_take(user: Any, rectification: Rectification, step: Step) -> bool:
    """The policy question for one step on one rectification (state and role)."""
    if not FLOW.allows(step, rectification.status):
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
    current = _allowed_now(actor, rectification, step)
    department = current.responsible_unit
    finding = {"finding": current.problem_text[:80]}
    url = reverse("supervision:rectification_detail", args=[current.pk])
    if step == Step.REPORT:  # to the supervision group, who verify it next
        message = _("Rectification reported, to verify: %(finding)s") % finding
        notice = Notice(message, url, Action.RECTIFICATION_VERIFY, (department,))
    else:  # to whoever reported it
        if step == Step.ACCEPT:
            message = _("Rectification accepted: %(finding)s") % finding
        else:
            message = _("Rectification sent back: %(finding)s") % finding
        reporter = current.reported_by if current.reported_by_id is not None else None
        notice = Notice(message, url, people=[reporter] if reporter is not None else [])
    take_step(
        FLOW,
        current,
        step,
        actor=actor,
        audit=f"rectification.{step.value}",
        unit=department,
        target_label=str(current),
        changes={"updated_at": at or timezone.now(), **changes},
        after=audit_after,
        notice=notice,
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
    report = clean_text(
        report,
        field="report",
        limit=MAX_REPORT,
        empty=_("Say what was done to rectify the finding."),
    )
    # Checked on the stored row (the caller's copy may be stale), and again under the
    # conditional update; this spares reading a refused upload.
    rectification = _allowed_now(actor, rectification, Step.REPORT)
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
            store(holder.evidence, prepared)
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
    return done


def _allowed_now(actor: User, rectification: Rectification, step: Step) -> Rectification:
    """The stored rectification, if ``actor`` may take ``step`` on it now; else the refusal."""
    current = Rectification.objects.select_related(
        "finding__inspected__department", "unit", "reported_by"
    ).get(pk=rectification.pk)
    if may_take(actor, current, step):
        return current
    if not FLOW.allows(step, current.status):
        raise FLOW.stale_error(current)
    if step != Step.REPORT and current.reported_by_id == actor.pk:
        raise ServiceError(_("You reported this rectification; someone else must verify it."))
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
    return done


@transaction.atomic
def rectification_send_back(
    *, actor: User, rectification: Rectification, reasons: str, at: datetime | None = None
) -> Rectification:
    reasons = clean_text(
        reasons,
        field="reasons",
        limit=MAX_REASONS,
        empty=_("Give the reasons for sending it back."),
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
    return done


# --- Opening from a patrol ------------------------------------------------------------------


@transaction.atomic
def rectification_open_from_patrol(
    *, actor: User, patrol: Patrol, unit: OrgUnit, problem: str, due_on: date
) -> Rectification:
    """The supervision group opens a rectification from a patrol for a unit it visited
    (once the patrol's report was sent for publication); the unit's head is told."""
    current = Patrol.objects.select_related("company").get(pk=patrol.pk)
    if not can_open_rectification_from_patrol(actor, current):
        raise ServiceError(_("Only the supervision group opens rectification from a patrol."))
    if not PatrolReport.objects.filter(patrol=current).exists():
        raise ServiceError(_("The patrol's report has not been sent for publication yet."))
    if not current.units.filter(pk=unit.pk).exists():
        raise ServiceError(_("Choose a unit the patrol visited."), field="unit")
    today = timezone.localdate()
    if due_on < today or due_on > today + timedelta(days=MAX_DUE_DAYS):
        raise ServiceError(_("Choose a due date within the coming year."), field="due_on")
    problem = clean_text(problem, field="problem", limit=MAX_REPORT)
    item = Rectification.objects.create(
        patrol=current, unit=unit, problem=problem, due_on=due_on, opened_by=actor
    )
    record_event(
        actor=actor,
        action="rectification.opened",
        target=item,
        unit=unit,
        target_label=problem[:60],
        after={"patrol": current.pk, "unit": unit.code, "due_on": str(due_on)},
    )
    message = _("Rectification from a patrol, due %(due)s: %(problem)s") % {
        "due": due_on,
        "problem": problem[:80],
    }
    url = reverse("supervision:rectification_detail", args=[item.pk])
    tell(Notice(message, url, Action.RECTIFICATION_REPORT, (unit,)), actor=actor)
    return item
