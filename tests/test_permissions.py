"""The role × action matrix, asked of the policy directly and through the POST views."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.audit.models import AuditEvent
from gongkai.org.models import Role, RoleAssignment
from gongkai.policy.rules import Action, can, visible_scope_paths
from tests.conftest import PERSONAS, Org

# (action, unit attribute on Org) → the personas allowed; everyone else is refused.
POLICY_MATRIX: list[tuple[Action, str, set[str]]] = [
    (Action.ORG_VIEW, "boiler_team", set(PERSONAS)),
    (Action.ORG_VIEW, "other_dept", set()),
    (Action.MEMBERS_VIEW, "boiler_team", {"union", "leader", "supervisor", "depthead", "teamlead"}),
    (Action.MEMBERS_VIEW, "boiler", {"union", "leader", "supervisor", "depthead"}),
    (Action.MEMBERS_VIEW, "turbine", {"union", "leader", "supervisor"}),
    (Action.MEMBERS_VIEW, "other_dept", set()),
    (Action.ROLE_MANAGE, "boiler", {"union"}),
    (Action.ROLE_MANAGE, "other_dept", set()),
    (Action.ACCOUNT_MANAGE, "boiler_team", {"union"}),
    (Action.DIRECTORY_MANAGE, "company", {"union"}),
    (Action.DIRECTORY_MANAGE, "other_company", set()),
    (Action.ROSTER_IMPORT, "company", {"union"}),
    (Action.ROSTER_IMPORT, "other_company", set()),
    (Action.AUDIT_BROWSE, "company", {"union", "supervisor"}),
    (Action.AUDIT_BROWSE, "other_company", set()),
    # The assessment part
    (Action.COMPLIANCE_VIEW, "company", {"union", "leader", "supervisor"}),
    (Action.COMPLIANCE_VIEW, "boiler_team", {"union", "leader", "supervisor"}),
    (Action.COMPLIANCE_VIEW, "other_dept", set()),
    (Action.ASSESSMENT_VIEW, "company", set(PERSONAS)),
    (Action.ASSESSMENT_VIEW, "other_company", set()),
    (Action.ASSESSMENT_MANAGE, "company", {"supervisor"}),
    (Action.ASSESSMENT_MANAGE, "other_company", set()),
]

CASES = [
    (action, unit, who, who in allowed)
    for action, unit, allowed in POLICY_MATRIX
    for who in PERSONAS
]


@pytest.mark.parametrize(
    ("action", "unit", "who", "allowed"), CASES, ids=[f"{a.value}@{u}-{w}" for a, u, w, _ in CASES]
)
def test_policy_matrix(org: Org, action: Action, unit: str, who: str, allowed: bool):
    assert can(org[who], action, getattr(org, unit)) is allowed


def test_anonymous_and_inactive_users_may_do_nothing(org: Org):
    from django.contrib.auth.models import AnonymousUser

    union = org["union"]
    union.is_active = False
    union.save()
    union = User.objects.get(pk=union.pk)
    for action in Action:
        assert not can(AnonymousUser(), action, org.company)
        assert not can(union, action, org.company)


def test_role_on_a_unit_covers_its_subtree_only(org: Org):
    depthead = org["depthead"]
    assert can(depthead, Action.MEMBERS_VIEW, org.boiler_team)
    assert not can(depthead, Action.MEMBERS_VIEW, org.company)
    assert visible_scope_paths(depthead, Action.MEMBERS_VIEW) == [org.boiler.path]


def test_revoked_role_stops_granting(org: Org):
    RoleAssignment.objects.filter(user=org["union"]).delete()
    union = User.objects.get(pk=org["union"].pk)
    assert not can(union, Action.ROSTER_IMPORT, org.company)


def test_role_on_an_inactive_unit_grants_nothing(org: Org):
    org.boiler.is_active = False
    org.boiler.save()
    depthead = User.objects.get(pk=org["depthead"].pk)
    assert not can(depthead, Action.MEMBERS_VIEW, org.boiler_team)


# --- the same decisions through the POST views ------------------------------------------------


@pytest.mark.parametrize("who", PERSONAS)
def test_grant_role_view(org: Org, client: Client, who: str):
    client.force_login(org[who])
    before = RoleAssignment.objects.count()
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("org:role_grant", args=[org.boiler.code]),
        {"employee_no": "employee", "role": Role.DEPT_OFFICER},
    )
    if who == "union":
        assert response.status_code == 302
        assert RoleAssignment.objects.filter(
            user=org["employee"], role=Role.DEPT_OFFICER, unit=org.boiler
        ).exists()
        event = AuditEvent.objects.get(action="org.role_granted", target_id=org["employee"].pk)
        assert event.actor == org["union"]
        assert event.after == {"role": "dept_officer", "unit": org.boiler.code}
    else:
        assert response.status_code == 403
        assert RoleAssignment.objects.count() == before
        assert AuditEvent.objects.count() == events


def test_grant_role_with_bad_input_keeps_the_form_and_changes_nothing(org: Org, client: Client):
    client.force_login(org["union"])
    before = RoleAssignment.objects.count()
    response = client.post(
        reverse("org:role_grant", args=[org.boiler.code]),
        {"employee_no": "nobody-9", "role": "king"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="nobody-9"' in body
    assert RoleAssignment.objects.count() == before


def test_union_office_cannot_grant_in_another_company(org: Org, client: Client):
    client.force_login(org["union"])
    response = client.post(
        reverse("org:role_grant", args=[org.other_dept.code]),
        {"employee_no": "employee", "role": Role.UNIT_HEAD},
    )
    assert response.status_code == 403
    assert not RoleAssignment.objects.filter(unit=org.other_dept).exists()


@pytest.mark.parametrize("who", PERSONAS)
def test_revoke_role_view(org: Org, client: Client, who: str):
    assignment = org["rep"].role_assignments.get()
    client.force_login(org[who])
    response = client.post(reverse("org:role_revoke", args=[assignment.pk]))
    exists = RoleAssignment.objects.filter(pk=assignment.pk).exists()
    if who == "union":
        assert response.status_code == 302
        assert not exists
        assert AuditEvent.objects.filter(action="org.role_revoked").count() == 1
    else:
        assert response.status_code == 403
        assert exists


@pytest.mark.parametrize("who", PERSONAS)
def test_unlock_account_view(org: Org, client: Client, who: str):
    locked_until = timezone.now() + timezone.timedelta(minutes=10)
    User.objects.filter(employee_no="employee").update(locked_until=locked_until, failed_logins=0)
    client.force_login(org[who])
    response = client.post(reverse("org:person_unlock", args=["employee"]))
    still_locked = User.objects.get(employee_no="employee").locked_until is not None
    if who == "union":
        assert response.status_code == 302
        assert not still_locked
        assert AuditEvent.objects.filter(action="accounts.unlocked").exists()
    else:
        assert response.status_code == 403
        assert still_locked


def test_posts_without_csrf_token_are_refused(org: Org, csrf_client: Client):
    csrf_client.force_login(org["union"])
    before = RoleAssignment.objects.count()
    response = csrf_client.post(
        reverse("org:role_grant", args=[org.boiler.code]),
        {"employee_no": "employee", "role": Role.DEPT_OFFICER},
    )
    assert response.status_code == 403
    assert RoleAssignment.objects.count() == before
    response = csrf_client.post(reverse("org:person_unlock", args=["employee"]))
    assert response.status_code == 403


def test_posts_with_csrf_token_pass(org: Org, csrf_client: Client):
    csrf_client.force_login(org["union"])
    page = csrf_client.get(reverse("org:unit_detail", args=[org.boiler.code]))
    token = page.context["csrf_token"]
    response = csrf_client.post(
        reverse("org:role_grant", args=[org.boiler.code]),
        {"employee_no": "employee", "role": Role.DEPT_OFFICER, "csrfmiddlewaretoken": str(token)},
    )
    assert response.status_code == 302


def test_login_without_csrf_token_is_refused(org: Org, csrf_client: Client):
    response = csrf_client.post(
        reverse("accounts:login"), {"username": "employee", "password": "gongkai-demo"}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in csrf_client.session


def test_members_are_hidden_from_plain_employees(org: Org, client: Client):
    client.force_login(org["employee"])
    body = client.get(reverse("org:unit_detail", args=[org.boiler_team.code])).content.decode()
    assert "turbine_worker" not in body and ">rep<" not in body
    client.force_login(org["teamlead"])
    body = client.get(reverse("org:unit_detail", args=[org.boiler_team.code])).content.decode()
    assert ">employee<" in body
