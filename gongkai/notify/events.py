"""Outbound events: what happened, told to systems outside the site that asked for it.

The union office registers :class:`~gongkai.notify.models.EventEndpoint` rows (an address, a
signing secret, the events and the units wanted, and whether the endpoint also sees internal
items). A part tells what happened by calling :func:`emit` at the one place it happens
(``disclosure.publication``: published, corrected, withdrawn; ``voice.services``: a
suggestion answered; ``publicity``: a window opened or closed), giving the data as each kind
of reader may see it: ``data`` for readers who may see the item, and, for an internal item,
optionally ``redacted``, the little an anonymous reader may know of it.

:func:`emit` writes one :class:`~gongkai.notify.models.Delivery` (channel ``event``) per
matching endpoint **in the caller's transaction** (so an event exists exactly when the
change committed: none for a change rolled back, none lost between the commit and the
queue), with the JSON body already built for that endpoint; once the transaction commits,
the queue sends them (``tasks.send_event_batch``). From there an event delivery is a
delivery like a robot's: claimed by one sender, signed at each attempt
(``robots.signed_headers``), retried with doubling waits, failed at once on a 4xx other than
408 and 429, requeued when its worker died, listed in the delivery log. Just before each
attempt :func:`gongkai.notify.outbox.event_unwanted` checks the endpoint again (still
enabled, still asking for the type, still covering the unit, still seeing internal items if
the body is internal).

Matching: an endpoint matches an event when it is enabled, asked for its type, and one of
its units is the event's unit or above it. An endpoint that sees public items only receives
an internal item's event only as its ``redacted`` form, or not at all.

The body (``robots.encode``: compact UTF-8 JSON)::

    {"id": "<32 hex>", "type": "disclosure.published", "occurred_at": "2026-10-09T10:30:00+08:00",
     "unit": {"code": "rd-boiler", "name": "锅炉分场"}, "audience": "public", "data": {...}}

``id`` is the event's, the same for every endpoint and every attempt (a receiver drops a
duplicate by it); ``audience`` says whether ``data`` is what an anonymous reader may see
(``public``) or internal.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.utils import timezone

from gongkai.core.queue import after_commit
from gongkai.notify import outbox, robots, tasks
from gongkai.notify.models import INTERNAL_ONLY_EVENTS, Delivery, EventEndpoint, EventKind
from gongkai.notify.services import sending_out
from gongkai.org.models import OrgUnit

# Deterministic event ids (:func:`event_id` with a key) are UUID 5 in this namespace.
NAMESPACE = uuid.UUID("6f0d3c1e-5b7a-4d55-9d7e-2f1f4e9b8a10")
SUBJECT_LENGTH = 200


class Audience(StrEnum):
    """Who may see what an event's data shows: anyone (``public``: what an anonymous
    reader of the public pages sees), or only signed-in readers in the item's scope."""

    PUBLIC = "public"
    INTERNAL = "internal"


def event_id(key: str = "") -> str:
    """A new event id; the same id for the same ``key`` (an event that a periodic task may
    notice more than once, as a publicity window opening on a date)."""
    return uuid.uuid5(NAMESPACE, key).hex if key else uuid.uuid4().hex


def moment(value: datetime) -> str:
    """ISO 8601 in the site's time zone, with its offset, to the second."""
    return timezone.localtime(value).isoformat(timespec="seconds")


def absolute(path: str) -> str:
    """``path`` of this site as an absolute address (``settings.SITE_URL``)."""
    return outbox.site_link(path)


def body_of(
    *,
    ident: str,
    kind: str,
    occurred_at: datetime,
    unit: OrgUnit | None,
    audience: Audience,
    data: Mapping[str, Any],
) -> str:
    """The event's JSON, as it is signed and sent."""
    return robots.encode(
        {
            "id": ident,
            "type": kind,
            "occurred_at": moment(occurred_at),
            "unit": {"code": unit.code, "name": unit.name} if unit is not None else None,
            "audience": audience.value,
            "data": dict(data),
        }
    ).decode()


def subject_of(kind: str, data: Mapping[str, Any]) -> str:
    """The delivery log's line for the event: its type and the title it carries."""
    title = robots.one_line(str(data.get("title") or ""))
    return (f"{kind} · {title}" if title else kind)[:SUBJECT_LENGTH]


def matching_endpoints(unit: OrgUnit, kind: str) -> list[EventEndpoint]:
    """The enabled endpoints that asked for ``kind`` and cover ``unit`` (one of their units
    is the unit or above it)."""
    covering = EventEndpoint.units.through.objects.filter(orgunit_id__in=unit.path_ids).values(
        "eventendpoint_id"
    )
    found = EventEndpoint.objects.filter(enabled=True, pk__in=covering).order_by("pk")
    return [endpoint for endpoint in found if kind in (endpoint.events or [])]


def emit(
    kind: EventKind,
    *,
    unit: OrgUnit,
    audience: Audience,
    data: Mapping[str, Any],
    redacted: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
    key: str = "",
) -> str | None:
    """Tell the endpoints that want it that ``kind`` happened in ``unit``: one delivery per
    matching endpoint, written now in the caller's transaction, sent once it commits.

    ``data`` is what a reader allowed to see the item sees; ``audience`` says who that is.
    An internal item's event reaches an endpoint that sees public items only as
    ``redacted`` (itself public: what an anonymous reader may know), or not at all when
    there is none. ``key`` makes the event's id deterministic and the event written once:
    emitted again (a periodic task noticing the same date again) it adds nothing once any
    endpoint has it, and two emitters at once write each endpoint's delivery once (unique
    per event and endpoint).
    Returns the event's id; None inside ``in_app_only`` (loading history), where nothing
    leaves the site."""
    if not sending_out():
        return None
    if kind in INTERNAL_ONLY_EVENTS and audience != Audience.INTERNAL:
        raise ValueError(f"{kind} concerns internal items only")
    at = occurred_at or timezone.now()
    ident = event_id(key)
    if key and Delivery.objects.filter(batch=ident).exists():
        return ident  # told before: an event with a key is written once
    rows = []
    for endpoint in matching_endpoints(unit, kind):
        if audience == Audience.PUBLIC or endpoint.sees_internal:
            payload, shown = data, audience
        elif redacted is not None:
            payload, shown = redacted, Audience.PUBLIC
        else:
            continue
        rows.append(
            Delivery(
                channel=Delivery.Channel.EVENT,
                endpoint=endpoint,
                batch=ident,
                subject=subject_of(kind, payload),
                body=body_of(
                    ident=ident,
                    kind=kind,
                    occurred_at=at,
                    unit=unit,
                    audience=shown,
                    data=payload,
                ),
                url=str(payload.get("url") or "")[:300],
            )
        )
    if rows:
        # ignore_conflicts: an event with a key emitted again adds nothing for an endpoint
        # that has it already (unique per event and endpoint).
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        after_commit(tasks.send_event_batch, ident)
    return ident
