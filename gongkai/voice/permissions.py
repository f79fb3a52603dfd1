"""Who may see and act on suggestions (gongkai.voice). Decided here only; views, templates,
the board section and the services ask these functions."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from gongkai.org.models import OrgUnit
from gongkai.policy.rules import Action, can, visible_scope_paths


def _active(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def visible_suggestions_q(user: Any, *, prefix: str = "") -> Q:
    """Suggestions sent to units whose board ``user`` may open, and their own."""
    if not _active(user):
        return Q(pk__in=[])
    q = Q(**{f"{prefix}author_id": user.pk})
    roots = visible_scope_paths(user, Action.BOARD_VIEW)
    if roots:
        within = Q()
        for root in roots:
            within |= Q(path__startswith=root)
        # A subquery of unit ids, not a join: OR-ed with the author test, a join made SQLite
        # evaluate the path per suggestion (10× slower on 20,000 rows; bench_voice).
        q |= Q(**{f"{prefix}unit_id__in": OrgUnit.objects.filter(within).values("pk")})
    return q


def can_view(user: Any, suggestion: Any) -> bool:
    if not _active(user):
        return False
    return suggestion.author_id == user.pk or can(user, Action.BOARD_VIEW, suggestion.unit)


def can_view_unit(user: Any, unit: Any) -> bool:
    """Whether ``user`` may list the suggestions sent to ``unit`` (those of its board)."""
    return _active(user) and can(user, Action.BOARD_VIEW, unit)


def can_see_author(user: Any, suggestion: Any) -> bool:
    """The name behind a suggestion: everyone who may see it, unless the name is hidden; then
    only the author and holders of SUGGESTION_SEE_AUTHOR on the receiving unit."""
    if not _active(user):
        return False
    if suggestion.author_id == user.pk:
        return True
    if not suggestion.name_hidden:
        return can_view(user, suggestion)
    return can(user, Action.SUGGESTION_SEE_AUTHOR, suggestion.unit)


def can_submit_to(user: Any, unit: Any) -> bool:
    return _active(user) and can(user, Action.SUGGESTION_SUBMIT, unit)


def can_handle(user: Any, suggestion: Any) -> bool:
    """Accept, decline, assign: the receiving unit's head and the union office."""
    return _active(user) and can(user, Action.SUGGESTION_HANDLE, suggestion.unit)


def can_answer(user: Any, suggestion: Any) -> bool:
    unit = suggestion.responsible_unit
    return _active(user) and unit is not None and can(user, Action.SUGGESTION_ANSWER, unit)


def can_review(user: Any, suggestion: Any) -> bool:
    return _active(user) and can(user, Action.SUGGESTION_REVIEW, suggestion.unit)


def can_read_rating_reason(user: Any, suggestion: Any) -> bool:
    """Why the author was dissatisfied: the author and the union office reviewing it (the
    review list shows it to the same reviewers); never the public timeline."""
    return is_author(user, suggestion) or can_review(user, suggestion)


def is_author(user: Any, suggestion: Any) -> bool:
    return _active(user) and suggestion.author_id == user.pk


def may_work_on_suggestions(user: Any) -> bool:
    """Whether the handler's work queue has anything for ``user`` to see."""
    return any(
        can(user, action)
        for action in (
            Action.SUGGESTION_HANDLE,
            Action.SUGGESTION_ANSWER,
            Action.SUGGESTION_REVIEW,
        )
    )
