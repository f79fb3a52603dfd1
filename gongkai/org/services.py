"""State changes of the org tree and of role assignments; each one is audited."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongkai.accounts.models import User
from gongkai.audit.services import changed_fields, record_event
from gongkai.core.errors import ServiceError
from gongkai.org.models import (
    ALLOWED_PARENT_KINDS,
    PATH_SEPARATOR,
    OrgUnit,
    Role,
    RoleAssignment,
)


def check_parent_kind(*, kind: str, parent: OrgUnit | None) -> None:
    parent_kind = parent.kind if parent is not None else None
    if parent_kind not in ALLOWED_PARENT_KINDS[kind]:
        raise ServiceError(_("A unit of this kind cannot be placed there."), field="parent")


def first_day_charged() -> date:
    """A unit created today answers for the periods that begin after today."""
    return timezone.localdate() + timedelta(days=1)


def assign_path(unit: OrgUnit) -> None:
    """Set ``path`` and ``depth`` from the parent; the unit must already have a pk."""
    parent_path = unit.parent.path if unit.parent is not None else PATH_SEPARATOR
    unit.path = f"{parent_path}{unit.pk}{PATH_SEPARATOR}"
    unit.depth = unit.path.count(PATH_SEPARATOR) - 1


@transaction.atomic
def unit_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    kind: str,
    parent: OrgUnit | None = None,
    order: int = 0,
    charged_from: date | None = None,
) -> OrgUnit:
    """A new unit. ``charged_from``: the first day of the periods it answers for (the
    product's creation paths give it: the day after creation, or an effective date such as
    the start of a history entered from paper boards); None means every period, for units
    that existed before they were entered (fixtures, older data)."""
    check_parent_kind(kind=kind, parent=parent)
    if OrgUnit.objects.filter(code=code).exists():
        raise ServiceError(_("A unit with this code already exists."), field="code")
    unit = OrgUnit.objects.create(
        code=code,
        name=name.strip(),
        kind=kind,
        parent=parent,
        order=order,
        path="-",
        charged_from=charged_from,
    )
    assign_path(unit)
    unit.save(update_fields=["path", "depth"])
    record_event(
        actor=actor,
        action="org.unit_created",
        target=unit,
        after={
            "code": code,
            "name": unit.name,
            "kind": kind,
            "parent": parent and parent.code,
            "charged_from": charged_from,
        },
    )
    return unit


@transaction.atomic
def unit_update(
    *, actor: User | None, unit: OrgUnit, name: str, order: int, is_active: bool
) -> OrgUnit:
    """Rename, reorder, deactivate or reactivate. A deactivated unit stops being charged:
    periods that have not ended by the day of deactivation are not asked of it; reactivated,
    it answers again for the periods that begin after that day."""
    values: dict[str, object] = {"name": name.strip(), "order": order, "is_active": is_active}
    if unit.is_active and not is_active:
        values["deactivated_on"] = timezone.localdate()
    elif is_active and not unit.is_active:
        values["deactivated_on"] = None
        values["charged_from"] = first_day_charged()
    before, after = changed_fields(unit, list(values), values)
    if not after:
        return unit
    for field, value in after.items():
        setattr(unit, field, value)
    unit.save(update_fields=[*after.keys(), "updated_at"])
    record_event(actor=actor, action="org.unit_updated", target=unit, before=before, after=after)
    return unit


@transaction.atomic
def role_grant(*, actor: User | None, user: User, role: str, unit: OrgUnit) -> RoleAssignment:
    if role not in Role.values:
        raise ServiceError(_("Unknown role."), field="role")
    if not user.is_active:
        raise ServiceError(_("Roles cannot be given to an inactive account."), field="user")
    assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role, unit=unit)
    if created:
        record_event(
            actor=actor,
            action="org.role_granted",
            target=user,
            unit=unit,
            after={"role": role, "unit": unit.code},
        )
    return assignment


@transaction.atomic
def role_revoke(*, actor: User | None, assignment: RoleAssignment) -> None:
    record_event(
        actor=actor,
        action="org.role_revoked",
        target=assignment.user,
        unit=assignment.unit,
        before={"role": assignment.role, "unit": assignment.unit.code},
    )
    assignment.delete()
