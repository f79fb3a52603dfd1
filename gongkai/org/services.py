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
    RoleSource,
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
def role_grant(
    *,
    actor: User | None,
    user: User,
    role: str,
    unit: OrgUnit,
    source: str = RoleSource.MANUAL,
    group: str = "",
) -> RoleAssignment:
    """Give ``user`` the role on the unit. ``source``: granted by hand (the default), or by
    a directory login from ``group`` (the directory then also removes it). A grant by hand
    of a role the directory gave makes it the hand's: later directory logins leave it."""
    if role not in Role.values:
        raise ServiceError(_("Unknown role."), field="role")
    if source not in RoleSource.values:
        raise ServiceError(_("Unknown source of a role."), field="role")
    if not user.is_active:
        raise ServiceError(_("Roles cannot be given to an inactive account."), field="user")
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, role=role, unit=unit, defaults={"source": source}
    )
    by_hand = source == RoleSource.MANUAL
    if created:
        after = {"role": role, "unit": unit.code}
        record_event(
            actor=actor,
            action="org.role_granted" if by_hand else "org.role_granted_from_directory",
            target=user,
            unit=unit,
            after={**after, "group": group} if group else after,
        )
    elif by_hand and assignment.source != RoleSource.MANUAL:
        assignment.source = RoleSource.MANUAL
        assignment.save(update_fields=["source", "updated_at"])
        record_event(
            actor=actor,
            action="org.role_granted",
            target=user,
            unit=unit,
            before={"role": role, "unit": unit.code, "source": RoleSource.DIRECTORY},
            after={"role": role, "unit": unit.code, "source": RoleSource.MANUAL},
        )
    return assignment


@transaction.atomic
def role_revoke(
    *, actor: User | None, assignment: RoleAssignment, source: str = RoleSource.MANUAL
) -> None:
    """Take the role away: by hand (the default), or because a directory login found the
    person no longer in the group that gave it (``source`` directory)."""
    record_event(
        actor=actor,
        action=(
            "org.role_revoked_from_directory"
            if source == RoleSource.DIRECTORY
            else "org.role_revoked"
        ),
        target=assignment.user,
        unit=assignment.unit,
        before={"role": assignment.role, "unit": assignment.unit.code},
    )
    assignment.delete()


@transaction.atomic
def directory_roles_sync(*, user: User, granted: list[tuple[str, str, str]]) -> None:
    """At a directory login: ``user``'s roles that came from the directory become exactly
    ``granted`` — (group DN, role, unit code) lines of AUTH_LDAP_GROUP_ROLES whose group the
    person is in. Lines naming an unknown role or no active unit are left out (the
    directory page names them). Roles granted by hand are never touched; a granted role
    that the person already holds by hand stays the hand's. The actor is the system."""
    codes = {code for _group, _role, code in granted}
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=codes, is_active=True)}
    wanted: dict[tuple[str, int], tuple[str, OrgUnit]] = {}
    for group, role, code in granted:
        unit = units.get(code)
        if unit is not None and role in Role.values:
            wanted.setdefault((role, unit.pk), (group, unit))
    held = {
        (a.role, a.unit_id): a
        for a in RoleAssignment.objects.select_for_update()
        .filter(user=user)
        .select_related("unit", "user")
    }
    for (role, unit_pk), (group, unit) in wanted.items():
        if (role, unit_pk) not in held:
            role_grant(
                actor=None,
                user=user,
                role=role,
                unit=unit,
                source=RoleSource.DIRECTORY,
                group=group,
            )
    for key, assignment in held.items():
        if assignment.source == RoleSource.DIRECTORY and key not in wanted:
            role_revoke(actor=None, assignment=assignment, source=RoleSource.DIRECTORY)
