"""The caller's notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from gongkai.api.auth import caller
from gongkai.api.paging import Page, PageQuery, page_of
from gongkai.api.schemas import responses
from gongkai.notify.models import Notification
from gongkai.notify.services import notifications_mark_read

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    message: str
    url: str
    created_at: datetime
    read_at: datetime | None


class NotificationFilter(Schema):
    unread: bool = False


class MarkRead(Schema):
    ids: list[int] | None = None


class Marked(Schema):
    marked: int


def row(note: Notification) -> dict[str, Any]:
    return {
        "id": note.pk,
        "message": note.message,
        "url": note.url,
        "created_at": note.created_at,
        "read_at": note.read_at,
    }


@router.get("/notifications", response=responses(Page[NotificationOut]), summary="My notices")
def notifications(
    request: HttpRequest, paging: Query[PageQuery], where: Query[NotificationFilter]
) -> dict[str, Any]:
    qs = Notification.objects.filter(user=caller(request))
    if where.unread:
        qs = qs.filter(read_at__isnull=True)
    return page_of(qs.order_by("-created_at", "-id"), paging, row)


@router.post(
    "/notifications/read", response=responses(Marked), summary="Mark notices read (all, or ids)"
)
def mark_read(request: HttpRequest, body: MarkRead) -> dict[str, int]:
    return {"marked": notifications_mark_read(user=caller(request), ids=body.ids)}
