"""The roster import: employees and units from an HR spreadsheet (.xlsx or .csv).

Three steps, each usable alone:

* :func:`roster_parse` (in :mod:`gongkai.org.roster_parse`) reads the file into rows and
  collects every row error;
* :func:`roster_plan` compares the rows with the database in a few bulk queries (no query
  per row) and says what would change;
* :func:`roster_import` applies the plan in one transaction together with its audit events,
  or, on a dry run or when anything is wrong, writes nothing at all.

Units are matched by name under their parent: a department (部门) under the company, a team
(班组) under its department. Employees are matched by employee number (工号). Employees of
the company who are missing from the file are listed and left unchanged.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from gongkai.audit.services import build_event
from gongkai.core.errors import ServiceError
from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind
from gongkai.org.roster_parse import (
    COLUMN_BY_FIELD,
    NO,
    YES,
    ParsedRoster,
    RosterError,
    RosterRow,
    UnitKey,
    max_length,
    roster_parse,
)
from gongkai.org.services import assign_path, first_day_charged

__all__ = [
    "EmployeeChange",
    "Member",
    "ParsedRoster",
    "PlannedEmployee",
    "RosterError",
    "RosterPlan",
    "RosterResult",
    "RosterRow",
    "field_label",
    "roster_import",
    "roster_import_parsed",
    "roster_parse",
    "roster_plan",
    "unit_label",
]

# Rows per ``IN (...)`` lookup: well under the parameter limits of SQLite and PostgreSQL.
QUERY_CHUNK = 5_000
COMPANY_KEY: UnitKey = ("", "")

FIELD_LABELS = {
    "name": gettext_lazy("Name"),
    "unit": gettext_lazy("Unit"),
    "position": gettext_lazy("Position"),
    "representative": gettext_lazy("Employee representative"),
}


# --- Plans and results -------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedEmployee:
    row: int
    employee_no: str
    name: str
    unit: UnitKey
    unit_label: str
    position: str
    representative: bool


@dataclass(frozen=True)
class EmployeeChange:
    """An existing employee whose record changes; name/unit/position are the new values."""

    row: int
    user_id: int
    employee_no: str
    name: str
    unit: UnitKey
    position: str
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def fields(self) -> list[tuple[str, str, str]]:
        """(label, before, after) for display."""
        return [(str(FIELD_LABELS[name]), before, after) for name, before, after in self.changes]

    @property
    def changes(self) -> list[tuple[str, str, str]]:
        """(field name, before, after) as shown; :func:`field_label` names the field."""
        return [
            (name, _display(self.before[name]), _display(self.after[name])) for name in self.after
        ]

    @property
    def changes_user_record(self) -> bool:
        return any(name in self.after for name in ("name", "unit", "position"))


@dataclass(frozen=True)
class Member:
    employee_no: str
    name: str
    unit_label: str


@dataclass
class RosterPlan:
    company: OrgUnit
    units: dict[UnitKey, OrgUnit]  # the existing units the file names
    new_departments: list[str]
    new_teams: list[UnitKey]
    new_employees: list[PlannedEmployee]
    changed_employees: list[EmployeeChange]
    unchanged: int
    not_in_file: list[Member]
    errors: list[RosterError]

    @property
    def representatives_granted(self) -> int:
        return sum(e.representative for e in self.new_employees) + sum(
            bool(c.after.get("representative")) for c in self.changed_employees
        )

    @property
    def representatives_revoked(self) -> int:
        return sum(c.after.get("representative") is False for c in self.changed_employees)

    @property
    def has_changes(self) -> bool:
        return bool(
            self.new_departments or self.new_teams or self.new_employees or self.changed_employees
        )

    @property
    def counts(self) -> dict[str, int]:
        return {
            "departments_created": len(self.new_departments),
            "teams_created": len(self.new_teams),
            "employees_created": len(self.new_employees),
            "employees_changed": len(self.changed_employees),
            "employees_unchanged": self.unchanged,
            "employees_not_in_file": len(self.not_in_file),
            "representatives_granted": self.representatives_granted,
            "representatives_revoked": self.representatives_revoked,
        }


@dataclass(frozen=True)
class RosterResult:
    errors: list[RosterError]
    plan: RosterPlan | None
    applied: bool


def field_label(name: str) -> str:
    """The name of a changed field, in the reader's language."""
    return str(FIELD_LABELS.get(name, name))


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return YES if value else NO
    return "" if value is None else str(value)


