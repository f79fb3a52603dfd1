from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.audit.actions import (
    ANONYMOUS_ACTIONS,
    action_label,
    key_label,
    target_model,
    value_label,
)
from gongkai.audit.models import AuditEvent
from gongkai.core.access import scope_paths
from gongkai.core.formatting import pairs, shown


def audit_events_for(
    user: Any,
    *,
    action: str = "",
    q: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """The events ``user`` may browse: those scoped to a unit in a subtree where they hold
    AUDIT_BROWSE; unscoped (platform-wide) events only for holders on a top-level unit."""
    roots = scope_paths(user, "audit.browse")
    if not roots:
        return AuditEvent.objects.none()
    scope = Q()
    for root in roots:
        scope |= Q(scope_path__startswith=root)
        if root.count("/") == 2:
            scope |= Q(scope_path="")
    events = AuditEvent.objects.filter(scope).select_related("actor")
    if action:
        events = events.filter(action=action)
    if q:
        named = Q(actor_label__icontains=q) & ~Q(action__in=ANONYMOUS_ACTIONS)
        events = events.filter(named | Q(target_label__icontains=q))
    tz = timezone.get_current_timezone()
    if since:
        events = events.filter(at__gte=datetime.combine(since, time.min, tzinfo=tz))
    if until:
        events = events.filter(
            at__lt=datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz)
        )
    return events.order_by("-at", "-id")


def audit_actions() -> list[tuple[str, str]]:
    """(code, label) of every action that occurs in the log, for the filter."""
    codes = AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()
    return [(code, action_label(code)) for code in codes]


@dataclass(frozen=True)
class EventRow:
    """One line of the audit page: who (empty for the system), and before/after as
    (label, value) text pairs in the reader's language (no template looks up their keys)."""

    event: AuditEvent
    who: str
    before: list[tuple[str, str]]
    after: list[tuple[str, str]]


def described(event: AuditEvent, data: Any) -> list[tuple[str, str]]:
    """``data`` (the event's before or after) as (label, value) pairs in the reader's
    language: keys named by the target model's fields or the registered names, values by the
    field's choices or the registered names; None and empty data give no pairs."""
    if not isinstance(data, Mapping) or not data:
        return pairs(data)  # nothing, or a list or a value: no keys to name
    model = target_model(event.target_type)
    rows = []
    for key, value in data.items():
        label, choices = key_label(model, str(key))
        text = value_label(value, choices) if isinstance(value, str) else shown(value)
        rows.append((label, text))
    return rows


def event_rows(events: Iterable[AuditEvent]) -> list[EventRow]:
    rows = []
    for event in events:
        if event.action in ANONYMOUS_ACTIONS:
            # Never who; and an event written before the rule (it has an actor) shows no data.
            legacy = event.actor_id is not None
            rows.append(
                EventRow(
                    event,
                    _("not recorded"),
                    [] if legacy else described(event, event.before),
                    [] if legacy else described(event, event.after),
                )
            )
        else:
            who = event.actor_label if event.actor_id else ""
            rows.append(
                EventRow(event, who, described(event, event.before), described(event, event.after))
            )
    return rows
