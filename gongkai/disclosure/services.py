"""State changes of disclosures: the level-by-level workflow (层层把关), corrections as new
revisions, withdrawal with a tombstone, and "nothing to report" attestations.

Every transition is a row of FLOW (gongkai.core.workflow), taken by
:func:`disclosure_transition` with an atomic conditional UPDATE (two approvers racing: one
wins, the other gets a clear error), audited in the same transaction, and followed by
notifications to whoever acts next (gongkai.notify.workflow: the policy's holders).

Everything that reaches a board goes through :func:`publish`: the workflow's publish step,
attestations, and what other apps publish at once (vote results, circulars, rankings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongkai.accounts.models import User
from gongkai.audit.services import record_event
from gongkai.core.errors import ServiceError
from gongkai.core.periods import KIND_BY_FREQUENCY, Frequency, InvalidPeriod, Period
from gongkai.core.richtext import sanitize_html
from gongkai.core.workflow import Workflow, rows
from gongkai.disclosure.approvals import approver_standing, pending
from gongkai.disclosure.catalog import entry_rules, rule_for_period
from gongkai.disclosure.models import (
    CatalogEntry,
    CatalogRule,
    Disclosure,
    DisclosureStatus,
    DisclosureStep,
    Revision,
    Scope,
    StepKind,
)
from gongkai.disclosure.obligations import check_one_per_period
from gongkai.disclosure.publication import publication_changed
from gongkai.notify.workflow import Notice, take_step, tell
from gongkai.org.models import OrgUnit
from gongkai.policy.rules import (
    APPROVALS,
    Action,
    ApprovalStep,
    approval_after,
    can,
    role_for,
)

S = DisclosureStatus


class Transition(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"  # a unit head, at the level the chain has reached
    ENDORSE = "endorse"  # a leadership group member, for company-level items
    REJECT = "reject"
    PUBLISH = "publish"
    CORRECT = "correct"  # start a correction of a published item: a new draft revision
    WITHDRAW = "withdraw"


NEEDS_REASON = frozenset({Transition.REJECT, Transition.CORRECT, Transition.WITHDRAW})

# step, from, to, and the permission it needs on the disclosure's unit. The approvals follow
# the item's chain (policy.rules.APPROVALS, approval_chain): the first is taken from
# "submitted", a later one from "head approved"; the last leads to "approved". Who may take
# an approval is not the table's action alone but the chain's next holders
# (approvals.approver_standing); the action names the permission for the record.
FLOW = Workflow(
    model=Disclosure,
    table=[
        *rows(Transition.SUBMIT, [S.DRAFT], S.SUBMITTED, Action.DISCLOSURE_DRAFT),
        *rows(Transition.APPROVE, [S.SUBMITTED], S.APPROVED, Action.DISCLOSURE_APPROVE),
        *rows(Transition.APPROVE, [S.SUBMITTED], S.HEAD_APPROVED, Action.DISCLOSURE_APPROVE),
        *rows(Transition.APPROVE, [S.HEAD_APPROVED], S.APPROVED, Action.DISCLOSURE_APPROVE),
        *rows(Transition.ENDORSE, [S.HEAD_APPROVED], S.APPROVED, Action.DISCLOSURE_ENDORSE),
        *rows(Transition.REJECT, [S.SUBMITTED], S.DRAFT, Action.DISCLOSURE_APPROVE),
        *rows(Transition.REJECT, [S.HEAD_APPROVED], S.DRAFT, Action.DISCLOSURE_ENDORSE),
        *rows(Transition.PUBLISH, [S.APPROVED], S.PUBLISHED, Action.DISCLOSURE_DRAFT),
        *rows(Transition.CORRECT, [S.PUBLISHED], S.DRAFT, Action.DISCLOSURE_DRAFT),
        *rows(Transition.WITHDRAW, [S.PUBLISHED], S.WITHDRAWN, Action.DISCLOSURE_WITHDRAW),
    ],
    stale=gettext_lazy("This disclosure is now “%(status)s”; the step was not taken."),
    lost=gettext_lazy("Someone else acted on this disclosure first; reload the page."),
)
APPROVING = frozenset({Transition.APPROVE, Transition.ENDORSE})
STEP_OF = {
    Action.DISCLOSURE_APPROVE: Transition.APPROVE,
    Action.DISCLOSURE_ENDORSE: Transition.ENDORSE,
}
# The states of an item in review carry at most two approvals apart (the first taken from
# "submitted", the next from "head approved"): the conditional UPDATE on the state then
# keeps two approvers of the same level from both succeeding.
assert all(len(levels) <= 2 for levels in APPROVALS.values())  # noqa: S101

MAX_REASON = 2000


def approval_transition(step: ApprovalStep) -> Transition:
    """The workflow step that gives an approval of the chain."""
    return STEP_OF[step.action]


def target_status(transition: Transition, disclosure: Disclosure) -> str | None:
    """Where the step leads this disclosure when the table has several ways: an approval
    leads on to the next one the chain asks for, or to "approved" after the last."""
    if transition in APPROVING:
        step = approval_after(disclosure.unit, disclosure.approvals)
        return S.APPROVED if step is None or step.last else S.HEAD_APPROVED
    return None


def may_transition(user: Any, disclosure: Disclosure, transition: Transition) -> bool:
    """The policy question for one transition on one disclosure (state and role). Approving
    and returning an item in review belong to whoever takes its next approval
    (:func:`gongkai.disclosure.approvals.approver_standing`): the holders of that level, or,
    when it has none, those of the nearest level above, acting for it; never the author."""
    row = FLOW.row(transition, disclosure.status, target_status(transition, disclosure))
    if row is None:
        return False
    if transition == Transition.CORRECT and disclosure.is_nil:
        return False  # an attestation is withdrawn, not corrected
    if transition in APPROVING or transition == Transition.REJECT:
        standing = approver_standing(user, disclosure)
        if standing is None:
            return False
        return transition == Transition.REJECT or approval_transition(standing.step) == transition
    return can(user, row.action, disclosure.unit)


def acting_for(user: Any, disclosure: Disclosure) -> OrgUnit | None:
    """The unit whose approval level ``user`` would take in its absence (it has no holder),
    or None when they take their own level or none."""
    standing = approver_standing(user, disclosure)
    return standing.step.unit if standing is not None and standing.acting_for else None


def available_transitions(user: Any, disclosure: Disclosure) -> list[Transition]:
    return [t for t in Transition if may_transition(user, disclosure, t)]


# --- Drafting -------------------------------------------------------------------------------


def check_period(
    entry: CatalogEntry, unit: OrgUnit, period: str, event_date: date | None
) -> tuple[str, CatalogRule]:
    """Validate the period against the entry's frequency; return its normalised key and the
    rule it was checked against: the rule in force when the period began (for an event, on
    its date), as compliance judges it. A period that already has a disclosure published or
    in review is refused (one disclosure per obligation and period; a change is a
    correction of that one)."""
    today = timezone.localdate()
    rule = rule_for_period(entry_rules(entry), period, event_date, today)
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
    OrgUnit.objects.select_for_update().filter(pk=unit.pk).first()  # two drafters racing
    check_one_per_period(unit, entry, parsed.key)
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
    step_record(
        actor=actor, disclosure=disclosure, kind=StepKind.CREATE, at=timezone.now(), unit=unit
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
    acting_for: str = "",
    at: datetime | None = None,
) -> Disclosure:
    """Apply one step of the workflow. An approval (or a return) by someone standing in for
    a level with no holder needs ``acting_for``, the reason, recorded with the step. ``at``
    back-dates the step; only for entering past records from the paper boards by the system
    (the demo, imports) — pages never pass it."""
    reason, acting_for = reason.strip(), acting_for.strip()
    if transition in NEEDS_REASON and not reason:
        raise ServiceError(_("Give a reason; it is shown with the disclosure."), field="reason")
    if len(reason) > MAX_REASON:
        raise ServiceError(_("The reason is too long."), field="reason")
    if len(acting_for) > MAX_REASON:
        raise ServiceError(_("The reason is too long."), field="acting_for")
    current = Disclosure.objects.select_related("unit", "entry").get(pk=disclosure.pk)
    if not may_transition(actor, current, transition):
        if not FLOW.allows(transition, current.status):
            raise FLOW.stale_error(current)
        if (current.status, current.approvals) != (disclosure.status, disclosure.approvals):
            raise ServiceError(str(FLOW.lost))  # another level acted since it was read
        raise ServiceError(_("You may not take this step on this disclosure."))
    reviewing = transition in APPROVING or transition == Transition.REJECT
    standing = pending(current) if reviewing else None
    if standing is not None and standing.acting_for and not acting_for:
        raise ServiceError(
            _(
                "%(unit)s has nobody to take this approval; you act for it. "
                "Give the reason; it is recorded with the step."
            )
            % {"unit": standing.step.unit.name},
            field="acting_for",
        )
    if standing is None or not standing.acting_for:
        acting_for = ""
    if transition == Transition.SUBMIT:
        check_complete(current)
    if transition in (Transition.SUBMIT, Transition.PUBLISH) and current.period:
        # One disclosure per obligation and period: the unit's row lock orders two drafts
        # of the same period reaching review (or publication) at once.
        OrgUnit.objects.select_for_update().filter(pk=current.unit_id).first()
        check_one_per_period(current.unit, current.entry, current.period, exclude_pk=current.pk)
    target = target_status(transition, current)
    now = at or timezone.now()
    changes: dict[str, Any] = {"updated_at": now}
    if transition == Transition.SUBMIT:
        changes |= {
            "submitted_at": now,
            "rejection_reason": "",
            "review_round": current.review_round + 1,
            "approvals": 0,
        }
    elif transition in APPROVING:
        changes["approvals"] = current.approvals + 1
    elif transition == Transition.REJECT:
        changes |= {"rejection_reason": reason, "approvals": 0}
    elif transition == Transition.CORRECT:
        changes["correction_reason"] = reason
    elif transition == Transition.WITHDRAW:
        changes |= {"withdrawn_at": now, "withdrawal_reason": reason}
    after: dict[str, Any] = {"reason": reason} if reason else {}
    if standing is not None:
        after |= {"level": standing.step.index + 1, "level_unit": standing.step.unit.name}
        if acting_for:
            after["acting_for"] = acting_for
    take_step(
        FLOW,
        current,
        transition,
        actor=actor,
        audit=f"disclosure.{transition.value}",
        unit=current.unit,
        changes=changes,
        target=target,
        after=after or None,
    )
    step_record(
        actor=actor,
        disclosure=current,
        kind=StepKind(transition.value),
        at=now,
        approval=standing.step if standing is not None and transition in APPROVING else None,
        unit=standing.step.unit if standing is not None else current.unit,
        acting_for=acting_for,
        reason=reason,
    )
    notice = next_notice(current, transition, target=target, reason=reason)
    if notice is not None:
        tell(notice, actor=actor)
    if transition == Transition.PUBLISH:
        publish(actor=actor, item=current, at=now)
    elif transition == Transition.WITHDRAW:
        publication_changed(current, event=transition.value)
    return current


def step_record(
    *,
    actor: User,
    disclosure: Disclosure,
    kind: StepKind,
    at: datetime,
    unit: OrgUnit,
    approval: ApprovalStep | None = None,
    acting_for: str = "",
    reason: str = "",
) -> DisclosureStep:
    """The step on the item's timeline, with the actor's name and the role they acted in.
    An approval level is recorded once per review round (a unique constraint)."""
    if approval is not None:
        role = role_for(actor, approval.action, approval.unit)
    else:
        action = (
            Action.DISCLOSURE_WITHDRAW if kind == StepKind.WITHDRAW else Action.DISCLOSURE_DRAFT
        )
        role = role_for(actor, action, disclosure.unit)
    return DisclosureStep.objects.create(
        disclosure=disclosure,
        kind=kind,
        review_round=disclosure.review_round,
        level=approval.index if approval is not None else None,
        unit=unit,
        actor=actor,
        actor_name=actor.name,
        role=role.value if role is not None else "",
        acting_for=acting_for,
        reason=reason,
        at=at,
    )


def check_complete(disclosure: Disclosure) -> None:
    """Both the procedure and the result are disclosed when the catalog demands them (the
    rule that judges the disclosure's period: the one in force when it began)."""
    rule = rule_for_period(
        entry_rules(disclosure.entry),
        disclosure.period,
        disclosure.event_date,
        timezone.localdate(),
    )
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


# --- Publishing -----------------------------------------------------------------------------


class Source(StrEnum):
    """Where a direct publication comes from; named in its audit event."""

    ATTESTATION = "attestation"
    BALLOTS = "ballots"
    CIRCULAR = "circular"
    RANKING = "ranking"


@dataclass(frozen=True)
class DirectPublication:
    """What a service publishes at once, without drafting and approval: a "nothing to report"
    attestation signed by the officer, a vote's result, a circular, a ranking. ``scope`` None
    is the catalog rule's default; ``details`` go into the audit event."""

    unit: OrgUnit
    entry: CatalogEntry
    title: str
    source: Source
    procedure: str = ""
    result: str = ""
    table: dict[str, Any] | None = None
    scope: str | None = None
    period: str = ""
    event_date: date | None = None
    is_nil: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)