# --- Planning ---------------------------------------------------------------------------------


@dataclass
class _Tree:
    """The company's units, loaded in one query, looked up by (parent, name)."""

    company: OrgUnit
    by_id: dict[int, OrgUnit]
    by_name: dict[tuple[int, str], OrgUnit]

    @classmethod
    def load(cls, company: OrgUnit) -> _Tree:
        units = list(
            OrgUnit.objects.filter(path__startswith=company.path).only(
                "id", "code", "name", "kind", "parent_id", "path", "depth", "is_active"
            )
        )
        return cls(
            company=company,
            by_id={unit.pk: unit for unit in units},
            by_name={(unit.parent_id, unit.name): unit for unit in units if unit.parent_id},
        )

    def label(self, unit_id: int | None) -> str:
        unit = self.by_id.get(unit_id) if unit_id is not None else None
        if unit is None:
            return ""
        if unit.pk == self.company.pk:
            return self.company.name
        below = unit.path_ids[unit.path_ids.index(self.company.pk) + 1 :]
        return " / ".join(self.by_id[pk].name for pk in below if pk in self.by_id)


def unit_label(company: OrgUnit, key: UnitKey) -> str:
    return " / ".join(part for part in key if part) or company.name


@dataclass
class _UnitPlan:
    units: dict[UnitKey, OrgUnit]
    new_departments: list[str] = field(default_factory=list)
    new_teams: list[UnitKey] = field(default_factory=list)
    # key → (first row, column, message, how many more rows name it)
    refused: dict[UnitKey, tuple[int, str, str, int]] = field(default_factory=dict)
    known: set[UnitKey] = field(default_factory=set)

    def add_existing(self, key: UnitKey, unit: OrgUnit) -> None:
        self.units[key] = unit
        self.known.add(key)

    def add_new(self, key: UnitKey) -> None:
        if key[1]:
            self.new_teams.append(key)
        else:
            self.new_departments.append(key[0])
        self.known.add(key)

    def refuse(self, key: UnitKey, row: int, column: str, message: str) -> None:
        self.refused[key] = (row, column, message, 0)
        self.known.add(key)

    def errors(self) -> list[RosterError]:
        errors = []
        for row, column, message, more in self.refused.values():
            if more:
                message += " " + _("(The same in %(n)s more rows.)") % {"n": more}
            errors.append(RosterError(row, column, message))
        return errors


def _plan_units(tree: _Tree, rows: Sequence[RosterRow]) -> _UnitPlan:
    plan = _UnitPlan(units={COMPANY_KEY: tree.company}, known={COMPANY_KEY})
    for row in rows:
        key = row.unit_key
        refused_key = next((k for k in (key, (key[0], "")) if k in plan.refused), None)
        if refused_key is not None:
            first, column, message, more = plan.refused[refused_key]
            plan.refused[refused_key] = (first, column, message, more + 1)
            continue
        if key in plan.known:
            continue
        dept_key = (row.department, "")
        if dept_key not in plan.known:
            _plan_unit(plan, tree, row, dept_key, tree.company, UnitKind.DEPARTMENT)
        if row.team and key not in plan.known and dept_key not in plan.refused:
            _plan_unit(plan, tree, row, key, plan.units.get(dept_key), UnitKind.TEAM)
    return plan


def _plan_unit(
    plan: _UnitPlan,
    tree: _Tree,
    row: RosterRow,
    key: UnitKey,
    parent: OrgUnit | None,
    kind: str,
) -> None:
    name = key[1] or key[0]
    column = COLUMN_BY_FIELD["team" if kind == UnitKind.TEAM else "department"].header
    existing = tree.by_name.get((parent.pk, name)) if parent is not None else None
    if existing is None:
        plan.add_new(key)
    elif existing.kind != kind:
        plan.refuse(
            key,
            row.row,
            column,
            _("“%(name)s” is already the name of a unit of another kind there.") % {"name": name},
        )
    elif not existing.is_active:
        plan.refuse(
            key,
            row.row,
            column,
            _("The unit “%(name)s” is inactive. Reactivate it first or correct the file.")
            % {"name": name},
        )
    else:
        plan.add_existing(key, existing)


