"""Publicity windows (公示) and objections (异议): the windows the caller may see, one window
with its outcome, and filing an objection. The same permission functions, selectors and
service as the pages (gongkai.publicity).

Who filed an objection is never in a response, except to the filer, in their own list
(``mine``). The supervision group reviews objections on the pages. Filing is not recorded as
a use of the token (``auth_methods(record_use=False)``): an anonymous objection's audit event
has no actor, and a token's use, with its time, would name them. Evidence files are left
out of the API: they are attached on the page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from gongkai.api.auth import auth_methods, caller, require_in_scope, scope_q
from gongkai.api.endpoints.me import unit_ref
from gongkai.api.paging import Page, PageQuery, page_of
from gongkai.api.schemas import UnitRef, responses
from gongkai.disclosure.permissions import readable_disclosures_q
from gongkai.publicity import permissions as policy
from gongkai.publicity import selectors, services
from gongkai.publicity.models import Finding, Objection, Outcome, Publicity, WindowState

router = Router(tags=["publicity"])


class DisclosureRef(Schema):
    id: int
    title: str
    unit: UnitRef
    url: str


class WindowOut(Schema):
    id: int
    kind: str
    kind_name: str
    disclosure: DisclosureRef
    starts_on: date = Field(description="The first day objections may be filed")
    ends_on: date = Field(description="The last day objections may be filed (inclusive)")
    state: WindowState
    state_name: str
    objection_count: int
    pending_count: int = Field(description="Objections without a finding yet")
    outcome: Outcome | None = Field(description="Null until the outcome is published")
    outcome_name: str | None
    outcome_published_at: datetime | None
    url: str


class MyObjection(Schema):
    id: int
    filed_on: date
    anonymous: bool
    text: str
    finding: Finding | None = Field(description="Null until the supervision group records it")
    finding_name: str | None
    finding_text: str


class WindowDetail(WindowOut):
    outcome_text: str
    finding_due: date = Field(description="Findings on its objections are due by this day")
    may_file: bool = Field(description="The caller may file an objection now")
    mine: list[MyObjection] = Field(description="The caller's own objections to it")


class WindowFilter(Schema):
    state: WindowState | None = Field(None, description="Upcoming, open or closed today")


class ObjectionIn(Schema):
    text: str = Field(
        max_length=services.OBJECTION_MAX_CHARS,
        description=(
            f"The facts: what, when, who can confirm it; at least "
            f"{services.OBJECTION_MIN_CHARS} characters"
        ),
    )
    anonymous: bool = Field(False, description="Show my name to no one but the supervision group")


class ObjectionFiled(MyObjection):
    window: int
    message: str


def state_q(state: str, today: date) -> Q:
    """The windows in ``state`` today (``Publicity.state_on``, as a filter)."""
    if state == WindowState.UPCOMING:
        return Q(starts_on__gt=today)
    if state == WindowState.CLOSED:
        return Q(ends_on__lt=today)
    return Q(starts_on__lte=today, ends_on__gte=today)


def window_row(publicity: Publicity, today: date) -> dict[str, Any]:
    disclosure = publicity.disclosure
    revision = disclosure.published_revision
    state = publicity.state_on(today)
    return {
        "id": publicity.pk,
        "kind": publicity.kind,
        "kind_name": str(publicity.get_kind_display()),
        "disclosure": {
            "id": disclosure.pk,
            "title": revision.title if revision is not None else disclosure.title,
            "unit": unit_ref(disclosure.unit),
            "url": reverse("disclosure:detail", args=[disclosure.pk]),
        },
        "starts_on": publicity.starts_on,
        "ends_on": publicity.ends_on,
        "state": state,
        "state_name": str(state.label),
        "objection_count": publicity.objection_count,  # type: ignore[attr-defined]
        "pending_count": publicity.pending_count,  # type: ignore[attr-defined]
        "outcome": publicity.outcome,
        "outcome_name": str(publicity.get_outcome_display()) if publicity.outcome else None,
        "outcome_published_at": publicity.outcome_published_at,
        "url": reverse("publicity:detail", args=[publicity.pk]),
    }


def objection_row(objection: Objection) -> dict[str, Any]:
    return {
        "id": objection.pk,
        "filed_on": objection.filed_on,
        "anonymous": objection.anonymous,
        "text": objection.text,
        "finding": objection.finding,
        "finding_name": str(objection.get_finding_display()) if objection.finding else None,
        "finding_text": objection.finding_text,
    }


def windows() -> QuerySet[Publicity]:
    return selectors.with_counts(selectors.with_relations(Publicity.objects.all()))


def window_for(request: HttpRequest, pk: int) -> Publicity:
    """The window if the caller may see it (as the page: the same 404 when missing or not
    theirs), within the token's units."""
    publicity = get_object_or_404(windows(), pk=pk)
    if not policy.can_view_publicity(caller(request), publicity):
        raise Http404
    require_in_scope(request, publicity.disclosure.unit)
    return publicity


@router.get(
    "/publicity/windows",
    response=responses(Page[WindowOut]),
    summary="Publicity windows on the disclosures I may read, newest first",
)
def window_list(
    request: HttpRequest, paging: Query[PageQuery], where: Query[WindowFilter]
) -> dict[str, Any]:
    user = caller(request)
    today = timezone.localdate()
    qs = windows().filter(
        readable_disclosures_q(user, prefix="disclosure__"),
        scope_q(request, "disclosure__unit__path"),
        disclosure__published_revision__isnull=False,
    )
    if where.state:
        qs = qs.filter(state_q(where.state, today))
    return page_of(qs.order_by("-starts_on", "-pk"), paging, lambda p: window_row(p, today))


@router.get(
    "/publicity/windows/{pk}",
    response=responses(WindowDetail),
    summary="A publicity window: its dates, its objections counted, its outcome",
)
def window_detail(request: HttpRequest, pk: int) -> dict[str, Any]:
    publicity = window_for(request, pk)
    user = caller(request)
    today = timezone.localdate()
    mine = publicity.objections.filter(filed_by=user).order_by("pk")
    return {
        **window_row(publicity, today),
        "outcome_text": publicity.outcome_text,
        "finding_due": selectors.finding_due(publicity.ends_on),
        "may_file": policy.can_file_objection(user, publicity)
        and publicity.state_on(today) == WindowState.OPEN,
        "mine": [objection_row(o) for o in mine],
    }


@router.post(
    "/publicity/windows/{pk}/objections",
    response=responses(ObjectionFiled, 201),
    auth=auth_methods(record_use=False),
    summary="File an objection while the window is open (evidence files: on the page)",
)
def objection_file(request: HttpRequest, pk: int, body: ObjectionIn) -> Status[dict[str, Any]]:
    publicity = window_for(request, pk)
    user = caller(request)
    if not policy.can_file_objection(user, publicity):
        raise PermissionDenied
    objection = services.objection_file(
        actor=user, publicity=publicity, text=body.text, anonymous=body.anonymous
    )
    message = _(
        "Your objection is filed. The supervision group will look into it and record a finding."
    )
    return Status(201, {**objection_row(objection), "window": publicity.pk, "message": message})
