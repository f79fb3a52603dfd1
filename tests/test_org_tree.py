from __future__ import annotations

import pytest

from gongkai.audit.models import AuditEvent
from gongkai.core.errors import ServiceError
from gongkai.org.models import OrgUnit, UnitKind
from gongkai.org.selectors import unit_chain, unit_tree
from gongkai.org.services import unit_create, unit_update


def test_subtree_is_one_query_and_holds_only_descendants(org, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = set(OrgUnit.objects.subtree_of(org.boiler).values_list("code", flat=True))
    assert codes == {"rd-boiler", "rd-boiler-1"}


def test_company_subtree_excludes_other_company(org):
    codes = set(OrgUnit.objects.subtree_of(org.company).values_list("code", flat=True))
    assert "other-fin" not in codes and "other" not in codes
    assert {"rd", "rd-boiler", "rd-boiler-1", "rd-turbine", "rd-turbine-1", "rd-union"} == codes


def test_ancestors_are_one_query_root_first(org, django_assert_num_queries):
    with django_assert_num_queries(1):
        chain = [u.code for u in unit_chain(org.boiler_team)]
    assert chain == ["rd", "rd-boiler", "rd-boiler-1"]


def test_unit_ids_that_share_a_prefix_do_not_leak_into_each_other(db):
    # Unit 1 and unit 12 must not be confused by a prefix match on the path.
    root = unit_create(actor=None, code="root", name="根", kind=UnitKind.COMPANY)
    units = [
        unit_create(
            actor=None, code=f"d{i}", name=f"部门{i}", kind=UnitKind.DEPARTMENT, parent=root
        )
        for i in range(12)
    ]
    first = units[0]
    unit_create(actor=None, code="t-under-first", name="班", kind=UnitKind.TEAM, parent=first)
    for other in units[1:]:
        assert not other.path.startswith(first.path)
        assert not OrgUnit.objects.subtree_of(other).filter(code="t-under-first").exists()


def test_kind_hierarchy_is_enforced(org):
    with pytest.raises(ServiceError):
        unit_create(
            actor=None, code="bad1", name="班组直属公司", kind=UnitKind.TEAM, parent=org.company
        )
    with pytest.raises(ServiceError):
        unit_create(actor=None, code="bad2", name="部门无公司", kind=UnitKind.DEPARTMENT)
    with pytest.raises(ServiceError):
        unit_create(
            actor=None, code="bad3", name="班下班", kind=UnitKind.TEAM, parent=org.boiler_team
        )
    assert not OrgUnit.objects.filter(code__startswith="bad").exists()


def test_group_company_holds_companies(db):
    group = unit_create(actor=None, code="grp", name="集团", kind=UnitKind.COMPANY)
    sub = unit_create(actor=None, code="sub", name="子公司", kind=UnitKind.COMPANY, parent=group)
    dept = unit_create(actor=None, code="sub-d", name="部门", kind=UnitKind.DEPARTMENT, parent=sub)
    assert dept.depth == 3
    assert [u.code for u in unit_chain(dept)] == ["grp", "sub", "sub-d"]


def test_duplicate_code_is_refused(org):
    with pytest.raises(ServiceError):
        unit_create(
            actor=None, code="rd-boiler", name="重复", kind=UnitKind.DEPARTMENT, parent=org.company
        )


def test_tree_order_is_depth_first(org):
    codes = [u.code for u in unit_tree(org.company)]
    assert codes[0] == "rd"
    assert codes.index("rd-boiler-1") == codes.index("rd-boiler") + 1
    assert codes.index("rd-turbine-1") == codes.index("rd-turbine") + 1


def test_unit_changes_are_audited_with_before_and_after(org):
    unit_update(actor=org["union"], unit=org.boiler, name="锅炉分场（新）", order=3, is_active=True)
    event = AuditEvent.objects.filter(action="org.unit_updated").get()
    assert event.before == {"name": "锅炉分场", "order": 0}
    assert event.after == {"name": "锅炉分场（新）", "order": 3}
    assert event.actor == org["union"]
    assert event.scope_path == org.boiler.path


def test_unchanged_update_writes_no_event(org):
    unit_update(actor=None, unit=org.boiler, name="锅炉分场", order=0, is_active=True)
    assert not AuditEvent.objects.filter(action="org.unit_updated").exists()


def test_grant_role_command_bootstraps_a_union_office(org):
    from django.core.management import CommandError, call_command

    from gongkai.org.models import RoleAssignment
    from gongkai.policy.rules import Action, can

    call_command("grant_role", "turbine_worker", "union_office", "rd")
    assert RoleAssignment.objects.filter(user=org["turbine_worker"], role="union_office").exists()
    from gongkai.accounts.models import User

    assert can(User.objects.get(employee_no="turbine_worker"), Action.ROSTER_IMPORT, org.company)
    with pytest.raises(CommandError):
        call_command("grant_role", "ghost", "union_office", "rd")
    with pytest.raises(CommandError):
        call_command("grant_role", "turbine_worker", "union_office", "no-unit")


def test_create_company_command(db):
    from django.core.management import CommandError, call_command

    call_command("create_company", "grp", "集团公司")
    call_command("create_company", "sub", "子公司", "--parent", "grp")
    sub = OrgUnit.objects.get(code="sub")
    assert sub.kind == UnitKind.COMPANY and sub.parent.code == "grp"
    with pytest.raises(CommandError):
        call_command("create_company", "sub", "重复")
    with pytest.raises(CommandError):
        call_command("create_company", "x", "无上级", "--parent", "nope")
