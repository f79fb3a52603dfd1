"""The data of ``bench.bench_reminders`` (run in its child, Django set up): a company of
departments and teams, a catalog of monthly entries for both kinds, the people who draft
for the units, and part of one month's obligations already published.

Everything is bulk-inserted (setup, not measured): the units with their materialised paths
(ids chosen here, a block of 100 per department), the users and their roles, and the
published disclosures with their revisions (``bulk_create`` with chosen ids, the disclosure
pointing to its revision in the same transaction, as ``bench_compliance`` loads them).
The company can be built in two steps (the first ``departments`` departments, then the
rest), so that the scan is measured at two sizes of the same company.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

ENTRIES = 50  # monthly catalog entries, for departments and teams
TEAMS_PER_DEPARTMENT = 99  # a department and its teams: 100 units
BLOCK = 100  # unit ids per department
PUBLISHED = 0.30  # share of the month's obligations already published
IN_PROGRESS = 0.02  # share with a draft or an item in review (the reminder opens it)
TEAMS_WITH_OFFICER = 0.85  # the others are drafted for by their department's people
PERIOD = "2026-10"  # due on Tuesday 10 November 2026
DEADLINE_DAYS = 10
BATCH = 5_000
SEED = 20261109


@dataclass
class Company:
    """What the child needs to know of the built company."""

    company: int
    author: int
    entries: list[int]
    departments: int = 0  # built so far
    units: int = 0
    users: int = 0
    roles: dict[str, int] = field(default_factory=dict)
    published: int = 0
    in_progress: int = 0


def catalog_and_company() -> Company:
    """The catalog (every seeded entry deactivated; ``ENTRIES`` monthly entries for
    departments and teams, due ``DEADLINE_DAYS`` days after the month) and the company
    with its head and union office."""
    from django.contrib.auth.hashers import make_password

    from gongkai.accounts.models import User
    from gongkai.disclosure.models import CatalogEntry, CatalogRule, Category
    from gongkai.org.models import OrgUnit, Role, RoleAssignment

    CatalogEntry.objects.update(is_active=False)
    category = Category.objects.create(code="scan", name="提醒基准", order=99)
    entries = CatalogEntry.objects.bulk_create(
        [
            CatalogEntry(code=f"scan-{n}", category=category, name=f"月度公开事项{n}", order=n)
            for n in range(ENTRIES)
        ]
    )
    CatalogRule.objects.bulk_create(
        [
            CatalogRule(
                entry=entry,
                effective_from=date(2020, 1, 1),
                unit_kinds=["department", "team"],
                frequency="monthly",
                deadline_days=DEADLINE_DAYS,
            )
            for entry in entries
        ]
    )
    base = (OrgUnit.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    base = (base // BLOCK + 1) * BLOCK  # the company at a round id, departments in blocks
    OrgUnit.objects.bulk_create(
        [
            OrgUnit(
                pk=base, code="scan", name="示范能源集团有限公司", kind="company", path=f"/{base}/"
            )
        ]
    )
    unusable = make_password(None)
    head, union = User.objects.bulk_create(
        [
            User(employee_no="scan-head", name="总经理", unit_id=base, password=unusable),
            User(employee_no="scan-union", name="工会办公室", unit_id=base, password=unusable),
        ]
    )
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(user=head, role=Role.UNIT_HEAD, unit_id=base),
            RoleAssignment(user=union, role=Role.UNION_OFFICE, unit_id=base),
        ]
    )
    return Company(company=base, author=union.pk, entries=[e.pk for e in entries], users=2, units=0)


def add_departments(company: Company, upto: int) -> None:
    """Departments ``company.departments`` … ``upto - 1``, each with its head and disclosure
    officer and ``TEAMS_PER_DEPARTMENT`` teams (``TEAMS_WITH_OFFICER`` of them with a team
    disclosure officer; the others fall back to the department's drafters), and the
    month's publications and drafts of these units."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from gongkai.accounts.models import User
    from gongkai.org.models import OrgUnit, Role, RoleAssignment

    rng = random.Random(SEED + company.departments)
    base = company.company
    units: list[Any] = []
    people: list[tuple[Any, str, int]] = []  # (user, role, unit)
    unusable = make_password(None)
    for d in range(company.departments, upto):
        dept = base + 1 + d * BLOCK
        dept_path = f"/{base}/{dept}/"
        units.append(
            OrgUnit(
                pk=dept,
                code=f"scan-d{d}",
                name=f"第{d + 1}分厂",
                kind="department",
                parent_id=base,
                path=dept_path,
                depth=1,
                order=d,
            )
        )
        for role, title in ((Role.UNIT_HEAD, "厂长"), (Role.DEPT_OFFICER, "公开专干")):
            user = User(
                employee_no=f"scan-d{d}-{role}",
                name=f"第{d + 1}分厂{title}",
                unit_id=dept,
                password=unusable,
            )
            people.append((user, role, dept))
        for t in range(TEAMS_PER_DEPARTMENT):
            team = dept + 1 + t
            units.append(
                OrgUnit(
                    pk=team,
                    code=f"scan-d{d}-t{t}",
                    name=f"第{d + 1}分厂{t + 1}班",
                    kind="team",
                    parent_id=dept,
                    path=f"{dept_path}{team}/",
                    depth=2,
                    order=t,
                )
            )
            if rng.random() < TEAMS_WITH_OFFICER:
                user = User(
                    employee_no=f"scan-d{d}-t{t}",
                    name=f"第{d + 1}分厂{t + 1}班宣传员",
                    unit_id=team,
                    password=unusable,
                )
                people.append((user, Role.TEAM_OFFICER, team))
    OrgUnit.objects.bulk_create(units, batch_size=BATCH)
    users = User.objects.bulk_create([u for u, _r, _unit in people], batch_size=BATCH)
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(user_id=user.pk, role=role, unit_id=unit)
            for user, (_u, role, unit) in zip(users, people, strict=True)
        ],
        batch_size=BATCH,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('org_orgunit', 'id'), "
                "(SELECT MAX(id) FROM org_orgunit))"
            )
    for _u, held, _unit in people:
        company.roles[held] = company.roles.get(held, 0) + 1
    company.units += len(units)
    company.users += len(users)
    month(company, [u.pk for u in units], rng)
    company.departments = upto