@transaction.atomic
def publish(
    *, actor: User, item: Disclosure | DirectPublication, at: datetime | None = None
) -> Disclosure:
    """The one way anything reaches a board. ``item`` is the workflow's working copy, which
    its publish step has just moved to published and audited (``take_step``), or a
    :class:`DirectPublication`, checked against the catalog, created here as published and
    audited as "disclosure.publish" ("disclosure.attested" for an attestation) with its
    source. Either way the record is published as revision n+1 with the draft's files, goes
    into the ledger and the search index, and the boards showing it are forgotten, all in the
    caller's transaction."""
    now = at or timezone.now()
    if isinstance(item, DirectPublication):
        disclosure = published_row(actor=actor, item=item)
    else:
        disclosure = item
    if disclosure.status != S.PUBLISHED:
        raise ValueError(f"disclosure {disclosure.pk} is {disclosure.status}, not published")
    publish_revision(actor=actor, disclosure=disclosure, at=now)
    if isinstance(item, DirectPublication):
        step_record(
            actor=actor,
            disclosure=disclosure,
            kind=StepKind.ATTEST if item.is_nil else StepKind.PUBLISH,
            at=now,
            unit=disclosure.unit,
            reason=str(item.details.get("reason", "")) if item.is_nil else "",
        )
        record_event(
            actor=actor,
            action="disclosure.attested" if item.is_nil else "disclosure.publish",
            target=disclosure,
            unit=disclosure.unit,
            before={"status": ""},
            after={"status": S.PUBLISHED, "source": item.source.value, **item.details},
        )
    publication_changed(disclosure, event="attest" if disclosure.is_nil else "publish")
    return disclosure


