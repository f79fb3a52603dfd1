"""record_event(): the one way to append to the audit log."""

from __future__ import annotations

from typing import Any, Protocol, Required, TypedDict, Unpack, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models

from gongkai.audit.models import AuditEvent


class Unit(Protocol):
    """An org unit, as the log needs it: its materialised path scopes who may read the event."""

    path: str


class EventFields(TypedDict, total=False):
    """What an event says, as record_event and build_event take it (keywords)."""

    actor: Required[AbstractBaseUser | None]  # None or unsaved: the system
    action: Required[str]
    target: models.Model | None
    unit: Unit | None  # default: the target when it is an org unit
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    target_label: str  # default: str(target)


def record_event(**fields: Unpack[EventFields]) -> AuditEvent:
    """Append one event. Call inside the service's transaction so that the change and its
    record commit or roll back together."""
    event = build_event(**fields)
    event.save(force_insert=True)
    return event


def build_event(**fields: Unpack[EventFields]) -> AuditEvent:
    """An unsaved event, for services that append many at once with bulk_create."""
    actor = fields["actor"]
    target = fields.get("target")
    unit = fields.get("unit")
    if unit is None and target is not None and target._meta.label == "org.OrgUnit":
        unit = cast(Unit, target)
    known = actor is not None and actor.pk
    return AuditEvent(
        # The log sits below accounts: it knows the user model only as AbstractBaseUser.
        actor=actor if known else None,  # type: ignore[misc]
        actor_label=str(actor) if known else "system",
        action=fields["action"],
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=(fields.get("target_label") or (str(target) if target is not None else ""))[
            :200
        ],
        scope_path=unit.path if unit is not None else "",
        before=fields.get("before"),
        after=fields.get("after"),
    )


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
