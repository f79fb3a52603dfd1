"""policy.holders is the reverse of policy.can: for every action and every unit of a small
tree (a group with two companies, a company outside it, an inactive unit), the users it
returns are exactly those can() allows, and nobody it forbids."""

from __future__ import annotations

import pytest

from gongkai.accounts.models import User
from gongkai.org.models import OrgUnit, Role, RoleAssignment, UnitKind
from gongkai.policy.rules import (
    Action,
    approval_after,
    approval_chain,
    can,
    holders,
    next_approvers,
)
from tests.factories import UserFactory, make_unit


@pytest.fixture
def tree(db) -> dict[str, OrgUnit]:
    group = make_unit("集团", UnitKind.COMPANY, code="g")
    company = make_unit("电厂", UnitKind.COMPANY, group, code="g-c")
    dept = make_unit("锅炉分场", UnitKind.DEPARTMENT, company, code="g-c-d")
    team = make_unit("锅炉一班", UnitKind.TEAM, dept, code="g-c-d-t")
    closed = make_unit("撤销的分场", UnitKind.DEPARTMENT, company, code="g-c-x")
    sister = make_unit("另一电厂", UnitKind.COMPANY, group, code="g-s")
    sister_dept = make_unit("另一电厂财务部", UnitKind.DEPARTMENT, sister, code="g-s-d")
    group_dept = make_unit("集团办公室", UnitKind.DEPARTMENT, group, code="g-d")
    outside = make_unit("外公司", UnitKind.COMPANY, code="o")
    outside_dept = make_unit("外公司财务部", UnitKind.DEPARTMENT, outside, code="o-d")
    units = {
        "group": group,
        "company": company,
        "dept": dept,
        "team": team,
        "closed": closed,
        "sister": sister,
        "sister_dept": sister_dept,
        "group_dept": group_dept,
        "outside": outside,
        "outside_dept": outside_dept,
    }
    # Every role on a unit of each level, held by someone of another unit.
    for role in Role:
        for name in ("group", "company", "dept", "team", "sister", "outside"):
            holder = UserFactory(employee_no=f"{role.value}@{name}", unit=units["group_dept"])
            RoleAssignment.objects.create(user=holder, role=role, unit=units[name])
    # Plain members of each unit, a platform account, a role on the inactive unit, and an
    # inactive account with roles.
    for name, unit in units.items():
        UserFactory(employee_no=f"member@{name}", unit=unit)
    platform = UserFactory(employee_no="platform", unit=None)
    RoleAssignment.objects.create(user=platform, role=Role.UNION_OFFICE, unit=group)
    lingering = UserFactory(employee_no="lingering", unit=outside_dept)
    RoleAssignment.objects.create(user=lingering, role=Role.UNIT_HEAD, unit=closed)
    RoleAssignment.objects.create(user=lingering, role=Role.SUPERVISION, unit=closed)
    gone = UserFactory(employee_no="gone", unit=team, is_active=False)
    RoleAssignment.objects.create(user=gone, role=Role.UNIT_HEAD, unit=company)
    OrgUnit.objects.filter(pk=closed.pk).update(is_active=False)
    closed.refresh_from_db()
    return units


@pytest.mark.parametrize("action", list(Action))
def test_holders_agrees_with_can_on_every_unit(tree, action):
    people = list(User.objects.select_related("unit"))
    for name, unit in tree.items():
        allowed = {u.employee_no for u in people if can(u, action, unit)}
        got = set(holders(action, unit).values_list("employee_no", flat=True))
        assert got == allowed, (action, name)


def test_holders_covers_forbidden_and_allowed_cases(tree):
    """Spot checks, so that a bug shared by can() and holders() still shows."""
    team_heads = set(
        holders(Action.DISCLOSURE_APPROVE, tree["team"]).values_list("employee_no", flat=True)
    )
    assert team_heads == {f"unit_head@{name}" for name in ("group", "company", "dept", "team")}
    employees = set(
        holders(Action.SUGGESTION_SUBMIT, tree["dept"]).values_list("employee_no", flat=True)
    )
    # Members of the company and of the group's own units (every employee holds the role
    # on their nearest company); not of the sister company or the company outside; not the
    # inactive account.
    assert "member@team" in employees and "member@group_dept" in employees
    assert "member@sister_dept" not in employees and "member@outside_dept" not in employees
    assert "gone" not in employees
    closed_heads = set(
        holders(Action.DISCLOSURE_APPROVE, tree["closed"]).values_list("employee_no", flat=True)
    )
    assert "lingering" not in closed_heads  # a role on an inactive unit grants nothing
    assert (
        not holders(Action.REPORT_HANDLE, tree["outside_dept"])
        .filter(employee_no__in=["discipline@group", "discipline@company"])
        .exists()
    )


def test_the_approval_chain_goes_level_by_level(tree):
    """Derived from the unit's ancestors: a team's item is approved by the team, then by its
    department; a department's by itself; a company's by its head, then its leadership."""

    def chain(name):
        return [(s.action, s.unit.code, s.last) for s in approval_chain(tree[name])]

    approve, endorse = Action.DISCLOSURE_APPROVE, Action.DISCLOSURE_ENDORSE
    assert chain("team") == [(approve, "g-c-d-t", False), (approve, "g-c-d", True)]
    assert chain("dept") == [(approve, "g-c-d", True)]
    assert chain("company") == [(approve, "g-c", False), (endorse, "g-c", True)]
    assert approval_after(tree["team"], 1).unit == tree["dept"]
    assert approval_after(tree["team"], 2) is None


def test_the_next_approvers_are_the_holders_of_that_level_only(tree):
    """Not every head above: only the holders on the level's own unit; a level with no holder
    falls to the nearest level above that has one, who then act for it."""
    team, dept = tree["team"], tree["dept"]
    chain = list(OrgUnit.objects.ancestors_of(team))
    first = approval_after(team, 0)
    found = next_approvers(first, chain, author_id=None)
    names = set(User.objects.filter(pk__in=found.people).values_list("employee_no", flat=True))
    assert names == {"unit_head@team"} and not found.acting_for
    head = User.objects.get(employee_no="unit_head@team")
    found = next_approvers(first, chain, author_id=head.pk)  # the head wrote it
    names = set(User.objects.filter(pk__in=found.people).values_list("employee_no", flat=True))
    assert names == {"unit_head@dept"} and found.acting_for and found.unit == dept