@dataclass(frozen=True, slots=True)
class _Current:
    user_id: int
    name: str
    unit_id: int | None
    position: str
    is_active: bool


def _members(company: OrgUnit) -> dict[str, _Current]:
    rows = User.objects.filter(unit__path__startswith=company.path).values_list(
        "employee_no", "pk", "name", "unit_id", "position", "is_active"
    )
    return {
        no: _Current(pk, name, unit_id, position, active)
        for no, pk, name, unit_id, position, active in rows
    }


def _numbers_outside(numbers: list[str]) -> set[str]:
    """Which of these employee numbers already belong to accounts elsewhere."""
    taken: set[str] = set()
    for start in range(0, len(numbers), QUERY_CHUNK):
        chunk = numbers[start : start + QUERY_CHUNK]
        taken.update(
            User.objects.filter(employee_no__in=chunk).values_list("employee_no", flat=True)
        )
    return taken


def roster_plan(*, company: OrgUnit, rows: Sequence[RosterRow]) -> RosterPlan:
    """What importing ``rows`` into ``company`` would change. Reads only."""
    tree = _Tree.load(company)
    units = _plan_units(tree, rows)
    members = _members(company)
    representatives = set(
        RoleAssignment.objects.filter(role=Role.REPRESENTATIVE, unit=company).values_list(
            "user_id", flat=True
        )
    )
    outside = _numbers_outside([r.employee_no for r in rows if r.employee_no not in members])
    errors = units.errors()
    new: list[PlannedEmployee] = []
    changed: list[EmployeeChange] = []
    unchanged = 0
    for row in rows:
        if row.unit_key in units.refused or (row.department, "") in units.refused:
            continue
        if row.employee_no in outside:
            errors.append(
                RosterError(
                    row.row,
                    COLUMN_BY_FIELD["employee_no"].header,
                    _("The employee number %(no)s belongs to an account outside this company.")
                    % {"no": row.employee_no},
                )
            )
            continue
        current = members.get(row.employee_no)
        if current is None:
            new.append(_planned_employee(company, row))
            continue
        change = _employee_change(tree, units, row, current, current.user_id in representatives)
        if change is None:
            unchanged += 1
        else:
            changed.append(change)
    in_file = {row.employee_no for row in rows}
    not_in_file = [
        Member(no, m.name, tree.label(m.unit_id))
        for no, m in sorted(members.items())
        if m.is_active and no not in in_file
    ]
    errors.sort(key=lambda e: e.row or 0)
    return RosterPlan(
        company=company,
        units=units.units,
        new_departments=units.new_departments,
        new_teams=units.new_teams,
        new_employees=new,
        changed_employees=changed,
        unchanged=unchanged,
        not_in_file=not_in_file,
        errors=errors,
    )


def _planned_employee(company: OrgUnit, row: RosterRow) -> PlannedEmployee:
    return PlannedEmployee(
        row=row.row,
        employee_no=row.employee_no,
        name=row.name,
        unit=row.unit_key,
        unit_label=unit_label(company, row.unit_key),
        position=row.position or "",
        representative=bool(row.representative),
    )


def _employee_change(
    tree: _Tree, units: _UnitPlan, row: RosterRow, current: _Current, representative: bool
) -> EmployeeChange | None:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    unit = units.units.get(row.unit_key)  # None: a unit the import creates
    if row.name != current.name:
        before["name"], after["name"] = current.name, row.name
    if unit is None or unit.pk != current.unit_id:
        before["unit"] = tree.label(current.unit_id)
        after["unit"] = unit_label(tree.company, row.unit_key)
    position = current.position if row.position is None else row.position
    if position != current.position:
        before["position"], after["position"] = current.position, position
    if row.representative is not None and row.representative != representative:
        before["representative"], after["representative"] = representative, row.representative
    if not after:
        return None
    return EmployeeChange(
        row=row.row,
        user_id=current.user_id,
        employee_no=row.employee_no,
        name=row.name,
        unit=row.unit_key,
        position=position,
        before=before,
        after=after,
    )


