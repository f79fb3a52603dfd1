"""The supervision demo: last year's two rounds with rectifications in every state."""

from __future__ import annotations

import pytest
from django.utils import timezone

from gongkai.disclosure.demo import seed_disclosures
from gongkai.org.demo import seed_org
from gongkai.supervision import demo
from gongkai.supervision.models import (
    AccountabilityDecision,
    Circular,
    CircularStatus,
    Finding,
    InspectionRound,
    Rectification,
    RectificationStatus,
)
from gongkai.supervision.rectification import Timeliness, state_of
from tests.conftest import ensure_catalog


@pytest.mark.django_db
def test_demo_has_two_rounds_and_rectifications_in_every_state():
    ensure_catalog()
    seed_org(employees_per_team=2)
    seed_disclosures()
    counts = demo.seed()
    year = timezone.localdate().year - 1
    rounds = list(InspectionRound.objects.order_by("period_start"))
    assert [r.title for r in rounds] == [
        f"{year}年上半年司务公开监督检查",
        f"{year}年下半年司务公开监督检查",
    ]
    assert all(r.status == "closed" for r in rounds)
    statuses = set(Rectification.objects.values_list("status", flat=True))
    assert statuses == set(RectificationStatus.values)
    states = {state_of(r) for r in Rectification.objects.all()}
    assert {Timeliness.OVERDUE, Timeliness.OPEN, Timeliness.ON_TIME, Timeliness.LATE} <= states
    assert Finding.objects.filter(repeat_of__isnull=False).count() == 1
    issued = Circular.objects.get(status=CircularStatus.ISSUED)
    assert issued.disclosure.is_published and issued.issued_at.year == year
    assert Circular.objects.filter(status=CircularStatus.DRAFT).count() == 1
    assert AccountabilityDecision.objects.get().finding.repeat_of is not None
    assert counts["inspection rounds"] == 2
