"""The demo: a scheme, last year's published rankings, and the pages on the demo company."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongkai.accounts.models import User
from gongkai.assessment.models import Ranking, Scheme
from tests.conftest import ensure_catalog


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_catalog()
        call_command("seed_demo")
        yield
        call_command("flush", "--noinput")
        ensure_catalog()


@pytest.mark.django_db
def test_demo_publishes_last_years_rankings_with_scores(demo):
    last = timezone.localdate().year - 1
    assert Scheme.objects.filter(company__code="rd").count() == 1
    periods = set(Ranking.objects.values_list("period", flat=True))
    assert periods == {f"{last}-H2", str(last)}
    ranking = Ranking.objects.get(period=f"{last}-H2")
    assert ranking.disclosure.entry.code == "assessment-ranking"
    scored = [row for row in ranking.rows if row["total"] is not None]
    assert len(scored) >= 10
    # Satisfaction and disclosure figures come from the other parts' demo records.
    assert any(
        line["criterion"] == "satisfaction_board" and line["value"] is not None
        for row in scored
        for line in row["lines"]
    )
    assert all(0 <= row["total"] <= 100 for row in scored)


@pytest.mark.django_db
@pytest.mark.parametrize("login", ["union", "leader", "supervisor"])
def test_demo_compliance_dashboard_renders_for_the_whole_company(demo, client: Client, login):
    client.force_login(User.objects.get(employee_no=login))
    response = client.get(reverse("assessment:compliance"))
    assert response.status_code == 200
    assert response.context["board"].total.subtree.total > 100


@pytest.mark.django_db
@pytest.mark.parametrize("login", ["employee", "depthead", "supervisor"])
def test_demo_assessment_and_report_pages(demo, client: Client, login):
    client.force_login(User.objects.get(employee_no=login))
    last = timezone.localdate().year - 1
    assert client.get(reverse("assessment:assessment")).status_code == 200
    ranking = Ranking.objects.get(period=str(last))
    assert client.get(reverse("assessment:ranking", args=[ranking.pk])).status_code == 200
    assert client.get(reverse("assessment:report", args=[last])).status_code == 200