# --- Applying ---------------------------------------------------------------------------------


def roster_import(
    *,
    actor: User | None,
    company: OrgUnit,
    data: bytes,
    filename: str,
    dry_run: bool,
    progress: Callable[[int], None] | None = None,
) -> RosterResult:
    """Parse, plan and (unless ``dry_run``) apply a roster, all or nothing.

    With any error, or on a dry run, nothing is written; the result lists every error and,
    when the file could be read, the plan. ``progress(rows read)`` is called while the file
    is read, every ``PROGRESS_ROWS`` rows."""
    if company.kind != UnitKind.COMPANY:
        raise ServiceError(_("A roster is imported into a company."), field="company")
    parsed = roster_parse(data=data, progress=progress)
    return roster_import_parsed(
        actor=actor, company=company, parsed=parsed, filename=filename, dry_run=dry_run
    )


def roster_import_parsed(
    *,
    actor: User | None,
    company: OrgUnit,
    parsed: ParsedRoster,
    filename: str,
    dry_run: bool,
) -> RosterResult:
    """:func:`roster_import` of a file already read: plan and (unless ``dry_run``) apply in
    one transaction (a savepoint when the caller has one open: the background import marks
    its job done in the same transaction)."""
    if company.kind != UnitKind.COMPANY:
        raise ServiceError(_("A roster is imported into a company."), field="company")
    if not parsed.readable:
        return RosterResult(errors=parsed.errors, plan=None, applied=False)
    if dry_run:
        plan = roster_plan(company=company, rows=parsed.rows)
        return RosterResult(errors=_all_errors(parsed, plan), plan=plan, applied=False)
    try:
        with transaction.atomic():
            # Serialise imports into the same company (a no-op on SQLite, whose write
            # transactions are already exclusive).
            list(OrgUnit.objects.select_for_update().filter(pk=company.pk).values_list("pk"))
            plan = roster_plan(company=company, rows=parsed.rows)
            errors = _all_errors(parsed, plan)
            if errors:
                return RosterResult(errors=errors, plan=plan, applied=False)
            _apply(plan=plan, actor=actor, filename=filename)
    except IntegrityError:
        message = _(
            "The organisation changed while the file was being imported. Nothing was "
            "written; please try again."
        )
        return RosterResult(errors=[RosterError(None, "", message)], plan=None, applied=False)
    return RosterResult(errors=[], plan=plan, applied=True)


def _all_errors(parsed: ParsedRoster, plan: RosterPlan) -> list[RosterError]:
    return sorted([*parsed.errors, *plan.errors], key=lambda e: e.row or 0)


def _apply(*, plan: RosterPlan, actor: User | None, filename: str) -> None:
    events: list[AuditEvent] = []
    units = _create_units(plan=plan, actor=actor, events=events)
    created = _create_employees(plan=plan, units=units, actor=actor, events=events)
    _update_employees(plan=plan, units=units, actor=actor, events=events)
    _sync_representatives(plan=plan, created=created)
    events.append(
        build_event(
            actor=actor,
            action="org.roster_imported",
            target=plan.company,
            after={"file": filename[:200], **plan.counts},
        )
    )
    AuditEvent.objects.bulk_create(events)


def _free_code(taken: set[str], base: str, tag: str) -> str:
    """``<base>-<tag><N>`` with the smallest N not taken, within the code's length limit."""
    limit = max_length(OrgUnit, "code")
    for number in itertools.count(1):
        suffix = f"-{tag}{number}"
        code = base[: limit - len(suffix)] + suffix
        if code not in taken:
            taken.add(code)
            return code
    raise AssertionError("unreachable")  # pragma: no cover


