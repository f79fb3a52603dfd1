"""Fixed personas matching the demo logins, on a small company built for each test."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from gongkai.accounts.models import User
from gongkai.org.models import OrgUnit, Role, UnitKind
from gongkai.org.services import role_grant
from tests.factories import PASSWORD, UserFactory, make_unit

PERSONAS = (
    "union",
    "leader",
    "supervisor",
    "discipline",
    "depthead",
    "teamlead",
    "rep",
    "employee",
)


def walked_here(moments: dict[str, object], on_postgresql: tuple[str, ...]) -> list[str]:
    """The demo moments a module loads on this run's database. Every moment on SQLite; on
    PostgreSQL only ``on_postgresql`` (the ones whose queries differ by engine: the UTC date
    on the other side of Shanghai's midnight; a rest day), unless ``GONGKAI_TEST_ALL_MOMENTS``
    is set. Loading the demo is most of the suite's time (about two minutes a load on
    PostgreSQL): the calendar's other edges are the same Python on both engines."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine or os.environ.get("GONGKAI_TEST_ALL_MOMENTS"):
        return list(moments)
    return [name for name in moments if name in on_postgresql]


def pytest_configure(config: pytest.Config) -> None:
    """``GONGKAI_TEST_NOW=2027-01-01T00:30`` (Shanghai time) runs the whole suite with the
    clock started at that moment, so a date-dependent test shows itself on any day."""
    now = os.environ.get("GONGKAI_TEST_NOW")
    if now:
        import time_machine

        start = datetime.fromisoformat(now).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
        config._gongkai_clock = time_machine.travel(start, tick=True)  # type: ignore[attr-defined]
        config._gongkai_clock.start()  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str | None:
    now = os.environ.get("GONGKAI_TEST_NOW")
    return f"clock started at {now} Asia/Shanghai (GONGKAI_TEST_NOW)" if now else None


@dataclass
class Org:
    company: OrgUnit
    boiler: OrgUnit  # 锅炉分场
    boiler_team: OrgUnit  # 锅炉分场 / 运行一班
    turbine: OrgUnit  # 汽机分场
    turbine_team: OrgUnit
    union_dept: OrgUnit
    other_company: OrgUnit
    other_dept: OrgUnit
    users: dict[str, User]

    def __getitem__(self, login: str) -> User:
        return self.users[login]


def as_user(login: str) -> Client:
    """A client signed in as the account with employee number ``login`` (a demo login)."""
    client = Client()
    client.force_login(User.objects.get(employee_no=login))
    return client


def page(login: str, url: str) -> str:
    """The page at ``url`` as ``login`` sees it; it must answer 200."""
    response = as_user(login).get(url)
    assert response.status_code == 200, (login, url, response.status_code)
    return response.content.decode()


def ensure_catalog() -> None:
    """The catalog and the 2026 working-day calendar come from data migrations; transactional
    tests and the demo fixtures flush them, so load them again (idempotently) when missing:
    a test must not see another module's flush (a deadline moved off the May holiday)."""
    from gongkai.core.holidays import load_year
    from gongkai.core.models import CalendarDay
    from gongkai.disclosure.catalog_seed import load_catalog
    from gongkai.disclosure.models import CatalogEntry, CatalogRule, Category

    if not CatalogEntry.objects.exists():
        load_catalog(Category, CatalogEntry, CatalogRule)
    if not CalendarDay.objects.filter(day__year=2026).exists():
        load_year(CalendarDay, 2026)


@pytest.fixture
def org(db) -> Org:
    ensure_catalog()
    company = make_unit("示范热电有限责任公司", UnitKind.COMPANY, code="rd")
    boiler = make_unit("锅炉分场", UnitKind.DEPARTMENT, company, code="rd-boiler")
    boiler_team = make_unit("锅炉运行一班", UnitKind.TEAM, boiler, code="rd-boiler-1")
    turbine = make_unit("汽机分场", UnitKind.DEPARTMENT, company, code="rd-turbine")
    turbine_team = make_unit("汽机运行一班", UnitKind.TEAM, turbine, code="rd-turbine-1")
    union_dept = make_unit("工会", UnitKind.DEPARTMENT, company, code="rd-union")
    other_company = make_unit("另一家公司", UnitKind.COMPANY, code="other")
    other_dept = make_unit("另一家公司财务部", UnitKind.DEPARTMENT, other_company, code="other-fin")

    def person(login: str, unit: OrgUnit, *roles: tuple[str, OrgUnit]) -> User:
        user = UserFactory(employee_no=login, name=f"{login}的姓名", unit=unit)
        for role, scope in roles:
            role_grant(actor=None, user=user, role=role, unit=scope)
        return user

    users = {
        "union": person("union", union_dept, (Role.UNION_OFFICE, company)),
        "leader": person("leader", company, (Role.LEADERSHIP, company)),
        "supervisor": person("supervisor", union_dept, (Role.SUPERVISION, company)),
        "discipline": person("discipline", company, (Role.DISCIPLINE, company)),
        "depthead": person("depthead", boiler, (Role.UNIT_HEAD, boiler)),
        "teamlead": person("teamlead", boiler_team, (Role.UNIT_HEAD, boiler_team)),
        "rep": person("rep", boiler_team, (Role.REPRESENTATIVE, company)),
        "employee": person("employee", boiler_team),
        "turbine_worker": person("turbine_worker", turbine_team),
        "outsider": person("outsider", other_dept),
    }
    return Org(
        company,
        boiler,
        boiler_team,
        turbine,
        turbine_team,
        union_dept,
        other_company,
        other_dept,
        users,
    )


@pytest.fixture
def login(client: Client):
    """``login(user)`` signs the test client in through the real login form."""

    def do_login(user: User, c: Client | None = None) -> Client:
        c = c or client
        response = c.post("/accounts/login/", {"username": user.employee_no, "password": PASSWORD})
        assert response.status_code == 302, response.content[:500]
        return c

    return do_login


@pytest.fixture
def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def english():
    """Run the test with English active, for asserting service messages (msgids) in code
    called outside a request; a request still takes its language from the cookie."""
    from django.utils import translation

    with translation.override("en"):
        yield
