"""The org tree (company → department → team) and role assignments scoped to it."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongkai.core.models import TimeStampedModel

PATH_SEPARATOR = "/"


class UnitKind(models.TextChoices):
    COMPANY = "company", _("Company")
    DEPARTMENT = "department", _("Department")
    TEAM = "team", _("Team")


# Which kinds a unit of each kind may sit under. A group company holds companies.
ALLOWED_PARENT_KINDS: dict[str, frozenset[str | None]] = {
    UnitKind.COMPANY: frozenset({None, UnitKind.COMPANY}),
    UnitKind.DEPARTMENT: frozenset({UnitKind.COMPANY}),
    UnitKind.TEAM: frozenset({UnitKind.DEPARTMENT}),
}


class OrgUnitQuerySet(models.QuerySet["OrgUnit"]):
    def active(self) -> OrgUnitQuerySet:
        return self.filter(is_active=True)

    def subtree_of(self, unit: OrgUnit) -> OrgUnitQuerySet:
        """The unit and everything below it, in one query."""
        return self.filter(path__startswith=unit.path)

    def ancestors_of(self, unit: OrgUnit, *, include_self: bool = True) -> OrgUnitQuerySet:
        """The chain from the root down to the unit, in one query."""
        ids = unit.path_ids if include_self else unit.path_ids[:-1]
        return self.filter(pk__in=ids).order_by("depth")


class OrgUnit(TimeStampedModel):
    """A company, department (分场/部门) or team (班组).

    ``path`` is the materialised path of primary keys (``/1/4/17/``), so a subtree is one
    prefix query and the ancestors are one ``pk__in`` query, on SQLite and PostgreSQL alike.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=255, editable=False, db_index=True)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False, default=0)
    description = models.TextField(_("description"), blank=True)
    order = models.IntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # What the catalog may charge the unit with: the periods that begin on or after
    # ``charged_from`` (set at creation: the day after it, or an effective date given then;
    # empty for units that predate this field, which answer for every period) and end before
    # ``deactivated_on``.
    charged_from = models.DateField(
        _("charged from"),
        null=True,
        blank=True,
        help_text=_("The unit answers for the periods that begin on or after this day."),
    )
    deactivated_on = models.DateField(_("deactivated on"), null=True, blank=True)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in UnitKind]),
                name="orgunit_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["parent", "name"], name="orgunit_unique_name_under_parent"
            ),
        ]
        indexes = [
            models.Index(
                fields=["path"], name="orgunit_path_prefix", opclasses=["varchar_pattern_ops"]
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def path_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR) if part]

    def charged_for(self, start: date, end: date) -> bool:
        """True when the catalog charges the unit with the period [start, end]: it began on
        or after ``charged_from`` and ended before the unit was deactivated."""
        if self.charged_from is not None and start < self.charged_from:
            return False
        return self.deactivated_on is None or end < self.deactivated_on

    def is_within(self, other: OrgUnit) -> bool:
        """True when this unit is ``other`` or lies in its subtree."""
        return self.path.startswith(other.path)


class Role(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    REPRESENTATIVE = "representative", _("Employee representative")
    TEAM_OFFICER = "team_officer", _("Team disclosure officer")
    DEPT_OFFICER = "dept_officer", _("Department disclosure officer")
    UNIT_HEAD = "unit_head", _("Unit head")
    UNION_OFFICE = "union_office", _("Union office")
    LEADERSHIP = "leadership", _("Leadership group")
    SUPERVISION = "supervision", _("Supervision group")
    DISCIPLINE = "discipline", _("Discipline inspector")
    EMPLOYEE_DIRECTOR = "employee_director", _("Employee director / supervisor")


class RoleSource(models.TextChoices):
    """Where a role assignment came from: granted by hand in gongkai, or brought in at a
    directory login from a group the person belongs to (AUTH_LDAP_GROUP_ROLES). Directory
    logins add and remove only the second kind."""

    MANUAL = "manual", _("granted in gongkai")
    DIRECTORY = "directory", _("from a directory group")


class RoleAssignment(TimeStampedModel):
    """A role held on a unit; it covers the unit's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="role_assignments"
    )
    source = models.CharField(
        _("source"), max_length=16, choices=RoleSource.choices, default=RoleSource.MANUAL
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="role_once_per_unit"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=[s.value for s in RoleSource]),
                name="role_source_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.unit}"
