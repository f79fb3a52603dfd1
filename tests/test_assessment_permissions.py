"""Who may see compliance figures, read scores and rankings, and set weights or publish:
the role × action table of the assessment part, and its object-level rules."""

from __future__ import annotations

import pytest

from gongkai.assessment.permissions import (
    assessment_companies,
    can_manage_assessment,
    can_view_assessment,
    can_view_compliance,
    compliance_roots,
)
from gongkai.policy.rules import Action, can
from tests.conftest import PERSONAS, Org

COMPLIANCE = {"union", "leader", "supervisor"}
POLICY_MATRIX: list[tuple[Action, str, set[str]]] = [
    (Action.COMPLIANCE_VIEW, "company", COMPLIANCE),
    (Action.COMPLIANCE_VIEW, "boiler_team", COMPLIANCE),
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


@pytest.mark.parametrize("who", PERSONAS)
def test_object_rules(org: Org, who: str):
    user = org[who]
    assert [u.code for u in compliance_roots(user)] == (["rd"] if who in COMPLIANCE else [])
    assert can_view_compliance(user, org.boiler) is (who in COMPLIANCE)
    assert can_view_compliance(user, org.other_dept) is False
    assert [c.code for c in assessment_companies(user)] == ["rd"]
    assert can_view_assessment(user, org.company) is True
    assert can_view_assessment(user, org.other_company) is False
    assert can_manage_assessment(user, org.company) is (who == "supervisor")


def test_outsider_sees_only_their_own_companys_ranking(org: Org):
    outsider = org["outsider"]
    assert [c.code for c in assessment_companies(outsider)] == ["other"]
    assert not can_view_assessment(outsider, org.company)
    assert compliance_roots(outsider) == []
