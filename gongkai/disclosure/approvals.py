"""The approval chain of a disclosure read against its state: whose step is next, who may
take it (and whether as a stand-in for a level with no holder), the queue of what waits for
a person, and the names on an item's timeline. One mechanism: ``policy.rules``'
:func:`~gongkai.policy.rules.approval_chain` and :func:`~gongkai.policy.rules.next_approvers`
decide who may act, who is told (services.next_notice) and whose queue shows the item."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from gongkai.disclosure.models import Disclosure, DisclosureStatus, DisclosureStep, StepKind
from gongkai.org.models import OrgUnit, Role
from gongkai.policy.rules import (
    APPROVAL_ACTIONS,
    Approvers,
    HolderMap,
    approval_after,
    direct_holders,
    next_approvers,
    visible_scope_paths,
)

S = DisclosureStatus
IN_REVIEW = (S.SUBMITTED, S.HEAD_APPROVED)


def chain_of(unit: OrgUnit) -> list[OrgUnit]:
    return list(OrgUnit.objects.ancestors_of(unit))


def pending(
    disclosure: Disclosure,
    *,
    chain: list[OrgUnit] | None = None,
    holding: HolderMap | None = None,
) -> Approvers | None:
    """Who takes the next approval of an item in review; None when it is not in review."""
    if disclosure.status not in IN_REVIEW:
        return None
    chain = chain if chain is not None else chain_of(disclosure.unit)
    step = approval_after(disclosure.unit, disclosure.approvals, chain)
    if step is None:
        return None
    return next_approvers(step, chain, author_id=disclosure.author_id, holding=holding)


def approver_standing(user: Any, disclosure: Disclosure) -> Approvers | None:
    """The next approval of ``disclosure`` when ``user`` is one of those who take it (as
    its holder, or standing in for a level with no holder: see ``acting_for``)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    found = pending(disclosure)
    if found is None or user.pk not in found.people:
        return None
    return found


def awaiting_approval(user: Any) -> QuerySet[Disclosure]:
    """The items whose next approval is ``user``'s: exactly those they were told about.
    Three queries whatever the number of items in review."""
    roots: set[str] = set()
    for action in APPROVAL_ACTIONS:
        roots |= set(visible_scope_paths(user, action))
    if not roots:
        return Disclosure.objects.none()
    within = Q(pk__in=[])
    for root in roots:
        within |= Q(unit__path__startswith=root)
    candidates = list(
        Disclosure.objects.filter(within, status__in=IN_REVIEW)
        .exclude(author=user)
        .select_related("unit")
    )
    ids = {pk for d in candidates for pk in d.unit.path_ids}
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=ids)}
    holding = direct_holders(ids, APPROVAL_ACTIONS)
    mine = []
    for d in candidates:
        chain = [units[pk] for pk in d.unit.path_ids if pk in units]
        found = pending(d, chain=chain, holding=holding)
        if found is not None and user.pk in found.people:
            mine.append(d.pk)
    return (
        Disclosure.objects.filter(pk__in=mine)
        .select_related("unit", "entry", "entry__category", "author", "published_revision")
        .order_by("submitted_at")
    )


# --- Names on the timeline -------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """A step as shown: what, who (name and role), for which unit, when, and why."""

    kind: str
    kind_label: str
    name: str
    role: str
    unit: str
    at: Any
    level: int | None
    acting_for: str
    reason: str


def role_label(role: str) -> str:
    try:
        return str(Role(role).label)
    except ValueError:
        return ""


def signatures(steps: Iterable[DisclosureStep]) -> list[Signature]:
    return [
        Signature(
            kind=s.kind,
            kind_label=str(StepKind(s.kind).label),
            name=s.actor_name,
            role=role_label(s.role),
            unit=s.unit.name,
            at=s.at,
            level=None if s.level is None else s.level + 1,
            acting_for=s.acting_for,
            reason=s.reason,
        )
        for s in steps
    ]


def timeline(disclosure: Disclosure) -> list[Signature]:
    """Every step taken on the item, oldest first."""
    return signatures(disclosure.steps.select_related("unit").order_by("id"))


def published_by_whom(disclosure: Disclosure) -> list[Signature]:
    """Who brought the published revision to the board: who drafted it (or opened the
    correction), who approved it at each level in the round that was published, and who
    published it (or, for an attestation, who signed it)."""
    steps = list(disclosure.steps.select_related("unit").order_by("id"))
    last = next(
        (
            i
            for i in range(len(steps) - 1, -1, -1)
            if steps[i].kind in (StepKind.PUBLISH, StepKind.ATTEST)
        ),
        None,
    )
    if last is None:
        return []
    published = steps[last]
    if published.kind == StepKind.ATTEST:
        return signatures([published])
    before = steps[:last]
    opened = next(
        (s for s in reversed(before) if s.kind in (StepKind.CREATE, StepKind.CORRECT)), None
    )
    approvals = [
        s
        for s in before
        if s.kind in (StepKind.APPROVE, StepKind.ENDORSE)
        and s.review_round == published.review_round
    ]
    return signatures([*([opened] if opened else []), *approvals, published])
