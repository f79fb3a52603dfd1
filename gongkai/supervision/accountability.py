"""Accountability decisions (责任追究): the supervision group records who is held to account,
for which finding or failure, and the measure taken. Recorded once, never edited (a mistaken
decision is corrected by a new one that says so); every decision is in the audit log."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.text import normalize_text
from gongkai.notify.services import notify
from gongkai.policy.rules import Action, can
from gongkai.supervision.models import AccountabilityDecision, Finding, Measure

MAX_CAUSE = 5_000


@transaction.atomic
def accountability_record(
    *,
    actor: User | None,
    person: User,
    measure: str,
    decided_on: date,
    finding: Finding | None = None,
    cause: str = "",
    details: str = "",
) -> AccountabilityDecision:
    cause, details = normalize_text(cause), normalize_text(details)
    unit = person.unit
    if unit is None:
        raise ServiceError(_("This person belongs to no unit."), field="person")
    if actor is not None and not can(actor, Action.ACCOUNTABILITY_RECORD, unit):
        raise ServiceError(_("You may not record accountability decisions for this person."))
    if finding is None and not cause:
        raise ServiceError(
            _("Link the decision to a finding or describe the failure it answers."),
            field="cause",
        )
    if (
        finding is not None
        and actor is not None
        and not can(actor, Action.ACCOUNTABILITY_RECORD, finding.inspected.department)
    ):
        raise ServiceError(_("Unknown finding."), field="finding")
    if measure not in Measure.values:
        raise ServiceError(_("Choose the measure taken."), field="measure")
    if decided_on > timezone.localdate():
        raise ServiceError(_("The decision date is in the future."), field="decided_on")
    if len(cause) > MAX_CAUSE or len(details) > MAX_CAUSE:
        raise ServiceError(
            _("This text is too long (at most %(limit)s characters).") % {"limit": MAX_CAUSE},
            field="cause" if len(cause) > MAX_CAUSE else "details",
        )
    decision = AccountabilityDecision.objects.create(
        person=person,
        unit=unit,
        finding=finding,
        cause=cause,
        measure=measure,
        details=details,
        decided_on=decided_on,
        recorded_by=actor,
    )
    record_event(
        actor=actor,
        action="accountability.recorded",
        target=decision,
        unit=unit,
        after={
            "person": person.employee_no,
            "measure": measure,
            "decided_on": decided_on.isoformat(),
            **({"finding": finding.pk} if finding else {}),
            **({"cause": cause[:200]} if cause else {}),
        },
    )
    notify(
        users=[person],
        message=_("An accountability decision concerning you was recorded."),
        url=reverse("supervision:accountability_detail", args=[decision.pk]),
    )
    return decision
