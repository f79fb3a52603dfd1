"""A group company (集团) at scale, for ``manage.py seed_scale`` and the group benchmark.

The shape: a group unit at the top with its own small headquarters staff, and ``companies``
companies under it, each with 8–15 departments of 4–10 teams (fewer when a company has few
employees, as in the tests), its roles (union office, leadership group, heads, officers,
supervision, discipline, ~3 % representatives and an employee director), a year of
disclosures on every board (gongkai.demo.scale_disclosure), hundreds of suggestions in
every state and one workers' congress with a session, motions and a year-end democratic
evaluation closed with published results (gongkai.demo.scale_congress).

Speed: the org, the people and their roles are bulk-inserted (their services' per-row work
is an audit event per unit and per grant, which nothing here reads); units go through
``unit_create`` (paths, depths and the dates they are charged from are that service's).
What is published goes through ``gongkai.disclosure.services.publish``. Each company is one
transaction, so a run stopped half-way leaves whole companies.

Deterministic for a given ``seed`` and ``today``: the same names, numbers, roles and
records every time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.hashers import make_password
from django.db import transaction

from gongkai.accounts.models import User
from gongkai.assessment.forms import default_range
from gongkai.demo.org import DEMO_PASSWORD, GIVEN, POSITIONS, SURNAMES
from gongkai.notify.services import in_app_only
from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind
from gongkai.org.services import unit_create

GROUP_CODE = "grp"
GROUP_NAME = "华能示范能源集团有限公司"
# Logins of the group headquarters (the password is the demo's).
GROUP_UNION = "grp-union"  # the group union's chair: union office on the whole group
GROUP_LEADER = "grp-leader"
GROUP_HEAD = "grp-head"
HQ_STAFF = 12  # further employees at the headquarters
FULL_COMPANY = 2000  # from this many employees a company has the full shape
REPRESENTATIVE_SHARE = 0.03
BATCH = 2000

CITIES = [
    "滨海", "江城", "云岭", "北塘", "西山", "南湖", "东港", "青川", "河间", "金沙",
    "石峡", "黄岗", "白水", "龙泉", "松原", "长岭", "洛溪", "平川", "临江", "嘉禾",
]  # fmt: skip
TRADES = ["热电", "发电", "煤业", "水电", "新能源", "检修", "燃料", "港务"]
DEPARTMENT_NAMES = [
    "运行部", "锅炉分场", "汽机分场", "电气分场", "热工分场", "燃料分场", "化学分场",
    "检修部", "财务部", "人力资源部", "安全监察部", "工会", "生产技术部", "物资供应部",
    "综合办公室",
]  # fmt: skip
TEAM_SUFFIXES = ["一班", "二班", "三班", "四班", "五班", "六班", "七班", "八班", "九班", "十班"]

Log = Callable[[str], None]


@dataclass(frozen=True)
class ScaleSpec:
    """What to build: ``companies`` companies sharing ``employees`` employees (the
    headquarters staff come on top), on the calendar of ``today``."""

    companies: int = 20
    employees: int = 100_000
    seed: int = 20261207
    today: date = field(default_factory=date.today)
    # Every disclosure through services.publish one by one (slower; the default writes the
    # same records in batches: gongkai.demo.scale_disclosure.Publisher).
    through_publish: bool = False

    @property
    def per_company(self) -> int:
        return max(self.employees // max(self.companies, 1), 40)

    @property
    def start(self) -> date:
        """The first day of the year of history: the compliance dashboard's default year
        (the current month and the eleven before it)."""
        return default_range(self.today)[0]


@dataclass
class Company:
    """One company as built: its units and the people the later parts act as."""

    unit: OrgUnit
    departments: list[OrgUnit]
    teams: list[OrgUnit]
    union: User
    leader: User
    head: User
    people: list[User]  # every employee of the company
    heads: dict[int, User]  # unit id → its head
    officers: dict[int, User]  # unit id → its disclosure officer
    representatives: list[User]


def group_exists() -> bool:
    """Whether the database already holds units (seed_scale fills an empty one only)."""
    return OrgUnit.objects.exists()


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def seed_group(spec: ScaleSpec, log: Log = lambda _message: None) -> dict[str, float]:
    """Build the whole group; return the counts and the seconds each part took."""
    # Imported here: these modules import this one's constants.
    from gongkai.demo import scale_congress, scale_disclosure

    rng = random.Random(spec.seed)  # noqa: S311 - demo data, not security
    password = make_password(DEMO_PASSWORD)  # hashed once, shared by every account
    totals: dict[str, float] = {}

    def add(counts: dict[str, int], seconds: dict[str, float]) -> None:
        for key, value in [*counts.items(), *seconds.items()]:
            totals[key] = totals.get(key, 0) + value

    started = time.perf_counter()
    # The past year is history: its notices stay in the site, nobody is e-mailed about it.
    with in_app_only():
        with transaction.atomic():
            group = build_group(spec, password)
            add(scale_disclosure.seed_unit_history(group, spec, rng), {})
        for number in range(1, spec.companies + 1):
            began = time.perf_counter()
            with transaction.atomic():
                company = build_company(group, number, spec, rng, password)
                org_done = time.perf_counter()
                counts = scale_disclosure.seed_company(company, spec, rng)
                published = time.perf_counter()
                counts |= scale_congress.seed_company(company, spec, rng)
            done = time.perf_counter()
            add(
                counts | {"companies": 1, "employees": len(company.people)},
                {
                    "org_seconds": org_done - began,
                    "disclosure_seconds": published - org_done,
                    "voice_congress_seconds": done - published,
                },
            )
            log(
                f"company {number}/{spec.companies} ({company.unit.name}): "
                f"{len(company.people)} employees, {counts['published']} published, "
                f"{done - began:.0f} s (total {done - started:.0f} s)"
            )
    totals["seconds"] = time.perf_counter() - started
    return totals


def build_group(spec: ScaleSpec, password: str) -> OrgUnit:
    """The group unit, its headquarters staff and its roles: the group union's chair
    (union office on the whole group), the leadership and the head."""
    group = unit_create(
        actor=None,
        code=GROUP_CODE,
        name=GROUP_NAME,
        kind=UnitKind.COMPANY,
        charged_from=spec.start,
    )
    rng = random.Random(spec.seed - 1)  # noqa: S311 - demo data
    logins = [
        (GROUP_UNION, "集团工会主席 周建华", "工会主席", Role.UNION_OFFICE),
        (GROUP_LEADER, "集团总经理 王志强", "总经理", Role.LEADERSHIP),
        (GROUP_HEAD, "集团副总经理 李海", "副总经理", Role.UNIT_HEAD),
    ]
    users = [
        User(employee_no=no, name=name, unit=group, position=position, password=password)
        for no, name, position, _role in logins
    ]
    users += [
        User(
            employee_no=f"grp{n:04d}",
            name=person_name(rng),
            unit=group,
            position="集团职能部门职员",
            password=password,
        )
        for n in range(1, HQ_STAFF + 1)
    ]
    made = User.objects.bulk_create(users)
    RoleAssignment.objects.bulk_create(
        RoleAssignment(user=user, role=role, unit=group)
        for user, (_no, _name, _position, role) in zip(made, logins, strict=False)
    )
    return group


def company_shape(rng: random.Random, per_company: int) -> list[int]:
    """The number of teams of each department: 8–15 departments of 4–10 teams for a full
    company, 3–4 of 2–3 for a small one."""
    if per_company >= FULL_COMPANY:
        return [rng.randint(4, 10) for _ in range(rng.randint(8, 15))]
    return [rng.randint(2, 3) for _ in range(rng.randint(3, 4))]


def build_company(
    group: OrgUnit, number: int, spec: ScaleSpec, rng: random.Random, password: str
) -> Company:
    """One company: its units (through ``unit_create``), its employees and roles (bulk)."""
    code = f"c{number:02d}"
    city = CITIES[(number - 1) % len(CITIES)]
    trade = TRADES[(number - 1) % len(TRADES)]
    suffix = "" if number <= len(CITIES) else str(number)
    company = unit_create(
        actor=None,
        code=code,
        name=f"{city}{trade}有限公司{suffix}",
        kind=UnitKind.COMPANY,
        parent=group,
        order=number,
        charged_from=spec.start,
    )
    departments: list[OrgUnit] = []
    teams: list[OrgUnit] = []
    names = rng.sample(DEPARTMENT_NAMES, k=len(DEPARTMENT_NAMES))
    for d, count in enumerate(company_shape(rng, spec.per_company), start=1):
        dept_name = names[(d - 1) % len(names)]
        dept = unit_create(
            actor=None,
            code=f"{code}-d{d:02d}",
            name=dept_name if d <= len(names) else f"{dept_name}{d}",
            kind=UnitKind.DEPARTMENT,
            parent=company,
            order=d,
            charged_from=spec.start,
        )
        departments.append(dept)
        short = dept_name.removesuffix("部").removesuffix("分场").removesuffix("办公室")
        for t in range(1, count + 1):
            teams.append(
                unit_create(
                    actor=None,
                    code=f"{dept.code}-t{t:02d}",
                    name=f"{short}{TEAM_SUFFIXES[t - 1]}",
                    kind=UnitKind.TEAM,
                    parent=dept,
                    order=t,
                    charged_from=spec.start,
                )
            )

    # People: the company's three logins, then everyone else spread over the teams (a
    # team's first two are its head and its officer; a department's head and officer work
    # in its first team).
    logins = [
        (f"{code}-union", f"{company.name}工会主席", "工会主席"),
        (f"{code}-leader", f"{company.name}总经理", "总经理"),
        (f"{code}-head", f"{company.name}副总经理", "副总经理"),
    ]
    users = [
        User(
            employee_no=no,
            name=f"{person_name(rng)}",
            unit=company,
            position=position,
            password=password,
        )
        for no, _label, position in logins
    ]
    weights = [rng.uniform(0.6, 1.4) for _ in teams]
    share = (spec.per_company - len(users)) / sum(weights)
    n = 0
    members: dict[int, list[User]] = {}
    for team, weight in zip(teams, weights, strict=True):
        members[team.pk] = []
        for i in range(max(int(weight * share), 3)):
            n += 1
            position = "班长" if i == 0 else "兼职公开员" if i == 1 else rng.choice(POSITIONS)
            user = User(
                employee_no=f"{code}{n:05d}",
                name=person_name(rng),
                unit=team,
                position=position,
                password=password,
            )
            users.append(user)
            members[team.pk].append(user)
    User.objects.bulk_create(users, batch_size=BATCH)  # PostgreSQL and SQLite set the ids
    if users[0].pk is None:  # pragma: no cover - a backend that does not return ids
        by_no = dict(
            User.objects.filter(unit__path__startswith=company.path).values_list(
                "employee_no", "pk"
            )
        )
        for user in users:
            user.pk = by_no[user.employee_no]
    union, leader, head = users[:3]

    heads: dict[int, User] = {company.pk: head}
    officers: dict[int, User] = {company.pk: union}
    grants: list[tuple[User, str, OrgUnit]] = [
        (union, Role.UNION_OFFICE, company),
        (leader, Role.LEADERSHIP, company),
        (head, Role.UNIT_HEAD, company),
    ]
    for team in teams:
        first, second = members[team.pk][0], members[team.pk][1]
        heads[team.pk], officers[team.pk] = first, second
        grants += [(first, Role.UNIT_HEAD, team), (second, Role.TEAM_OFFICER, team)]
    by_dept: dict[int, list[OrgUnit]] = {}
    for team in teams:
        by_dept.setdefault(team.parent_id or 0, []).append(team)
    for dept in departments:
        staff = members[by_dept[dept.pk][0].pk]
        dept_head, officer = staff[2], staff[3] if len(staff) > 3 else staff[1]
        heads[dept.pk], officers[dept.pk] = dept_head, officer
        grants += [(dept_head, Role.UNIT_HEAD, dept), (officer, Role.DEPT_OFFICER, dept)]
    ordinary = users[3:]
    # The leadership group: the general manager and three department heads; the
    # supervision group and the discipline inspector.
    dept_heads = [heads[d.pk] for d in departments]
    grants += [(u, Role.LEADERSHIP, company) for u in dept_heads[:3]]
    grants += [(ordinary[-1], Role.SUPERVISION, company), (ordinary[-2], Role.DISCIPLINE, company)]
    reps = rng.sample(ordinary, k=max(int(len(users) * REPRESENTATIVE_SHARE), 12))
    grants += [(u, Role.REPRESENTATIVE, company) for u in reps]
    grants.append((reps[0], Role.EMPLOYEE_DIRECTOR, company))
    RoleAssignment.objects.bulk_create(
        [RoleAssignment(user=u, role=role, unit=unit) for u, role, unit in grants],
        batch_size=BATCH,
    )
    return Company(
        unit=company,
        departments=departments,
        teams=teams,
        union=union,
        leader=leader,
        head=head,
        people=users,
        heads=heads,
        officers=officers,
        representatives=reps,
    )
