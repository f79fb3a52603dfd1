"""Who may see and act on inspections, rectifications, circulars and accountability decisions
(gongkai.supervision). Decided here only; views and templates ask these functions."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from gongkai.disclosure.permissions import can_read_published
from gongkai.policy.rules import Action, can, visible_scope_paths


def _active(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


# --- Rounds and departments ------------------------------------------------------------------


def can_manage_round(user: Any, round: Any) -> bool:
    return can(user, Action.INSPECTION_MANAGE, round.company)


def can_view_round(user: Any, round: Any) -> bool:
    """The supervision group, and those who watch compliance (union office, leadership)."""
    return can_manage_round(user, round) or can(user, Action.COMPLIANCE_VIEW, round.company)


def rounds_q(user: Any) -> Q:
    """Rounds ``user`` may open: companies where they manage or view compliance."""
    q = Q(pk__in=[])
    for action in (Action.INSPECTION_MANAGE, Action.COMPLIANCE_VIEW):
        for root in visible_scope_paths(user, action):
            q |= Q(company__path__startswith=root)
    return q


def can_view_inspection(user: Any, inspected: Any) -> bool:
    """A department's inspection page: the round's viewers and the department's head."""
    return can_view_round(user, inspected.round) or can(
        user, Action.RECTIFICATION_REPORT, inspected.department
    )


def can_manage_inspection(user: Any, inspected: Any) -> bool:
    return can_manage_round(user, inspected.round)


# --- Rectification ---------------------------------------------------------------------------


def can_report_rectification(user: Any, rectification: Any) -> bool:
    """The head of the responsible unit (the inspected department, or the unit a patrol
    visited): a role on the unit or above."""
    return can(user, Action.RECTIFICATION_REPORT, rectification.responsible_unit)


def can_verify_rectification(user: Any, rectification: Any) -> bool:
    """The supervision group, except whoever reported it: nobody verifies their own."""
    if not _active(user) or rectification.reported_by_id == user.pk:
        return False
    return can(user, Action.RECTIFICATION_VERIFY, rectification.responsible_unit)


def can_view_rectification(user: Any, rectification: Any) -> bool:
    unit = rectification.responsible_unit
    return (
        can(user, Action.RECTIFICATION_REPORT, unit)
        or can(user, Action.RECTIFICATION_VERIFY, unit)
        or can(user, Action.COMPLIANCE_VIEW, unit)
    )


def can_open_rectification_from_patrol(user: Any, patrol: Any) -> bool:
    """The supervision group of the patrol's company opens rectification from a patrol."""
    return _active(user) and can(user, Action.RECTIFICATION_VERIFY, patrol.company)


def _unit_q(root: str, prefix: str = "") -> Q:
    """Rectifications whose responsible unit lies under ``root``: the inspected department of
    a finding, or the unit a patrol visited."""
    return Q(**{f"{prefix}finding__inspected__department__path__startswith": root}) | Q(
        **{f"{prefix}unit__path__startswith": root}
    )


def rectifications_q(user: Any, *, prefix: str = "") -> Q:
    """Rectifications ``user`` may see (see :func:`can_view_rectification`)."""
    q = Q(pk__in=[])
    for action in (
        Action.RECTIFICATION_REPORT,
        Action.RECTIFICATION_VERIFY,
        Action.COMPLIANCE_VIEW,
    ):
        for root in visible_scope_paths(user, action):
            q |= _unit_q(root, prefix)
    return q


def reportable_rectifications_q(user: Any) -> Q:
    """The rectifications ``user`` must report on as a unit head ("my rectifications")."""
    q = Q(pk__in=[])
    for root in visible_scope_paths(user, Action.RECTIFICATION_REPORT):
        q |= _unit_q(root)
    return q


# --- Circulars -------------------------------------------------------------------------------


def can_manage_circular(user: Any, circular: Any) -> bool:
    return can_manage_round(user, circular.round)


def can_read_circular(user: Any, circular: Any) -> bool:
    """Drafts: the supervision group. Issued circulars: whoever may read the disclosure that
    published them (the members of the company), and the round's viewers."""
    if can_manage_circular(user, circular):
        return True
    if not circular.is_issued:
        return False
    if can_view_round(user, circular.round):
        return True
    return circular.disclosure is not None and can_read_published(user, circular.disclosure)


def circulars_q(user: Any) -> Q:
    """Circulars for the list: issued ones of the user's company (or any they oversee), and
    drafts where the user manages inspections."""
    q = Q(pk__in=[])
    if not _active(user):
        return q
    for root in visible_scope_paths(user, Action.INSPECTION_MANAGE):
        q |= Q(round__company__path__startswith=root)
    issued = Q(pk__in=[])
    for root in visible_scope_paths(user, Action.COMPLIANCE_VIEW):
        issued |= Q(round__company__path__startswith=root)
    if user.unit_id is not None:
        issued |= Q(round__company_id__in=user.unit.path_ids)
    return q | (Q(status="issued") & issued)


# --- Accountability --------------------------------------------------------------------------


def can_record_accountability(user: Any, unit: Any = None) -> bool:
    return can(user, Action.ACCOUNTABILITY_RECORD, unit)


def can_view_accountability(user: Any, decision: Any) -> bool:
    """Those entitled by policy on the person's unit, and the person concerned."""
    if not _active(user):
        return False
    return decision.person_id == user.pk or can(user, Action.ACCOUNTABILITY_VIEW, decision.unit)


def accountability_q(user: Any) -> Q:
    if not _active(user):
        return Q(pk__in=[])
    q = Q(person_id=user.pk)
    for root in visible_scope_paths(user, Action.ACCOUNTABILITY_VIEW):
        q |= Q(unit__path__startswith=root)
    return q
