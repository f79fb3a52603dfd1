"""Suggestions (意见建议): read those the caller may see, send one, follow one. The same
selectors, permission functions and services as the pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from gongkai.api.auth import caller, require_in_scope, scope_q
from gongkai.api.endpoints.me import unit_ref
from gongkai.api.paging import Page, PageQuery, page_of
from gongkai.api.schemas import UnitRef, responses
from gongkai.org.models import OrgUnit
from gongkai.voice import permissions as policy
from gongkai.voice import selectors, services
from gongkai.voice.models import (
    BODY_MAX,
    TITLE_MAX,
    StepKind,
    Suggestion,
    SuggestionCategory,
    SuggestionStatus,
)

router = Router(tags=["suggestions"])


class SuggestionOut(Schema):
    id: int
    unit: UnitRef
    responsible_unit: UnitRef | None
    author: str | None = Field(description="Null where the name is hidden from the caller")
    category: str
    title: str
    status: str
    status_name: str
    submitted_at: datetime
    due_on: date | None
    answered_at: datetime | None
    rating: str | None
    url: str


class StepOut(Schema):
    kind: str
    kind_name: str
    at: datetime
    unit: UnitRef | None
    text: str
    action_taken: str
    due_on: date | None
    rating: str


class SuggestionDetail(SuggestionOut):
    body: str
    decline_reason: str
    answer: str
    action_taken: str
    steps: list[StepOut]
    following: bool
    followers: int


class SuggestionFilter(Schema):
    unit: str | None = Field(None, max_length=40, description="Sent to this unit (its code)")
    status: SuggestionStatus | None = None
    category: SuggestionCategory | None = None
    mine: bool = Field(False, description="Only those I sent")


class SuggestionIn(Schema):
    unit: str = Field(max_length=40, description="The unit it is sent to (its code)")
    category: SuggestionCategory
    title: str = Field(max_length=TITLE_MAX)
    body: str = Field(max_length=BODY_MAX)
    name_hidden: bool = Field(False, description="Hide my name from the public")


class Following(Schema):
    following: bool


def row(user: Any, s: Suggestion) -> dict[str, Any]:
    return {
        "id": s.pk,
        "unit": unit_ref(s.unit),
        "responsible_unit": unit_ref(s.responsible_unit),
        "author": s.author.name if policy.can_see_author(user, s) else None,
        "category": s.category,
        "title": s.title,
        "status": s.status,
        "status_name": str(s.get_status_display()),
        "submitted_at": s.submitted_at,
        "due_on": s.due_on,
        "answered_at": s.answered_at,
        "rating": s.rating,
        "url": reverse("voice:detail", args=[s.pk]),
    }


def visible(request: HttpRequest, pk: int) -> Suggestion:
    """The same 404 for missing and not-yours, as the page."""
    suggestion = get_object_or_404(selectors.with_relations(Suggestion.objects.all()), pk=pk)
    if not policy.can_view(caller(request), suggestion):
        raise Http404
    require_in_scope(request, suggestion.unit)
    return suggestion


def detail_of(request: HttpRequest, s: Suggestion) -> dict[str, Any]:
    user = caller(request)
    reason = policy.can_read_rating_reason(user, s)
    return {
        **row(user, s),
        "body": s.body,
        "decline_reason": s.decline_reason,
        "answer": s.answer,
        "action_taken": s.action_taken,
        "steps": [
            {
                "kind": step.kind,
                "kind_name": str(step.get_kind_display()),
                "at": step.at,
                "unit": unit_ref(step.unit),
                "text": step.text if step.kind != StepKind.RATE or reason else "",
                "action_taken": step.action_taken,
                "due_on": step.due_on,
                "rating": step.rating,
            }
            for step in s.steps.select_related("unit")
        ],
        "following": services.is_following(user, s),
        "followers": s.followers.count(),
    }


@router.get("/suggestions", response=responses(Page[SuggestionOut]), summary="Suggestions")
def suggestion_list(
    request: HttpRequest, paging: Query[PageQuery], where: Query[SuggestionFilter]
) -> dict[str, Any]:
    user = caller(request)
    unit: OrgUnit | None = None
    if where.unit:
        unit = OrgUnit.objects.filter(code=where.unit).first()
        if unit is None or not policy.can_view_unit(user, unit):
            raise Http404
    qs = selectors.mine(user) if where.mine else selectors.visible_suggestions(user)
    qs = selectors.filtered(
        qs.filter(scope_q(request)),
        unit=unit,
        status=where.status or "",
        category=where.category or "",
    )
    return page_of(qs.order_by("-submitted_at", "-pk"), paging, lambda s: row(user, s))


@router.post("/suggestions", response=responses(SuggestionDetail, 201), summary="Send a suggestion")
def suggestion_submit(request: HttpRequest, body: SuggestionIn) -> Status[dict[str, Any]]:
    unit = OrgUnit.objects.filter(code=body.unit, is_active=True).first()
    if unit is None:
        raise Http404
    require_in_scope(request, unit)
    suggestion = services.suggestion_submit(
        actor=caller(request),
        unit=unit,
        category=body.category,
        title=body.title,
        body=body.body,
        name_hidden=body.name_hidden,
    )
    return Status(201, detail_of(request, visible(request, suggestion.pk)))


@router.get("/suggestions/{pk}", response=responses(SuggestionDetail), summary="A suggestion")
def suggestion_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    return detail_of(request, visible(request, pk))


@router.put(
    "/suggestions/{pk}/following",
    response=responses(Following),
    summary="Follow it: each step is notified",
)
def follow(request: HttpRequest, pk: int) -> dict[str, bool]:
    services.suggestion_follow(actor=caller(request), suggestion=visible(request, pk))
    return {"following": True}


@router.delete("/suggestions/{pk}/following", response=responses(Following), summary="Unfollow")
def unfollow(request: HttpRequest, pk: int) -> dict[str, bool]:
    services.suggestion_unfollow(actor=caller(request), suggestion=visible(request, pk))
    return {"following": False}
