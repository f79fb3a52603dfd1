"""Who may see, answer, manage and read the results of a satisfaction survey."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q

from gongkai.policy.rules import Action, can, visible_scope_paths
from gongkai.surveys.models import Phase, Survey, SurveyStatus


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_addressed(user: Any, survey: Survey) -> bool:
    """An active employee whose (current) unit lies in the survey's addressed subtree."""
    if not _active(user) or user.unit_id is None:
        return False
    return bool(user.unit.path.startswith(survey.unit.path))


def can_manage(user: Any, survey: Survey) -> bool:
    return can(user, Action.SURVEY_MANAGE, survey.unit)


def can_see_results(user: Any, survey: Survey) -> bool:
    return can(user, Action.SURVEY_RESULTS, survey.unit) or can_manage(user, survey)


def can_read_published_results(user: Any, survey: Survey) -> bool:
    """An addressed employee, once the survey is closed, when it says its results are
    published: the figures only (the views leave out free-text answers and the .xlsx)."""
    return (
        survey.results_published
        and survey.status == SurveyStatus.CLOSED
        and is_addressed(user, survey)
    )


def can_view(user: Any, survey: Survey) -> bool:
    """Drafts: only the managers. Opened surveys: the addressed employees and the result
    readers. Everyone else gets the same 404 as for a missing survey."""
    if can_manage(user, survey):
        return True
    if survey.status == SurveyStatus.DRAFT:
        return False
    return is_addressed(user, survey) or can_see_results(user, survey)


def can_answer(user: Any, survey: Survey, today: date | None = None) -> bool:
    """Addressed and the survey is open for answers today (not whether they already did)."""
    return survey.phase(today) == Phase.RUNNING and is_addressed(user, survey)


def visible_surveys_q(user: Any) -> Q:
    """A filter for the surveys ``user`` may see (see :func:`can_view`)."""
    if not _active(user):
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for root in visible_scope_paths(user, Action.SURVEY_MANAGE):
        q |= Q(unit__path__startswith=root)
    opened = ~Q(status=SurveyStatus.DRAFT)
    for root in visible_scope_paths(user, Action.SURVEY_RESULTS):
        q |= opened & Q(unit__path__startswith=root)
    if user.unit_id is not None:
        # addressed: the survey's unit is the user's unit or one above it
        q |= opened & Q(unit_id__in=user.unit.path_ids)
    return q
