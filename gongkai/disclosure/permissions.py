"""Who may read and act on disclosures. Decided here only; views, templates, feeds and
search ask these functions."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from gongkai.disclosure.models import Attachment, Disclosure, DisclosureStatus, Scope
from gongkai.org.models import UnitKind
from gongkai.policy.rules import APPROVALS, Action, can, visible_scope_paths


def readable_disclosures_q(user: Any, *, prefix: str = "") -> Q:
    """A filter for published disclosures ``user`` may read.

    Public items: everyone, signed in or not. Internal items: the members of the unit and of
    the units below it (a team member reads the team's, department's and company's items —
    linked management), and holders of DISCLOSURE_READ_ALL on the unit or above. Public or
    not is judged on the published revision (a correction in progress may have changed the
    working copy's scope; that counts only once it is published).
    """
    q = public_record_q(prefix=prefix)
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return q
    if user.unit_id is not None:
        q |= Q(**{f"{prefix}unit_id__in": user.unit.path_ids})
    for root in visible_scope_paths(user, Action.DISCLOSURE_READ_ALL):
        q |= Q(**{f"{prefix}unit__path__startswith": root})
    return q


def can_read_published(user: Any, disclosure: Disclosure) -> bool:
    if is_public_record(disclosure):
        return True
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.unit_id is not None and disclosure.unit_id in user.unit.path_ids:
        return True
    return can(user, Action.DISCLOSURE_READ_ALL, disclosure.unit)


def can_see_working_copy(user: Any, disclosure: Disclosure) -> bool:
    """Drafts and items in review: the author, the unit's drafters and approvers."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    unit = disclosure.unit
    return (
        disclosure.author_id == user.pk
        or can(user, Action.DISCLOSURE_DRAFT, unit)
        or any(can(user, level.action, unit) for level in APPROVALS[UnitKind(unit.kind)])
    )


def can_read_withdrawn(user: Any, disclosure: Disclosure) -> bool:
    """A withdrawn item's content, revisions, files and timeline stay readable by the
    supervision group of the unit or above (DISCLOSURE_READ_WITHDRAWN); everyone else who
    could read it sees the tombstone with its date and reason."""
    return (
        disclosure.status == DisclosureStatus.WITHDRAWN
        and disclosure.published_revision_id is not None
        and can(user, Action.DISCLOSURE_READ_WITHDRAWN, disclosure.unit)
    )


def can_read(user: Any, disclosure: Disclosure) -> bool:
    if disclosure.published_revision_id is not None and can_read_published(user, disclosure):
        return True
    return can_see_working_copy(user, disclosure) or can_read_withdrawn(user, disclosure)


def can_edit(user: Any, disclosure: Disclosure) -> bool:
    return disclosure.status == DisclosureStatus.DRAFT and (
        disclosure.author_id == user.pk or can(user, Action.DISCLOSURE_DRAFT, disclosure.unit)
    )


def can_rate(user: Any, disclosure: Disclosure) -> bool:
    return (
        disclosure.is_published
        and not disclosure.is_nil
        and can(user, Action.DISCLOSURE_RATE, disclosure.unit)
        and can_read_published(user, disclosure)
    )


# --- Boards, the public page and feeds (gongkai.disclosure.boards) ---------------------------


def public_record_q(*, prefix: str = "") -> Q:
    """Published items anyone may read without logging in. Judged on the scope of the
    published revision, which is what readers see: a correction in progress may already have
    changed the working copy's scope, and that only counts once it is published."""
    return Q(**{f"{prefix}published_revision__scope": Scope.PUBLIC})


def is_public_record(disclosure: Disclosure) -> bool:
    revision = disclosure.published_revision
    return revision is not None and revision.scope == Scope.PUBLIC


def reads_internal_of(user: Any, unit: Any) -> bool:
    """May ``user`` read the internal published items of ``unit``? The same rule as
    :func:`readable_disclosures_q`, for one unit: members of the unit or of a unit below it,
    and holders of DISCLOSURE_READ_ALL on the unit or above. Boards use it per unit of their
    chain, so everyone with the same answers sees the same board."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.unit_id is not None and unit.pk in user.unit.path_ids:
        return True
    return can(user, Action.DISCLOSURE_READ_ALL, unit)


def attachment_in_published_record(attachment: Attachment) -> bool:
    """Was the file attached when the disclosure's current revision was published? Files
    added to a correction draft are published only with the correction."""
    return attachment.published_in_id is not None


def can_read_attachment(user: Any, attachment: Attachment) -> bool:
    """Any file of the working copy: whoever sees the working copy. A file of the published
    record: whoever may read the published disclosure, until it is withdrawn."""
    disclosure = attachment.disclosure
    if can_see_working_copy(user, disclosure):
        return True
    if can_read_withdrawn(user, disclosure) and attachment_in_published_record(attachment):
        return True
    return (
        disclosure.is_published
        and attachment_in_published_record(attachment)
        and can_read_published(user, disclosure)
    )


# --- Search (gongkai.search) -----------------------------------------------------------------


def readable_disclosure_grants(user: Any) -> tuple[list[int], list[str]]:
    """What :func:`readable_disclosures_q` admits besides public items, as data: the units
    whose internal items ``user`` reads (their own unit and the units above it) and the paths
    of the subtrees they read entirely (DISCLOSURE_READ_ALL). The search index turns these
    into tokens to narrow its matches before filtering with readable_disclosures_q, so a
    difference cannot show anything unreadable, but one that admits less would hide results.
    Keep the two in step (tests/test_search.py checks them against each other)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return [], []
    unit_ids = list(user.unit.path_ids) if user.unit_id is not None else []
    return unit_ids, visible_scope_paths(user, Action.DISCLOSURE_READ_ALL)
