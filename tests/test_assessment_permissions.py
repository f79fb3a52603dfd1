"""Who may see compliance figures, read scores and rankings, and set weights or publish: the
assessment part's object-level rules (its rows of the role × action table are in
tests/test_permissions.py)."""

from __future__ import annotations

import pytest

from gongkai.assessment.permissions import (
    assessment_companies,
    can_manage_assessment,
    can_view_assessment,
    can_view_compliance,
    compliance_roots,
)
from tests.conftest import PERSONAS, Org

COMPLIANCE = {"union", "leader", "supervisor"}


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