def month(company: Company, unit_ids: list[int], rng: random.Random) -> None:
    """October's publications (``PUBLISHED`` of the obligations, published between 2 and 6
    November) and drafts or items in review (``IN_PROGRESS``) of these units."""
    from django.db import connection, transaction

    from gongkai.disclosure.models import Disclosure, DisclosureStatus, Revision

    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM disclosure_disclosure")
        next_id = cursor.fetchone()[0] + 1
    disclosures: list[Any] = []
    revisions: list[Any] = []

    def flush() -> None:
        with transaction.atomic():
            Disclosure.objects.bulk_create(disclosures, batch_size=BATCH)
            Revision.objects.bulk_create(revisions, batch_size=BATCH)
        disclosures.clear()
        revisions.clear()

    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    for unit in unit_ids:
        for entry in company.entries:
            roll = rng.random()
            if roll >= PUBLISHED + IN_PROGRESS:
                continue
            pk = next_id
            next_id += 1
            title = f"2026年10月公开事项{pk}"
            if roll < PUBLISHED:
                at = start + timedelta(minutes=rng.randint(0, 4 * 24 * 60))
                disclosures.append(
                    Disclosure(
                        pk=pk,
                        unit_id=unit,
                        entry_id=entry,
                        period=PERIOD,
                        title=title,
                        status=DisclosureStatus.PUBLISHED,
                        author_id=company.author,
                        first_published_at=at,
                        published_revision_id=pk,
                        review_round=1,
                        approvals=1,
                    )
                )
                revisions.append(
                    Revision(
                        pk=pk,
                        disclosure_id=pk,
                        number=1,
                        title=title,
                        scope="internal",
                        published_at=at,
                        published_by_id=company.author,
                    )
                )
                company.published += 1
            else:
                status = (
                    DisclosureStatus.DRAFT
                    if roll < PUBLISHED + IN_PROGRESS / 2
                    else (DisclosureStatus.SUBMITTED)
                )
                disclosures.append(
                    Disclosure(
                        pk=pk,
                        unit_id=unit,
                        entry_id=entry,
                        period=PERIOD,
                        title=title,
                        status=status,
                        author_id=company.author,
                    )
                )
                company.in_progress += 1
            if len(disclosures) >= BATCH:
                flush()
    flush()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in ("disclosure_disclosure", "disclosure_revision"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our own table names
                    f"(SELECT MAX(id) FROM {table}))"
                )
        cursor.execute("ANALYZE")