def _create_units(
    *, plan: RosterPlan, actor: User | None, events: list[AuditEvent]
) -> dict[UnitKey, OrgUnit]:
    units = dict(plan.units)
    taken = set(OrgUnit.objects.values_list("code", flat=True))
    departments = [((name, ""), plan.company, name) for name in plan.new_departments]
    units.update(_bulk_create_units(departments, UnitKind.DEPARTMENT, "d", taken))
    teams = [(key, units[(key[0], "")], key[1]) for key in plan.new_teams]
    units.update(_bulk_create_units(teams, UnitKind.TEAM, "t", taken))
    for key in [*((n, "") for n in plan.new_departments), *plan.new_teams]:
        unit = units[key]
        assert unit.parent is not None  # noqa: S101 - created under a parent just above
        events.append(
            build_event(
                actor=actor,
                action="org.unit_created",
                target=unit,
                after={
                    "code": unit.code,
                    "name": unit.name,
                    "kind": unit.kind,
                    "parent": unit.parent.code,
                    "charged_from": unit.charged_from,
                },
            )
        )
    return units


def _bulk_create_units(
    specs: list[tuple[UnitKey, OrgUnit, str]], kind: str, tag: str, taken: set[str]
) -> dict[UnitKey, OrgUnit]:
    """Insert the units, then set their materialised paths as ``unit_create`` does."""
    if not specs:
        return {}
    charged_from = first_day_charged()  # new units answer for the periods after today
    created = [
        OrgUnit(
            code=_free_code(taken, parent.code, tag),
            name=name,
            kind=kind,
            parent=parent,
            path="-",
            charged_from=charged_from,
        )
        for _key, parent, name in specs
    ]
    OrgUnit.objects.bulk_create(created)
    for unit in created:
        assign_path(unit)
    OrgUnit.objects.bulk_update(created, ["path", "depth"])
    return {key: unit for (key, _parent, _name), unit in zip(specs, created, strict=True)}


def _unusable_password() -> str:
    # What set_unusable_password() stores, without 40 secrets.choice() calls per employee
    # (2.5 s for 50,000 employees).
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _create_employees(
    *,
    plan: RosterPlan,
    units: dict[UnitKey, OrgUnit],
    actor: User | None,
    events: list[AuditEvent],
) -> list[tuple[User, PlannedEmployee]]:
    users = [
        User(
            employee_no=e.employee_no,
            name=e.name,
            unit=units[e.unit],
            position=e.position,
            password=_unusable_password(),
        )
        for e in plan.new_employees
    ]
    User.objects.bulk_create(users)
    created = list(zip(users, plan.new_employees, strict=True))
    for user, planned in created:
        events.append(
            build_event(
                actor=actor,
                action="org.employee_created",
                target=user,
                unit=user.unit,
                after={
                    "employee_no": planned.employee_no,
                    "name": planned.name,
                    "unit": planned.unit_label,
                    "position": planned.position,
                    "representative": planned.representative,
                },
            )
        )
    return created


def _update_employees(
    *,
    plan: RosterPlan,
    units: dict[UnitKey, OrgUnit],
    actor: User | None,
    events: list[AuditEvent],
) -> None:
    users = []
    for change in plan.changed_employees:
        user = User(
            pk=change.user_id,
            employee_no=change.employee_no,
            name=change.name,
            unit=units[change.unit],
            position=change.position,
        )
        if change.changes_user_record:
            users.append(user)
        events.append(
            build_event(
                actor=actor,
                action="org.employee_updated",
                target=user,
                unit=user.unit,
                before=change.before,
                after=change.after,
            )
        )
    User.objects.bulk_update(users, ["name", "unit", "position"], batch_size=500)


def _sync_representatives(
    *, plan: RosterPlan, created: Iterable[tuple[User, PlannedEmployee]]
) -> None:
    """The 是否职工代表 flag is a representative role held on the company."""
    grant = [user.pk for user, planned in created if planned.representative]
    revoke = []
    for change in plan.changed_employees:
        flag = change.after.get("representative")
        if flag is True:
            grant.append(change.user_id)
        elif flag is False:
            revoke.append(change.user_id)
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user_id=pk, role=Role.REPRESENTATIVE, unit=plan.company) for pk in grant],
        ignore_conflicts=True,
    )
    for start in range(0, len(revoke), QUERY_CHUNK):
        RoleAssignment.objects.filter(
            role=Role.REPRESENTATIVE,
            unit=plan.company,
            user_id__in=revoke[start : start + QUERY_CHUNK],
        ).delete()
