"""Roles from directory groups: what a directory login (gongkai.accounts, below the org
tree) asks of the roles, installed into ``accounts.directory_config`` by OrgConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext as _

from gongkai.accounts.directory_config import DirectoryRoles, GroupRole, MappedGroup
from gongkai.accounts.models import User
from gongkai.org.models import OrgUnit, Role
from gongkai.org.services import directory_roles_sync


class OrgDirectoryRoles(DirectoryRoles):
    def sync(self, *, user: User, granted: list[GroupRole]) -> None:
        directory_roles_sync(
            user=user, granted=[(line.group, line.role, line.unit) for line in granted]
        )

    def describe(self, lines: list[GroupRole]) -> list[MappedGroup]:
        units = {u.code: u for u in OrgUnit.objects.filter(code__in={ln.unit for ln in lines})}
        labels = dict(Role.choices)
        described = []
        for line in lines:
            unit = units.get(line.unit)
            problem = ""
            if line.role not in labels:
                problem = _("unknown role: left out")
            elif unit is None:
                problem = _("no unit with this code: left out")
            elif not unit.is_active:
                problem = _("inactive unit: left out")
            described.append(
                MappedGroup(
                    group=line.group,
                    role=str(labels.get(line.role, line.role)),
                    unit=f"{unit.name} ({unit.code})" if unit is not None else line.unit,
                    problem=problem,
                )
            )
        return described