def published_row(*, actor: User, item: DirectPublication) -> Disclosure:
    """The disclosure of a direct publication, in state published (its revision follows)."""
    period_key, rule = check_period(item.entry, item.unit, item.period, item.event_date)
    title, procedure, result = clean_content(
        title=item.title, procedure=item.procedure, result=item.result
    )
    return Disclosure.objects.create(
        unit=item.unit,
        entry=item.entry,
        period=period_key,
        event_date=None if period_key else item.event_date,
        is_nil=item.is_nil,
        title=title,
        procedure=procedure,
        result=result,
        table=item.table,
        scope=item.scope or rule.default_scope,
        status=S.PUBLISHED,
        author=actor,
    )


def publish_revision(*, actor: User, disclosure: Disclosure, at: datetime) -> Revision:
    """The published record as the next revision; the draft's files are published with it."""
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
    title = _("Nothing to report: %(entry)s, %(period)s") % {
        "entry": entry.name,
        "period": period_key or event_date,
    }
    item = DirectPublication(
        unit=unit,
        entry=entry,
        title=title,
        source=Source.ATTESTATION,
        result=f"<p>{reason}</p>",
        scope=Scope.INTERNAL,
        period=period_key,
        event_date=event_date,
        is_nil=True,
        details={"entry": entry.code, "period": period_key, "reason": reason},
    )
    return publish(actor=actor, item=item, at=at)


