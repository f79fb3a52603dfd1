"""Boards and disclosures: a unit's published items, one item with its revisions, and its
entries in the public transparency log with their proofs."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema

from gongkai.api.auth import caller, require_in_scope
from gongkai.api.endpoints.me import unit_ref
from gongkai.api.paging import Page, PageQuery, page_of
from gongkai.api.schemas import UnitRef, responses
from gongkai.core.tlog import store
from gongkai.disclosure.boards import ItemStatus, board_chain, filters_q, visibility, visible_q
from gongkai.disclosure.models import Disclosure, DisclosureStatus
from gongkai.disclosure.permissions import (
    attachment_in_published_record,
    can_read_published,
    can_read_withdrawn,
)
from gongkai.ledger import transparency
from gongkai.ledger.models import LedgerEntry
from gongkai.policy.rules import Action, require

router = Router(tags=["boards and disclosures"])


class EntryRef(Schema):
    code: str
    name: str
    category: str


class ItemOut(Schema):
    id: int
    unit: UnitRef
    entry: EntryRef
    period: str
    event_date: date | None
    title: str
    scope: str
    revision: int
    nothing_to_report: bool
    withdrawn: bool
    published_at: datetime | None
    url: str


class BoardFilter(Schema):
    category: str | None = None
    status: ItemStatus | None = None


class RevisionOut(Schema):
    number: int
    title: str
    scope: str
    reason: str
    published_at: datetime


class AttachmentOut(Schema):
    name: str
    content_type: str
    size: int
    url: str


class DisclosureOut(ItemOut):
    procedure: str | None
    result: str | None
    table: dict[str, Any] | None
    withdrawn_at: datetime | None
    withdrawal_reason: str
    revisions: list[RevisionOut]
    attachments: list[AttachmentOut]
    ledger_url: str


def item_row(item: Disclosure) -> dict[str, Any]:
    revision = item.published_revision
    assert revision is not None  # noqa: S101 - only published items are listed
    return {
        "id": item.pk,
        "unit": unit_ref(item.unit),
        "entry": {
            "code": item.entry.code,
            "name": item.entry.name,
            "category": item.entry.category.name,
        },
        "period": item.period,
        "event_date": item.event_date,
        "title": revision.title,
        "scope": revision.scope,
        "revision": revision.number,
        "nothing_to_report": item.is_nil,
        "withdrawn": item.status == DisclosureStatus.WITHDRAWN,
        "published_at": item.first_published_at,
        "url": reverse("disclosure:detail", args=[item.pk]),
    }


def published_items() -> Any:
    return Disclosure.objects.select_related("unit", "entry__category", "published_revision").defer(
        "procedure", "result", "table"
    )


@router.get(
    "/boards/{code}/items",
    response=responses(Page[ItemOut]),
    summary="A unit's board: its published items, newest first",
)
def board_items(
    request: HttpRequest, code: str, paging: Query[PageQuery], where: Query[BoardFilter]
) -> dict[str, Any]:
    chain = board_chain(code)
    if not chain:
        raise Http404
    unit = chain[-1]
    user = caller(request)
    require_in_scope(request, unit)
    require(user, Action.BOARD_VIEW, unit)
    qs = published_items().filter(visible_q([unit], visibility(user, [unit])))
    # The board page's own filter (category with its subcategories, published/corrected/
    # withdrawn).
    qs = qs.filter(filters_q({"category": where.category, "status": where.status}))
    return page_of(qs.order_by("-first_published_at", "-pk"), paging, item_row)


def readable(request: HttpRequest, pk: int) -> tuple[Disclosure, bool]:
    """The published disclosure ``pk`` if the caller may read it, and whether they may read
    its content (a withdrawn item's content: the supervision group only). Else 404."""
    item = (
        Disclosure.objects.select_related("unit", "entry__category", "published_revision")
        .filter(pk=pk, published_revision__isnull=False)
        .first()
    )
    user = caller(request)
    if item is None or not can_read_published(user, item):
        raise Http404
    require_in_scope(request, item.unit)
    withdrawn = item.status == DisclosureStatus.WITHDRAWN
    return item, not withdrawn or can_read_withdrawn(user, item)


@router.get("/disclosures/{pk}", response=responses(DisclosureOut), summary="A disclosure")
def disclosure(request: HttpRequest, pk: int) -> dict[str, Any]:
    item, content = readable(request, pk)
    revision = item.published_revision
    assert revision is not None  # noqa: S101 - readable() returns published items
    files = [
        {
            "name": a.original_name,
            "content_type": a.content_type,
            "size": a.size,
            "url": reverse("attachments:download", args=[a.pk]),
        }
        for a in item.attachments.order_by("pk")
        if attachment_in_published_record(a)
    ]
    return {
        **item_row(item),
        "procedure": revision.procedure if content else None,
        "result": revision.result if content else None,
        "table": revision.table if content else None,
        "withdrawn_at": item.withdrawn_at,
        "withdrawal_reason": item.withdrawal_reason,
        "revisions": [
            {
                "number": r.number,
                "title": r.title if content else "",
                "scope": r.scope,
                "reason": r.reason,
                "published_at": r.published_at,
            }
            for r in item.revisions.order_by("number")
        ]
        if content
        else [],
        "attachments": files if content else [],
        "ledger_url": reverse("ledger:disclosure", args=[item.pk]),
    }


class Inclusion(Schema):
    size: int
    hashes: list[str]
    leaf: str


class ProofEntry(Schema):
    sequence: int
    leaf_index: int
    event: str
    recorded_at: datetime
    content_hash: str
    record: dict[str, Any]
    inclusion: Inclusion | None


class Proof(Schema):
    origin: str
    checkpoint: str | None
    entries: list[ProofEntry]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get(
    "/disclosures/{pk}/proof",
    response=responses(Proof),
    summary="Its ledger entries, each with its inclusion proof in the signed log",
)
def proof(request: HttpRequest, pk: int) -> dict[str, Any]:
    item, content = readable(request, pk)
    if not content:
        raise Http404
    newest = transparency.latest()
    size = newest.size if newest is not None else 0
    entries = []
    for entry in LedgerEntry.objects.filter(disclosure_id=item.pk).order_by("sequence"):
        index = entry.sequence - 1
        inclusion = None
        if index < size:
            inclusion = {
                "size": size,
                "hashes": [b64(h) for h in store.inclusion_proof(transparency.LOG, index, size)],
                "leaf": b64(store.entry(transparency.LOG, index)),
            }
        entries.append(
            {
                "sequence": entry.sequence,
                "leaf_index": index,
                "event": entry.event,
                "recorded_at": entry.recorded_at,
                "content_hash": entry.content_hash,
                "record": transparency.record_for_reader(entry),
                "inclusion": inclusion,
            }
        )
    return {
        "origin": transparency.origin(),
        "checkpoint": newest.note if newest is not None else None,
        "entries": entries,
    }
