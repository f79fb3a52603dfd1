"""record_event(): the one way to append to the audit log."""

from __future__ import annotations

from typing import Any

from django.db import models

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from gongkai.org.models import OrgUnit


def record_event(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    unit: OrgUnit | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    target_label: str = "",
) -> AuditEvent:
    """Append one event. Call inside the service's transaction so that the change and its
    record commit or roll back together."""
    return AuditEvent.objects.create(
        **event_fields(
            actor=actor,
            action=action,
            target=target,
            unit=unit,
            before=before,
            after=after,
            target_label=target_label,
        )
    )


def build_event(**kwargs: Any) -> AuditEvent:
    """An unsaved event, for services that append many at once with bulk_create."""
    return AuditEvent(**event_fields(**kwargs))


def event_fields(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    unit: OrgUnit | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    target_label: str = "",
) -> dict[str, Any]:
    if unit is None and isinstance(target, OrgUnit):
        unit = target
    return {
        "actor": actor if actor is not None and actor.pk else None,
        "actor_label": str(actor) if actor is not None and actor.pk else "system",
        "action": action,
        "target_type": target._meta.label_lower if target is not None else "",
        "target_id": str(target.pk) if target is not None else "",
        "target_label": (target_label or (str(target) if target is not None else ""))[:200],
        "scope_path": unit.path if unit is not None else "",
        "before": before,
        "after": after,
    }


def changed_fields(
    instance: models.Model, fields: list[str], new_values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) for the fields whose value differs; both empty when nothing changes."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in fields:
        old = getattr(instance, name)
        new = new_values[name]
        if old != new:
            before[name] = old
            after[name] = new
    return before, after