# --- Notifications --------------------------------------------------------------------------


def next_notice(
    disclosure: Disclosure, transition: Transition, *, target: str | None, reason: str
) -> Notice | None:
    """Whoever acts next: the people who take the item's next approval (the holders of that
    level, or, when it has none, those of the nearest level above, who act for it), or the
    author once it is approved or returned. Nobody else up the chain is told."""
    url = f"/disclosures/{disclosure.pk}/"
    title = disclosure.title
    if transition in (Transition.SUBMIT, *APPROVING) and target != S.APPROVED:
        found = pending(disclosure)
        if found is None or not found.people:
            return None
        if found.acting_for:
            message = _(
                "Waiting for your approval in place of %(unit)s, which has nobody to approve "
                "it: %(title)s"
            ) % {"unit": found.step.unit.name, "title": title}
        elif found.step.action == Action.DISCLOSURE_ENDORSE:
            message = _("Waiting for the leadership group's approval: %(title)s") % {"title": title}
        else:
            message = _("Waiting for your approval: %(title)s") % {"title": title}
        return Notice(message, url, people=User.objects.filter(pk__in=found.people))
    if transition in APPROVING:
        message = _("Approved, ready to publish: %(title)s") % {"title": title}
        return Notice(message, url, people=[disclosure.author])
    if transition == Transition.REJECT:
        message = _("Returned to you: %(title)s — %(reason)s") % {
            "title": title,
            "reason": reason[:100],
        }
        return Notice(message, url, people=[disclosure.author])
    return None
