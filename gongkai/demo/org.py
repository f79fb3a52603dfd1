"""The demo company: a fictional thermal power company modelled on the article.

Deterministic: the same names, numbers and roles every time (a fixed random seed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from gongkai.accounts.models import User
from gongkai.demo.calendar import demo_calendar
from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind
from gongkai.org.services import unit_create

DEMO_PASSWORD = "gongkai-demo"  # noqa: S105 - documented demo password
COMPANY_CODE = "rd"
COMPANY_NAME = "示范热电有限责任公司"
COMPANY_PROFILE = (
    "6炉5机，总装机容量1015MW，承担城区工业供热和居民冬季采暖。"
    "公司实行司务公开民主管理，党委统领、工会牵头、行政助推。"
)

# (code, name, teams)
DEPARTMENTS: list[tuple[str, str, list[str]]] = [
    ("run", "运行部", ["运行一值", "运行二值", "运行三值", "运行四值", "运行五值"]),
    ("boiler", "锅炉分场", ["锅炉运行一班", "锅炉运行二班", "锅炉检修班", "除灰班", "制粉班"]),
    ("turbine", "汽机分场", ["汽机运行一班", "汽机运行二班", "汽机检修班", "水泵班"]),
    ("electric", "电气分场", ["电气运行班", "电气检修班", "继电保护班", "高压试验班"]),
    ("instrument", "热工分场", ["热控一班", "热控二班", "计量班"]),
    ("fuel", "燃料分场", ["输煤一班", "输煤二班", "卸煤班", "燃料化验班"]),
    ("chemistry", "化学分场", ["化学运行班", "水处理班", "化学检修班"]),
    ("maintenance", "检修部", ["机务检修班", "电仪检修班", "起重班", "焊工班", "综合班"]),
    ("finance", "财务部", ["会计班", "资金班", "成本班"]),
    ("hr", "人力资源部", ["劳资班", "培训班", "社保班"]),
    ("safety", "安全监察部", ["安全监察班", "消防班", "环保班"]),
    ("union", "工会", ["工会办公室", "女工委员会", "职工之家"]),
]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰海燕文斌宁波鹏辉林峰"
POSITIONS = ["值长", "主值", "副值", "巡检员", "检修工", "技术员", "班长", "专工", "办事员"]


@dataclass(frozen=True)
class DemoLogin:
    login: str
    name: str
    unit_code: str
    position: str
    roles: tuple[tuple[str, str], ...]  # (role, unit code)


BOILER_TEAM = f"{COMPANY_CODE}-boiler-1"
DEMO_LOGINS = [
    DemoLogin(
        "union",
        "工会办公室 周敏",
        f"{COMPANY_CODE}-union-1",
        "工会干事",
        ((Role.UNION_OFFICE, COMPANY_CODE),),
    ),
    DemoLogin(
        "leader", "总经理 王建国", COMPANY_CODE, "总经理", ((Role.LEADERSHIP, COMPANY_CODE),)
    ),
    DemoLogin(
        "supervisor",
        "监督小组 李志红",
        f"{COMPANY_CODE}-safety",
        "监督小组组长",
        ((Role.SUPERVISION, COMPANY_CODE),),
    ),
    DemoLogin(
        "discipline", "纪委 陈立", COMPANY_CODE, "纪委书记", ((Role.DISCIPLINE, COMPANY_CODE),)
    ),
    DemoLogin(
        "depthead",
        "锅炉分场主任 赵刚",
        f"{COMPANY_CODE}-boiler",
        "分场主任",
        ((Role.UNIT_HEAD, f"{COMPANY_CODE}-boiler"),),
    ),
    DemoLogin(
        "teamlead",
        "锅炉运行一班班长 孙海",
        BOILER_TEAM,
        "班长",
        ((Role.UNIT_HEAD, BOILER_TEAM), (Role.TEAM_OFFICER, BOILER_TEAM)),
    ),
    DemoLogin("rep", "职工代表 刘芳", BOILER_TEAM, "主值", ((Role.REPRESENTATIVE, COMPANY_CODE),)),
    DemoLogin("employee", "职工 张伟", BOILER_TEAM, "巡检员", ()),
    # The company's head (approves company items before the leadership group endorses them).
    DemoLogin(
        "100000", "副总经理 刘强", COMPANY_CODE, "副总经理", ((Role.UNIT_HEAD, COMPANY_CODE),)
    ),
]


def demo_email(login: str) -> str:
    """A demo login's e-mail address (example.com: reserved, never delivered), so that the
    notices and reminders sent to the demo logins show as e-mails (on ``make run``, the
    console backend prints them)."""
    return f"{login}@example.com"


def demo_exists() -> bool:
    return OrgUnit.objects.exists()


@transaction.atomic
def seed_org(*, employees_per_team: int = 7) -> dict[str, int]:
    """Build the company, its departments and teams, ~400 employees, roles and logins."""
    rng = random.Random(20260101)  # noqa: S311 - demo data, not security
    # The units answer for the periods of the demo's history (entered from the paper boards);
    # the teams outside the boiler department joined the system about a quarter ago.
    calendar = demo_calendar()
    since, joined = calendar.history_start, calendar.teams_joined
    company = unit_create(
        actor=None,
        code=COMPANY_CODE,
        name=COMPANY_NAME,
        kind=UnitKind.COMPANY,
        charged_from=since,
    )
    OrgUnit.objects.filter(pk=company.pk).update(description=COMPANY_PROFILE)
    units: dict[str, OrgUnit] = {company.code: company}
    teams: list[OrgUnit] = []
    for order, (code, name, team_names) in enumerate(DEPARTMENTS, start=1):
        dept = unit_create(
            actor=None,
            code=f"{COMPANY_CODE}-{code}",
            name=name,
            kind=UnitKind.DEPARTMENT,
            parent=company,
            order=order,
            charged_from=since,
        )
        units[dept.code] = dept
        for t_order, team_name in enumerate(team_names, start=1):
            team = unit_create(
                actor=None,
                code=f"{dept.code}-{t_order}",
                name=team_name,
                kind=UnitKind.TEAM,
                parent=dept,
                order=t_order,
                charged_from=since if code == "boiler" else joined,
            )
            units[team.code] = team
            teams.append(team)

    password = make_password(DEMO_PASSWORD)  # hashed once, shared by every demo account
    users: list[User] = [
        User(
            employee_no=d.login,
            name=d.name,
            unit=units[d.unit_code],
            position=d.position,
            password=password,
            email=demo_email(d.login),
        )
        for d in DEMO_LOGINS
    ]
    number = 100000
    for team in teams:
        for i in range(employees_per_team + rng.randint(0, 3)):
            number += 1
            users.append(
                User(
                    employee_no=str(number),
                    name=rng.choice(SURNAMES)
                    + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
                    unit=team,
                    position="班长" if i == 0 else rng.choice(POSITIONS),
                    password=password,
                )
            )
    User.objects.bulk_create(users)
    by_no = {
        u.employee_no: u
        for u in User.objects.filter(employee_no__in=[u.employee_no for u in users])
    }

    assignments: list[RoleAssignment] = [
        RoleAssignment(user=by_no[d.login], role=role, unit=units[unit_code])
        for d in DEMO_LOGINS
        for role, unit_code in d.roles
    ]
    logins = {d.login for d in DEMO_LOGINS}
    ordinary = [u for u in users if u.employee_no not in logins]
    # About 10% of the employees are representatives; one is the employee director.
    reps = rng.sample(ordinary, k=len(ordinary) // 10)
    assignments += [
        RoleAssignment(user=by_no[u.employee_no], role=Role.REPRESENTATIVE, unit=company)
        for u in reps
    ]
    assignments.append(
        RoleAssignment(user=by_no[reps[0].employee_no], role=Role.EMPLOYEE_DIRECTOR, unit=company)
    )
    # Each team's first employee is its head; each department gets a head and an officer.
    for team in teams:
        head = next(u for u in ordinary if u.unit == team)
        if team.code != BOILER_TEAM:
            assignments.append(
                RoleAssignment(user=by_no[head.employee_no], role=Role.UNIT_HEAD, unit=team)
            )
    for code, _name, _teams in DEPARTMENTS:
        dept = units[f"{COMPANY_CODE}-{code}"]
        staff = [u for u in ordinary if u.unit is not None and u.unit.parent_id == dept.pk]
        if dept.code != f"{COMPANY_CODE}-boiler":
            assignments.append(
                RoleAssignment(user=by_no[staff[1].employee_no], role=Role.UNIT_HEAD, unit=dept)
            )
        assignments.append(
            RoleAssignment(user=by_no[staff[2].employee_no], role=Role.DEPT_OFFICER, unit=dept)
        )
    RoleAssignment.objects.bulk_create(assignments)
    return {"units": len(units), "employees": len(users), "roles": len(assignments)}
