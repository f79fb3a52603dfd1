"""State changes of disclosures: the level-by-level workflow (层层把关), corrections as new
revisions, withdrawal with a tombstone, and "nothing to report" attestations.

Every transition is one row of TRANSITIONS, applied by :func:`disclosure_transition` with an
atomic conditional UPDATE (two approvers racing: one wins, the other gets a clear error),
audited in the same transaction, and followed by notifications to whoever acts next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.notifications import notify
from gongkai.core.periods import KIND_BY_FREQUENCY, Frequency, InvalidPeriod, Period
from gongkai.core.richtext import sanitize_html
from gongkai.disclosure.catalog import entry_rule
from gongkai.disclosure.models import (
    CatalogEntry,
    CatalogRule,
    Disclosure,
    DisclosureStatus,
    Revision,
    Scope,
)
from gongkai.disclosure.publication import publication_changed
from gongkai.org.models import OrgUnit, Role, UnitKind
from gongkai.policy import Action, can

S = DisclosureStatus


class Transition(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"  # the unit head
    ENDORSE = "endorse"  # a leadership group member, for company-level items
    REJECT = "reject"
    PUBLISH = "publish"
    CORRECT = "correct"  # start a correction of a published item: a new draft revision
    WITHDRAW = "withdraw"


@dataclass(frozen=True)
class Step:
    sources: frozenset[str]
    action: Action  # the permission on the disclosure's unit
    needs_reason: bool = False


TRANSITIONS: dict[Transition, Step] = {
    Transition.SUBMIT: Step(frozenset({S.DRAFT}), Action.DISCLOSURE_DRAFT),
    Transition.APPROVE: Step(frozenset({S.SUBMITTED}), Action.DISCLOSURE_APPROVE),
    Transition.ENDORSE: Step(frozenset({S.HEAD_APPROVED}), Action.DISCLOSURE_ENDORSE),
    Transition.REJECT: Step(
        frozenset({S.SUBMITTED, S.HEAD_APPROVED}), Action.DISCLOSURE_APPROVE, needs_reason=True
    ),
    Transition.PUBLISH: Step(frozenset({S.APPROVED}), Action.DISCLOSURE_DRAFT),
    Transition.CORRECT: Step(frozenset({S.PUBLISHED}), Action.DISCLOSURE_DRAFT, needs_reason=True),
    Transition.WITHDRAW: Step(
        frozenset({S.PUBLISHED}), Action.DISCLOSURE_WITHDRAW, needs_reason=True
    ),
}

MAX_REASON = 2000


def target_status(transition: Transition, disclosure: Disclosure) -> str:
    if transition == Transition.SUBMIT:
        return S.SUBMITTED
    if transition == Transition.APPROVE:
        return S.HEAD_APPROVED if disclosure.unit.kind == UnitKind.COMPANY else S.APPROVED
    if transition == Transition.ENDORSE:
        return S.APPROVED
    if transition == Transition.REJECT or transition == Transition.CORRECT:
        return S.DRAFT
    if transition == Transition.PUBLISH:
        return S.PUBLISHED
    return S.WITHDRAWN


def may_transition(user: Any, disclosure: Disclosure, transition: Transition) -> bool:
    """The policy question for one transition on one disclosure (state and role)."""
    step = TRANSITIONS[transition]
    if disclosure.status not in step.sources:
        return False
    action = step.action
    if transition == Transition.REJECT and disclosure.status == S.HEAD_APPROVED:
        action = Action.DISCLOSURE_ENDORSE
    if transition == Transition.APPROVE and disclosure.author_id == getattr(user, "pk", None):
        return False  # nobody approves their own disclosure
    if transition == Transition.CORRECT and disclosure.is_nil:
        return False  # an attestation is withdrawn, not corrected
    return can(user, action, disclosure.unit)


def available_transitions(user: Any, disclosure: Disclosure) -> list[Transition]:
    return [t for t in Transition if may_transition(user, disclosure, t)]


# --- Drafting -------------------------------------------------------------------------------


def check_period(
    entry: CatalogEntry, unit: OrgUnit, period: str, event_date: date | None
) -> tuple[str, CatalogRule]:
    """Validate the period against the entry's frequency; return its normalised key and the
    rule it was checked against."""
    today = timezone.localdate()
    rule = entry_rule(entry, event_date or today)
    if rule is None or not rule.applies_to(unit):
        raise ServiceError(
            _("This catalog entry is not published by a unit of this kind."), field="entry"
        )
    if rule.frequency == Frequency.PER_EVENT:
        if event_date is None:
            raise ServiceError(_("Give the date of the event."), field="event_date")
        return "", rule
    try:
        parsed = Period.parse(period)
    except InvalidPeriod:
        raise ServiceError(
            _("Give the period as 2026-10 (month), 2026-Q3, 2026-H2 or 2026."), field="period"
        ) from None
    if parsed.kind != KIND_BY_FREQUENCY[Frequency(rule.frequency)]:
        raise ServiceError(
            _("This entry is published %(frequency)s; the period does not match.")
            % {"frequency": Frequency(rule.frequency).label},
            field="period",
        )
    if parsed.start > today:
        raise ServiceError(_("The period has not begun yet."), field="period")
    return parsed.key, rule


def clean_content(*, title: str, procedure: str, result: str) -> tuple[str, str, str]:
    title = title.strip()
    if not title:
        raise ServiceError(_("Give a title."), field="title")
    procedure, result = sanitize_html(procedure), sanitize_html(result)
    return title, procedure, result


@transaction.atomic
def disclosure_create(
    *,
    actor: User,
    unit: OrgUnit,
    entry: CatalogEntry,
    title: str,
    procedure: str = "",
    result: str = "",
    period: str = "",
    event_date: date | None = None,
    table: dict[str, Any] | None = None,
    scope: str | None = None,
) -> Disclosure:
    if not can(actor, Action.DISCLOSURE_DRAFT, unit):
        raise ServiceError(_("You may not draft disclosures for this unit."))
    period_key, rule = check_period(entry, unit, period, event_date)
    title, procedure, result = clean_content(title=title, procedure=procedure, result=result)
    disclosure = Disclosure.objects.create(
        unit=unit,
        entry=entry,
        period=period_key,
        event_date=event_date if not period_key else None,
        title=title,
        procedure=procedure,
        result=result,
        table=table,
        scope=scope or rule.default_scope,
        author=actor,
    )
    record_event(
        actor=actor,
        action="disclosure.created",
        target=disclosure,
        unit=unit,
        after={"title": title, "entry": entry.code, "period": period_key or str(event_date)},
    )
    return disclosure


EDITABLE = ("title", "procedure", "result", "table", "scope")


@transaction.atomic
def disclosure_update(*, actor: User, disclosure: Disclosure, **fields: Any) -> Disclosure:
    """Change the working copy of a draft."""
    locked = Disclosure.objects.select_for_update().get(pk=disclosure.pk)
    if locked.status != S.DRAFT:
        raise ServiceError(_("Only a draft can be edited."))
    if not (locked.author_id == actor.pk or can(actor, Action.DISCLOSURE_DRAFT, locked.unit)):
        raise ServiceError(_("You may not edit this disclosure."))
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "title" in fields or "procedure" in fields or "result" in fields:
        title, procedure, result = clean_content(
            title=fields.get("title", locked.title),
            procedure=fields.get("procedure", locked.procedure),
            result=fields.get("result", locked.result),
        )
        fields |= {"title": title, "procedure": procedure, "result": result}
    if "scope" in fields and fields["scope"] not in Scope.values:
        raise ServiceError(_("Unknown scope."), field="scope")
    before = {k: getattr(locked, k) for k in fields if getattr(locked, k) != fields[k]}
    if not before:
        return locked
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*fields, "updated_at"])
    record_event(
        actor=actor,
        action="disclosure.edited",
        target=locked,
        unit=locked.unit,
        before={k: v for k, v in before.items() if k != "table"},
        after={k: fields[k] for k in before if k != "table"},
    )
    return locked


# --- The workflow ---------------------------------------------------------------------------


@transaction.atomic
def disclosure_transition(
    *,
    actor: User,
    disclosure: Disclosure,
    transition: Transition,
    reason: str = "",
    at: datetime | None = None,
) -> Disclosure:
    """Apply one step of the workflow. ``at`` back-dates the step; only for entering past
    records from the paper boards by the system (the demo, imports) — pages never pass it."""
    step = TRANSITIONS[transition]
    reason = reason.strip()
    if step.needs_reason and not reason:
        raise ServiceError(_("Give a reason; it is shown with the disclosure."), field="reason")
    if len(reason) > MAX_REASON:
        raise ServiceError(_("The reason is too long."), field="reason")
    current = Disclosure.objects.select_related("unit", "entry").get(pk=disclosure.pk)
    if not may_transition(actor, current, transition):
        if current.status not in step.sources:
            raise ServiceError(
                _("This disclosure is now “%(status)s”; the step was not taken.")
                % {"status": current.get_status_display()}
            )
        raise ServiceError(_("You may not take this step on this disclosure."))
    if transition == Transition.SUBMIT:
        check_complete(current)
    target = target_status(transition, current)
    now = at or timezone.now()
    changes: dict[str, Any] = {"status": target, "updated_at": now}
    if transition == Transition.SUBMIT:
        changes |= {"submitted_at": now, "rejection_reason": ""}
    elif transition == Transition.REJECT:
        changes["rejection_reason"] = reason
    elif transition == Transition.CORRECT:
        changes["correction_reason"] = reason
    elif transition == Transition.WITHDRAW:
        changes |= {"withdrawn_at": now, "withdrawal_reason": reason}
    # The conditional UPDATE is the lock: of two concurrent approvals only one matches.
    won = Disclosure.objects.filter(pk=current.pk, status=current.status).update(**changes)
    if not won:
        raise ServiceError(_("Someone else acted on this disclosure first; reload the page."))
    before_status = current.status
    for name, value in changes.items():
        setattr(current, name, value)
    if transition == Transition.PUBLISH:
        publish_revision(actor=actor, disclosure=current, at=now)
    record_event(
        actor=actor,
        action=f"disclosure.{transition.value}",
        target=current,
        unit=current.unit,
        before={"status": before_status},
        after={"status": target, **({"reason": reason} if reason else {})},
    )
    if transition in (Transition.PUBLISH, Transition.WITHDRAW):
        publication_changed(current, event=transition.value)
    notify_next(actor=actor, disclosure=current, transition=transition, reason=reason)
    return current


def check_complete(disclosure: Disclosure) -> None:
    """Both the procedure and the result are disclosed when the catalog demands them."""
    rule = entry_rule(disclosure.entry, disclosure.event_date or timezone.localdate())
    if rule is None:
        return
    if rule.requires_procedure and not text_of(disclosure.procedure):
        raise ServiceError(
            _("The catalog requires the procedure (办事程序) to be disclosed."), field="procedure"
        )
    if rule.requires_result and not text_of(disclosure.result):
        raise ServiceError(
            _("The catalog requires the result (办事结果) to be disclosed."), field="result"
        )


def text_of(html: str) -> str:
    return strip_tags(html).strip()


def publish_revision(*, actor: User, disclosure: Disclosure, at: Any) -> Revision:
    number = (disclosure.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
    revision = Revision.objects.create(
        disclosure=disclosure,
        number=number,
        title=disclosure.title,
        procedure=disclosure.procedure,
        result=disclosure.result,
        table=disclosure.table,
        scope=disclosure.scope,
        reason=disclosure.correction_reason if number > 1 else "",
        published_at=at,
        published_by=actor,
    )
    fields = {"published_revision": revision, "correction_reason": ""}
    if disclosure.first_published_at is None:
        fields["first_published_at"] = at
    Disclosure.objects.filter(pk=disclosure.pk).update(**fields)
    for name, value in fields.items():
        setattr(disclosure, name, value)
    # Files attached to the draft are published with this revision.
    disclosure.attachments.filter(published_in__isnull=True).update(published_in=revision)
    return revision


@transaction.atomic
def attestation_file(
    *,
    actor: User,
    unit: OrgUnit,
    entry: CatalogEntry,
    reason: str,
    period: str = "",
    event_date: date | None = None,
    at: datetime | None = None,
) -> Disclosure:
    """A signed "nothing to report this period" (本期无公开事项); counts as published."""
    if not can(actor, Action.DISCLOSURE_DRAFT, unit):
        raise ServiceError(_("You may not file attestations for this unit."))
    reason = reason.strip()
    if not reason:
        raise ServiceError(_("Say why there is nothing to report."), field="reason")
    period_key, _rule = check_period(entry, unit, period, event_date)
    if (
        period_key
        and Disclosure.objects.filter(
            unit=unit, entry=entry, period=period_key, published_revision__isnull=False
        )
        .exclude(status=S.WITHDRAWN)
        .exists()
    ):
        raise ServiceError(_("Something is already published for this period."), field="period")
    now = at or timezone.now()
    title = _("Nothing to report: %(entry)s, %(period)s") % {
        "entry": entry.name,
        "period": period_key or event_date,
    }
    disclosure = Disclosure.objects.create(
        unit=unit,
        entry=entry,
        period=period_key,
        event_date=None if period_key else event_date,
        is_nil=True,
        title=title,
        result=sanitize_html(f"<p>{reason}</p>"),
        scope=Scope.INTERNAL,
        status=S.PUBLISHED,
        author=actor,
    )
    publish_revision(actor=actor, disclosure=disclosure, at=now)
    record_event(
        actor=actor,
        action="disclosure.attested",
        target=disclosure,
        unit=unit,
        after={"entry": entry.code, "period": period_key, "reason": reason},
    )
    publication_changed(disclosure, event="attest")
    return disclosure


# --- Notifications --------------------------------------------------------------------------


def holders(role: str, unit: OrgUnit) -> list[User]:
    """Active users holding ``role`` on the unit or one of its ancestors."""
    return list(
        User.objects.filter(
            is_active=True,
            role_assignments__role=role,
            role_assignments__unit_id__in=unit.path_ids,
        ).distinct()
    )


def notify_next(
    *, actor: User, disclosure: Disclosure, transition: Transition, reason: str
) -> None:
    url = f"/disclosures/{disclosure.pk}/"
    title = disclosure.title
    if transition == Transition.SUBMIT:
        people = holders(Role.UNIT_HEAD, disclosure.unit)
        message = _("Waiting for your approval: %(title)s") % {"title": title}
    elif transition == Transition.APPROVE and disclosure.status == S.HEAD_APPROVED:
        people = holders(Role.LEADERSHIP, disclosure.unit)
        message = _("Waiting for the leadership group's approval: %(title)s") % {"title": title}
    elif transition in (Transition.APPROVE, Transition.ENDORSE):
        people = [disclosure.author]
        message = _("Approved, ready to publish: %(title)s") % {"title": title}
    elif transition == Transition.REJECT:
        people = [disclosure.author]
        message = _("Returned to you: %(title)s — %(reason)s") % {
            "title": title,
            "reason": reason[:100],
        }
    else:
        return
    notify(users=[p for p in people if p.pk != actor.pk], message=message, url=url)
